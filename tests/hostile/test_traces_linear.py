"""The traces layer costs time linear in a response's length (issue 29, item 3).

Before the fix, ``\\frac{`` repeated 1k/3k/10k times took 2.4/5.3/38.9 s, and 100k repeats of
``\\frac{``, ``{``, ``#### ``, ``<think>`` or ``The answer is `` each ran past 30 s: a regex that
rescanned a digit-free line from every position, a token-list copy per "=", a list searched
per ungrounded operand. Each case here is sized so that the linear code takes well under a
second and the quadratic code minutes; a budget of a few seconds separates the two on a loaded
2-core machine, and an alarm stops a regression instead of hanging the suite.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hostile_helpers import invoke, write_lines

from reasoneval.cli import main
from reasoneval.layers.arithmetic import Equation
from reasoneval.layers.grounding import ungrounded_operands
from reasoneval.layers.trace_checks import trace_sample

BUDGET_S = 3.0  # linear: 0.05-0.6 s here; the pre-fix code: 20 s to hours on the same inputs
GOLD = "Ava has 3 + 4 = <<3+4=7>>7 apples.\nShe doubles them: 7 * 2 = <<7*2=14>>14.\n#### 14"
QUESTION = "Ava has 3 apples and buys 4 more. Then she doubles them. How many does she have?"


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def _stop(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: superlinear")

    previous = signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _best_of_two(run: Callable[[], object]) -> float:
    """Best of two wall-clock runs: quadratic work is slow every time, a busy machine only
    delays some runs."""
    best = float("inf")
    for _ in range(2):
        with _deadline(4 * BUDGET_S):
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        if best <= BUDGET_S:
            break
    return best


# (piece, repeats). Pre-fix timings on this machine: "\\frac{" x 20k > 60 s; "The answer is " x
# 20k > 400 s (9.7 s at 3k, quadratic); "=" and "1=" 1.4 s and 3.9 s at 32k, 4x per doubling;
# "1+1=2 " x 30k 12.6 s.
HOSTILE = [
    ("\\frac{", 20_000),
    ("{", 100_000),
    ("#### ", 20_000),
    ("<think>", 20_000),
    ("The answer is ", 20_000),
    ("=", 60_000),
    ("1=", 40_000),
    ("1+1=2 ", 30_000),
    ("a = ", 30_000),
    ("-1=", 30_000),
    ("(", 60_000),
    ("ab ", 40_000),
    ("<<", 40_000),
    # Terms and operators with no "=": the gold-path equation reader once backtracked through
    # every way to split the spaces between terms, doubling its time per term (12 terms: 50 ms).
    ("1000003 + ", 20_000),
    ("3 apples + ", 20_000),
]


@pytest.mark.parametrize(("piece", "repeats"), HOSTILE, ids=[repr(p) for p, _ in HOSTILE])
def test_every_trace_check_is_linear_on_repeated_pieces(piece: str, repeats: int) -> None:
    text = piece * repeats
    # With a gold solution and the question, the gold-path and grounding checks run too.
    elapsed = _best_of_two(lambda: trace_sample(text, "stop", "14", GOLD, question=QUESTION))
    assert elapsed <= BUDGET_S, f"{piece!r} x {repeats}: {elapsed:.1f} s"


def test_many_distinct_ungrounded_operands_are_linear() -> None:
    # Each step's operands are numbers written nowhere before, so the list of ungrounded ones
    # grows with the text; a membership test on that list made the grounding check quadratic
    # (90k operands: over a minute). Equations are built directly: parsing would dominate the time.
    steps = [Equation(" + ".join(str(1_000_000 + 30 * i + j) for j in range(30)) + " = 1", 1.0,
                      False, "annotation", 10 * i) for i in range(3_000)]
    elapsed = _best_of_two(lambda: ungrounded_operands(steps, QUESTION, ""))
    assert elapsed <= BUDGET_S, f"{elapsed:.1f} s"


def test_gold_path_reads_a_long_equation_line_in_linear_time() -> None:
    # One line of many equations and unit words: the equation reader's worst case.
    text = "3 apples + 4 apples = 7 apples, 7 apples * 2 = 14 apples; " * 1_000
    elapsed = _best_of_two(lambda: trace_sample(text, "stop", "15", GOLD, question=QUESTION))
    assert elapsed <= BUDGET_S, f"{elapsed:.1f} s"


def test_score_with_traces_on_hostile_rows_is_fast(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The long line holds no digit (the answer is on the next one): the case that was quadratic.
    rows = [{"id": str(i), "response": piece * 10_000 + "\nThe answer is 14.", "gold": GOLD,
             "question": QUESTION} for i, (piece, _) in enumerate(HOSTILE[:6])]
    src = write_lines(tmp_path / "gen.jsonl", rows)
    argv = ["score", str(src), "--response-field", "response", "--gold-field", "gold",
            "--question-field", "question", "--layers", "accuracy,traces",
            "--out", str(tmp_path / "out.jsonl")]
    start = time.perf_counter()
    with _deadline(30):
        result = invoke(main, argv, capsys)
    assert result.code == 0 and time.perf_counter() - start < 10
