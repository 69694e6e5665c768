"""Calculator annotations: `<<expr=value>>` computes `value`, and the prose after it says so too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import ClassVar

from datacheck.checks.base import KEEP, Verdict
from datacheck.records import Annotation, Problem
from reasonkit.arith import UnsafeExpression, evaluate

# A written result: a decimal, or a fraction as GSM8K writes one (<<3/4=3/4>>3/4).
LEADING_NUMBER = re.compile(r"^\s*[$€£]?\s*(-?(?:\d[\d,]*)?\.?\d+(?:/\d+)?)")
PLAIN_NUMBER = re.compile(r"-?(?:\d[\d,]*)?\.?\d+\.?")
WRITTEN_FRACTION = re.compile(r"(-?\d{1,20})/(\d{1,20})")


def parse_number(text: str) -> Fraction | None:
    # Plain decimals only: "1e999999999" would build a billion-digit integer, "inf" no Fraction.
    text = text.strip()
    fraction = WRITTEN_FRACTION.fullmatch(text)
    if fraction is not None:
        numerator, denominator = int(fraction.group(1)), int(fraction.group(2))
        return Fraction(numerator, denominator) if denominator else None
    if len(text) > 40 or not PLAIN_NUMBER.fullmatch(text):
        return None
    try:
        return Fraction(Decimal(text.replace(",", "").rstrip(".")))
    except (InvalidOperation, ValueError):
        return None


def matches_written(computed: Fraction, written: str, rel_tol: float) -> bool:
    """True when `written` is `computed` rounded to the decimals it shows, or within rel_tol.

    GSM8K authors round repeating decimals (10/3 is written 3.33 or 3.3), so exact equality would
    reject correct work; the rounding rule accepts exactly what the written digits can express.
    """
    value = parse_number(written)
    if value is None:
        return False
    if "/" in written:
        return computed == value  # a written fraction is exact
    decimals = len(written.rstrip(".").partition(".")[2])
    if abs(computed - value) <= Fraction(1, 2 * 10**decimals):
        return True
    return abs(computed - value) <= abs(computed) * Fraction(rel_tol)


@dataclass(frozen=True, slots=True)
class CalculatorCheck:
    name: ClassVar[str] = "calculator"
    rel_tol: float = 0.0  # 0: only the rounding rule; raise it to forgive sloppier rounding

    def __call__(self, problem: Problem) -> Verdict | None:
        for number, annotation in enumerate(problem.annotations, start=1):
            reason = self._problem_with(annotation)
            if reason is not None:
                where = f"annotation {number} <<{annotation.expression}={annotation.value}>>"
                return Verdict(self.name, f"{where}: {reason}")
        return KEEP

    def _problem_with(self, a: Annotation) -> str | None:
        if not a.value:
            return "no '=value' part"
        try:
            computed = evaluate(a.expression)
        except (UnsafeExpression, ZeroDivisionError) as err:
            return f"cannot evaluate safely ({err})"
        if not matches_written(computed, a.value, self.rel_tol):
            return f"evaluates to {_show(computed)}, not {a.value}"
        after = LEADING_NUMBER.match(a.text_after)
        if after is None:
            return f"text after '>>' does not state the result: {a.text_after[:30]!r}"
        if not matches_written(computed, after.group(1), self.rel_tol):
            return f"text after '>>' says {after.group(1)}, the annotation says {a.value}"
        return None


def _show(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.6g}"
