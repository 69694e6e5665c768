"""The grounding check: a number used in a step must come from somewhere.

The frequent error the other trace checks miss is an operand that is neither in the question nor
an earlier result ("Farid gives Liam 3 more" answered ``2 + 2 = 4`` uses a 2 that means nothing).
An operand is grounded when it is a number of the question (digits, or words such as "three",
"twice", "half", "dozen"), a percentage of one, a number the trace wrote before the step (an
earlier result, or a restatement), or a common constant. The constants were chosen on the GSM8K train gold solutions so that at most 1% of
them raise the flag, and checked on the test split (``python -m reasoneval.layers.traces DIR``,
figures in docs/layers.md). The equations come from the arithmetic checker, so only steps it can
read are checked, and nothing is evaluated as code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fractions import Fraction

from reasoneval.layers.arithmetic import Equation

# Numbers a solution may use without the question stating them: 0 to 10 (counting, halves,
# quarters), 12 and 6 (dozens), 16 (ounces), 20 (a score), 25, 0.25, 0.75 (quarters, cents), 0.1,
# 0.5, 1.5, 2.5, and time: 14, 15, 24, 30, 31, 52, 60, 120, 365; 100 and 1000 (percent, metric). Chosen on the 7,473 GSM8K train gold solutions,
# annotations removed, by adding the most frequent unexplained operands until at most 1% of the
# solutions raise the flag (docs/layers.md has the figures, and the test split's).
DEFAULT_CONSTANTS: tuple[Fraction, ...] = tuple(
    Fraction(c) for c in ("0", "0.1", "0.25", "0.5", "0.75", "1", "1.5", "2", "2.5", "3", "4", "5",
                          "6", "7", "8", "9", "10", "12", "14", "15", "16", "20", "24", "25", "30",
                          "31", "52", "60", "100", "120", "365", "1000")
)
_NUMBER = re.compile(r"(?<![\w.])(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,12})(?:\.[0-9]{1,8})?")
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "thousand": 1000, "million": 10**6, "once": 1, "twice": 2, "double": 2,
    "doubles": 2, "thrice": 3, "triple": 3, "triples": 3, "quadruple": 4, "half": 2, "halves": 2,
    "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4, "fifth": 5, "dozen": 12,
    "dozens": 12, "score": 20, "pair": 2, "pairs": 2, "week": 7, "weeks": 7, "hour": 60,
    "hours": 60, "minute": 60, "minutes": 60, "day": 24, "days": 24, "year": 12, "years": 12,
}  # fmt: skip
_WORD = re.compile(r"[a-z]+")
_OPERATOR = re.compile(r"[-+*/x\u00d7\u00f7^\u2212]")


def _numbers(text: str) -> list[Fraction]:
    return [Fraction(m.group().replace(",", "")) for m in _NUMBER.finditer(text)]


def question_values(question: str) -> set[Fraction]:
    """The numbers a question states, as digits or as words, with their percent readings."""
    values = set(_numbers(question))
    values |= {Fraction(_WORDS[w]) for w in _WORD.findall(question.lower()) if w in _WORDS}
    # "20%" may be used as 0.2, 1.2 or 0.8; a fraction word as its share ("half" is 0.5).
    values |= {v / 100 for v in values} | {1 + v / 100 for v in values} | {1 - v / 100 for v in values}
    values |= {1 / v for v in values if v and v.denominator == 1 and v <= 12}
    return values


def _known(value: Fraction, known: set[Fraction], rounded: set[float]) -> bool:
    return value in known or round(float(value), 2) in rounded


def ungrounded_operands(
    equations: Sequence[Equation], question: str, reasoning: str,
    constants: Iterable[Fraction] = DEFAULT_CONSTANTS,
) -> list[str]:
    """Operands of the trace's steps that come from nowhere, as written, in reading order."""
    known = question_values(question) | set(constants)
    rounded = {round(float(v), 2) for v in known}
    missing: list[str] = []
    seen_missing: set[str] = set()  # membership in O(1): a list scan was quadratic (issue 29)
    read_to = 0
    for eq in sorted(equations, key=lambda e: e.position):
        text = eq.text.strip("<>")
        lhs, _, rhs = text.partition("=")
        # Inline equations are positioned at their "="; the step starts where its left side does.
        start = max(read_to, eq.position - (len(lhs) if eq.source == "inline" else 0))
        for v in _numbers(reasoning[read_to:start]):
            known.add(v)
            rounded.add(round(float(v), 2))
        read_to = start
        if not _OPERATOR.search(lhs):
            continue  # "<<6=6>>" restates a number; it computes nothing
        for m in _NUMBER.finditer(lhs):
            value = Fraction(m.group().replace(",", ""))
            if not _known(value, known, rounded) and m.group() not in seen_missing:
                seen_missing.add(m.group())
                missing.append(m.group())
        results = [Fraction(eq.value).limit_denominator(10**6), *_numbers(rhs)]
        for r in results:  # a result is usable as is, as a percentage, and rounded
            known |= {r, r / 100, r * 100}
            rounded |= {round(float(r), 2), round(float(r / 100), 2), round(float(r * 100), 2)}
    return missing
