"""A safe, bounded evaluator for arithmetic in untrusted text: dataset annotations, model output.

Only decimal numbers, + - * / // % **, unary signs and parentheses are allowed; anything else
(names, calls, attributes, subscripts, hex or complex literals) is refused. The work is bounded
as well as the magnitude: every intermediate's numerator and denominator stay under
MAX_DIGITS digits, and a power is refused before it is computed when exponent x base size would
pass that bound. `((1/7)**64)**64` must be refused in microseconds, not computed for 20 s.
datacheck checks calculator annotations with it; reasoneval's traces layer checks responses.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["ArithLimits", "UnsafeExpression", "evaluate"]

MAX_EXPRESSION_CHARS = 200
MAX_EXPONENT = 64  # GSM8K's largest is a square or cube; 64 leaves headroom, bounds the work
MAX_MAGNITUDE = Fraction(10) ** 30
# 60 digits hold any exact GSM8K intermediate (the largest has 13) and keep a Fraction operation
# on them to microseconds; bits = digits * log2(10).
MAX_DIGITS = 60
_DECIMAL = re.compile(r"(\d[\d_]*)?(\.\d[\d_]*|\.)?([eE][-+]?\d+)?")
MAX_LITERAL_EXPONENT = 40  # "1e999" is refused before 10**999 is built


class UnsafeExpression(ValueError):
    """The expression is not plain arithmetic, or exceeds the size limits."""


@dataclass(frozen=True, slots=True)
class ArithLimits:
    max_chars: int = MAX_EXPRESSION_CHARS
    max_exponent: int = MAX_EXPONENT
    max_magnitude: Fraction = MAX_MAGNITUDE
    max_digits: int = MAX_DIGITS

    @property
    def max_bits(self) -> int:
        return int(self.max_digits * 3.3219280948873626)  # log2(10)


def evaluate(expression: str, limits: ArithLimits = ArithLimits()) -> Fraction:
    """Evaluate `expression` exactly, or raise UnsafeExpression / ZeroDivisionError."""
    text = expression.strip().replace("\u00d7", "*").replace("\u00f7", "/")  # times, divide signs
    if not text or len(text) > limits.max_chars:
        raise UnsafeExpression(f"expression empty or longer than {limits.max_chars} characters")
    # "1,000" is a number in GSM8K prose; Python would read it as a tuple.
    text = _strip_thousands(text)
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise UnsafeExpression(f"not an arithmetic expression: {expression[:60]!r}") from err
    return _Walker(text, limits).walk(tree.body)


def _strip_thousands(text: str) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch == "," and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            continue
        out.append(ch)
    return "".join(out)


class _Walker:
    def __init__(self, text: str, limits: ArithLimits) -> None:
        self.text, self.limits = text, limits

    def check(self, value: Fraction) -> Fraction:
        if abs(value) > self.limits.max_magnitude:
            raise UnsafeExpression("intermediate value too large")
        bits = self.limits.max_bits
        if value.numerator.bit_length() > bits or value.denominator.bit_length() > bits:
            raise UnsafeExpression(f"intermediate value has more than {self.limits.max_digits} digits")
        return value

    def number(self, node: ast.Constant) -> Fraction:
        literal = ast.get_source_segment(self.text, node) or ""
        m = _DECIMAL.fullmatch(literal)
        if not literal or m is None or not (m.group(1) or m.group(2) not in (None, ".")):
            raise UnsafeExpression(f"not a decimal number: {literal[:40]!r}")
        if m.group(3) and abs(int(m.group(3)[1:])) > MAX_LITERAL_EXPONENT:
            raise UnsafeExpression(f"exponent of {literal[:40]!r} is too large")
        return self.check(Fraction(literal.replace("_", "")))

    def walk(self, node: ast.expr) -> Fraction:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return self.number(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
            inner = self.walk(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            return self.binary(node.op, self.walk(node.left), self.walk(node.right))
        raise UnsafeExpression(f"disallowed element {type(node).__name__}")

    def binary(self, op: ast.operator, left: Fraction, right: Fraction) -> Fraction:
        if isinstance(op, ast.Add):
            return self.check(left + right)
        if isinstance(op, ast.Sub):
            return self.check(left - right)
        if isinstance(op, ast.Mult):
            return self.check(left * right)
        if isinstance(op, ast.Div):
            return self.check(left / right)
        if isinstance(op, ast.FloorDiv):  # GSM8K writes <<560//10=56>>
            return self.check(Fraction(left // right))
        if isinstance(op, ast.Mod):
            return self.check(left % right)
        if isinstance(op, ast.Pow):
            return self.power(left, right)
        raise UnsafeExpression(f"operator {type(op).__name__} not allowed")

    def power(self, base: Fraction, exponent: Fraction) -> Fraction:
        limits = self.limits
        if exponent.denominator != 1 or abs(exponent) > limits.max_exponent:
            raise UnsafeExpression(f"exponent must be an integer of at most {limits.max_exponent}")
        size = max(base.numerator.bit_length(), base.denominator.bit_length())
        if abs(int(exponent)) * max(size - 1, 0) > limits.max_bits:  # the result's least size
            raise UnsafeExpression(f"power result would have more than {limits.max_digits} digits")
        if base == 0 and exponent < 0:
            raise ZeroDivisionError("0 cannot be raised to a negative power")
        return self.check(base ** int(exponent))
