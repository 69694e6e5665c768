"""Small hand-written GSM8K-layout rows: each fixture row is built to trip exactly one check."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from datacheck.parsing import parse_problem
from datacheck.records import Problem

GOOD = {
    "question": "Natalia sold clips to 48 of her friends in April, and half as many in May. How many in total?",
    "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
    "Natalia sold 48+24 = <<48+24=72>>72 clips altogether.\n#### 72",
}


def problem(
    question: str = GOOD["question"],
    answer: str = GOOD["answer"],
    *,
    index: int = 0,
    split: str = "train",
) -> Problem:
    row = {"question": question, "answer": answer}
    return parse_problem(
        id=f"t/{split}/{index}",
        split=split,
        index=index,
        question=question,
        answer=answer,
        source=row,
    )


@pytest.fixture
def make_problem() -> Callable[..., Problem]:
    return problem


@pytest.fixture
def write_rows() -> Callable[[Path, Sequence[dict[str, str] | str | bytes]], Path]:
    return write_jsonl


def write_jsonl(path: Path, rows: Sequence[dict[str, str] | str | bytes]) -> Path:
    """Rows as JSON objects; str/bytes entries are written verbatim (malformed lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for row in rows:
            if isinstance(row, bytes):
                fh.write(row + b"\n")
            elif isinstance(row, str):
                fh.write(row.encode("utf-8") + b"\n")
            else:
                fh.write(json.dumps(row).encode("utf-8") + b"\n")
    return path


@pytest.fixture
def gsm8k_like_dir(tmp_path: Path) -> Path:
    """train/test files in GSM8K's layout with planted flaws at known line indices."""
    train = [
        GOOD,  # 0 kept
        {
            "question": "Tom has 3 boxes of 4 pens each and buys 5 more pens. How many pens now?",
            "answer": "Tom has 3*4 = <<3*4=12>>12 pens.\nThen 12+5 = <<12+5=17>>17 pens.\n#### 19",
        },  # 1 label
        {
            "question": "A shop sells 6 cakes a day for 7 days. How many cakes does it sell in a week?",
            "answer": "It sells 6*7 = <<6*7=43>>43 cakes.\n#### 43",
        },  # 2 calculator
        {
            "question": "Ann reads 10 pages a day for 3 days. How many pages does she read?",
            "answer": "She reads 10*3 = <<10*3=30>>30 pages.\n#### 30\n#### 30",
        },  # 3 format
        {
            "question": "Natalia sold clips to 48 of her friends in April, and half as many in May. How many in all?",
            "answer": GOOD["answer"],
        },  # 4 near-duplicate of 0
        {
            "question": "A farmer has 20 cows and buys 15 more cows at the big market on Monday. How many cows does the farmer have?",
            "answer": "He has 20+15 = <<20+15=35>>35 cows.\n#### 35",
        },  # 5 contamination (test/0)
    ]
    test = [
        {
            "question": "A farmer has 20 cows and buys 15 more cows at the big market on Monday. How many cows are there?",
            "answer": "20+15 = <<20+15=35>>35\n#### 35",
        },
        {
            "question": "Sam has 9 marbles and loses 4 of them at school. How many marbles remain?",
            "answer": "9-4 = <<9-4=5>>5\n#### 5",
        },
    ]
    write_jsonl(tmp_path / "gsm" / "train.jsonl", train)
    write_jsonl(tmp_path / "gsm" / "test.jsonl", test)
    return tmp_path / "gsm"
