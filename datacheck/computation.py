"""What a GSM8K-layout problem computes: the key that finds renamed and reworded test leaks.

A test problem copied into training with its names, items or wording changed keeps its numbers
and its computation, so word n-grams and MinHash (which see the words) miss it. Its
*computation key* does not change: the numbers of the question (digits and number words, as a
multiset, since rewording moves them), the canonical final answer, and the multiset of its
calculator annotations with commutative operands ordered. Two rows with the same key compute
the same thing from the same givens; on GSM8K the pairs it finds are reworded twins such as
test/1291 ("Timothy has three times the pens George owns… half as many… 18") and train/936
("Lizzie has half as many crayons as Bobbie… three times… 18"), docs/datacheck.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction

from datacheck.records import Problem

ComputationKey = tuple[tuple[str, ...], str, tuple[str, ...]]
SolutionKey = tuple[str, tuple[str, ...]]

_NUMERAL = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?:/\d+)?")
_WORD = re.compile(r"[a-z]+")
_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]
_TENS = ["thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_VALUES: dict[str, str] = {
    **{w: str(i) for i, w in enumerate(_UNITS)},
    **{w: str(10 * i) for i, w in enumerate(_TENS, 3)},
    "hundred": "100", "thousand": "1000", "dozen": "12",
    "twice": "2", "double": "2", "thrice": "3", "triple": "3", "half": "1/2", "quarter": "1/4",
}
_BINARY = re.compile(r"^(\d+(?:\.\d+)?)([+*])(\d+(?:\.\d+)?)$")


def _canonical_number(text: str) -> str:
    text = text.replace(",", "").rstrip(".")
    try:
        return str(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return text


def question_numbers(question: str) -> tuple[str, ...]:
    """The givens of a question, digits and number words alike, sorted (rewording moves them)."""
    text = question.lower()
    found = [_canonical_number(m.group()) for m in _NUMERAL.finditer(text)]
    found += [_WORD_VALUES[w] for w in _WORD.findall(text) if w in _WORD_VALUES]
    return tuple(sorted(found))


def canonical_expression(expression: str) -> str:
    """An annotation's expression without spaces, thousands commas or ``x`` for ``*``, and with
    the operands of a single ``+`` or ``*`` in order (``3*18`` and ``18*3`` are one step)."""
    expr = re.sub(r"(?<=\d),(?=\d{3})", "", "".join(expression.split())).replace("x", "*")
    m = _BINARY.match(expr)
    if m is None:
        return expr
    a, op, b = m.groups()
    return op.join(sorted((a, b), key=lambda s: (Fraction(s), s)))


def solution_key(problem: Problem) -> SolutionKey | None:
    """(final answer, annotation multiset): the computation, whatever the question's words."""
    if problem.final_answer is None or not problem.annotations:
        return None
    steps = tuple(sorted(canonical_expression(a.expression) for a in problem.annotations))
    return problem.final_answer, steps


def computation_key(problem: Problem) -> ComputationKey | None:
    """The solution key plus the question's givens: the same problem in other words."""
    key = solution_key(problem)
    return None if key is None else (question_numbers(problem.question), *key)


def normalized_solution(answer: str) -> str:
    """A gold answer's text with whitespace runs collapsed, for substring comparison."""
    return " ".join(answer.split())


def index_keys(problems: Sequence[Problem]) -> dict[ComputationKey, int]:
    """Computation key -> index of the first problem holding it."""
    index: dict[ComputationKey, int] = {}
    for i, p in enumerate(problems):
        key = computation_key(p)
        if key is not None:
            index.setdefault(key, i)
    return index
