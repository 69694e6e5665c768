"""Label consistency: the `####` label is what the reasoning actually computes at its end.

The reasoning's result is the last calculator annotation's value and any number stated in the
last step. Before comparing, number formatting is normalised ("100 000", "1,000.00", "three")
and so are the two unit changes GSM8K labels make silently: dollars to cents and fractions to
percent (a last step of "$0.25" labelled "25" is consistent). Everything else is a disagreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

from datacheck.checks.base import KEEP, Verdict
from datacheck.checks.calculator import parse_number
from datacheck.parsing import strip_annotations
from datacheck.records import Problem

# "100 000" and "3 400": GSM8K writes some thousands with a space (or a thin space).
SPACED_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3})(?:[ \u2009\u202f](\d{3}))+(?![\d])")
NUMBER = re.compile(r"-?(?:\d[\d,]*)?\.?\d+")
NUMBER_WORDS = {
    word: i
    for i, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ]
    )
}
WORD = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)


def _join_spaced_thousands(text: str) -> str:
    return SPACED_THOUSANDS.sub(lambda m: re.sub(r"[ \u2009\u202f]", "", m.group(0)), text)


def stated_numbers(text: str) -> list[Fraction]:
    text = _join_spaced_thousands(strip_annotations(text))
    values = [parse_number(m) for m in NUMBER.findall(text)]
    values += [Fraction(NUMBER_WORDS[w.lower()]) for w in WORD.findall(text)]
    return [v for v in values if v is not None]


@dataclass(frozen=True, slots=True)
class LabelConsistencyCheck:
    name: ClassVar[str] = "label_consistency"
    # Scalings a label may apply to the computed value: cents for dollars, percent for fractions.
    unit_factors: tuple[Fraction, ...] = (Fraction(1), Fraction(100), Fraction(1, 100))

    def __call__(self, problem: Problem) -> Verdict | None:
        label = parse_number(_join_spaced_thousands(problem.label))
        if label is None or not problem.steps:
            return KEEP  # the format check owns unparseable labels and empty reasoning
        computed = self.computed_results(problem)
        if not computed:
            return KEEP  # nothing computed to compare against: nothing to contradict
        if any(label == value * factor for value in computed for factor in self.unit_factors):
            return KEEP
        shown = _show(computed[-1] if len(computed) > 1 else computed[0])
        return Verdict(self.name, f"label {problem.label} but the reasoning ends computing {shown}")

    @staticmethod
    def computed_results(problem: Problem) -> list[Fraction]:
        """The last annotation's value, then the last step's numbers, the final one last."""
        results: list[Fraction] = []
        if problem.annotations:
            value = parse_number(problem.annotations[-1].value)
            if value is not None:
                results.append(value)
        results += stated_numbers(problem.steps[-1])
        return results


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"
