"""The embedded task: rows that recompute, a parser that inverts the renderer, and seeded draws."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasonkit.arith import evaluate
from reasonkit.tasks.arithmetic import (
    Computation,
    Difficulty,
    computation_of,
    numeric_variants,
    parse_question,
    render,
)
from reasonkit.tasks.split import HeldOut, SplitSizes, draw_rows, load_split
from reasonkit.tasks.wordings import OOD_QUESTION, OOD_START, OOD_STEP, QUESTION, START, STEP

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


def check_row(row: dict[str, str], d: Difficulty) -> None:
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


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), d=difficulties)
def test_gold_recomputes_from_annotations(seed: int, d: Difficulty) -> None:
    rows = draw_rows(SplitSizes(train=20, val=5, test=10, test_ood=10), seed=seed, held_out=HeldOut(difficulty=d))
    for split, split_rows in rows.splits.items():
        for row in split_rows:
            check_row(row, d)
            assert set(re.findall(r"<<\d+([-+*/])", row["answer"])) <= set(d.operations), split


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), d=difficulties, n=st.integers(1, 5))
def test_variants_keep_template_and_recompute_gold(seed: int, d: Difficulty, n: int) -> None:
    held_out = HeldOut(difficulty=d)
    row = draw_rows(SplitSizes(train=0, val=0, test=1, test_ood=0), seed=seed, held_out=held_out).splits["test"][0]
    template, numbers = parse_question(row["question"])
    variants = numeric_variants(row, n, seed=seed, difficulty=d)
    assert variants, "a template with ranges this wide admits other numbers"
    assert len({q for q, _ in variants}) == len(variants)
    for question, gold in variants:
        v_template, v_numbers = parse_question(question)
        assert v_template == template and v_numbers != numbers
        _, answer = render(v_template, v_numbers)
        assert answer.endswith(f"#### {gold}")
        check_row({"question": question, "answer": answer}, d)
    # The held-out variants of a test item stay in the test bucket.
    kept = numeric_variants(row, n, seed=seed, difficulty=d, keep=lambda c: held_out.belongs("test", c))
    assert all(held_out.bucket(computation_of(q)) == "test" for q, _ in kept)


def test_parse_rejects_foreign_text() -> None:
    with pytest.raises(ValueError, match="not a synthetic question"):
        parse_question("Natalia sold clips to 48 of her friends in April.")
    with pytest.raises(ValueError, match="unrecognised"):
        numeric_variants("Ava has 3 apples. Ava flies 2 kites. How many apples does Ava have now?", 2, 0)


def test_same_seed_same_rows_and_sizes_do_not_move_the_test_split() -> None:
    small = SplitSizes(train=300, val=20, test=60, test_ood=60)
    a, b = draw_rows(small, seed=7), draw_rows(small, seed=7)
    assert a == b and a != draw_rows(small, seed=8)
    bigger = draw_rows(SplitSizes(train=900, val=20, test=60, test_ood=60), seed=7)
    assert bigger.splits["test"] == a.splits["test"]
    assert load_split("test", n=3) == [{"id": f"synthetic/test/{i}", **r} for i, r in enumerate(draw_rows().splits["test"][:3])]
    with pytest.raises(ValueError, match="synthetic splits are"):
        load_split("dev")


def test_test_ood_rewords_each_test_item_with_held_out_wordings_only() -> None:
    rows = draw_rows(SplitSizes(train=50, val=10, test=80, test_ood=80), seed=2).splits
    for test, ood in zip(rows["test"], rows["test-ood"], strict=True):
        assert computation_of(test["question"]) == computation_of(ood["question"])
        assert ood["answer"] == test["answer"] and ood["question"] != test["question"]
        template, _ = parse_question(ood["question"])
        assert template.start >= len(START) and template.question >= len(QUESTION)
        assert all(phrase >= len(STEP[op]) for op, phrase in template.steps)
    for row in (*rows["train"], *rows["test"], *rows["val"]):
        template, _ = parse_question(row["question"])
        assert template.start < len(START) and template.question < len(QUESTION)


def test_held_out_wordings_are_not_the_base_corpus_wordings() -> None:
    from reasonkit.tasks import prose

    def skeleton(pattern: str) -> str:
        return re.sub(r"\{\w+\}", "{}", pattern)

    ood = {skeleton(p) for p in (*OOD_START, *OOD_QUESTION, *(p for ps in OOD_STEP.values() for p in ps))}
    seen = {skeleton(p) for p in (*START, *QUESTION, *(p for ps in STEP.values() for p in ps))}
    base = {skeleton(p) for p in (*prose.START, *prose.QUESTION, *(p for ps in prose.STEP.values() for p in ps))}
    assert not ood & seen and not ood & base


def test_commuted_first_step_is_one_computation() -> None:
    assert Computation(4, (("+", 1),)).canonical() == Computation(1, (("+", 4),))
    assert Computation(4, (("-", 1),)).canonical() == Computation(4, (("-", 1),))
    held_out = HeldOut()
    for a in range(1, 10):
        for b in range(1, 10):
            if a + b <= 99:
                assert held_out.bucket(Computation(a, (("+", b),))) == held_out.bucket(Computation(b, (("+", a),)))


def test_held_out_shares_match_the_hash() -> None:
    rng = random.Random(0)
    held_out = HeldOut()
    d = held_out.difficulty
    buckets = []
    for _ in range(4000):
        a = rng.randint(d.low, d.high)
        b = rng.randint(d.low, min(d.high, d.max_value - a))
        buckets.append(held_out.bucket(Computation(a, (("+", b),)).canonical()))
    # 45 canonical one-step sums; the shares are coarse but every bucket is used.
    assert {"test", "val", None} == set(buckets)
