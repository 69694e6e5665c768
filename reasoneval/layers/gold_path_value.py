"""The value of an equation's left side, without reasonkit.arith's parse where none is needed.

read_expression keeps a left side as its numbers, operators and brackets. Where they form plain
arithmetic (numbers written without an exponent; + - * / and brackets, no signs) it is read here
by precedence into postfix order and evaluated exactly, on integer numerator/denominator pairs
in lowest terms (what a Fraction holds), with reasonkit.arith's limits on every literal and
intermediate, in the order its syntax-tree walk visits them; that walk parses the text with
Python's compiler and computes on Fractions, 10-20x the time. Anything else goes through
evaluate, so the value, or the error, is the same.
"""

from __future__ import annotations

import re
from math import gcd

from reasoneval.layers.gold_path_text import Expression
from reasonkit.arith import ArithLimits, UnsafeExpression, evaluate

__all__ = ["value_of"]

_LIMITS = ArithLimits()
_BITS = _LIMITS.max_bits
_MAGNITUDE = _LIMITS.max_magnitude.numerator  # an integer, 10**30
_PLAIN = re.compile(r"\d{1,30}\.\d{1,30}")  # a float's repr without an exponent
Rational = tuple[int, int]  # numerator, denominator > 0, in lowest terms
Token = float | str


class _Unread(Exception):
    """Not plain arithmetic as this reader takes it: reasonkit.arith decides."""


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


_LEVELS = (("+", "-"), ("*", "/"))  # operators by precedence, loosest first


def _postfix(tokens: list[Token], i: int, level: int, out: list[Token]) -> int:
    """Read operands joined by the operators of ``level`` (and tighter) from ``tokens[i]`` on,
    left to right as Python's grammar groups them, appending them to ``out`` in postfix order;
    the index after them."""
    if level < len(_LEVELS):
        i = _postfix(tokens, i, level + 1, out)
        while i < len(tokens) and tokens[i] in _LEVELS[level]:
            op = tokens[i]
            i = _postfix(tokens, i + 1, level + 1, out)
            out.append(op)
        return i
    token = tokens[i] if i < len(tokens) else None
    if token == "(":
        i = _postfix(tokens, i + 1, 0, out)
        if i >= len(tokens) or tokens[i] != ")":
            raise _Unread
        return i + 1
    if not isinstance(token, float) or not _PLAIN.fullmatch(repr(token)):
        raise _Unread
    out.append(token)
    return i + 1


def _literal(text: str) -> Rational:
    """A float's plain repr ("12.5") as a bounded rational."""
    whole, _, fraction = text.partition(".")
    return _bounded(int(whole + fraction), 10 ** len(fraction))


_OPERATORS = ("+", "-", "*", "/")


def value_of(expression: Expression) -> float:
    """``float(evaluate(expression.python))``; raises what that raises."""
    layout = expression.layout
    if len(layout) == 3 and layout[1] in _OPERATORS:
        # "a op b", 4 in 5 of the left sides read: what the general reading below does with it
        # (its text is at most 51 characters, and its postfix order is a, b, op), unrolled.
        a, op, b = layout
        if isinstance(a, float) and isinstance(b, float):
            plain_a, plain_b = repr(a), repr(b)
            if _PLAIN.fullmatch(plain_a) and _PLAIN.fullmatch(plain_b):
                n, d = _apply(str(op), _literal(plain_a), _literal(plain_b))
                return n / d
            return float(evaluate(f"{plain_a} {op} {plain_b}", _LIMITS))
    python = expression.python
    if len(python) > _LIMITS.max_chars:
        return float(evaluate(python, _LIMITS))
    depth = expression.layout.count("(") - expression.layout.count(")")
    tokens = ["("] * -depth + list(expression.layout) + [")"] * depth
    postfix: list[Token] = []
    try:
        if _postfix(tokens, 0, 0, postfix) != len(tokens):
            raise _Unread
    except (_Unread, RecursionError):
        return float(evaluate(python, _LIMITS))
    stack: list[Rational] = []
    for token in postfix:
        if isinstance(token, float):
            stack.append(_literal(repr(token)))
        else:
            right = stack.pop()
            stack.append(_apply(token, stack.pop(), right))
    n, d = stack[0]
    return n / d
