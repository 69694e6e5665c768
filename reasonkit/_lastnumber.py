"""The flexible reading of reasonkit.answers: the last number of a response, lm-eval style.

Split from answers.py to keep each module small. The last digit is found with str scans, not a
regex, and number forms are rewritten only in the response's tail, so adversarial text stays cheap.
"""

from __future__ import annotations

import re
from fractions import Fraction

from reasonkit._numbers import (
    _NUMERAL,
    _TRAILING_NON_DIGITS,
    _canonical,
    _numeral_value,
    _plain_value,
)
from reasonkit._textforms import rewrite_numbers

_TAIL = 4096  # characters at the end where number forms are rewritten for the last-number reading
_PERCENT_NEXT = re.compile(r"[ \t]{0,2}(?:\\?%|per[ \t]?cent)")
_SPACE_GROUPED = re.compile(r"(?<![0-9.,])[0-9]{1,3}(?: [0-9]{3}){0,12} $")


def _last_number(text: str) -> tuple[str, str] | None:
    """lm-eval-style flexible extraction: the last numeral in the text."""
    # Find the last digit without a regex: strip common trailing non-digits (one C call), and
    # only when something unusual remains, ten memchr scans.
    stop = len(text.rstrip(_TRAILING_NON_DIGITS))
    if stop == 0 or not "0" <= text[stop - 1] <= "9":
        t = text
        stop = 1 + max(
            t.rfind("0"), t.rfind("1"), t.rfind("2"), t.rfind("3"), t.rfind("4"),
            t.rfind("5"), t.rfind("6"), t.rfind("7"), t.rfind("8"), t.rfind("9"),
        )  # fmt: skip
        if stop == 0:
            return None
    # Inside a run of [0-9,.] only the run's first character can start a numeral (the
    # look-behind), so the last numeral starts just before that run ("-$"), or, when the run is
    # a denominator ("3 / 4"), just before the numerator's run.
    start = len(text[:stop].rstrip("0123456789,."))
    head_start = max(0, start - 3)
    head = text[head_start:start].rstrip(" \t")
    if head.endswith("/"):
        slash = head_start + len(head) - 1
        start = len(text[:slash].rstrip(" \t").rstrip("0123456789,."))
    last = None
    for last in _NUMERAL.finditer(text, max(0, start - 2), stop):  # noqa: B007 - the final match
        pass
    window = 256
    while last is None:  # rare: the run holds no numeral (",5"); widen until one is found
        start = max(0, stop - window)
        for last in _NUMERAL.finditer(text, start, stop):  # noqa: B007 - we want the final match
            pass
        if last is not None or start == 0:
            break
        window *= 8
    if last is None:
        return None
    raw, end = last.group().strip(), last.end()
    if text[end : end + 1].isdigit():
        return None  # a numeral longer than the reader takes ("1/" + 41 digits): not a number
    if _PERCENT_NEXT.match(text, end):
        raw += "%"
    whole = last.group("int")
    if len(whole) == 3 and not (last.group("dec") or last.group("den")):
        grouped = _SPACE_GROUPED.search(text, max(0, last.start() - 60), last.start())
        if grouped:  # "1 000 000": a space as the thousands separator (SI style)
            spaced = _canonical(Fraction((grouped.group() + whole).replace(" ", "")))
            return (spaced, grouped.group() + raw) if spaced is not None else None
    if not last.group("neg") and not last.group("den"):
        plain = _plain_value(last.group())
        if plain is not None:
            return plain, raw
    value = _numeral_value(last.group("int"), last.group("dec"), last.group("den"), last=True)
    if value is None:
        return None
    if last.group("neg"):
        before = text[last.start() - 1] if last.start() > 0 else " "
        if not (before.isalnum() or before == ")"):  # "10-5" is a subtraction, not -5
            value = -value
    canonical = _canonical(value)
    return (canonical, raw) if canonical is not None else None


def _rewritten_tail(text: str) -> str:
    """The text whose last number is read, with number forms rewritten (_textforms).

    Only the last _TAIL characters are rewritten, which bounds the cost on adversarial text; a
    response whose tail holds no digit keeps the rest as written.
    """
    if len(text) <= _TAIL:
        return rewrite_numbers(text)
    cut = len(text) - _TAIL
    space = text.rfind(" ", cut - 64, cut)  # do not split a numeral at the window's edge
    cut = space + 1 if space >= 0 else cut
    return text[:cut] + rewrite_numbers(text[cut:])
