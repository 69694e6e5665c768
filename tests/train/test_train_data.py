from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from reasonkit.prompting import build_prompt, format_completion
from train.data import (
    TrainDataError,
    file_sha256,
    read_kept_rows,
    select_rows,
    sft_dataset,
    split_train_eval,
)


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


GOOD = {"id": "gsm8k/train/0", "question": "1+1?", "reasoning": "1+1=2", "final_answer": "2"}


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ({**GOOD, "reasoning": ""}, "'reasoning' missing or empty"),
        ({k: v for k, v in GOOD.items() if k != "final_answer"}, "'final_answer' missing"),
        (["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_bad_row_stops_the_run_naming_file_and_line(
    tmp_path: Path, bad: object, needle: str
) -> None:
    path = _write(tmp_path / "kept.jsonl", [GOOD, bad])
    with pytest.raises(TrainDataError, match=needle) as err:
        read_kept_rows(path)
    assert f"{path}:2" in str(err.value)


def test_non_json_and_empty_files_are_rejected(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": \n', encoding="utf-8")
    with pytest.raises(TrainDataError, match="not valid JSON"):
        read_kept_rows(broken)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(TrainDataError, match="no rows"):
        read_kept_rows(empty)


def test_rows_render_in_the_shared_prompt_format(kept_rows: Path, tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = read_kept_rows(kept_rows)
    ds = sft_dataset(rows, tok)
    assert ds[3]["prompt"] == build_prompt(rows[3].question, tokenizer=tok)
    assert ds[3]["prompt"].endswith("<think>\n")
    assert (
        ds[3]["completion"]
        == format_completion(rows[3].reasoning, rows[3].final_answer) + "<|im_end|>"
    )


def test_selection_and_split_are_seeded(kept_rows: Path) -> None:
    from datasets import Dataset

    rows = read_kept_rows(kept_rows)
    assert select_rows(rows, 5, 3407) == select_rows(rows, 5, 3407)
    assert select_rows(rows, 5, 3407) != select_rows(rows, 5, 1)
    ds = Dataset.from_dict({"x": list(range(20))})
    train, held = split_train_eval(ds, 0.1, 3407)
    assert held is not None and len(held) == 2 and len(train) == 18
    assert sorted(list(train["x"]) + list(held["x"])) == list(range(20))
    again = split_train_eval(ds, 0.1, 3407)[1]
    assert again is not None and list(again["x"]) == list(held["x"])


def test_data_hash_is_the_file_sha256(kept_rows: Path) -> None:
    assert file_sha256(kept_rows) == hashlib.sha256(kept_rows.read_bytes()).hexdigest()
