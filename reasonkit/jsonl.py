"""The one JSONL reader and writer all three packages use, so every reader reads what every writer
writes.

Lines end at b"\\n" only. ``str.splitlines`` also breaks at U+2028, U+2029, U+0085 and a few
control characters, which JSON strings may hold raw: a row such as GSM8K train/2381 was cut in two.
The writer escapes those three characters and lone surrogates (which UTF-8 cannot encode at all),
so its output reads back through any line splitter. A line that cannot be parsed (bad JSON, bad
UTF-8, nesting deeper than MAX_DEPTH, an integer longer than Python's 4,300-digit limit) gives a
one-line reason, never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasonkit.errors import InputError

__all__ = [
    "MAX_DEPTH", "BadLine", "dumps_line", "find_lone_surrogate", "iter_lines", "jsonl_text",
    "parse_line", "read_objects", "split_lines",
]

# No row of ours nests past 4 levels; 64 keeps every later json.dumps and walk far from
# Python's recursion limit, which a 100,000-deep "[[[..." line hit inside json.loads.
MAX_DEPTH = 64
_UNSAFE = re.compile("[\u0085\u2028\u2029\ud800-\udfff]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class BadLine(ValueError):
    """One line that is not a readable JSON value; the message is the reason, on one line."""


def dumps_line(value: Any) -> str:
    """One JSON line (no newline); readable UTF-8 whatever the strings hold."""
    text = json.dumps(value, ensure_ascii=False)
    # The characters only occur inside strings, where \\uXXXX means the same character.
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def jsonl_text(rows: Iterable[Any]) -> str:
    return "".join(dumps_line(row) + "\n" for row in rows)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_line(line: bytes | str) -> Any:
    """The JSON value on one line, or BadLine with the reason."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as err:
            raise BadLine(
                f"not valid UTF-8 (byte 0x{line[err.start]:02x} at offset {err.start})"
            ) from None
    try:
        value = json.loads(line)
    except json.JSONDecodeError as err:
        raise BadLine(f"not valid JSON ({err.msg} at column {err.colno})") from None
    except RecursionError:
        raise BadLine(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as err:  # an integer past sys.get_int_max_str_digits()
        raise BadLine(f"not valid JSON ({' '.join(str(err).split())[:120]})") from None
    # Each level of nesting opens with its own "[" or "{", so a line with at most MAX_DEPTH of
    # them cannot be too deep. Counting is C-speed; the walk it skips for almost every line was
    # 1.0 s of `datacheck dedup`'s 2.4 s of reading 243k lines (issue 27's profile).
    if line.count("[") + line.count("{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise BadLine(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def find_lone_surrogate(value: Any) -> str | None:
    """``\\udXXX`` of the first lone surrogate in any string of ``value`` (keys included), else None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found = _LONE_SURROGATE.search(item)
            if found:
                return f"\\u{ord(found.group()):04x}"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def split_lines(data: bytes) -> list[bytes]:
    """Lines at b"\\n" only; the newline ending the last line starts no new line."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # 1-based
    raw: bytes


def iter_lines(path: Path) -> Iterator[Line]:
    """Every line of a file, blank ones included; a missing or unreadable file is an InputError."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a JSONL file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    for number, raw in enumerate(split_lines(data), 1):
        yield Line(number, raw)


def read_objects(path: Path, *, what: str = "a JSON object") -> list[dict[str, Any]]:
    """JSON objects, one per non-blank line; any unreadable line is an InputError naming it."""
    rows: list[dict[str, Any]] = []
    for line in iter_lines(path):
        if not line.raw.strip():
            continue
        try:
            row = parse_line(line.raw)
        except BadLine as exc:
            raise InputError(f"{path}:{line.number}: {exc}") from None
        if not isinstance(row, dict):
            raise InputError(f"{path}:{line.number}: expected {what}, got {type(row).__name__}")
        rows.append(row)
    return rows
