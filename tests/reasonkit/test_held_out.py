"""Held out means held out: no held-out item shares its computation or its solution text with
anything the model is trained on (SFT rows, GRPO prompts, the base's pretraining corpus).

These read the training data as *text*, the way a reviewer would, and re-derive each row's
computation from its written equations, so they do not trust the generator's bookkeeping.
Exact question-text disjointness, which the first version of this split checked, is not enough:
the old split passed it while 95% of its test items had their exact solution text among the
SFT targets (issue 22).
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasonkit.tasks.arithmetic import Computation, computation_of
from reasonkit.tasks.split import EVAL_SPLITS, HeldOut, SplitSizes, draw_rows

# "3 + 4 = <<3+4=7>>7" (SFT rows) and "3 + 4 = 7." (the base's prose): the written equations.
EQUATION = re.compile(r"(\d+) ([-+*/]) (\d+) = (?:<<[^<>]*>>)?(\d+)")


def chain_of(text: str) -> Computation | None:
    """The computation a solution text writes out, read from its equations."""
    equations = EQUATION.findall(text)
    if not equations:
        return None
    steps = tuple((op, int(b)) for _, op, b, _ in equations)
    return Computation(int(equations[0][0]), steps)  # type: ignore[arg-type]


def tails(c: Computation) -> set[Computation]:
    """A trained computation and those it ends with: none may be a held-out one."""
    return {c.canonical(), *(s.canonical() for s in c.suffixes())}


@cache
def default_rows() -> dict[str, tuple[dict[str, str], ...]]:
    return draw_rows().splits


def test_no_held_out_computation_in_the_sft_rows() -> None:
    rows = default_rows()
    held = {computation_of(r["question"]).canonical() for s in EVAL_SPLITS for r in rows[s]}
    trained = [chain_of(r["answer"]) for r in rows["train"]]
    assert all(c is not None for c in trained)
    assert not [c for c in trained if c is not None and tails(c) & held]


def test_no_held_out_solution_text_in_the_sft_rows() -> None:
    rows = default_rows()
    targets = "\n\x00".join(r["answer"] for r in rows["train"])
    for split in EVAL_SPLITS:
        for row in rows[split]:
            assert row["answer"] not in targets, (split, row["question"])


def test_no_held_out_question_in_the_sft_rows_under_other_names() -> None:
    rows = default_rows()

    def skeleton(question: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", question))

    trained = {(skeleton(r["question"]), r["answer"]) for r in rows["train"]}
    for split in EVAL_SPLITS:
        assert not [r for r in rows[split] if (skeleton(r["question"]), r["answer"]) in trained]


@pytest.mark.slow
def test_no_held_out_computation_in_the_base_corpus() -> None:
    """The committed base's corpus (scripts/build_base.py's recipe), read back from its text."""
    from scripts.build_base import BaseRecipe, corpus_rows

    rows = default_rows()
    held = {computation_of(r["question"]).canonical() for s in EVAL_SPLITS for r in rows[s]}
    leaks = []
    for _, completion in corpus_rows(BaseRecipe()):
        c = chain_of(completion.split("</think>")[0])
        assert c is not None, completion
        if tails(c) & held:
            leaks.append(completion)
    assert not leaks, leaks[:3]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), split_seed=st.integers(0, 1000))
def test_any_seed_any_split_seed_holds_out_by_computation(seed: int, split_seed: int) -> None:
    held_out = HeldOut(seed=split_seed)
    rows = draw_rows(SplitSizes(train=1500, val=50, test=100, test_ood=100), seed=seed, held_out=held_out).splits
    held = {computation_of(r["question"]).canonical() for s in EVAL_SPLITS for r in rows[s]}
    for row in rows["train"]:
        c = chain_of(row["answer"])
        assert c is not None and not tails(c) & held, row
    for split in EVAL_SPLITS:
        # One computation per item, and val apart from test.
        comps = [computation_of(r["question"]).canonical() for r in rows[split]]
        assert len(set(comps)) == len(comps)
    val = {computation_of(r["question"]).canonical() for r in rows["val"]}
    assert not val & {computation_of(r["question"]).canonical() for r in rows["test"]}
