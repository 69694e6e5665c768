"""What the gold-path rules read: one response against one gold path, and where it left it.

:class:`Reading` holds what was read (the numbers the reasoning wrote, the gold steps reached);
:func:`departure` finds the first equation that left the gold path on the way to the answer and
:func:`classify` says how it differs from the gold steps not yet reached (gold_path_rules.py
has the order of the rules and docs/layers.md the taxonomy).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from reasoneval.layers.gold_path import UNIT_SCALES, FailureType, GoldPath, GoldStep, number_words
from reasoneval.layers.gold_path_text import (
    Equation,
    equations,
    key,
    last_number_start,
    number_starts,
)
from reasoneval.layers.gold_path_value import value_of
from reasonkit.arith import UnsafeExpression

# Numbers an operand may come from without the problem stating them (time, dozens, percent): the
# grounding check's calibrated constants above 10 (grounding.py). Small counts are left out on
# purpose: a 3 from nowhere is as likely a misreading as an assumption.
UNIT_CONSTANTS = frozenset({12.0, 14.0, 15.0, 16.0, 20.0, 24.0, 25.0, 30.0, 31.0, 52.0, 60.0,
                            100.0, 120.0, 365.0, 1000.0, 0.5, 0.25, 0.75, 0.1})
_SCALES = (1, *UNIT_SCALES)
_SCALE_KEYS = tuple((key(s), key(1 / s)) for s in UNIT_SCALES)


MAX_EQUATIONS = 64  # equations read per response; GSM8K solutions write 2-8


class Reading:
    """One response read against one gold path: what the rules look at. The equations and the
    numbers' positions are read only when a rule asks (most right answers never do)."""

    def __init__(self, path: GoldPath, text: str, found: list[str], keys: list[float], cut: int,
                 written: set[float], reached: set[int], done: set[int], answer: float | None,
                 finish_reason: str) -> None:
        self.path, self.text, self.found, self.keys = path, text, found, keys
        self.cut, self.written = cut, written
        self.reached, self.done, self.answer = reached, done, answer  # answer: its key
        self.finish_reason = finish_reason

    @functools.cached_property
    def _starts(self) -> list[int]:
        return number_starts(self.text)

    @functools.cached_property
    def numbers(self) -> list[tuple[int, float]]:
        """(offset, key) of every number the reasoning wrote, up to the answer's last mention."""
        return list(zip(self._starts[: self.cut], self.keys[: self.cut], strict=True))

    @functools.cached_property
    def eqs(self) -> list[Equation]:
        """The reasoning's equations, in order, up to the one that writes the answer last."""
        # The answer's last mention: no later number has its key, so none is written the same.
        end = (last_number_start(self.text, self.found[self.cut]) if self.cut < len(self.keys)
               else len(self.text))
        return equations(self.text, MAX_EQUATIONS, end)

    @functools.cached_property
    def producers(self) -> dict[float, Equation]:
        """Result key -> the last equation that produced it."""
        return {key(e.result): e for e in self.eqs}

    def on_path(self, e: Equation) -> bool:
        """Its operands are all numbers of the question or values of the gold path."""
        return all(key(o) in self.path.question or key(o) in self.path.keys
                   for o in e.expression.operands)

    def open_steps(self) -> list[tuple[int, GoldStep]]:
        """(index, step) of the gold steps neither reached nor implied."""
        return [(i, s) for i, s in enumerate(self.path.steps) if i not in self.done]


def departure(r: Reading) -> Equation | None:
    """The first off-path equation the answer was derived from (walking back from the
    equation that produced it through the ones that produced its operands); without such a
    chain, the first off-path equation. Side computations that never reach the answer ("3 x 12
    = 36 donuts") are not where it went wrong."""
    chain: list[Equation] = []
    todo = [r.answer] if r.answer is not None else []
    seen: set[float] = set()
    while todo and len(chain) < MAX_EQUATIONS:
        value = todo.pop()
        if value in seen or value in r.path.question:
            continue
        seen.add(value)
        producer = r.producers.get(value)
        if producer is not None:
            chain.append(producer)
            todo.extend(key(o) for o in producer.expression.operands)
    pool = sorted(chain, key=lambda e: e.start) or list(r.eqs)
    return next((e for e in pool if _off_path(e, r.path)), None)


def _off_path(e: Equation, path: GoldPath) -> bool:
    """Not a gold step: the result is not a gold value computed from that step's own operands (up
    to regrouping), nor a gold value converted to other units ("60 x 5 = 300" minutes for 5
    hours). A gold value reached from other numbers ("600 x 0.4 = 240" where the gold has 400 -
    160 = 240), or a number of the question computed ("100 - 50 = 50"), is a departure."""
    result = key(e.result)
    mine = {key(o) for o in e.expression.operands} - {1.0}
    if any(e.expression.terms in path.steps[i].cuts or mine <= path.operand_keys[i]
           for i in path.by_value.get(result, ())):
        return False
    return not any((result, scale) in path.conversions and (scale in mine or inverse in mine)
                   for scale, inverse in _SCALE_KEYS)


def true_value(e: Equation) -> float | None:
    try:
        return value_of(e.expression)
    except (UnsafeExpression, ZeroDivisionError, ValueError, OverflowError):
        return None


def _is_slip(e: Equation, path: GoldPath) -> bool:
    true = true_value(e)
    if true is None or key(true) not in path.keys:
        return False
    claimed = e.result
    # A percent written as its number ("100% - 40% = 60"), minutes written as hours ("9 x 20
    # minutes = 3 hours") or grams as kilograms are changes of unit, not slips.
    return all(key(claimed) != key(true * scale) for scale in _SCALES)


def classify(e: Equation, r: Reading) -> FailureType | None:
    if _is_slip(e, r.path):
        return "arithmetic"
    ex = e.expression
    open_steps = r.open_steps()
    same_kind = [(i, s) for i, s in open_steps if ex.kind != "mixed" and ex.kind == s.expression.kind]
    if len(ex.terms) >= 2 and any(_proper_sub(ex.terms, cut) for _, s in same_kind for cut in s.cuts):
        return "missing_step"
    operands = tuple(sorted(key(o) for o in ex.operands))
    for i, step in open_steps:
        if (operands == r.path.sorted_operands[i] and ex.ops != step.expression.ops
                and not r.path.ambiguous[i]):
            return "wrong_operation"
    known = _KnownBefore(e, r)
    substituted = [_substitution(operands, ex.ops, i, r, known) for i, _ in open_steps]
    if "missing_step" in substituted:
        return "missing_step"
    # A term added to a step whose value no later gold step uses: on a step that feeds another,
    # the extra term is more likely that next step folded in.
    if any(_proper_sub(cut, ex.terms) for i, s in same_kind if r.path.sink[i] for cut in s.cuts):
        return "extra_step"
    # One operand swapped for a number of the question or the reasoning ("wrong quantity") is
    # not typed: it matched a misreading of the problem as often as a wrong pick (29% precision
    # on hand-labelled responses, benchmarks/labels/README.md); it stays "unexplained".
    if "foreign_quantity" in substituted:
        return "foreign_quantity"
    if any(o > 10 and _foreign(o, known) for o in ex.operands):
        return "foreign_quantity"
    return None


class _KnownBefore:
    """Numbers with a source before ``e``: the question's (a percent also as a fraction), the
    gold solution's (its values, and operands it knows without the question: 50 states, 7 days),
    and the reasoning's so far. Read only when a rule asks whether a number came from nowhere."""

    def __init__(self, e: Equation, r: Reading) -> None:
        self.e, self.r = e, r

    @functools.cached_property
    def numbers(self) -> set[float]:
        e, r = self.e, self.r
        known = set(r.path.known)  # the question's, a percent as a fraction, the gold's
        known.update(v for p, v in r.numbers if p < e.start)
        # Counts the reasoning wrote as words ("so nine pieces of laundry") are its own.
        known.update(number_words(r.text[: e.start]))
        # "600 + 4 * 60 = 600 + 240 = 840": the operands of an equation that starts right after
        # "=" rewrite a computation the reader could not parse, not numbers from nowhere.
        if r.text[max(0, e.start - 4) : e.start].rstrip(" $").endswith("="):
            known.update(key(o) for o in e.expression.operands)
        return known


def _foreign(value: float, known: _KnownBefore) -> bool:
    """A number from nowhere, as an assumption is written: a whole number above 2 (not "a"/"an"
    read as 1 or 2, nor a decimal, which is more likely computed in the reader's blind spot)."""
    return value > 2 and value.is_integer() and key(value) not in UNIT_CONSTANTS \
        and key(value) not in known.numbers


def _proper_sub(small: tuple[float, ...], big: tuple[float, ...]) -> bool:
    """``small`` is a sub-multiset of ``big`` with fewer elements (both sorted)."""
    if len(small) >= len(big):
        return False
    extra, _ = _difference(small, big)
    return not extra


def _difference(a: Sequence[float], b: Sequence[float]) -> tuple[list[float], list[float]]:
    """(a - b, b - a) as multisets, for sorted a and b: one merge, no Counter."""
    only_a: list[float] = []
    only_b: list[float] = []
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            i, j = i + 1, j + 1
        elif a[i] < b[j]:
            only_a.append(a[i])
            i += 1
        else:
            only_b.append(b[j])
            j += 1
    return only_a + list(a[i:]), only_b + list(b[j:])


def _substitution(operands: tuple[float, ...], ops: str, index: int, r: Reading,
                  known: _KnownBefore) -> FailureType | None:
    """How the equation differs from an open gold step (as written, or regrouped: "75 + 100 +
    50" against 100 + 75 = 175, 175 + 125) by its operands alone:

    - each differing operand is one the gold computes from it, the steps between never written
      ("6 * 7" where the gold has 6 + 3 = 9, then 9 * 7): ``missing_step``;
    - one operand comes from nowhere: ``foreign_quantity`` (one swapped for another number of the
      question or the reasoning is not typed; see _classify).
    """
    step = r.path.steps[index]
    kind = step.expression.kind
    candidates = [r.path.sorted_operands[index]] if ops == step.expression.ops else []
    if (kind == "mul" and ops == "*") or (kind == "add" and ops == "+"):
        candidates += r.path.positive_cuts[index]
    for gold in candidates:
        if len(gold) != len(operands) or len(operands) < 2:
            continue
        extra, missing = _difference(operands, sorted(gold))
        if not extra:
            continue
        skipped = [r.path.keys.get(m) for m in missing]
        if all(j is not None and j not in r.reached for j in skipped) and all(
                any(x in r.path.sources[j] for j in skipped if j is not None) for x in extra):
            return "missing_step"
        if len(extra) == 1:
            return "foreign_quantity" if _foreign(extra[0], known) else None
    return None
