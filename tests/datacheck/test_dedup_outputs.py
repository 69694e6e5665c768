"""`datacheck dedup`'s outputs written in one pass from the source (issue 27), and the block
array that holds the index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from datacheck.cli import main
from datacheck.dedup import blocks

TEXT = "the baker makes twelve loaves of bread every morning and sells them at the market by noon"


def test_duplicates_carry_their_source_line_and_stay_one_line_each(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": TEXT, "n": 1}),
        '{"n":2,  "text": "' + TEXT.replace("noon", "ten") + '"}\r',  # CRLF line, odd spacing
        json.dumps({"text": TEXT + " today", "note": "a\u2028b"}, ensure_ascii=False),
        '{"text": "' + TEXT.replace("noon", "one") + '", "k": [1, 2]}',
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-8") + b"\n")
    out = tmp_path / "out"
    assert main(["dedup", str(path), "--field", "text", "--out", str(out)]) == 0
    raw = (out / "duplicates.jsonl").read_bytes()
    assert raw.count(b"\n") == 3 and b"\r" not in raw and "\u2028".encode() not in raw
    rows = [json.loads(x) for x in raw.split(b"\n")[:-1]]
    assert [(r["line"], r["duplicate_of"]) for r in rows] == [(1, 0), (2, 0), (3, 0)]
    for row in rows:  # the record is the source row, whatever its spacing or line breaks
        assert row["record"] == json.loads(lines[row["line"]])
    assert '{"text": "' + TEXT.replace("noon", "one") + '", "k": [1, 2]}' in raw.decode()
    assert (out / "kept.jsonl").read_text() == lines[0] + "\n"
    assert not list(out.glob(".*.tmp"))


def test_block_array_returns_its_rows_across_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 5 * 3 * 8)  # five rows of three uint64 a block
    array = blocks.BlockArray(np.uint64, (3,))
    parts = [np.arange(k * 3, dtype=np.uint64).reshape(k, 3) + 100 * k for k in (2, 7, 0, 4)]
    for part in parts:
        array.extend(part)
    assert array.rows == 13 and len(array._blocks) == 3
    assert np.array_equal(array.take(), np.concatenate(parts))
    assert array.rows == 0 and array.take().shape == (0, 3)
