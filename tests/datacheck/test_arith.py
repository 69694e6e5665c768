from fractions import Fraction

import pytest

from datacheck.arith import UnsafeExpression, evaluate


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("48/2", Fraction(24)),
        ("2+3*4", Fraction(14)),
        ("(2+3)*4", Fraction(20)),
        ("0.1+0.2", Fraction(3, 10)),  # exact: no float noise
        ("-3**2", Fraction(-9)),
        ("2**-1", Fraction(1, 2)),
        ("1,000*3", Fraction(3000)),
        ("10/3", Fraction(10, 3)),
    ],
)
def test_arithmetic_is_exact(expression: str, value: Fraction) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "open('x')",
        "(1).__class__",
        "[1, 2][0]",
        "a+1",
        "lambda: 1",
        "560//10",  # floor division is not in the allowed set
        "7 % 2",
        "2**2**99",  # exponent limit: would never finish
        "10**10**10",
        "9" * 40 + "*" + "9" * 40,  # magnitude limit
        "1+" * 150 + "1",  # length limit
        "",
    ],
)
def test_refuses_anything_but_bounded_arithmetic(expression: str) -> None:
    with pytest.raises(UnsafeExpression):
        evaluate(expression)


def test_division_by_zero_is_reported_not_crashing() -> None:
    with pytest.raises(ZeroDivisionError):
        evaluate("5/(3-3)")
