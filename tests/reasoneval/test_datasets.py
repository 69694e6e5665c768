from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasoneval.datasets import DatasetSpec, dataset_hash, load_few_shot, load_problems
from reasonkit.errors import InputError


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_any_jsonl_with_named_fields(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "mine.jsonl",
        [
            {"q": "What is 2+2?", "a": "2+2=4\n#### 4"},
            {"q": "Half of 3?", "a": "1.50"},
        ],
    )
    problems = load_problems(DatasetSpec(str(path), question_field="q", answer_field="a"))
    assert [p.id for p in problems] == ["mine/test/0", "mine/test/1"]
    assert [p.gold for p in problems] == ["4", "1.5"]
    assert problems[0].solution == "2+2=4" and problems[1].solution is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"question": "Q", "answer": "#### many"}, "row 0: answer 'many' is not a number"),
        ({"question": "", "answer": "#### 3"}, "row 0: no text in field 'question'"),
        ({"question": "Q"}, "row 0: no answer in field 'answer'"),
    ],
)
def test_bad_rows_are_errors_naming_the_row(
    tmp_path: Path, row: dict[str, object], message: str
) -> None:
    path = _write(tmp_path / "bad.jsonl", [row])
    with pytest.raises(InputError, match=message):
        load_problems(DatasetSpec(str(path)))


def test_duplicate_ids_and_broken_json_are_rejected(tmp_path: Path) -> None:
    dup = _write(tmp_path / "dup.jsonl", [{"id": "x", "question": "Q", "answer": "1"}] * 2)
    with pytest.raises(InputError, match="duplicate id 'x'"):
        load_problems(DatasetSpec(str(dup)))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "Q", "answer": "1"}\n{"question": \n')
    with pytest.raises(InputError, match=r"broken\.jsonl:2: not valid JSON"):
        load_problems(DatasetSpec(str(broken)))


def test_real_gsm8k_ids_gold_and_few_shot(gsm8k_dir: Path) -> None:
    problems = load_problems(DatasetSpec("gsm8k", data_dir=gsm8k_dir, limit=3))
    assert [p.id for p in problems] == ["gsm8k/test/0", "gsm8k/test/1", "gsm8k/test/2"]
    assert problems[0].gold == "18" and problems[0].question.startswith("Janet")
    shots = load_few_shot(DatasetSpec("gsm8k", data_dir=gsm8k_dir), 2)
    assert len(shots) == 2 and shots[0].answer == "72"
    assert "<<" not in shots[0].reasoning and "48/2 = 24" in shots[0].reasoning


def test_synthetic_is_the_held_out_split_of_the_default_set() -> None:
    problems = load_problems(DatasetSpec("synthetic", limit=5))
    assert [p.id for p in problems] == [f"synthetic/test/{i}" for i in range(5)]
    assert all(p.gold.lstrip("-").isdigit() for p in problems)
    assert load_problems(DatasetSpec("synthetic", limit=5)) == problems  # reproducible


def test_dataset_hash_follows_the_problems(tmp_path: Path) -> None:
    a = load_problems(
        DatasetSpec(str(_write(tmp_path / "a.jsonl", [{"question": "Q", "answer": "1"}])))
    )
    b = load_problems(
        DatasetSpec(str(_write(tmp_path / "a.jsonl", [{"question": "Q", "answer": "2"}])))
    )
    assert dataset_hash(a) == dataset_hash(a) and dataset_hash(a) != dataset_hash(b)


def test_gsm8k_without_a_local_copy_fails_in_one_line_when_the_hub_is_unreachable(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GSM8K_DIR"}
    env.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    script = (
        "import sys\n"
        "from reasoneval.datasets import DatasetSpec, load_problems\n"
        "from reasonkit.errors import InputError\n"
        "try:\n"
        "    load_problems(DatasetSpec('gsm8k'))\n"
        "except InputError as exc:\n"
        "    print(exc, file=sys.stderr)\n"
        "    sys.exit(2)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("cannot load openai/gsm8k from the Hugging Face hub")
    assert "pass --data-dir or set GSM8K_DIR" in line
