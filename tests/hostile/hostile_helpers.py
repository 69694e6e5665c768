"""Helpers of the bad-input corpus: run a CLI in process and read its exit contract."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

GOOD_ROW = {
    "question": "Ava has 3 apples and buys 4 more. How many apples does she have?",
    "answer": "Ava has 3+4=<<3+4=7>>7 apples.\n#### 7",
}


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str

    @property
    def line(self) -> str:
        """The one line a failing CLI may print; asserts there is exactly one."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, self.stderr[-2000:]
        return lines[0]


def invoke(main: Callable[[list[str]], int], argv: Sequence[str],
           capsys: pytest.CaptureFixture[str]) -> Outcome:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code if isinstance(exc.code, int) else 2
    err = capsys.readouterr().err
    assert "Traceback" not in err, err[-3000:]
    return Outcome(code, err)


def _as_bytes(row: object) -> bytes:
    if isinstance(row, bytes):
        return row
    return (row if isinstance(row, str) else json.dumps(row)).encode("utf-8")


def write_lines(path: Path, rows: Sequence[object]) -> Path:
    """dicts as JSON lines; bytes and str written verbatim (hostile lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(_as_bytes(row) + b"\n" for row in rows))
    return path
