from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datacheck.synthetic import (
    Difficulty,
    generate_synthetic,
    numeric_variants,
    parse_question,
    render,
)
from reasoneval.arith import evaluate

ANNOTATION = re.compile(r"<<([^<>]*)=([^<>=]*)>>(\S+)")

difficulties = st.builds(
    Difficulty,
    min_steps=st.integers(1, 2),
    max_steps=st.integers(2, 4),
    low=st.integers(1, 5),
    high=st.integers(10, 60),
    max_factor=st.integers(2, 6),
    max_value=st.integers(100, 500),
    operations=st.sampled_from([("+",), ("+", "-"), ("+", "-", "*"), ("+", "-", "*", "/")]),
    phrasings=st.integers(1, 3),
)


def _check_row(row: dict[str, str], d: Difficulty) -> None:
    """Every annotation evaluates to its written value, steps chain, `####` is the last result."""
    *lines, final = row["answer"].split("\n")
    assert final.startswith("#### ")
    assert d.min_steps <= len(lines) <= d.max_steps
    previous = None
    for line in lines:
        m = ANNOTATION.search(line)
        assert m is not None, line
        expr, value, after = m.groups()
        assert evaluate(expr) == int(value) == int(after)
        assert 0 <= int(value) <= d.max_value
        if previous is not None:
            assert expr.startswith(previous)  # each step works on the previous result
        previous = value
    assert final == f"#### {previous}"


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), d=difficulties)
def test_gold_recomputes_from_annotations(seed: int, d: Difficulty) -> None:
    data = generate_synthetic(None, n_train=20, n_test=10, seed=seed, difficulty=d, flaws_per_kind=0)
    for row in (*data.train, *data.test):
        _check_row(row, d)
        ops = re.findall(r"<<\d+([-+*/])", row["answer"])
        assert set(ops) <= set(d.operations)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), d=difficulties, n=st.integers(1, 5))
def test_variants_keep_template_and_recompute_gold(seed: int, d: Difficulty, n: int) -> None:
    row = generate_synthetic(None, n_train=0, n_test=1, seed=seed, difficulty=d, flaws_per_kind=0).test[0]
    template, numbers = parse_question(row["question"])
    variants = numeric_variants(row, n, seed=seed, difficulty=d)
    assert variants, "a template with ranges this wide admits other numbers"
    assert len({q for q, _ in variants}) == len(variants)
    for question, gold in variants:
        assert question != row["question"]
        v_template, v_numbers = parse_question(question)
        assert v_template == template and v_numbers != numbers
        _, answer = render(v_template, v_numbers)
        assert answer.endswith(f"#### {gold}")
        _check_row({"question": question, "answer": answer}, d)


def test_variants_are_seeded_and_accept_records() -> None:
    row = generate_synthetic(None, n_train=0, n_test=1, seed=3, flaws_per_kind=0).test[0]

    class Record:  # reasoneval's Problem exposes .question
        question = row["question"]

    assert numeric_variants(row, 4, seed=1) == numeric_variants(Record(), 4, seed=1)
    assert numeric_variants(row["question"], 4, seed=1) != numeric_variants(row, 4, seed=2)


def test_parse_rejects_foreign_text() -> None:
    with pytest.raises(ValueError, match="not a synthetic question"):
        parse_question("Natalia sold clips to 48 of her friends in April.")
    with pytest.raises(ValueError, match="unrecognised"):
        numeric_variants("Ava has 3 apples. Ava flies 2 kites. How many apples does Ava have now?", 2, 0)


def test_same_seed_same_rows_and_test_held_out() -> None:
    a = generate_synthetic(None, n_train=300, n_test=60, seed=7)
    b = generate_synthetic(None, n_train=300, n_test=60, seed=7)
    assert a == b
    assert a != generate_synthetic(None, n_train=300, n_test=60, seed=8)
    test_questions = {r["question"] for r in a.test}
    assert not test_questions & {r["question"] for r in a.train}
    for row in a.test:
        _check_row(row, Difficulty())


def test_flaws_appear_as_recorded(tmp_path: Path) -> None:
    data = generate_synthetic(tmp_path, n_train=400, n_test=50, seed=1, flaws_per_kind=3)
    flawed = {int(f.id.rpartition("/")[2]): f for f in data.flaws}
    assert sorted(f.kind for f in data.flaws) == ["broken_annotation"] * 3 + ["near_duplicate"] * 3 + [
        "wrong_label"
    ] * 3
    for index, row in enumerate(data.train):
        flaw = flawed.get(index)
        if flaw is None:
            _check_row(row, Difficulty())
            continue
        *lines, final = row["answer"].split("\n")
        if flaw.kind == "wrong_label":
            last = ANNOTATION.search(lines[-1])
            assert last is not None and final != f"#### {last.group(2)}"
            assert final.removeprefix("#### ") not in {m.group(2) for m in map(ANNOTATION.search, lines) if m}
            _check_row({**row, "answer": "\n".join([*lines, f"#### {last.group(2)}"])}, Difficulty())
        elif flaw.kind == "broken_annotation":
            m = ANNOTATION.search(lines[0])
            assert m is not None and evaluate(m.group(1)) != int(m.group(2))
            assert evaluate(m.group(1)) == int(m.group(3))  # the prose keeps the true result
        else:
            assert flaw.duplicate_of is not None
            source = data.train[int(flaw.duplicate_of.rpartition("/")[2])]
            assert row["question"] != source["question"]
            assert row["question"].startswith(source["question"])
            assert row["answer"] == source["answer"]
            assert int(flaw.duplicate_of.rpartition("/")[2]) not in flawed
    manifest = json.loads((tmp_path / "flaws.json").read_text())
    assert [f["id"] for f in manifest["flaws"]] == [f.id for f in data.flaws]
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    assert rows == list(data.train) and all(set(r) == {"question", "answer"} for r in rows)
    assert len((tmp_path / "test.jsonl").read_text().splitlines()) == 50


def test_phrasings_knob_limits_template_variety() -> None:
    one = generate_synthetic(None, n_train=200, n_test=0, seed=0, difficulty=Difficulty(phrasings=1))
    templates = [parse_question(r["question"])[0] for r in one.train]
    assert {t.start for t in templates} == {0} and {t.question for t in templates} == {0}
    assert {i for t in templates for _, i in t.steps} == {0}
    many = generate_synthetic(None, n_train=200, n_test=0, seed=0)
    assert len({parse_question(r["question"])[0].start for r in many.train}) == 3


def test_impossible_difficulty_is_refused() -> None:
    # 12 names x 9 items, one wording, one sum: 108 distinct questions at most.
    tiny = Difficulty(low=2, high=2, max_steps=1, min_steps=1, operations=("+",), phrasings=1)
    with pytest.raises(ValueError, match="distinct problems"):
        generate_synthetic(None, n_train=200, n_test=10, seed=0, difficulty=tiny)


def test_datacheck_rejects_every_planted_flaw(tmp_path: Path) -> None:
    """`datacheck clean synthetic` finds exactly the planted label and annotation flaws.

    Near-duplicates are checked one way only: a templated set also holds genuine rows that differ
    only in their numbers, which datacheck's numbers-masked MinHash rightly clusters too.
    """
    from datacheck.cli import main

    assert main(["clean", "synthetic", "--out", str(tmp_path), "--seed", "0"]) == 0
    planted = generate_synthetic(None, seed=0).flaws
    rejected = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    by_check: dict[str, set[str]] = {}
    for row in rejected:
        by_check.setdefault(row["check"], set()).add(row["id"])
    assert by_check["calculator"] == {f.id for f in planted if f.kind == "broken_annotation"}
    assert by_check["label_consistency"] == {f.id for f in planted if f.kind == "wrong_label"}
    rejected_ids = {row["id"] for row in rejected}
    for flaw in planted:
        if flaw.kind == "near_duplicate":
            # One of the pair is dropped as a near-duplicate or as overlapping the test split.
            assert {flaw.id, flaw.duplicate_of} & rejected_ids
