"""Each check rejects the row built to trip it, names itself, and keeps a clean row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from datacheck.checks import (
    CalculatorCheck,
    FormatCheck,
    LabelConsistencyCheck,
    LearnabilityCheck,
    RoundTripCheck,
)
from datacheck.records import Problem

MakeProblem = Callable[..., Problem]
ALL_CHECKS = [FormatCheck(), CalculatorCheck(), LabelConsistencyCheck(), RoundTripCheck()]


def test_clean_row_passes_every_check(make_problem: MakeProblem) -> None:
    p = make_problem()
    assert [check(p) for check in ALL_CHECKS] == [None] * len(ALL_CHECKS)
    assert p.final_answer == "72"
    assert (
        p.reasoning
        == "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether."
    )


@pytest.mark.parametrize(
    ("question", "answer", "reason_part"),
    [
        ("How many apples are left over?", "3-1 = <<3-1=2>>2\n#### 2\n#### 2", "exactly one"),
        ("How many apples are left over?", "3-1 = <<3-1=2>>2", "found 0"),
        ("Hi?", "3-1 = <<3-1=2>>2\n#### 2", "question shorter"),
        ("How many apples are left over?", "#### 2", "no reasoning"),
        ("How many apples are left over?", "3-1 = 2\n#### many", "not a number"),
        ("How many apples are left<|im_end|>?", "3-1 = 2\n#### 2", "leaked chat-template"),
        ("How many apples are left over?", "3-1 = 2 </think>\n#### 2", "leaked chat-template"),
        ("How many apples are leftâ€™s over?", "3-1 = 2\n#### 2", "encoding damage"),
        ("How many apples are left \ufffd over?", "3-1 = 2\n#### 2", "encoding damage"),
    ],
)
def test_format_rejects(
    make_problem: MakeProblem, question: str, answer: str, reason_part: str
) -> None:
    verdict = FormatCheck()(make_problem(question, answer))
    assert verdict is not None and verdict.check == "format"
    assert reason_part in verdict.reason


@pytest.mark.parametrize(
    ("answer", "reason_part"),
    [
        ("6*7 = <<6*7=43>>43 cakes\n#### 43", "evaluates to 42, not 43"),
        ("6*7 = <<6*7=42>>43 cakes\n#### 43", "text after '>>' says 43"),
        ("<<__import__('os')=1>>1\n#### 1", "cannot evaluate safely"),
        ("<<560//10=57>>57\n#### 57", "evaluates to 56, not 57"),
        ("<<3/4=2/3>>2/3 of them\n#### 2", "evaluates to 0.75, not 2/3"),
        ("<<3/4=3/4>>2/3 of them\n#### 2", "text after '>>' says 2/3"),
        ("<<1e999=1>>1\n#### 1", "cannot evaluate safely"),  # crashed the run (issue 14, item 2)
        ("<<5/0=1>>1\n#### 1", "cannot evaluate safely"),
        ("<<6*7>>42\n#### 42", "no '=value'"),
    ],
)
def test_calculator_rejects(make_problem: MakeProblem, answer: str, reason_part: str) -> None:
    verdict = CalculatorCheck()(make_problem(answer=answer))
    assert verdict is not None and verdict.check == "calculator"
    assert reason_part in verdict.reason


@pytest.mark.parametrize(
    "answer",
    [
        "10/3 = <<10/3=3.33>>3.33 each\n#### 3.33",  # rounded as written
        "2-1.5 = <<2-1.5=.5>>.5 dozen\n#### .5",  # leading-dot decimals
        "$<<0.2*50=10>>10.\n#### 10",  # currency sign before the stated result
        "1000+500 = <<1000+500=1500>>1,500 people\n#### 1500",
        # GSM8K's own annotations, rejected before (issue 16, item 11): train/394, test/319
        "560/10 = <<560//10=56>>56 pairs\n#### 56",
        "The fraction is <<3/4=3/4>>3/4.\n#### 3",
    ],
)
def test_calculator_accepts_gsm8k_conventions(make_problem: MakeProblem, answer: str) -> None:
    assert CalculatorCheck()(make_problem(answer=answer)) is None


@pytest.mark.parametrize(
    ("answer", "computed"),
    [
        # gsm8k/train/356 in miniature: last computation 64, label 66
        ("48 + 16 = <<48+16=64>>64 points.\n#### 66", "64"),
        # no annotation on the last line: its stated result counts (gsm8k/train/6760)
        ("Then 4+4+6 = 18 hot dogs\n#### 14", "18"),
    ],
)
def test_label_consistency_rejects(make_problem: MakeProblem, answer: str, computed: str) -> None:
    verdict = LabelConsistencyCheck()(make_problem(answer=answer))
    assert verdict is not None and verdict.check == "label_consistency"
    assert verdict.reason.endswith(f"computing {computed}")


@pytest.mark.parametrize(
    "answer",
    [
        "40/160 = $<<40/160=0.25>>0.25 per load\n#### 25",  # dollars -> cents
        "So the price is $80 000 + $20 000 = $100 000.\n#### 100,000",  # spaced thousands
        "It took three days to pass the window.\n#### 3",  # number word
        "So 2.50*2 = <<2.5*2=5.00>>5.00 dollars\n#### 5",  # formatting
    ],
)
def test_label_consistency_normalises_units_and_formatting(
    make_problem: MakeProblem, answer: str
) -> None:
    assert LabelConsistencyCheck()(make_problem(answer=answer)) is None


def test_round_trip_keeps_parseable_rows_and_rejects_a_broken_render(
    make_problem: MakeProblem,
) -> None:
    assert RoundTripCheck()(make_problem()) is None
    # A final answer not in canonical form renders as "#### 1,000" and parses back as "1000":
    # training would teach a string the scorer reads differently.
    broken = replace(make_problem(), final_answer="1,000")
    verdict = RoundTripCheck()(broken)
    assert verdict is not None and verdict.check == "round_trip"
    assert "parses back as 1000" in verdict.reason


def test_learnability_flags_context_overflow_and_percentile_outliers(
    make_problem: MakeProblem,
) -> None:
    typical = [
        make_problem(answer=f"Step {i}: 2+2 = <<2+2=4>>4\n#### 4", index=i) for i in range(99)
    ]
    long_steps = "\n".join(f"Then {k}+1 = <<{k}+1={k + 1}>>{k + 1} apples." for k in range(40))
    outlier = make_problem(answer=f"{long_steps}\n#### 40", index=99)
    huge = make_problem(answer="word " * 3000 + "\n#### 1", index=100)
    check = LearnabilityCheck(context_length=2048, outlier_percentile=99.0)
    check.fit([*typical, outlier])
    assert all(check(p) is None for p in typical)
    verdict = check(outlier)
    assert verdict is not None and verdict.check == "learnability" and "p99" in verdict.reason
    over = check(huge)
    assert over is not None and "2048-token context" in over.reason
