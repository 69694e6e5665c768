"""The traces layer on files from other harnesses: think tags, the grounding check, "explained"."""

from __future__ import annotations

import json
import operator
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasoneval.cli import main
from reasoneval.layers.arithmetic import check_arithmetic
from reasoneval.layers.grounding import ungrounded_operands
from reasoneval.layers.trace_checks import TracesConfig, trace_sample
from reasoneval.layers.traces import gold_calibration, traces_for_rows
from reasoneval.records import Problem

OPS = {"+": operator.add, "*": operator.mul, "-": operator.sub}
QUESTION = "Liam has 2 eggs. Farid gives Liam 3 more. How many eggs does Liam have?"


def ungrounded(reasoning: str, question: str = QUESTION) -> list[str]:
    return ungrounded_operands(check_arithmetic(reasoning), question, reasoning)


def test_an_operand_from_nowhere_is_flagged() -> None:
    assert ungrounded("Liam has 2 + 3 = 5 eggs.") == []
    assert ungrounded("Liam has 2 + 13 = 15 eggs.") == ["13"]
    # An earlier result is a source; a number used before it is computed is not.
    assert ungrounded("2 + 3 = 5 eggs.\nTwice a week: 5 * 2 = 10.\nThen 10 * 3 = 30.") == []
    assert ungrounded("Liam sells 43 * 3 = 129.\nHe had 2 + 3 = 5.\n43 + 5 = 48") == ["43"]


def test_number_words_percentages_and_constants_are_sources() -> None:
    q = "A shirt costs $40 and is 25% off. Tom buys three and half a dozen socks."
    assert ungrounded("40 * 0.25 = 10\n40 - 10 = 30\n30 * 3 = 90\n12 / 2 = 6", q) == []
    assert ungrounded("40 * 0.75 = 30\n3 * 60 = 180 minutes", q) == []  # 1 - 25%, a constant
    assert ungrounded("40 * 0.37 = 14.8", q) == ["0.37"]


def test_grounding_is_not_applicable_without_the_question() -> None:
    trace = trace_sample("2 + 13 = 15\n</think>\n#### 15", "stop", "15", None, question=None)
    assert not trace.ungrounded
    flagged = trace_sample("2 + 13 = 15\n</think>\n#### 15", "stop", "15", None, question=QUESTION)
    assert flagged.ungrounded and flagged.error_type == "grounding"
    assert flagged.ungrounded_operands == ("13",)


@given(st.lists(st.integers(min_value=11, max_value=10**6), min_size=2, max_size=6, unique=True),
       st.sampled_from(["+", "*", "-"]))
def test_steps_over_question_numbers_and_earlier_results_are_never_flagged(
    numbers: list[int], op: str
) -> None:
    question = "Numbers: " + ", ".join(str(n) for n in numbers) + "."
    steps, total = [], numbers[0]
    for n in numbers[1:]:
        result = OPS[op](total, n)
        steps.append(f"{total} {op} {n} = {result}")
        total = result
    assert ungrounded("\n".join(steps), question) == []


@given(st.integers(min_value=1001, max_value=10**6), st.integers(min_value=1001, max_value=10**6))
def test_an_operand_in_neither_question_nor_trace_is_flagged(known: int, stranger: int) -> None:
    # The question's number read as a percent counts as stated: "100000" gives 1000, and the
    # 1 + p/100 reading 1001 (hypothesis found that one).
    readings = {known, known * 100, Fraction(known, 100), 1 + Fraction(known, 100), 1 - Fraction(known, 100)}
    if stranger in readings or stranger * 100 == known:
        return
    assert ungrounded(f"{known} + {stranger} = {known + stranger}", f"It costs {known}.") == [
        str(stranger)
    ]


def test_tags_are_checked_only_when_the_prompt_opened_think() -> None:
    plain = "2 + 3 = 5\n#### 5"
    assert trace_sample(plain, "stop", "5", None).tags_malformed  # default: primed, as in run
    off = trace_sample(plain, "stop", "5", None, config=TracesConfig(think=False))
    assert not off.tags_malformed and off.error_type == "none"


def _rows() -> list[dict[str, object]]:
    return [
        {"id": "a", "response": "2 + 3 = 5\n#### 5", "extracted": "5", "correct": True},
        {"id": "b", "response": "2 + 13 = 15\n#### 15", "extracted": "15", "correct": False},
        {"id": "c", "response": "2 + 2 = 4\n#### 4", "extracted": "4", "correct": False},
        {"id": "d", "response": "2 + 3 = 5\n#### 5", "extracted": "5", "correct": True},
    ]


def test_explained_share_and_each_flags_auroc() -> None:
    problems = [Problem(id=i, question=QUESTION, gold="5") for i in "abcd"]
    result = traces_for_rows(_rows(), problems, config=TracesConfig(think=False))
    # Two wrong answers, one of which carries a flag (ungrounded 13); "2 + 2" uses grounded numbers.
    assert result.metrics["explained"].value == 0.5 and result.metrics["explained"].n == 2
    # The flag fires on 1 of 2 wrong and 0 of 2 right answers: AUROC (1 * 1 + 0.5 * 3) / 4.
    assert result.metrics["auroc.flag.ungrounded"].value == pytest.approx(0.75)
    assert "auroc.length" in result.metrics
    assert "error_rate.tags" not in result.metrics and "flag_rate.tags_malformed" not in result.metrics
    assert "tags_malformed" in result.details["not_applicable"]
    assert "Explained: 1 of 2 wrong answers" in result.html


def test_score_on_a_non_thinking_file_flags_no_tags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "lm_eval.jsonl"
    rows = [{"q": QUESTION, "resp": r["response"], "gold": "5"} for r in _rows()]
    rows.append({"q": QUESTION, "resp": "#### 5", "gold": "five-ish"})  # an unscorable gold
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "scored.jsonl"
    argv = ["score", str(src), "--response-field", "resp", "--gold-field", "gold", "--out",
            str(out), "--layers", "accuracy,traces", "--question-field", "q"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "tags_malformed not applicable" in text and "explained: 50.0% of 2 wrong" in text
    assert "unscorable rows 1" in text
    scored = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["trace"]["tags_malformed"] for r in scored[:4]] == [False] * 4
    assert scored[1]["trace"]["ungrounded_operands"] == ["13"]
    assert scored[4]["correct"] is None and "trace" not in scored[4]
    # Primed with <think>: the same responses never close the block, so every row is flagged.
    assert main([*argv, "--think", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["traces"]["flag_rate.tags_malformed"]["value"] == 1.0
    assert summary["invalid"] == 4  # and no answer counts: each sat inside the thinking
    assert main([*argv, "--strict"]) == 2


@pytest.mark.gsm8k
def test_grounding_false_alarms_on_gsm8k_gold_at_most_one_percent(gsm8k_dir: Path) -> None:
    # The constants were chosen on train (docs/layers.md, 0.95%); the held-out test split checks them.
    lines = (gsm8k_dir / "test.jsonl").read_text(encoding="utf-8").splitlines()
    result = gold_calibration([json.loads(line) for line in lines])
    assert result["ungrounded"] / result["solutions"] <= 0.01, result
