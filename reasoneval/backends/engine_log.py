"""Keep an engine's start-up noise in a file: the console gets one line saying where it is.

VLLM_LOGGING_LEVEL=WARNING silences vLLM's own INFO lines, but not what its processes write past
Python logging: Triton's absence, NUMA and OpenMP binding, tcmalloc, torch.compile warnings, about
20 lines a start on this CPU machine (issue 26). Those come from C extensions and from the
engine-core process vLLM spawns, so only the file descriptors catch them all: while the engine
starts (and stops), fds 1 and 2 point at a log file, which every process started meanwhile
inherits for its life. If the start fails, the log's last lines are printed with the error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

TAIL_LINES = 20  # of the log, shown when the engine fails


@contextmanager
def engine_output_to(log: Path | None) -> Iterator[None]:
    """Redirect this process's fds 1 and 2 (and its children's) to ``log`` for the block; None
    leaves them alone (``--verbose``)."""
    if log is None:
        yield
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    except BaseException:
        _restore(saved, target)
        print(f"engine log {log}, last lines:\n{tail(log)}", file=sys.stderr, flush=True)
        raise
    else:
        _restore(saved, target)


def _restore(saved: list[int], target: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
    for fd in (*saved, target):
        os.close(fd)


def tail(log: Path, lines: int = TAIL_LINES) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(unreadable)"
    return "\n".join(text.splitlines()[-lines:])
