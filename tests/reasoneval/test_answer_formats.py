"""The number forms modern small models write (issue 15) and the exploits of issue 14 item 7.

Examples first, then one hypothesis property per behaviour: any value written in any supported
form, in any supported wrapper, extracts to itself.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasoneval.score import score_rows
from reasonkit.answers import extract_answer, normalize, parse_gold, score_response, to_fraction
from reasonkit.errors import InputError


def value_of(text: str, *, think: bool = False) -> Fraction | None:
    extraction = extract_answer(text, think=think)
    return None if extraction is None else to_fraction(extraction.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Bare LaTeX fractions outside \boxed{}: the last number is the fraction, not its denominator.
        ("So she eats \\frac{1}{3} of the pie.", "1/3"),
        ("$\\dfrac{3}{4}$ of them", "3/4"),
        ("which leaves \\tfrac83", "8/3"),
        ("\\cfrac{2}{5}", "2/5"),
        ("That is \\frac13", "1/3"),
        ("the rope is 2\\frac{1}{2} m", "5/2"),
        # LaTeX and typographic grouping.
        ("The total is 1\\,234 dollars", "1234"),
        ("$11,\\! 111,\\! 100$", "11111100"),
        ("so $14{,}916$ in all", "14916"),
        ("#### 1 000", "1000"),
        ("He earns 1 000 000", "1000000"),
        ("She paid \\boxed{\\$618 000}", "618000"),
        ("It costs 1\u202f000 euros", "1000"),
        ("It costs 2\u00a0500", "2500"),
        # Unicode numbers.
        ("She drank \u00bd", "1/2"),
        ("It took 2\u00bd hours", "5/2"),
        ("The change is -\u00bd", "-1/2"),
        ("\uff11\uff12\uff13", "123"),
        ("\u7b54\u6848\uff1a\u4e09", "3"),
        ("\u7b54\u6848\u662f\u4e00\u767e\u4e8c\u5341", "120"),
        ("\u7b54\u6848\uff1a18\u3002\u53e6\u5916\u8fd8\u6709 5 \u4e2a", "18"),
        # Scientific notation.
        ("That is 1.5 \\times 10^3 grams", "1500"),
        ("about 2 x 10^{-2}", "1/50"),
        ("#### 5e3", "5000"),
        ("The answer is 3e2.", "300"),
        # Other languages' answer markers beat a later incidental number.
        ("R\u00e9ponse : 42\nJ'ai v\u00e9rifi\u00e9 3 fois.", "42"),
        ("Respuesta final: 12\nSon 4 cajas.", "12"),
        ("Antwort: 7\nDas sind 2 mehr.", "7"),
        # A signed answer.
        ("#### +7", "7"),
        # A number after the answer is not part of it ("3-packs" is a unit, not a digit group).
        ("The answer is 5 3-packs.", "5"),
    ],
)
def test_modern_number_forms(text: str, expected: str) -> None:
    assert value_of(text) == Fraction(expected)


@pytest.mark.parametrize(
    ("response", "gold"),
    [
        ("#### 5e3", "5"),
        ("The answer is 3e2.", "3"),
        ("#### 1/1" + "0" * 40, "1"),
        ("#### 1/1" + "0" * 40 + " apples", "1"),
        ("#### 5e999", "5"),
    ],
)
def test_scientific_notation_and_long_fractions_are_not_their_leading_number(
    response: str, gold: str
) -> None:
    # Issue 14 item 7: each was marked correct against its leading digit, a GRPO exploit.
    assert not score_response(response, gold)[1]


@pytest.mark.parametrize(
    "text",
    [
        "<think>The answer is 5</think>",
        "<think>\nSo #### 5\n</think>\n",
        "<think>\nI think the answer is 5",  # an unclosed block
        "Let me think.\n<think>\n#### 5",
    ],
)
def test_an_answer_only_inside_think_is_no_answer(text: str) -> None:
    assert extract_answer(text) is None
    assert extract_answer(text, think=True) is None


def test_primed_think_needs_a_close_tag_and_reads_after_it() -> None:
    assert extract_answer("3 + 2 = 5\n#### 5") is not None  # a file from a non-thinking model
    assert extract_answer("3 + 2 = 5\n#### 5", think=True) is None  # primed: all of it is thinking
    draft = "The answer is 20? No.\n</think>\n#### 5"
    assert value_of(draft, think=True) == 5
    assert value_of("<think>#### 20</think>\nSo 5 in all.") == 5


@pytest.mark.parametrize(
    ("mode", "gold", "correct"),
    [
        ("number", "33.5", True), ("number", "0.335", False),
        ("fraction", "33.5", False), ("fraction", "0.335", True), ("fraction", "33.5%", True),
        ("either", "33.5", True), ("either", "0.335", True), ("either", "3.35", False),
    ],
)  # fmt: skip
def test_percent_modes(mode: str, gold: str, correct: bool) -> None:
    for response in ("The answer is 33.5%.", "#### 33.5 percent", "So the share is 33.5%"):
        assert score_response(response, gold, percent=mode)[1] is correct, response  # type: ignore[arg-type]


def test_a_signed_gold_parses_and_an_unparseable_gold_is_one_unscorable_row() -> None:
    assert parse_gold("+7") == "7" and normalize("+7") == "7" and parse_gold("#### +7") == "7"
    rows = [
        {"out": "#### 7", "gold": "+7"},
        {"out": "#### 3", "gold": "three-ish"},
        {"out": "#### 4", "gold": "5"},
    ]
    scored, summary = score_rows(rows, response_field="out", gold_field="gold")
    assert [r["correct"] for r in scored] == [True, None, False]
    assert "no numeric answer" in scored[1]["unscorable"]
    assert (summary.n, summary.correct, summary.unscorable) == (2, 1, 1)
    assert "unscorable rows 1" in summary.text()
    with pytest.raises(InputError, match="row 2: gold 'three-ish' has no numeric answer"):
        score_rows(rows, response_field="out", gold_field="gold", strict_gold=True)


# --- properties --------------------------------------------------------------------------------

def _group(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


GROUPINGS = [",", "\\,", "{,}", ",\\!", ",\\! ", " ", "\u00a0", "\u202f", "\u2009", "~"]
WRAPPERS = [
    "#### {}", "\\boxed{{{}}}", "$\\boxed{{{}}}$", "The answer is {}.", "**Final Answer:** {}",
    "Answer: {}", "She has {} in all", "<answer>{}</answer>", "$${}$$",
    "<think>draft: 3</think>\nSo {} left.",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(GROUPINGS),
       st.sampled_from(WRAPPERS))
def test_any_grouped_integer_in_any_wrapper_extracts_to_itself(
    n: int, sep: str, wrapper: str
) -> None:
    assert value_of(wrapper.format(_group(n, sep))) == n


FRACTION_FORMS = ["\\frac{{{p}}}{{{q}}}", "\\dfrac{{{p}}}{{{q}}}", "\\tfrac{{{p}}}{{{q}}}",
                  "\\cfrac{{{p}}}{{{q}}}", "\\frac {{ {p} }} {{ {q} }}"]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=10**6),
       st.sampled_from(FRACTION_FORMS), st.sampled_from(WRAPPERS))
def test_any_latex_fraction_in_any_wrapper_extracts_to_its_value(
    p: int, q: int, form: str, wrapper: str
) -> None:
    assert value_of(wrapper.format(form.format(p=p, q=q))) == Fraction(p, q)


@given(st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9),
       st.sampled_from(["\\frac", "\\dfrac", "\\tfrac"]), st.sampled_from(WRAPPERS))
def test_one_digit_shorthand_fraction(p: int, q: int, macro: str, wrapper: str) -> None:
    assert value_of(wrapper.format(f"{macro}{p}{q}")) == Fraction(p, q)


VULGAR = {"\u00bd": Fraction(1, 2), "\u2153": Fraction(1, 3), "\u00be": Fraction(3, 4),
          "\u215b": Fraction(1, 8), "\u2156": Fraction(2, 5)}


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted(VULGAR)),
       st.sampled_from(WRAPPERS), st.booleans())
def test_any_vulgar_fraction_and_mixed_number(whole: int, char: str, wrapper: str, neg: bool) -> None:
    written = f"{whole or ''}{char}"
    expected = whole + VULGAR[char]
    if neg and wrapper.startswith("She has"):
        written, expected = "-" + written, -expected
    assert value_of(wrapper.format(written)) == expected


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(WRAPPERS))
def test_full_width_digits(n: int, wrapper: str) -> None:
    full = "".join(chr(0xFF10 + int(d)) for d in str(n))
    assert value_of(wrapper.format(full)) == n


def _cjk(n: int) -> str:
    digits = "\u96f6\u4e00\u4e8c\u4e09\u56db\u4e94\u516d\u4e03\u516b\u4e5d"
    if n == 0:
        return digits[0]
    out, zero = "", False
    for value, unit in ((10**4, "\u4e07"), (1000, "\u5343"), (100, "\u767e"), (10, "\u5341"), (1, "")):
        d, n = divmod(n, value)
        if value == 10**4 and d:
            out += _cjk(d) + unit
        elif d:
            out += ("\u96f6" if zero else "") + digits[d] + unit
            zero = False
        elif out:
            zero = True
    return out


@given(st.integers(min_value=0, max_value=99_999_999),
       st.sampled_from(["\uff1a", ":", "\u662f", " \uff1a "]))
def test_cjk_numerals_after_a_chinese_answer_marker(n: int, colon: str) -> None:
    assert value_of(f"\u6240\u4ee5\u7b54\u6848{colon}{_cjk(n)}\u3002\u8fd8\u6709 3 \u4e2a") == n


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=0, max_value=2),
       st.integers(min_value=-6, max_value=12),
       st.sampled_from(["{m}e{e}", "{m}E{e}", "{m} \\times 10^{{{e}}}", "{m} \\times 10^{e}",
                        "{m}\\cdot 10^{{{e}}}", "{m} x 10^{e}", "{m} \u00d7 10^{e}"]),
       st.sampled_from(WRAPPERS))
def test_scientific_notation_is_read_whole(
    digits: int, places: int, exp: int, form: str, wrapper: str
) -> None:
    mantissa = Fraction(digits, 10**places)
    m = f"{digits / 10**places:.{places}f}"
    assert value_of(wrapper.format(form.format(m=m, e=exp))) == mantissa * Fraction(10) ** exp


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(WRAPPERS[:-1]),
       st.booleans())
def test_an_answer_inside_think_never_counts(n: int, wrapper: str, closed: bool) -> None:
    inside = f"<think>\n{wrapper.format(n)}\n" + ("</think>\n" if closed else "")
    assert extract_answer(inside) is None
    assert value_of(f"{inside}</think>\n#### {n + 1}" if not closed else f"{inside}#### {n + 1}") == n + 1


@given(st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
       st.sampled_from(["The answer is {}%.", "#### {}%", "#### {} percent", "She scored {}%"]))
def test_percent_readings(value: object, form: str) -> None:
    text = form.format(value)
    number = Fraction(str(value))
    assert score_response(text, str(number))[1]
    assert score_response(text, str(number / 100), percent="fraction")[1]
    assert score_response(text, str(number / 100), percent="either")[1]
    assert score_response(text, str(number), percent="either")[1]
    if number not in (0,):
        assert not score_response(text, str(number / 100))[1]
