"""Number normalization for reasonkit.answers: numerals, number words, LaTeX, canonical forms.

Split from answers.py to keep each module small; answers re-exports the public names. Every regex
is linear-time and every input is bounded before it is parsed.
"""

from __future__ import annotations

import re
from fractions import Fraction

from reasonkit._textforms import CJK_NUMERAL_CHARS, cjk_number, rewrite_numbers

_MAX_NORMALIZE = 400  # an answer candidate longer than this is not "a number"
_MAX_DIGITS = 40  # longer numerals are garbage, and big ints make str() slow or raise
_BOX_SCAN = 400  # characters scanned for the closing brace of \boxed{...}
# A numeral: digits with optional thousands commas, optional decimals, optional "/denominator".
# The look-behind stops matches from starting inside another numeral, which keeps finditer
# linear on inputs such as "1,1,1,...".
_NUMERAL = re.compile(
    r"(?<![0-9,.])(?P<neg>[-\u2212])?\$?(?P<int>[0-9][0-9,]{0,60}|(?=\.[0-9]))(?P<dec>\.[0-9]{1,40})?"
    r"(?:[ \t]{0,2}/[ \t]{0,2}(?P<den>[0-9]{1,40}(?:\.[0-9]{1,40})?))?",
)
_TRAILING_NON_DIGITS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ \t\r\n.,!?*$#:;()[]{}<>/\\_-'\"%=+`~|&^@"
)
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
_LEAD_NUMERAL = re.compile(
    r"(?P<mixed>[0-9]{1,9})[ \t]{1,2}(?P<mnum>[0-9]{1,9})/(?P<mden>[0-9]{1,9})(?![0-9/])"
    # "1 000 000": a space as the thousands separator (SI style) when every group has 3 digits.
    r"|(?P<int>[0-9]{1,3}(?: [0-9]{3}){1,13}(?![0-9,./])|[0-9][0-9,]{0,60}|(?=\.[0-9]))"
    r"(?P<dec>\.[0-9]{1,40})?"
    r"(?:[ \t]{0,2}/[ \t]{0,2}(?P<den>[0-9]{1,40}(?:\.[0-9]{1,40})?)(?![0-9]))?"
)
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")
# Words skipped before the number ("is approximately $18", "a total of 18").
_FILLER = frozenset(
    {"is", "are", "was", "be", "will", "would", "equal", "equals", "to", "of", "a", "an", "the"}
    | {"total", "approximately", "approx", "about", "around", "roughly", "exactly", "only", "just"}
    | {"therefore", "thus", "so", "then", "usd", "rs", "inr", "eur", "gbp"}
)
_CURRENCY = "$\u20ac\u00a3\u00a5\u20b9"  # $ euro pound yen rupee

_UNIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_UNIT_WORDS += ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"]
_UNIT_WORDS += ["seventeen", "eighteen", "nineteen"]
_UNITS = {w: i for i, w in enumerate(_UNIT_WORDS)}
_TEN_WORDS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_TENS = {w: 10 * i for i, w in enumerate(_TEN_WORDS, 2)}
_SCALES = {"thousand": 1000, "million": 10**6, "billion": 10**9}

# LaTeX and markdown clean-up, applied to short strings only.
_LATEX_TEXT = re.compile(
    r"\\(?:text|textbf|textrm|mathrm|mathbf|mbox|textit|operatorname)[ \t]{0,2}\{([^{}]{0,200})\}"
)
_LATEX_FRAC = re.compile(r"\\[dtc]?frac[ \t]{0,2}\{([^{}]{1,60})\}[ \t]{0,2}\{([^{}]{1,60})\}")
_LATEX_FRAC_SHORT = re.compile(r"\\[dtc]?frac[ \t]{0,2}([0-9])[ \t]{0,2}([0-9])")
_LATEX_DROP = re.compile(
    r"\\left|\\right|\\[,!;: ]|\\displaystyle|\^\{?\\circ\}?|\\circ|\{,\}|\\[()\[\]]|[$`~]|\*\*|__"
)
_VARIABLE = re.compile(r"[ \t]{0,4}(?:[a-z]{1,12}(?:_[a-z0-9]{1,4})?)?[ \t]{0,4}")
_PLAIN = re.compile(
    r"[ \t\r\n*]{0,4}(?P<neg>[-+])?\$?"
    r"(?P<int>[0-9]{1,3}(?:,[0-9]{3}){1,13}|[0-9]{1,3}(?: [0-9]{3}){1,13}|[0-9]{1,40})"
    r"(?:\.(?P<dec>[0-9]{1,40}))?[ \t\r\n.*]{0,4}"
)
_CANONICAL = re.compile(r"-?[0-9]{1,40}(?:\.[0-9]{1,40})?(?:/[0-9]{1,40})?")
def _box_content(text: str, start: int) -> str | None:
    """Content of a brace group whose "{" ends just before ``start``; nested braces balanced."""
    depth = 1
    end = min(len(text), start + _BOX_SCAN)
    for i in range(start, end):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return None


def _clean(text: str) -> str:
    """Lowercase, unwrap \\boxed/\\text/\\frac and markdown, drop currency symbols."""
    s = text.strip().lower()
    if "\\" in s or "{" in s:
        for _ in range(3):  # nested \boxed{\text{...}}
            i = s.find("\\boxed")
            if i < 0:
                i = s.find("\\fbox")
            if i < 0:
                break
            j = s.find("{", i)
            inner = _box_content(s, j + 1) if 0 <= j < i + 10 else None
            if inner is None:
                break
            s = s[:i] + inner + s[j + 2 + len(inner) :]
        s = s.replace("\\$", "$").replace("\\%", "%").replace("{,}", ",")
        s = s.replace("\\,", "").replace("\\!", "")  # thin spaces: "1\\,072"
        s = _LATEX_TEXT.sub(r" \1 ", _LATEX_TEXT.sub(r" \1 ", s))
        s = _LATEX_FRAC.sub(r"\1/\2", s)
        s = _LATEX_FRAC_SHORT.sub(r"\1/\2", s)
        s = s.replace("\\", " ")
    s = _LATEX_DROP.sub(" ", s).replace("\u2212", "-").replace("{", " ").replace("}", " ")
    for ch in _CURRENCY:
        if ch in s:
            s = s.replace(ch, " ")
    return s.strip()


def _words_value(words: list[str]) -> int | None:
    """English number words ("forty-two", "one hundred and five") -> int, or None."""
    total = current = 0
    seen = False
    for word in words:
        for part in word.split("-"):
            if part in _UNITS:
                current += _UNITS[part]
            elif part in _TENS:
                current += _TENS[part]
            elif part == "hundred":
                current = max(current, 1) * 100
            elif part in _SCALES:
                total += max(current, 1) * _SCALES[part]
                current = 0
            elif part == "and" and seen:
                continue
            else:
                return None
            seen = True
    return total + current if seen else None


def _numeral_value(
    int_part: str, dec: str | None, den: str | None, *, last: bool
) -> Fraction | None:
    digits = int_part.replace(" ", "")
    if "," in digits:
        digits = digits.strip(",")
        if "," in digits and not _THOUSANDS.fullmatch(digits):
            if not last:
                return None  # "1,2,3" is a list, not one number
            digits = digits.rsplit(",", 1)[-1]  # flexible: the last element, as a reader would
        digits = digits.replace(",", "")
    if not digits and not dec:
        return None
    if len(digits) + len(dec or "") > _MAX_DIGITS:
        return None
    value = Fraction(int(digits or "0"))
    if dec:
        value += Fraction(int(dec[1:]), 10 ** (len(dec) - 1))
    if den:
        denominator = Fraction(den)
        if denominator == 0:
            return None
        value /= denominator
    return value


def _lead_value(s: str) -> tuple[Fraction | None, str]:
    """Parse the number at the start of a cleaned string; return it and the rest."""
    pos, n, negative = 0, len(s), False
    while pos < n:
        ch = s[pos]
        if ch in " \t\n*:=([\"'_#>":
            pos += 1
        elif ch == "-" and not negative:
            negative, pos = True, pos + 1
        elif ch == "+" and not negative and pos + 1 < n and s[pos + 1] in "0123456789.$":
            pos += 1  # a signed gold or answer: "+7"
        else:
            m = _WORD.match(s, pos)
            if m is None:
                break
            word = m.group()
            if word in ("negative", "minus") and not negative:
                negative = True
            elif word not in _FILLER:
                break
            pos = m.end()
    value: Fraction | None = None
    m = _LEAD_NUMERAL.match(s, pos)
    if m is not None and m.end() > pos:
        if m.group("mixed"):
            whole, num, den = (int(m.group(g)) for g in ("mixed", "mnum", "mden"))
            value = whole + Fraction(num, den) if den and num < den else None
        else:
            value = _numeral_value(m.group("int"), m.group("dec"), m.group("den"), last=False)
        rest = s[m.end() :]
    elif pos < n and s[pos] in CJK_NUMERAL_CHARS:  # after 答案 (CJK numerals are read nowhere else)
        end = pos
        while end < n and end < pos + 24 and s[end] in CJK_NUMERAL_CHARS:
            end += 1
        number = cjk_number(s[pos:end])
        value = Fraction(number) if number is not None else None
        rest = s[end:]
    else:
        words: list[str] = []
        end = pos
        while True:
            w = _WORD.match(s, end)
            if w is None or (_words_value([w.group()]) is None and w.group() != "and"):
                break
            words.append(w.group())
            end = w.end()
            while end < n and s[end] == " ":
                end += 1
        while words and words[-1] == "and":
            words.pop()
        number = _words_value(words) if words else None
        value = Fraction(number) if number is not None else None
        rest = s[end:]
    if value is not None and negative:
        value = -value
    rest = rest.lstrip()
    if rest.startswith("%"):
        rest = rest[1:]
    elif rest.startswith(("percent", "per cent")):
        rest = rest[7 if rest.startswith("percent") else 8 :]
    return value, rest


def _canonical(value: Fraction) -> str | None:
    """The canonical string: "-3", "0.75" (exact, for terminating decimals) or "1/3".

    None past the size limit, so that every canonical string parses back to itself.
    """
    num, den = value.numerator, value.denominator
    if len(str(abs(num))) > _MAX_DIGITS or len(str(den)) > _MAX_DIGITS:
        return None
    if den == 1:
        return str(num)
    rest, twos, fives = den, 0, 0
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    places = max(twos, fives)
    scaled = abs(num) * 10**places // den
    if rest != 1 or len(str(scaled)) > _MAX_DIGITS - 1:
        return f"{num}/{den}"
    digits = str(scaled).rjust(places + 1, "0")  # exact decimal, no float rounding
    sign = "-" if num < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}".rstrip("0").rstrip(".")


def _clean_tail(rest: str) -> bool:
    """After the number: unit words and punctuation only (no further digits or operators)."""
    rest = rest.strip()
    if len(rest) > 80 or any(c.isdigit() for c in rest):
        return False
    return not rest or rest[0] not in "+-*/\u00d7\u00f7^=<>"


def _plain_value(text: str) -> str | None:
    """Fast path for the common plain forms ("18", " $1,072.50.", "-3"): no Fraction needed."""
    m = _PLAIN.fullmatch(text)
    if m is None:
        return None
    whole = m.group("int").replace(",", "").replace(" ", "").lstrip("0") or "0"
    dec = (m.group("dec") or "").rstrip("0")
    if len(whole) + len(dec) > _MAX_DIGITS:
        return None
    value = f"{whole}.{dec}" if dec else whole
    return f"-{value}" if m.group("neg") == "-" and value != "0" else value


def normalize(text: str) -> str | None:
    """Canonical numeric string for an answer candidate, or None when it is not one number."""
    if not text or len(text) > _MAX_NORMALIZE:
        return None
    plain = _plain_value(text)
    if plain is not None:
        return plain
    s = _clean(rewrite_numbers(text))
    eq = s.rfind("=")
    if eq >= 0:  # "x = 5" is a value; "9*2 = 18" is working, not an answer
        if not _VARIABLE.fullmatch(s[:eq]):
            return None
        s = s[eq + 1 :]
    value, rest = _lead_value(s)
    if value is None or not _clean_tail(rest):
        return None
    return _canonical(value)  # None past the size limit


def to_fraction(canonical: str) -> Fraction | None:
    """Exact value of a canonical string from normalize()."""
    try:
        return Fraction(canonical)
    except (ValueError, ZeroDivisionError):
        return None
