"""The traces layer on fixed responses with hand-computed flags, error types and summaries."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasoneval.layers.arithmetic import check_arithmetic, gold_false_alarms
from reasoneval.layers.base import RunContext
from reasoneval.layers.features import problem_features
from reasoneval.layers.measures import auroc
from reasoneval.layers.trace_checks import TracesConfig, trace_sample
from reasoneval.layers.traces import TracesLayer, traces_for_rows
from reasoneval.records import Completion, Generation, Problem, ScoredSample

GOLD = "He buys 2 * 3 = <<2*3=6>>6 pens.\nThen 6 + 4 = <<6+4=10>>10 pens.\n#### 10"


def verdicts(text: str) -> list[tuple[str, bool]]:
    return [(e.text, e.ok) for e in check_arithmetic(text)]


def test_wrong_sum_is_flagged_and_right_one_is_not() -> None:
    assert verdicts("So 5 + 3 = 9 apples.") == [("5 + 3 = 9", False)]
    assert verdicts("So 5 + 3 = 8 apples.") == [("5 + 3 = 8", True)]
    assert verdicts("total <<5+3=9>>9") == [("<<5+3=9>>", False)]


@pytest.mark.parametrize(
    "text",
    [
        "3 x 4 = 12 cookies",
        "3 \u00d7 4 = 12",
        "$1,200 - $200 = $1,000",
        "10/3 = 3.33 each",
        "7 / 2 = 3 full boxes",
        "100% - 20% = 80%",
        "4/20 x 100% = 20%",
        "3 stickers + 42 stickers = 45",
        "2 * 3 = 6 + 1 = 7",
        "25 / 1/3 = 75",
        "(2 + 3) * 4 = 20",
        "2^10 = 1024",
        "-5 + 2 = -3",
    ],
)
def test_prose_notations_read_correctly(text: str) -> None:
    assert verdicts(text) and all(ok for _, ok in verdicts(text))


@pytest.mark.parametrize(
    "text",
    [
        "20% of 50 = 10",  # "of" is prose: the left side is not a complete expression
        "11x + 15 = 301",  # algebra
        "7 stickers/page * 6 pages = 42",  # starts mid-expression after a unit word
        "It is 12:00 + 18 = 30",  # a clock time, not arithmetic
    ],
)
def test_unreadable_equations_are_skipped_not_flagged(text: str) -> None:
    assert verdicts(text) == []


def test_hostile_expression_fails_fast() -> None:
    start = time.perf_counter()
    assert verdicts("so 9**9**9**9 = 1 and <<2**2**2**99=1>>") == []
    assert time.perf_counter() - start < 1.0


def test_clean_response_has_no_flags() -> None:
    t = trace_sample("2 * 3 = 6 pens.\n6 + 4 = 10 pens.\n</think>\n#### 10", "stop", "10", GOLD)
    assert t.error_type == "none" and not any(t.flags().values())
    assert (t.n_equations, t.last_value, t.steps, t.gold_steps) == (2, "10", 2, 2)


def test_each_check_fires_alone() -> None:
    def kind(response: str, *, finish: str = "stop", extracted: str | None = "8") -> str:
        return trace_sample(response, finish, extracted, None).error_type

    assert kind("5 + 3 = 9\n</think>\n#### 9", extracted="9") == "arithmetic"
    assert kind("5 + 3 = 8\n</think>\n#### 9", extracted="9") == "inconsistent"
    assert kind("5 + 3 = 8\n</think>\n#### 8", finish="length") == "truncation"
    assert kind("no number here\n</think>\n", extracted=None) == "extraction"
    assert kind("5 + 3 = 8\n#### 8") == "tags"  # never closed the think block
    assert kind("<think>5 + 3 = 8\n</think>\n#### 8") == "tags"  # reopened it
    assert kind("5 + 3 = 8 所以答案是八个苹果\n</think>\n#### 8") == "language"
    loop = "We add the apples together now.\n" * 4
    assert kind(f"{loop}5 + 3 = 8\n</think>\n#### 8") == "looping"


def test_precedence_truncation_beats_arithmetic_and_extraction_beats_all() -> None:
    t = trace_sample("5 + 3 = 9 and then 9 * 2 = 18", "length", "18", None)
    assert t.truncated and t.arithmetic_error and t.tags_malformed
    assert t.error_type == "truncation"
    t = trace_sample("5 + 3 = 9", "length", None, None)
    assert t.missing_answer and t.truncated and t.error_type == "extraction"


def test_repetition_ratio_and_thresholds_are_parameters() -> None:
    text = " ".join(["the cat sat on the mat"] * 10) + "\n</think>\n#### 1"
    t = trace_sample(text, "stop", "1", None)
    assert t.looping and t.repetition > 0.8  # 56 4-grams, 6 distinct: 1 - 6/56 = 0.893
    relaxed = trace_sample(text, "stop", "1", None, config=TracesConfig(max_repetition=0.95))
    assert not relaxed.looping


def test_step_count_compared_with_gold() -> None:
    many = "\n".join(f"Step {i}: think." for i in range(10))  # 10 steps vs gold's 2
    t = trace_sample(f"{many}\n</think>\n#### 10", "stop", "10", GOLD)
    assert t.step_count_off and t.error_type == "none"  # a flag, not an error type
    assert not trace_sample(f"{many}\n</think>\n#### 10", "stop", "10", None).step_count_off


def test_problem_features() -> None:
    p = Problem("x", "A farm has 1,250 cows and 3 barns.", "10", GOLD)
    assert problem_features(p) == {
        "gold_steps": ["1-2"],
        "operations": ["add", "multiply"],
        "magnitude": ["1000+"],
    }


def test_auroc_perfect_reversed_and_ties() -> None:
    assert auroc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0
    assert auroc([0.9, 0.8, 0.2, 0.1], [False, False, True, True]) == 0.0
    assert auroc([1, 1, 1, 1], [False, True, False, True]) == 0.5
    assert auroc([1, 2], [True, True]) is None


@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=2, max_size=40))
def test_auroc_is_symmetric_under_negation(pairs: list[tuple[int, bool]]) -> None:
    scores, labels = [float(s) for s, _ in pairs], [y for _, y in pairs]
    a, b = auroc(scores, labels), auroc([-s for s in scores], labels)
    assert (a is None) == (b is None) == (len(set(labels)) == 1)  # undefined with one class only
    assert a is None or (b is not None and abs(a + b - 1) < 1e-12)


def _sample(
    pid: str,
    text: str,
    extracted: str | None,
    correct: bool,
    *,
    finish: str = "stop",
    tokens: int = 10,
    variant: str = "original",
) -> ScoredSample:
    gen = Generation(pid, variant, 0, "prompt", "hash", Completion(text, finish, 5, tokens))
    return ScoredSample(gen, "10", extracted, "strict" if extracted else None, correct)


def _fixture() -> tuple[list[Problem], list[ScoredSample]]:
    problems = [Problem(f"p{i}", f"Question {i} <b>?", "10", GOLD) for i in range(4)]
    samples = [
        _sample("p0", "2 * 3 = 6\n6 + 4 = 10\n</think>\n#### 10", "10", True, tokens=50),
        _sample("p1", "2 * 3 = 7\n7 + 4 = 11\n</think>\n#### 11", "11", False, tokens=20),
        _sample("p2", "2 * 3 = 6\n6 + 4 = 10", "10", False, finish="length", tokens=30),
        _sample("p3", "2 * 3 = 6\n6 + 4 = 10\n</think>\n#### 10", "10", True, tokens=40),
        _sample("p3", "ignored: a variant", None, False, variant="format-boxed"),
    ]
    return problems, samples


def test_layer_rates_informativeness_and_auroc_by_hand() -> None:
    problems, samples = _fixture()
    result = TracesLayer(n_boot=200).evaluate(problems, samples, RunContext(None, 0, 1))
    m = result.metrics
    assert m["error_rate.arithmetic"].value == 0.25 and m["error_rate.truncation"].value == 0.25
    assert m["clean_rate"].value == 0.5 and m["error_rate.arithmetic"].higher_is_better is False
    lo, hi = m["error_rate.arithmetic"].lo, m["error_rate.arithmetic"].hi
    assert lo is not None and hi is not None and lo < 0.25 < hi
    info = result.details["informativeness"]["any_flag"]
    assert (info["flagged"], info["flagged_wrong"], info["unflagged_wrong"]) == (2, 2, 0)
    # The two wrong samples carry flags and the right ones none: AUROC 1. By length the wrong
    # ones (20, 30 tokens) are the shortest, so length ranks them backwards: AUROC 0.
    assert m["auroc.flags"].value == 1.0 and m["auroc.length"].value == 0.0
    assert m["auroc.length"].higher_is_better is None  # the baseline: docs/layers.md gives no direction
    assert set(result.per_sample) == {(f"p{i}", "original", 0) for i in range(4)}
    assert result.per_sample[("p1", "original", 0)]["trace"]["error_type"] == "arithmetic"
    assert "<b>" not in result.html
    json.dumps(result.details)


def test_traces_for_rows_matches_the_layer() -> None:
    problems, samples = _fixture()
    rows = [
        {
            "id": s.generation.id,
            "variant": s.generation.variant,
            "sample_index": 0,
            "response": s.generation.completion.text,
            "finish_reason": s.generation.completion.finish_reason,
            "extracted": s.extracted,
            "correct": s.correct,
            "completion_tokens": s.generation.completion.completion_tokens,
        }
        for s in samples
    ]
    from_rows = traces_for_rows(rows, problems, n_boot=200)
    from_layer = TracesLayer(n_boot=200).evaluate(problems, samples, RunContext(None, 0, 1))
    assert from_rows.metrics == from_layer.metrics and from_rows.per_sample == from_layer.per_sample


@pytest.mark.gsm8k
def test_arithmetic_false_alarms_on_gsm8k_gold_at_most_one_percent(gsm8k_dir: Path) -> None:
    for split in ("train", "test"):
        lines = (gsm8k_dir / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        flagged, n, _, equations = gold_false_alarms([json.loads(x) for x in lines if x])
        assert equations > 5 * n  # the checker reads most of the arithmetic, not none of it
        assert flagged / n <= 0.01, f"{split}: {flagged}/{n} gold solutions flagged"


@pytest.mark.gsm8k
def test_arithmetic_check_catches_planted_errors_in_gsm8k_gold(gsm8k_dir: Path) -> None:
    # Strip the calculator annotations (as training data does), then add 1 to the first result
    # written after an '='. The checker must notice most of these, not just stay quiet.
    import re

    lines = (gsm8k_dir / "test.jsonl").read_text(encoding="utf-8").splitlines()
    caught = planted = 0
    for row in map(json.loads, filter(None, lines)):
        text = re.sub(r"<<[^<>]*>>", "", row["answer"].rpartition("####")[0])
        m = re.search(r"=\s*\$?(\d+)(?![\d.,/])", text)
        if m:
            planted += 1
            bad = f"{text[: m.start(1)]}{int(m.group(1)) + 1}{text[m.end(1) :]}"
            caught += any(not e.ok for e in check_arithmetic(bad))
    assert planted > 1000 and caught / planted >= 0.65  # measured 881/1233 = 71%
