"""The reader's nesting guard: only a line with more than MAX_DEPTH brackets is walked (issue
27), and every line nested deeper than MAX_DEPTH is still rejected with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datacheck.dedup.command import read_field
from reasonkit.jsonl import MAX_DEPTH, BadLine, parse_line

REASON = f"JSON nested deeper than {MAX_DEPTH} levels"


def nested(depth: int) -> str:
    return '{"text": "t", "deep": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("as_bytes", [False, True])
def test_one_level_past_the_limit_is_rejected_with_its_reason(as_bytes: bool) -> None:
    for depth, rejected in ((MAX_DEPTH, False), (MAX_DEPTH + 1, True), (300, True)):
        line = nested(depth)
        if rejected:
            with pytest.raises(BadLine, match=REASON):
                parse_line(line.encode() if as_bytes else line)
        else:
            assert parse_line(line.encode() if as_bytes else line)["text"] == "t"


def test_many_brackets_that_do_not_nest_deep_are_kept() -> None:
    # Past MAX_DEPTH brackets the line is walked, and a wide, shallow one passes the walk.
    wide = json.dumps({"text": "t", "rows": [[] for _ in range(200)], "note": "[" * 100})
    assert parse_line(wide)["rows"] == [[]] * 200
    in_strings = json.dumps({"text": "{" * 500})  # brackets inside a string do not nest
    assert parse_line(in_strings)["text"] == "{" * 500


def test_datacheck_dedup_rejects_a_deep_line_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(f'{{"text": "a b c"}}\n{nested(MAX_DEPTH + 1)}\n{nested(MAX_DEPTH)}\n')
    rows, rejected = read_field(path, "text")
    assert list(rows.lines) == [0, 2]
    assert [(r["line"], r["reason"]) for r in rejected] == [(1, REASON)]
