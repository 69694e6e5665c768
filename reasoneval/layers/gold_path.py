"""The gold-path check: follow a response along the gold solution's calculator steps.

GSM8K's gold solutions, and the synthetic task's, annotate every calculation as
``<<expr=value>>``. The check reads those steps once per problem (:func:`parse_gold_path`), then
per response (gold_path_follow.follow_gold_path): which gold intermediate values the reasoning wrote, the
first gold step it neither reached nor implied, and one failure type from ``FAILURE_TYPES``
(gold_path_rules; docs/layers.md, "Gold path", has the taxonomy and its validation on real
responses).

It reads no model and never evaluates text as code (left sides go through reasonkit.arith).
Its work per response is linear in the response's length: the text is read by single regex
scans with bounded quantifiers (gold_path_text), then at most ``MAX_EQUATIONS`` equations and
one pass over the numbers found are compared with the gold steps, whose count is bounded by
the (cached) gold solution, not by the response.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

from reasoneval.layers.gold_path_text import (
    Expression,
    canonical_text,
    equations,
    key,
    number_positions,
    read_expression,
)

__all__ = ["FAILURE_TYPES", "FailureType", "GoldPath", "GoldStep", "PathTrace", "number_words",
           "parse_gold_path", "to_float"]

FailureType = Literal[
    "truncated", "answer_line", "extra_step", "missing_step", "arithmetic", "wrong_operation",
    "foreign_quantity", "unexplained", "none",
]
# The specific types. "unexplained": a wrong answer no rule could type; "none": the answer is
# the gold final value and no rule fired.
FAILURE_TYPES: tuple[FailureType, ...] = (
    "truncated", "answer_line", "extra_step", "missing_step", "arithmetic", "wrong_operation",
    "foreign_quantity",
)
MAX_SOLUTION_CHARS = 20_000  # gold solutions run to ~1,000; a longer one is read in part
_ANNOTATION = re.compile(r"<<([^<>=]{1,200})=([^<>=]{1,40})>>")
_WORD = re.compile(r"[a-z]{3,9}")
_NUMBER_WORDS = {
    "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0, "seven": 7.0,
    "eight": 8.0, "nine": 9.0, "ten": 10.0, "eleven": 11.0, "twelve": 12.0, "fifteen": 15.0,
    "twenty": 20.0, "thirty": 30.0, "forty": 40.0, "fifty": 50.0, "hundred": 100.0,
    "twice": 2.0, "double": 2.0, "triple": 3.0, "thrice": 3.0, "half": 0.5, "dozen": 12.0,
    "third": 3.0, "quarter": 4.0, "fourth": 4.0, "fifth": 5.0,
}
MAX_CUTS = 16  # regroupings kept per gold step (see _cuts)
# Changes of unit a response may make (percent, minutes, thousands) and their inverses.
UNIT_SCALES = (100, 0.01, 60, 1 / 60, 1000, 0.001)


@dataclass(frozen=True, slots=True)
class GoldStep:
    expression: Expression
    value: float
    depends: tuple[int, ...]  # earlier steps (0-based) whose value is one of the operands
    # The step's terms with earlier steps of the same kind written out: 96 + 72 where 96 = 44 +
    # 52 is also 44 + 52 + 72. A response that drops or adds one of them is comparable.
    cuts: tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class GoldPath:
    steps: tuple[GoldStep, ...]
    final: float
    question: frozenset[float]  # keys of the numbers the question states
    keys: dict[float, int]  # value key -> the first gold step that computes it
    # Precomputed once per problem (_index_path), read for every response.
    value_keys: tuple[float, ...]  # each step's value key
    by_value: dict[float, tuple[int, ...]]  # value key -> the steps that compute it
    conversions: frozenset[tuple[float, float]]  # (key(v * s), key(s)) per gold value and scale
    final_key: float
    unstated: tuple[tuple[int, float], ...]  # (step, value key) where the question lacks the value
    implied: tuple[frozenset[int], ...]  # each step and every step it is computed from
    operand_keys: tuple[frozenset[float], ...]  # each step's operand keys
    sorted_operands: tuple[tuple[float, ...], ...]  # each step's operand keys, sorted
    positive_cuts: tuple[tuple[tuple[float, ...], ...], ...]  # each step's cuts with no negative
    sources: tuple[frozenset[float], ...]  # each step's operands, through earlier steps too
    ambiguous: tuple[bool, ...]  # an operand the gold computes that the question also states
    sink: tuple[bool, ...]  # no gold step uses the step's value as an operand
    known: frozenset[float]  # numbers with a source in the question or the gold solution


class PathTrace(NamedTuple):
    """One per response checked: a NamedTuple, built in a tenth of a frozen dataclass's time."""

    failure: FailureType
    steps: int  # gold steps
    reached: tuple[int, ...]  # gold steps (1-based) whose value the reasoning wrote
    first_divergent: int | None  # first gold step (1-based) neither reached nor implied
    evidence: str  # what decided the type: an equation or a value, as written (clipped)


def to_float(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def stated_numbers(question: str) -> frozenset[float]:
    """Keys of the numbers a question states, in digits or as words ("three", "twice", "half")."""
    found = {key(v) for _, v in number_positions(canonical_text(question))}
    return frozenset(found | number_words(question))


def number_words(text: str) -> set[float]:
    """The numbers a text writes as words ("nine pieces", "twice", "half")."""
    return {_NUMBER_WORDS[w] for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS}


@functools.lru_cache(maxsize=4096)
def parse_gold_path(solution: str, final: str | None, question: str) -> GoldPath | None:
    """The steps of a gold solution; None when it has none or no numeric final answer.

    A line's ``<<expr=value>>`` annotations are its steps; a line without one contributes the
    equations it writes in prose (GSM8K leaves some steps unannotated: "40 - 10 = 30 eggs").
    """
    final_value = to_float(final) if final else None
    if final_value is None:
        return None
    steps: list[GoldStep] = []
    values: dict[float, int] = {}
    for line in solution[:MAX_SOLUTION_CHARS].splitlines():
        found = [(read_expression(m.group(1)), to_float(m.group(2).strip()))
                 for m in _ANNOTATION.finditer(line)]
        if not found:
            found = [(e.expression, e.result) for e in equations(canonical_text(line), 8)]
        for expression, value in found:
            if expression is None or value is None:
                continue
            depends = tuple(sorted({values[key(o)] for o in expression.operands
                                    if key(o) in values}))
            values.setdefault(key(value), len(steps))
            step = GoldStep(expression, value, depends, ())
            steps.append(GoldStep(expression, value, depends, _cuts(step, steps)))
    if not steps:
        return None
    return _index_path(tuple(steps), final_value, stated_numbers(question[:MAX_SOLUTION_CHARS]),
                       values)


def _cuts(step: GoldStep, earlier: list[GoldStep]) -> tuple[tuple[float, ...], ...]:
    """The step's terms, and its terms with each same-kind earlier step written out (2 levels)."""
    kind = step.expression.kind
    if kind == "mixed":
        return (step.expression.terms,)
    by_value = {key(s.value): s for s in earlier if s.expression.kind == kind}
    out = [step.expression.terms]
    frontier = [step.expression.terms]
    for _ in range(2):
        grown = []
        for terms in frontier:
            for i, t in enumerate(terms):
                source = by_value.get(abs(t) if kind == "add" else t)
                if source is None:
                    continue
                sign = -1.0 if t < 0 else 1.0
                inner = [sign * x for x in source.expression.terms] if kind == "add" \
                    else list(source.expression.terms)
                grown.append(tuple(sorted([*terms[:i], *terms[i + 1:], *inner])))
        frontier = [g for g in dict.fromkeys(grown) if g not in out][: MAX_CUTS - len(out)]
        out.extend(frontier)
    return tuple(out)


def _index_path(steps: tuple[GoldStep, ...], final: float, question: frozenset[float],
                values: dict[float, int]) -> GoldPath:
    """The path with what every response is compared against worked out once per problem."""
    value_keys = tuple(key(s.value) for s in steps)
    operand_keys = tuple(frozenset(key(o) for o in s.expression.operands) for s in steps)
    used = frozenset().union(*operand_keys)
    implied: list[frozenset[int]] = []
    for i, s in enumerate(steps):  # depends point to earlier steps, whose closure is known
        implied.append(frozenset({i}).union(*(implied[j] for j in s.depends)))
    return GoldPath(
        steps, final, question, values, value_keys,
        {k: tuple(i for i, v in enumerate(value_keys) if v == k) for k in value_keys},
        frozenset((key(v * scale), key(scale)) for v in values for scale in UNIT_SCALES),
        key(final),
        tuple((i, k) for i, k in enumerate(value_keys) if k not in question),
        tuple(implied), operand_keys,
        tuple(tuple(sorted(key(o) for o in s.expression.operands)) for s in steps),
        tuple(tuple(tuple(abs(t) for t in cut) for cut in s.cuts if all(t > 0 for t in cut))
              for s in steps),
        tuple(_sources(i, steps, values) for i in range(len(steps))),
        tuple(any(k in values and k in question for k in ks) for ks in operand_keys),
        tuple(k not in used for k in value_keys),
        frozenset(question | {key(q / 100) for q in question} | set(values) | used),
    )


def _sources(step_index: int, steps: tuple[GoldStep, ...], values: dict[float, int]
             ) -> frozenset[float]:
    """Keys of every number the step is computed from, through earlier steps (its leaves too)."""
    out: set[float] = set()
    stack, seen = [step_index], set()
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        for o in steps[i].expression.operands:
            out.add(key(o))
            j = values.get(key(o))
            if j is not None and j < i:
                stack.append(j)
    return frozenset(out)
