"""Rewrite the number forms that modern models write into the plain numerals the parser reads.

Qwen2.5/Qwen3 and R1-style distills write LaTeX (``\\frac13``, ``1\\,234``, ``14{,}916``,
``1.5 \\times 10^3``), Unicode (``½``, full-width digits) and scientific notation (``5e3``). Each rewrite turns
one such form into an ASCII numeral (``1/3``, ``1,234``, ``1500``), so that markers, normalize() and
the last-number fallback all read the same text. Nothing is evaluated: each rewrite is one regex
with bounded repetition, and the only arithmetic is exact integer or Decimal work on at most 40
digits. Forms the rewrite does not recognise are left as they were.
"""

from __future__ import annotations

import re
from decimal import Decimal

_MAX_DIGITS = 40  # as in _numbers: a longer value is not an answer
_MAX_EXPONENT = 40
TOO_LARGE = "(a number too large to read)"  # has no digit, so nothing reads it as a number

# Decimal digits of other scripts, and full-width punctuation that belongs to a numeral.
_DIGIT_BLOCKS = (0xFF10, 0x0660, 0x06F0, 0x0966, 0x09E6)  # full-width, Arabic-Indic (2), Devanagari, Bengali
_TRANSLATE: dict[int, str] = {
    block + i: str(i) for block in _DIGIT_BLOCKS for i in range(10)
}
_TRANSLATE |= {ord(a): b for a, b in zip("\uff0c\uff0e\uff0f\uff05\uff0d\uff0b\u2044\u00d7", ",./%-+/x", strict=True)}
_TRANSLATE_RE = re.compile("[" + "".join(chr(c) for c in _TRANSLATE) + "]")

_VULGAR = {
    "\u00bd": (1, 2), "\u2153": (1, 3), "\u2154": (2, 3), "\u00bc": (1, 4), "\u00be": (3, 4),
    "\u2155": (1, 5), "\u2156": (2, 5), "\u2157": (3, 5), "\u2158": (4, 5), "\u2159": (1, 6),
    "\u215a": (5, 6), "\u2150": (1, 7), "\u215b": (1, 8), "\u215c": (3, 8), "\u215d": (5, 8),
    "\u215e": (7, 8), "\u2151": (1, 9), "\u2152": (1, 10),
}  # fmt: skip
# "2½" is the mixed number 5/2; "½" alone is 1/2.
_VULGAR_ANY = re.compile("[" + "".join(_VULGAR) + "]")
_VULGAR_RE = re.compile(r"(?<![0-9.,])([0-9]{1,9})?[ \u00a0]?([" + "".join(_VULGAR) + "])")

_CJK_DIGITS = {"零": 0, "\u3007": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5}
_CJK_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CJK_UNITS = {"十": 10, "百": 100, "千": 1000}
_CJK_SCALES = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
CJK_NUMERAL_CHARS = frozenset(_CJK_DIGITS) | frozenset(_CJK_UNITS) | frozenset(_CJK_SCALES)

# A LaTeX fraction with numeric arguments, braced or the one-digit shorthand (\frac13, \tfrac83),
# optionally right after a whole number (the mixed number 2\frac{1}{2}).
_ARG = r"(?:\{[ \t]{0,2}(-?[0-9]{1,40}(?:\.[0-9]{1,40})?)[ \t]{0,2}\}|([0-9]))"
_LATEX_FRAC = re.compile(
    r"(?<![0-9.,])([0-9]{1,9})?\\[dtc]?frac[ \t]{0,2}" + _ARG + r"[ \t]{0,2}" + _ARG
)
# LaTeX digit grouping between a digit and a group of three: 1\,234, 11,\! 111, 14{,}916, 1~000.
_LATEX_GROUP = re.compile(r"(?<=[0-9])(?:\{,\}|,?[ \t]?\\[,!;: ][ \t]?|,?~)(?=[0-9]{3}(?![0-9]))")
# Typographic grouping: no-break space, thin space, narrow no-break space, figure space.
_UNICODE_GROUP = re.compile(r"(?<=[0-9])[\u00a0\u2009\u202f\u2007\u2008](?=[0-9]{3}(?![0-9]))")
# 1.5 \times 10^3, 2 x 10^{-2}, 3·10^4; and 5e3, 1.5E-2 standing alone as a token.
_TIMES_TEN = re.compile(
    r"(?<![0-9A-Za-z_.])([0-9]{1,20}(?:\.[0-9]{1,20})?)[ \t]{0,2}"
    r"(?:\\times|\\cdot|\u00b7|\*|x)[ \t]{0,2}10[ \t]{0,2}\^[ \t]{0,2}"
    r"(?:\{[ \t]{0,2}([-+]?[0-9]{1,4})[ \t]{0,2}\}|([-+]?[0-9]{1,4}))"
)
_E_HINT = re.compile(r"[0-9][eE][-+]?[0-9]")  # a cheap first scan: the full pattern is 8x slower
_E_NOTATION = re.compile(
    r"(?<![0-9A-Za-z_.])([0-9]{1,20}(?:\.[0-9]{1,20})?)[eE]([-+]?[0-9]{1,4})(?![0-9A-Za-z_])"
)


def cjk_number(run: str) -> int | None:
    """一百二十三 -> 123, 两千 -> 2000, 三 -> 3; None for a run that is not a well-formed numeral."""
    total = section = digit = 0
    seen_digit = False
    for ch in run:
        if _CJK_DIGITS.get(ch) == 0 and len(run) > 1:
            continue  # 一百零一: a zero only marks a skipped place
        if ch in _CJK_DIGITS:
            if seen_digit:  # 二三 is not a numeral
                return None
            digit, seen_digit = _CJK_DIGITS[ch], True
        elif ch in _CJK_UNITS:
            section += (digit if seen_digit else 1) * _CJK_UNITS[ch]
            digit, seen_digit = 0, False
        else:  # a scale
            section += digit
            total += (section or 1) * _CJK_SCALES[ch]
            section = digit = 0
            seen_digit = False
    return total + section + digit


def _scaled(mantissa: str, exponent: str) -> str:
    exp = int(exponent)
    value = Decimal(mantissa).scaleb(exp) if abs(exp) <= _MAX_EXPONENT else None
    if value is None:
        return TOO_LARGE
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if len(text.replace(".", "").lstrip("0")) <= _MAX_DIGITS else TOO_LARGE


def _frac(m: re.Match[str]) -> str:
    whole = m.group(1)
    num, den = m.group(2) or m.group(3), m.group(4) or m.group(5)
    if whole is None:
        return f"{num}/{den}"
    if "." in num or "." in den or num.startswith("-") or int(den) == 0:
        return m.group()  # not a mixed number we can read exactly
    return f"{int(whole) * int(den) + int(num)}/{den}"


def _vulgar(m: re.Match[str]) -> str:
    num, den = _VULGAR[m.group(2)]
    whole = int(m.group(1)) if m.group(1) else 0
    return f"{whole * den + num}/{den}"


def rewrite_numbers(text: str) -> str:
    """The text with every recognised number form rewritten as a plain ASCII numeral."""
    if not text.isascii():
        # A regex finds the few characters to replace: str.translate with a dict costs ~9 ms/100 KB.
        text = _TRANSLATE_RE.sub(lambda m: _TRANSLATE[ord(m.group())], text)
        if "\u00a0" in text or "\u2009" in text or "\u202f" in text or "\u2007" in text or "\u2008" in text:
            text = _UNICODE_GROUP.sub(",", text)
        if _VULGAR_ANY.search(text):
            text = _VULGAR_RE.sub(_vulgar, text)
    if "\\" in text or "{,}" in text or "~" in text:
        text = _LATEX_GROUP.sub(",", text)
        if "frac" in text:
            text = _LATEX_FRAC.sub(_frac, text)
    if "^" in text:
        text = _TIMES_TEN.sub(lambda m: _scaled(m.group(1), m.group(2) or m.group(3)), text)
    if ("e" in text or "E" in text) and _E_HINT.search(text):
        text = _E_NOTATION.sub(lambda m: _scaled(m.group(1), m.group(2)), text)
    return text
