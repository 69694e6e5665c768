"""The one parser that decides whether a response is correct (eval, GRPO reward, datacheck).

Light on purpose: standard library only, no torch. Every regex is linear-time (bounded
quantifiers, no nested repetition), every scan is bounded, and model outputs are treated as
untrusted text: nothing is evaluated. docs/answers.md lists the formats and how they differ
from lm-eval's GSM8K filters.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from reasoneval.prompting import STOP_STRINGS, THINK_CLOSE

__all__ = [
    "Extraction",
    "extract_answer",
    "is_equivalent",
    "normalize",
    "parse_gold",
    "score_response",
    "to_fraction",
]


@dataclass(frozen=True, slots=True)
class Extraction:
    value: str  # canonical normalized answer, e.g. "1072", "0.5", "-3", "1/3"
    raw: str  # the matched answer text as it appeared
    strategy: Literal["strict", "flexible"]
    marker: str  # "####", "final_answer", "answer_tag", "boxed", "the_answer_is", "a_colon", ...


_MAX_NORMALIZE = 400  # an answer candidate longer than this is not "a number"
_MAX_DIGITS = 40  # longer numerals are garbage, and big ints make str() slow or raise
_SEGMENT = 200  # characters read after a marker
_BOX_SCAN = 400  # characters scanned for the closing brace of \boxed{...}
_MAX_MARKERS = 16  # markers tried from the end before falling back to the last number

# Marker words are found with str.rfind on an ASCII-lowercased copy (fast, and bounded by
# _FIND_LIMIT from the end); short anchored regexes then check the few characters around them.
_FIND_LIMIT = 64
_AFTER_IS = re.compile(r"[ \t]{1,3}(?:is|would[ \t]be|will[ \t]be)(?![a-z])")
_COLON_AFTER = re.compile(r"(?:\*\*)?[ \t]{0,3}[:\uff1a]")
_LINE_START_BEFORE = re.compile(r"(?:^|\n)[ \t]{0,8}(?:\*\*)?$")
_FINAL_BEFORE = re.compile(r"final[ \t]{1,3}$")

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
    r"|(?P<int>[0-9][0-9,]{0,60}|(?=\.[0-9]))(?P<dec>\.[0-9]{1,40})?"
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
_LATEX_FRAC = re.compile(r"\\[dt]?frac[ \t]{0,2}\{([^{}]{1,60})\}[ \t]{0,2}\{([^{}]{1,60})\}")
_LATEX_FRAC_SHORT = re.compile(r"\\[dt]?frac[ \t]{0,2}([0-9])[ \t]{0,2}([0-9])")
_LATEX_DROP = re.compile(
    r"\\left|\\right|\\[,!;: ]|\\displaystyle|\^\{?\\circ\}?|\\circ|\{,\}|\\[()\[\]]|[$`~]|\*\*|__"
)
_VARIABLE = re.compile(r"[ \t]{0,4}(?:[a-z]{1,12}(?:_[a-z0-9]{1,4})?)?[ \t]{0,4}")
_PLAIN = re.compile(
    r"[ \t\r\n*]{0,4}(?P<neg>-)?\$?(?P<int>[0-9]{1,3}(?:,[0-9]{3}){1,13}|[0-9]{1,40})"
    r"(?:\.(?P<dec>[0-9]{1,40}))?[ \t\r\n.*]{0,4}"
)
_CANONICAL = re.compile(r"-?[0-9]{1,40}(?:\.[0-9]{1,40})?(?:/[0-9]{1,40})?")
_RAW_TRIM = " \t\r\n*:_"
_SENTENCE_END = re.compile(r"[.!?](?:[ \t\n]|$)|\n")


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
    digits = int_part
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
    whole = m.group("int").replace(",", "").lstrip("0") or "0"
    dec = (m.group("dec") or "").rstrip("0")
    if len(whole) + len(dec) > _MAX_DIGITS:
        return None
    value = f"{whole}.{dec}" if dec else whole
    return f"-{value}" if m.group("neg") and value != "0" else value


def normalize(text: str) -> str | None:
    """Canonical numeric string for an answer candidate, or None when it is not one number."""
    if not text or len(text) > _MAX_NORMALIZE:
        return None
    plain = _plain_value(text)
    if plain is not None:
        return plain
    s = _clean(text)
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


def _segment_value(segment: str, *, clean: bool) -> tuple[str, str] | None:
    """(canonical value, raw text) for the text following a marker."""
    if clean:  # "A:"/"Answer:" lines: the whole first sentence must be the answer
        cut = _SENTENCE_END.search(segment)
        first = segment[: cut.start()] if cut else segment
        value = normalize(first)
        if value is None and "=" in segment:
            value = normalize(segment[segment.rfind("=") + 1 :])
        return (value, segment.strip(_RAW_TRIM)) if value is not None else None
    plain = _plain_value(segment)
    if plain is not None:
        return plain, segment.strip(_RAW_TRIM)
    s = _clean(segment)
    eq = s.rfind("=")
    if eq >= 0:
        s = s[eq + 1 :]
    number, rest = _lead_value(s)
    if number is None:
        return None
    rest = rest.lstrip(" \t")
    # "#### 1. Compute the eggs" is a numbered markdown heading, not an answer.
    if rest[:1] in (".", ")") and rest[1:3].strip(" \t")[:1].isalpha():
        return None
    if rest[:1] in ("+", "*", "\u00d7", "\u00f7", "^") or rest[:2] in ("- ", "/ "):
        return None  # an expression ("3 + 4"), not a value
    value = _canonical(number)
    return (value, segment.strip(_RAW_TRIM)) if value is not None else None


def _lowered(text: str) -> str:
    low = text.lower()
    if len(low) != len(text):  # U+0130 is the one character whose lower() grows
        low = text.replace("\u0130", "i").lower()
    return low


def _rfind_all(low: str, word: str) -> list[int]:
    positions: list[int] = []
    end = len(low)
    while len(positions) < _FIND_LIMIT:
        end = low.rfind(word, 0, end)
        if end < 0:
            break
        positions.append(end)
    return positions


def _find_markers(text: str) -> list[tuple[int, str, int]]:
    """(position, marker name, where its answer starts) for each candidate strict marker."""
    low = _lowered(text)
    found: list[tuple[int, str, int]] = []
    if "####" in low:  # `in` checks first: most responses carry one or two marker kinds
        found += [(i, "####", i + 4) for i in _rfind_all(low, "####")]
    for word in ("\\boxed", "\\fbox") if "\\" in low else ():
        for i in _rfind_all(low, word):
            j = i + len(word)
            while j < len(low) and j < i + len(word) + 3 and low[j] in " \t":
                j += 1
            if low.startswith("{", j):
                found.append((i, "boxed", j + 1))
    for i in _rfind_all(low, "answer") if "answer" in low else ():
        end = i + 6
        if low.startswith(">", end) and low.startswith("<", i - 1):
            found.append((i - 1, "answer_tag", end + 1))
        elif m := _AFTER_IS.match(low, end):  # "the (final) answer is", "answer is"
            found.append((i, "the_answer_is", m.end()))
        elif _FINAL_BEFORE.search(low, max(0, i - 10), i):
            found.append((i, "final_answer", end))
        elif m := _COLON_AFTER.match(low, end):
            found.append((i, "answer_colon", m.end()))
    for word in ("a:", "a\uff1a") if "a:" in low or "a\uff1a" in low else ():
        for i in _rfind_all(low, word):
            if _LINE_START_BEFORE.search(low, max(0, i - 12), i):
                found.append((i, "a_colon", i + 2))
    found.sort(reverse=True)
    return found


def _only_number(segment: str) -> tuple[str, str] | None:
    """The value of the one numeral in a short segment; None when there are none or several."""
    found = list(_NUMERAL.finditer(segment[:_SEGMENT]))
    if len(found) != 1 or found[0].group("neg"):
        return None
    m = found[0]
    value = _numeral_value(m.group("int"), m.group("dec"), m.group("den"), last=False)
    canonical = _canonical(value) if value is not None else None
    return (canonical, segment.strip(_RAW_TRIM)) if canonical is not None else None


def _marker_segment(text: str, name: str, start: int) -> tuple[str, bool] | None:
    """The text after a marker, and whether the answer must be its whole first sentence."""
    if name == "boxed":
        inner = _box_content(text, start)
        return (inner, False) if inner is not None else None
    if name == "answer_tag":
        close = text.find("</answer>", start, start + _SEGMENT + 20)
        return text[start : close if close >= 0 else start + _SEGMENT], False
    # "**Final Answer:**\n\n18": the answer may sit on the next non-empty line.
    limit = start + 16
    while start < len(text) and start < limit and text[start] in " \t*:_#\n\r":
        start += 1
    end = text.find("\n", start, start + _SEGMENT)
    segment = text[start : end if end >= 0 else start + _SEGMENT]
    if name == "the_answer_is":
        cut = _SENTENCE_END.search(segment)
        segment = segment[: cut.start()] if cut else segment
    return segment, name in ("a_colon", "answer_colon")


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
    if not last.group("neg") and not last.group("den"):
        plain = _plain_value(last.group())
        if plain is not None:
            return plain, last.group().strip()
    value = _numeral_value(last.group("int"), last.group("dec"), last.group("den"), last=True)
    if value is None:
        return None
    if last.group("neg"):
        before = text[last.start() - 1] if last.start() > 0 else " "
        if not (before.isalnum() or before == ")"):  # "10-5" is a subtraction, not -5
            value = -value
    canonical = _canonical(value)
    return (canonical, last.group().strip()) if canonical is not None else None


def _extract(text: str, flexible: bool) -> Extraction | None:
    for _, name, start in _find_markers(text)[:_MAX_MARKERS]:
        found = _marker_segment(text, name, start)
        if found is None:
            continue
        segment, clean = found
        parsed = _segment_value(segment, clean=clean)
        if parsed is None and name in ("boxed", "answer_tag", "final_answer"):
            # Prose with one numeral: "\boxed{\text{Janet makes } 18}", "Final answer: She has 18."
            cut = _SENTENCE_END.search(segment) if name == "final_answer" else None
            parsed = _only_number(segment[: cut.start()] if cut else segment)
        if parsed is not None:
            return Extraction(value=parsed[0], raw=parsed[1], strategy="strict", marker=name)
    if not flexible:
        return None
    last = _last_number(text)
    if last is None:
        return None
    return Extraction(value=last[0], raw=last[1], strategy="flexible", marker="last_number")


def extract_answer(text: str, *, flexible: bool = True) -> Extraction | None:
    """The answer a response commits to: the last strict marker with a value, else the last number.

    Text after an end-of-turn token is not part of the response. When the reasoning is closed
    with </think>, the answer is looked for after it first: markers inside the thinking are
    drafts ("the answer is 20? no...").
    """
    if not text:
        return None
    for stop in STOP_STRINGS:
        cut = text.find(stop)
        if cut >= 0:
            text = text[:cut]
    close = text.rfind(THINK_CLOSE)
    if close >= 0:
        after = _extract(text[close + len(THINK_CLOSE) :], flexible)
        if after is not None:
            return after
    return _extract(text, flexible)


def parse_gold(gold: str) -> str | None:
    """A raw GSM8K answer ("... #### 72") or a bare value -> canonical string."""
    marker = gold.rfind("####")
    return normalize(gold[marker + 4 :] if marker >= 0 else gold)


def is_equivalent(pred: str | None, gold: str | None, *, rel_tol: float = 1e-6) -> bool:
    """Numeric equality: exact for integers and fractions, within ``rel_tol`` when a side is
    non-integer (a rounded decimal such as 0.3333333 against 1/3)."""
    if pred is None or gold is None:
        return False
    if pred == gold and _CANONICAL.fullmatch(pred):  # fast path: both already canonical
        return True
    a, b = normalize(pred), normalize(gold)
    if a is None or b is None:
        return False
    if a == b:
        return True
    if "/" not in a and "/" not in b and "." not in a and "." not in b:
        return False  # unequal integers: no tolerance, or 1000000 would equal 1000001
    fa, fb = to_fraction(a), to_fraction(b)
    if fa is None or fb is None or fa.denominator == fb.denominator == 1:
        return False
    return math.isclose(float(fa), float(fb), rel_tol=rel_tol, abs_tol=1e-12)


def score_response(response: str, gold: str) -> tuple[Extraction | None, bool]:
    """Extraction and correctness against a raw or bare gold answer."""
    extraction = extract_answer(response)
    if extraction is None:
        return None, False
    return extraction, is_equivalent(extraction.value, parse_gold(gold))
