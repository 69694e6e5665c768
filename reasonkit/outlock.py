"""One writer per output directory: a second run on the same --out exits 2 instead of interleaving.

Two pipelines on one --out both cleared and rewrote the same stages, each trusting the other's
half-written files. The lock is ``flock`` on ``OUT/.lock``: the kernel drops it when its holder
dies, even by SIGKILL, so a killed run never leaves a stale lock to remove by hand. In a
torchrun or accelerate group, rank 0 holds it for all ranks. Holding it, the writer also knows
every temporary under OUT whose process is gone is garbage
(reasonkit.artifacts.remove_stale_temporaries). POSIX only; elsewhere runs are not locked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reasonkit.artifacts import remove_stale_temporaries
from reasonkit.errors import InputError

__all__ = ["LOCK_FILE", "empty_output", "output_lock"]

LOCK_FILE = ".lock"
_held: dict[Path, int] = {}  # this process's locks: a nested lock on the same OUT is a no-op


def _secondary_rank() -> bool:
    """A process other than rank 0 of a torchrun/accelerate group: rank 0 holds the group's lock
    (every rank runs the same command on the same --out). Read from the launcher's environment,
    so that no process group is set up here."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1) > 1 and os.environ.get("RANK", "0") != "0"


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold OUT's lock for the block; InputError naming the holder if another process has it."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    out = Path(out).resolve()
    if out in _held or _secondary_rank():
        yield
        return
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write there ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise InputError(f"--out {out} is in use by another run (pid {holder}); wait for it to "
                         "finish or choose another --out") from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[out] = fd
    try:
        remove_stale_temporaries(out)
        yield
    finally:
        del _held[out]
        if created and [p.name for p in out.iterdir()] == [LOCK_FILE]:
            (out / LOCK_FILE).unlink()  # refused before writing anything: leave no empty --out
            out.rmdir()
        os.close(fd)  # releases the lock; the file stays, as rewriting it would race


def empty_output(out: Path) -> None:
    """Remove everything in OUT but its lock (``--fresh``): removing OUT itself would drop the
    lock file while it is held, and a second run could then lock a new one beside this run."""
    import shutil

    for entry in Path(out).iterdir():
        if entry.name == LOCK_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
