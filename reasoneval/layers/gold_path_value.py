"""The value of an equation's left side, without reasonkit.arith's parse where none is needed.

read_expression writes a left side as ``" ".join`` of float reprs and operators. Most are a flat
run (``3.0 + 4.0 * 2.5``): that is evaluated here exactly, on integer numerator/denominator
pairs in lowest terms (what a Fraction holds), with Python's precedence and reasonkit.arith's
limits on every literal and intermediate; reasonkit.arith.evaluate parses and walks a syntax
tree of Fractions, 10-20x the time. Anything else (brackets, a signed operand, an exponent)
still goes through evaluate, so the value, or its refusal, is the same.
"""

from __future__ import annotations

import re
from math import gcd

from reasonkit.arith import ArithLimits, UnsafeExpression, evaluate

__all__ = ["value_of"]

_LIMITS = ArithLimits()
_BITS = _LIMITS.max_bits
_MAGNITUDE = _LIMITS.max_magnitude.numerator  # an integer, 10**30
_PLAIN = re.compile(r"\d{1,30}\.\d{1,30}")  # a float's repr without an exponent
_OPS = frozenset("+-*/")
Rational = tuple[int, int]  # numerator, denominator > 0, in lowest terms


def _bounded(n: int, d: int) -> Rational:
    """n/d in lowest terms, within reasonkit.arith's limits (as its _Walker.check)."""
    g = gcd(n, d)
    if g > 1:
        n, d = n // g, d // g
    if abs(n) > _MAGNITUDE * d or n.bit_length() > _BITS or d.bit_length() > _BITS:
        raise UnsafeExpression("intermediate value out of bounds")
    return n, d


def _apply(op: str, a: Rational, b: Rational) -> Rational:
    (na, da), (nb, db) = a, b
    if op == "*":
        return _bounded(na * nb, da * db)
    if op == "/":
        if nb == 0:
            raise ZeroDivisionError("division by zero")
        return _bounded(-na * db, -da * nb) if nb < 0 else _bounded(na * db, da * nb)
    return _bounded(na * db + nb * da if op == "+" else na * db - nb * da, da * db)


def value_of(python: str) -> float:
    """``float(evaluate(python))``; raises what it raises (UnsafeExpression, ZeroDivisionError)."""
    parts = python.split(" ")
    numbers, ops = parts[0::2], parts[1::2]
    if (len(python) > _LIMITS.max_chars or not len(parts) % 2 or not _OPS.issuperset(ops)
            or not all(_PLAIN.fullmatch(n) for n in numbers)):
        return float(evaluate(python, _LIMITS))
    values = []
    for text in numbers:
        whole, _, fraction = text.partition(".")
        values.append(_bounded(int(whole + fraction), 10 ** len(fraction)))
    # Python's precedence: a sum of left-to-right products, each product and partial sum bounded
    # as the syntax-tree walk bounds each node.
    total: Rational | None = None
    adding = True
    term = values[0]
    for op, value in zip(ops, values[1:], strict=True):
        if op in "*/":
            term = _apply(op, term, value)
        else:
            total = term if total is None else _apply("+" if adding else "-", total, term)
            adding, term = op == "+", value
    n, d = term if total is None else _apply("+" if adding else "-", total, term)
    return n / d
