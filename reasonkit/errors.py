"""The exit-code contract every CLI keeps (docs/exit-codes.md), and the boundary that enforces it.

0 ok; 1 a gate failed (a regression), and only that; 2 bad input or usage, one line; 3 an
internal error, one line naming the exception and the file holding its traceback. A crash must
never exit 1, or a CI gate would read a broken tool as a worse model.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK, EXIT_GATE, EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, what a shell reports for a process SIGTERM ended
DEBUG_ENV = "REASONKIT_DEBUG"  # "1": an internal error prints its traceback on stderr too
CRASH_DIR_ENV = "REASONKIT_CRASH_DIR"  # where tracebacks go; default: the system temp dir
EXIT_CODES_HELP = "exit status: 0 ok, 1 gate failed, 2 bad input or usage, 3 internal error (docs/exit-codes.md)"


class InputError(Exception):
    """Bad input or usage. The CLI prints the message on one line and exits 2."""


class GateFailed(Exception):
    """A configured gate failed; the CLI prints the reason and exits 1."""


class Terminated(BaseException):
    """SIGTERM, raised where the process stood, so ``finally`` blocks remove half-written files."""


# An output the machine cannot hold: the user's disk, not a bug in the tool (status 2, one line).
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def _storage_error(exc: BaseException) -> str | None:
    """The one-line reason when ``exc`` (or what it wraps) is a full or read-only disk."""
    seen: BaseException | None = exc
    for _ in range(8):  # safetensors and torch wrap the OSError, or only keep its text
        if seen is None:
            return None
        if isinstance(seen, OSError) and seen.errno in _FULL:
            where = f" writing {seen.filename}" if seen.filename else ""
            return f"{seen.strerror}{where}"
        if "No space left on device" in str(seen) or "Disk quota exceeded" in str(seen):
            return one_line(seen, 200)
        seen = seen.__cause__ or seen.__context__
    return None


def _on_sigterm(_signum: int, _frame: object) -> None:
    raise Terminated


def _catch_sigterm() -> Callable[[], object]:
    """Turn SIGTERM into Terminated until the returned function restores the old handler."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    return lambda: signal.signal(signal.SIGTERM, previous)


def one_line(text: object, limit: int = 300) -> str:
    """A message squeezed onto one line, so stderr stays one line whatever the payload holds."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def debug_requested(argv: list[str]) -> bool:
    """``--debug`` anywhere in argv (removed from it), or REASONKIT_DEBUG=1."""
    found = "--debug" in argv
    while "--debug" in argv:
        argv.remove("--debug")
    return found or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _write_traceback(prog: str) -> Path | None:
    folder = Path(os.environ.get(CRASH_DIR_ENV) or tempfile.gettempdir())
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = folder / f"{prog.replace(' ', '-')}-crash-{stamp}-{os.getpid()}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(traceback.format_exc(), encoding="utf-8", errors="backslashreplace")
    except OSError:
        return None
    return path


def guarded(
    prog: str,
    body: Callable[[], int],
    *,
    debug: bool = False,
    input_errors: tuple[type[BaseException], ...] = (),
) -> int:
    """Run a CLI's body and turn every way it can end into the contract's exit code."""
    bad_input: tuple[type[BaseException], ...] = (InputError, *input_errors)
    restore = _catch_sigterm()
    try:
        return body()
    except bad_input as exc:
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except GateFailed as exc:
        print(f"{prog}: gate failed: {one_line(exc)}", file=sys.stderr)
        return EXIT_GATE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print(f"{prog}: terminated", file=sys.stderr, flush=True)
        # Half-written files are gone (the finally blocks ran); now end as the sender expects,
        # by the signal itself (a shell shows 143), rather than swallow it when called in process.
        restore()
        os.kill(os.getpid(), signal.SIGTERM)
        return EXIT_TERMINATED
    except Exception as exc:  # the boundary: anything else is our bug, never a regression
        full = _storage_error(exc)
        if full is not None:
            print(f"{prog}: error: the output could not be written: {full} (free space or "
                  "choose another --out, then rerun)", file=sys.stderr)
            return EXIT_INPUT
        if debug:
            traceback.print_exc()
            where = "traceback above"
        else:
            path = _write_traceback(prog)
            where = f"traceback in {path}" if path else "traceback could not be saved"
        name = type(exc).__name__
        print(f"{prog}: internal error: {name}: {one_line(exc, 200)} ({where}; "
              f"rerun with --debug to print it)", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        restore()


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2) instead of usage text plus the error.

    Abbreviations are off: argparse would take ``--max-reject-rat`` for ``--max-reject-rate``
    without a word (issue 26), and a later option sharing the prefix would change its meaning.
    Subparsers are built from this class, so each of them gets the default too.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(**kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {one_line(message)} (see --help)\n")


def _bounded(kind: Callable[[str], float], low: float | None, high: float | None,
             low_open: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'an integer' if kind is int else 'a number'}"
            ) from None
        below = low is not None and (value <= low if low_open else value < low)
        if not math.isfinite(value) or below or (high is not None and value > high):
            lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
            hi = "" if high is None else f"<= {high:g}"
            raise argparse.ArgumentTypeError(
                f"{text} must be {'an integer' if kind is int else 'a finite number'} "
                + " and ".join(x for x in (lo, hi) if x)
            )
        return value

    return parse


def positive_int(text: str) -> int:
    return int(_bounded(int, 0, None, True)(text))


def non_negative_float(text: str) -> float:
    return _bounded(float, 0, None, False)(text)


def finite_float(text: str) -> float:
    return _bounded(float, None, None, False)(text)


def float_in(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
    return _bounded(float, low, high, low_open)


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high]."""
    bounded = _bounded(int, low, high, False)
    return lambda text: int(bounded(text))


# numpy's seed range (np.random.seed, default_rng): --seed -1 reached numpy and exited 3.
SEED_MAX = 2**32 - 1


def seed_int(text: str) -> int:
    """An argparse type: a seed numpy accepts, 0 to 2**32 - 1."""
    return int_in(0, SEED_MAX)(text)
