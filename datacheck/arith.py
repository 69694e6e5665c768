"""A safe evaluator for calculator annotations: the expressions are untrusted dataset text.

Only numbers, + - * / **, unary signs and parentheses are allowed; anything else (names, calls,
attributes, subscripts) is refused. Size limits keep a hostile row from burning CPU or memory:
`2**2**2**99` must fail fast instead of hanging the run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from fractions import Fraction

MAX_EXPRESSION_CHARS = 200
MAX_EXPONENT = 64  # GSM8K's largest is a square or cube; 64 leaves headroom, bounds the work
MAX_MAGNITUDE = Fraction(10) ** 30


class UnsafeExpression(ValueError):
    """The expression is not plain arithmetic, or exceeds the size limits."""


@dataclass(frozen=True, slots=True)
class ArithLimits:
    max_chars: int = MAX_EXPRESSION_CHARS
    max_exponent: int = MAX_EXPONENT
    max_magnitude: Fraction = MAX_MAGNITUDE


def _number(text: str) -> Fraction:
    # Fraction keeps 0.1 + 0.2 == 0.3 exact, so a comparison never fails on float noise.
    return Fraction(text.replace(",", ""))


def evaluate(expression: str, limits: ArithLimits = ArithLimits()) -> Fraction:
    """Evaluate `expression` exactly, or raise UnsafeExpression / ZeroDivisionError."""
    text = expression.strip().replace("\u00d7", "*").replace("\u00f7", "/")  # times, divide signs
    if not text or len(text) > limits.max_chars:
        raise UnsafeExpression(f"expression empty or longer than {limits.max_chars} characters")
    # "1,000" is a number in GSM8K prose; Python would read it as a tuple.
    text = _strip_thousands(text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise UnsafeExpression(f"not an arithmetic expression: {expression!r}") from err
    return _walk(tree.body, limits)


def _strip_thousands(text: str) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch == "," and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            continue
        out.append(ch)
    return "".join(out)


def _check(value: Fraction, limits: ArithLimits) -> Fraction:
    if abs(value) > limits.max_magnitude:
        raise UnsafeExpression("intermediate value too large")
    return value


def _walk(node: ast.expr, limits: ArithLimits) -> Fraction:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _check(_number(repr(node.value)), limits)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        inner = _walk(node.operand, limits)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left = _walk(node.left, limits)
        right = _walk(node.right, limits)
        op = node.op
        if isinstance(op, ast.Add):
            return _check(left + right, limits)
        if isinstance(op, ast.Sub):
            return _check(left - right, limits)
        if isinstance(op, ast.Mult):
            return _check(left * right, limits)
        if isinstance(op, ast.Div):
            return _check(left / right, limits)
        if isinstance(op, ast.Pow):
            return _power(left, right, limits)
        raise UnsafeExpression(f"operator {type(op).__name__} not allowed")
    raise UnsafeExpression(f"disallowed element {type(node).__name__}")


def _power(base: Fraction, exponent: Fraction, limits: ArithLimits) -> Fraction:
    if exponent.denominator != 1 or abs(exponent) > limits.max_exponent:
        raise UnsafeExpression(f"exponent must be an integer of at most {limits.max_exponent}")
    if abs(base) > limits.max_magnitude:
        raise UnsafeExpression("base too large")
    return _check(base ** int(exponent), limits)
