"""Per-response checks of a reasoning trace.

Each check is a small function of the response text; :func:`trace_sample` runs them all and
picks one ``error_type`` by a fixed precedence, so a response that was cut off is reported as
truncated even when its half-written arithmetic is also wrong. None of these checks looks at the
gold answer; the gold-path check (gold_path.py), run when a step-annotated gold solution is
known, follows the response along it and gives a wrong answer one ``failure`` type instead.
Every check's work is linear in the response's length (tests/hostile/test_traces_linear.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from reasoneval.layers.arithmetic import Equation, check_arithmetic
from reasoneval.layers.gold_path import FAILURE_TYPES, GoldPath, parse_gold_path
from reasoneval.layers.gold_path_follow import follow_gold_path
from reasoneval.layers.grounding import DEFAULT_CONSTANTS, ungrounded_operands
from reasonkit.answers import is_equivalent, normalize, parse_gold
from reasonkit.prompting import THINK_CLOSE, THINK_OPEN

ErrorType = Literal[
    "extraction", "truncation", "looping", "tags", "language", "arithmetic", "grounding",
    "inconsistent", "none",
]
# The order a sample's single error_type is chosen in: the first check that fires wins. Earlier
# failures make later checks meaningless (a cut-off trace has no final step to be consistent).
PRECEDENCE: tuple[ErrorType, ...] = (
    "extraction", "truncation", "looping", "tags", "language", "arithmetic", "grounding",
    "inconsistent",
)
# The flag behind each error type.
ERROR_FLAG: dict[ErrorType, str] = {
    "extraction": "missing_answer", "truncation": "truncated", "looping": "looping",
    "tags": "tags_malformed", "language": "language_mixed", "arithmetic": "arithmetic_error",
    "grounding": "ungrounded", "inconsistent": "inconsistent",
}
FLAGS = (
    "missing_answer", "truncated", "looping", "tags_malformed", "language_mixed",
    "arithmetic_error", "ungrounded", "inconsistent", "step_count_off", "off_gold_path",
)


@dataclass(frozen=True, slots=True)
class TracesConfig:
    # rep-n = 1 - unique n-grams / n-grams (Welleck et al. 2019, "Neural Text Generation with
    # Unlikelihood Training", seq-rep-4). Human text scores ~0.01 on their Wikitext data and
    # degenerate greedy loops approach 1; 0.5 is our cut between the two, and GSM8K's gold
    # solutions never reach it (calibration in docs/layers.md).
    ngram: int = 4
    max_repetition: float = 0.5
    min_ngrams: int = 20  # a shorter text repeats a 4-gram by chance too easily
    # A non-trivial step written 3+ times verbatim is a loop (ours; gold solutions never do it).
    max_line_repeats: int = 3
    min_line_chars: int = 8  # short lines ("</think>", "So:") legitimately repeat
    # Language mixing: letters outside Latin/Greek (Greek is math notation) in an English
    # problem. Ours: 5% of letters and at least 3 of them, so a stray symbol does not count.
    max_foreign_share: float = 0.05
    min_foreign_letters: int = 3
    # Steps outside [0.5x, 3x] the gold solution's line count (ours: gold solutions have 2-8
    # lines, and small models pad with restatements, hence the wider upper bound).
    step_ratio_low: float = 0.5
    step_ratio_high: float = 3.0
    # The prompt opened <think> (``reasoneval run`` always does; ``score --think``). Only then can
    # the tags be malformed: a file from lm-eval or a non-thinking model has no think block.
    think: bool = True
    # Operands that need no source (grounding.py; calibrated on GSM8K train gold solutions).
    constants: tuple[Fraction, ...] = DEFAULT_CONSTANTS


@dataclass(frozen=True, slots=True)
class Trace:
    missing_answer: bool
    truncated: bool
    looping: bool
    tags_malformed: bool
    language_mixed: bool
    arithmetic_error: bool
    ungrounded: bool
    inconsistent: bool
    step_count_off: bool
    error_type: ErrorType
    n_equations: int
    bad_equations: tuple[str, ...]  # the first few that failed, as written
    last_value: str | None  # the last value computed on the final step's line, canonical
    repetition: float
    max_line_repeats: int
    foreign_share: float
    steps: int
    gold_steps: int | None
    ungrounded_operands: tuple[str, ...] = ()  # the first few, as written
    # The gold-path check (gold_path.py), when the gold solution annotates its steps: the
    # failure type ("none" for the gold final answer, "unexplained" for a wrong one no rule
    # types, None when no gold path is known), the gold steps the reasoning reached (1-based),
    # the first it neither reached nor implied, and the text that decided the type.
    off_gold_path: bool = False  # the failure is one of the specific types
    failure: str | None = None
    gold_steps_reached: tuple[int, ...] = ()
    first_divergent_step: int | None = None
    failure_evidence: str = ""

    def flags(self) -> dict[str, bool]:
        return {name: bool(getattr(self, name)) for name in FLAGS}


_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")


def reasoning_part(response: str) -> str:
    """The text before ``</think>`` (all of it when the tag never closes)."""
    return response.split(THINK_CLOSE, 1)[0]


def count_steps(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())


def gold_step_count(solution: str) -> int:
    return count_steps(solution.rpartition("####")[0] if "####" in solution else solution)


def repetition_ratio(text: str, n: int, min_ngrams: int) -> float:
    words = _WORD.findall(text.lower())
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if len(grams) < min_ngrams:
        return 0.0
    return 1 - len(set(grams)) / len(grams)


def max_repeated_line(text: str, min_chars: int) -> int:
    lines = [" ".join(ln.split()).lower() for ln in text.splitlines()]
    counts = Counter(ln for ln in lines if len(ln) >= min_chars)
    return max(counts.values(), default=0)


def foreign_letters(text: str) -> tuple[int, float]:
    """(letters outside Latin/Greek script, their share of all letters)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0, 0.0
    foreign = sum(
        not unicodedata.name(c, "").startswith(("LATIN", "GREEK", "MATHEMATICAL")) for c in letters
    )
    return foreign, foreign / len(letters)


def tags_malformed(response: str) -> bool:
    # The prompt already opens <think>, so a good response closes it once and never reopens it.
    return response.count(THINK_CLOSE) != 1 or THINK_OPEN in response


def _canonical(value: float) -> str | None:
    return normalize(str(int(value)) if value.is_integer() else f"{value:.12g}")


def final_step_values(reasoning: str, equations: Sequence[Equation]) -> list[float]:
    """Values computed on the reasoning's last line that has a digit, in order.

    Empty when that line has no equation the checker could read: the last value computed
    earlier is then stale, and comparing the answer with it would raise false alarms.
    """
    # The last digit, then its line's bounds: one pass. A regex "[^\n]*\d[^\n]*" over the lines
    # was quadratic on a long line without digits (10k "\\frac{" took 39 s; issue 29).
    tail = deque(_DIGITS.finditer(reasoning), maxlen=1)
    if not tail:
        return []
    last = tail[0]
    start = reasoning.rfind("\n", 0, last.start()) + 1
    end = reasoning.find("\n", last.end())
    end = len(reasoning) if end < 0 else end
    return [e.value for e in equations if start <= e.position < end]


def _consistent(extracted: str, values: Sequence[float]) -> bool:
    # "4/20 x 100% = 20%" computes 0.2 and answers 20: a percent may be read either way.
    return any(
        is_equivalent(extracted, _canonical(v * scale)) for v in values for scale in (1, 100, 0.01)
    )


def trace_sample(
    response: str, finish_reason: str, extracted: str | None, gold_solution: str | None,
    *, question: str | None = None, config: TracesConfig = TracesConfig(),
    gold: str | None = None,
) -> Trace:
    """Every check on one response. ``gold``: the gold final answer for the gold-path check
    (taken from the solution's ``#### value`` line when not given)."""
    reasoning = reasoning_part(response)
    equations = check_arithmetic(response)
    bad = [e.text for e in equations if not e.ok]
    final_values = final_step_values(reasoning, equations)
    last_value = _canonical(final_values[-1]) if final_values else None
    n_foreign, share = foreign_letters(response)
    _, question_share = foreign_letters(question or "")
    steps = count_steps(reasoning)
    gold_steps = gold_step_count(gold_solution) if gold_solution else None
    repeats = max_repeated_line(reasoning, config.min_line_chars)
    repetition = repetition_ratio(response, config.ngram, config.min_ngrams)
    # Without the question there is nothing to ground against: the check does not apply.
    ungrounded = ungrounded_operands(equations, question, reasoning, config.constants) if question else []
    flags = {
        "missing_answer": extracted is None,
        "truncated": finish_reason == "length",
        "looping": repetition >= config.max_repetition or repeats >= config.max_line_repeats,
        "tags_malformed": config.think and tags_malformed(response),
        "language_mixed": question_share < config.max_foreign_share
        and n_foreign >= config.min_foreign_letters and share >= config.max_foreign_share,
        "arithmetic_error": bool(bad),
        "ungrounded": bool(ungrounded),
        "inconsistent": extracted is not None and bool(final_values)
        and not _consistent(extracted, final_values),
        "step_count_off": gold_steps is not None and gold_steps > 0 and not (
            config.step_ratio_low * gold_steps <= steps <= config.step_ratio_high * gold_steps
        ),
    }
    path = _gold_path(gold_solution, gold, question)
    followed = follow_gold_path(response, extracted, finish_reason, path) if path else None
    flags["off_gold_path"] = followed is not None and followed.failure in FAILURE_TYPES
    error_type: ErrorType = next((t for t in PRECEDENCE if flags[ERROR_FLAG[t]]), "none")
    return Trace(
        **flags, error_type=error_type, n_equations=len(equations), bad_equations=tuple(bad[:3]),
        last_value=last_value, repetition=round(repetition, 4), max_line_repeats=repeats,
        foreign_share=round(share, 4), steps=steps, gold_steps=gold_steps,
        ungrounded_operands=tuple(ungrounded[:3]),
        failure=followed.failure if followed else None,
        gold_steps_reached=followed.reached if followed else (),
        first_divergent_step=followed.first_divergent if followed else None,
        failure_evidence=followed.evidence if followed else "",
    )


def _gold_path(solution: str | None, gold: str | None, question: str | None) -> GoldPath | None:
    if not solution:
        return None
    final = normalize(gold) if gold else parse_gold(solution) if "####" in solution else None
    return parse_gold_path(solution, final, question or "")
