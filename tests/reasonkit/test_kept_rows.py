"""The kept-row record: what datacheck writes is what training reads, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reasonkit.kept_rows import KeptRow, KeptRowsError, kept_rows_text, read_kept_rows

ROW = KeptRow(id="gsm8k/train/3", reasoning="2+2=4", final_answer="4", split="train",
              source={"question": "What is 2+2?", "answer": "2+2=<<2+2=4>>4\n#### 4"})  # fmt: skip


def test_the_line_is_the_input_fields_then_datacheck_s_own() -> None:
    assert kept_rows_text([ROW]) == json.dumps({
        "question": "What is 2+2?", "answer": "2+2=<<2+2=4>>4\n#### 4", "id": "gsm8k/train/3",
        "split": "train", "reasoning": "2+2=4", "final_answer": "4",
    }, ensure_ascii=False) + "\n"  # fmt: skip
    assert ROW.question == "What is 2+2?"
    # An input field with one of datacheck's names keeps its place and takes datacheck's value,
    # as {**source, "id": ...} always wrote it.
    renamed = KeptRow("x/train/0", "r", "1", "train", {"id": 17, "question": "q?"})
    assert list(renamed.to_json().items())[:2] == [("id", "x/train/0"), ("question", "q?")]


def test_read_then_write_gives_the_same_bytes(tmp_path: Path) -> None:
    odd = KeptRow(id="s/train/1", reasoning="a\u2028b", final_answer="-0.5", split="train",
                  source={"question": "Ünïcode \u2029 line?", "answer": "x", "extra": [1, {"k": None}]})  # fmt: skip
    path = tmp_path / "train.jsonl"
    path.write_text(kept_rows_text([ROW, odd]), encoding="utf-8")
    rows = read_kept_rows(path)
    assert rows == [ROW, odd]
    assert kept_rows_text(rows).encode("utf-8") == path.read_bytes()


def test_datacheck_s_kept_file_reads_back_to_its_own_bytes(tmp_path: Path) -> None:
    from datacheck.clean import clean_to_dir
    from datacheck.config import CleanConfig
    from datacheck.contamination import TEMPLATED_RULES
    from datacheck.loading import SourceSpec, rows_source
    from reasonkit.tasks.split import SplitSizes, draw_rows

    drawn = draw_rows(SplitSizes(train=40, val=0, test=10, test_ood=0), seed=3).splits
    spec = SourceSpec("t")
    source = rows_source({"train": drawn["train"], "test": drawn["test"]}, "t", spec)
    report = clean_to_dir(spec, CleanConfig(contamination_rules=TEMPLATED_RULES), tmp_path, source=source)
    kept = tmp_path / "kept" / "train.jsonl"
    rows = read_kept_rows(kept)  # through the manifest check of a finished --out
    assert len(rows) == report["splits"]["train"]["kept"] > 0
    assert all(r.split == "train" and r.question and r.id.startswith("t/train/") for r in rows)
    assert kept_rows_text(rows).encode("utf-8") == kept.read_bytes()


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('{"question": "q", "reasoning": "", "final_answer": "1"}', "field 'reasoning' missing or empty"),
        ('{"question": "q", "reasoning": "r"}', "field 'final_answer' missing or empty"),
        ('["a", "list"]', "expected a JSON object"),
        ('{"question": ', "not valid JSON"),
        ('{"question": "\\ud800", "reasoning": "r", "final_answer": "1"}', "lone surrogate \\\\ud800"),
    ],
)
def test_a_bad_row_is_an_error_naming_file_and_line(tmp_path: Path, line: str, needle: str) -> None:
    path = tmp_path / "kept.jsonl"
    path.write_text(kept_rows_text([ROW]) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(KeptRowsError, match=needle) as err:
        read_kept_rows(path)
    assert str(err.value).startswith(f"{path}:3: ")


def test_no_file_is_an_error_and_an_empty_one_no_rows(tmp_path: Path) -> None:
    with pytest.raises(KeptRowsError, match="no such file"):
        read_kept_rows(tmp_path / "absent.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    assert read_kept_rows(tmp_path / "empty.jsonl") == []


def test_a_hand_written_row_without_id_or_split_reads(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text('{"question": "q?", "reasoning": "r", "final_answer": "1"}\n', encoding="utf-8")
    (row,) = read_kept_rows(path)
    assert (row.id, row.split, row.question) == (f"{path}:1", None, "q?")
    assert list(row.to_json()) == ["question", "id", "reasoning", "final_answer"]
