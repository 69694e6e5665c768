"""Reading numbers and equations out of a response for the gold-path check, in linear time.

Responses write arithmetic as prose ("6 tomatoes/day x 7 days = 42"), as LaTeX
("\\(8 \\times 4 = 32\\)", "\\frac{42}{3}"), or with GSM8K's calculator annotations. The text is
first rewritten to one plain form by fixed-string replacements and bounded regexes, then numbers
are read by C string methods (or, in texts those cannot settle, a regex scan) and ``a op b = c``
equations are found by single regex scans. Every quantifier is bounded and no repetition is
nested inside another unbounded one, so each scan is linear in the text's length (issue 29: the
traces layer once took 39 s on 10k repeats of ``\\frac{``).
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

__all__ = ["Equation", "Expression", "canonical_text", "equations", "key", "keys_of",
           "last_number_start", "number_keys", "number_positions", "number_starts",
           "number_strings", "read_expression", "read_numbers"]

# LaTeX and Unicode forms rewritten to plain arithmetic, applied in this order.
_REPLACE = (
    ("\\times", " * "), ("\\cdot", " * "), ("\\div", " / "), ("\u00d7", " * "), ("\u00f7", " / "),
    ("\u2212", "-"), ("\\left", " "), ("\\right", " "), ("\\$", "$"), ("\\%", "%"), ("\\,", ""),
    ("{,}", ","), ("\\(", " "), ("\\)", " "), ("\\[", " "), ("\\]", " "), ("\\approx", "="),
    ("\\text{", " "), ("\\mathrm{", " "), ("\\textbf{", " "), ("\\mbox{", " "), ("{", " "),
    ("}", " "),
)
# Each rewrite with the backslashed form it needs written (None: no backslash), and one scan
# that finds which of those forms a text writes (at most one starts at any backslash).
_REWRITES = tuple((old, new, old[1:] if old[0] == "\\" else None) for old, new in _REPLACE)
_FORMS = re.compile(r"\\(" + "|".join(re.escape(form) for _, _, form in _REWRITES if form) + ")")
_UNESCAPED = tuple(rewrite for rewrite in _REWRITES if rewrite[2] is None)
_ANNOTATION = re.compile(r"<<[^<>]{0,200}>>")  # GSM8K calculator annotations restate the step
_FRAC = re.compile(r"\\[dt]?frac\{([^{}]{1,40})\}\{([^{}]{1,40})\}")
# A number: digits with thousands commas or without, and decimals. The pattern opens with \d and
# looks behind only after it, so the regex engine can skip to the next digit: a look-behind first
# made the scan 3-4x slower.
_N = r"\d(?<![\d.,]\d)(?>\d{0,2}(?:,\d{3}){1,4}(?!\d)|\d{0,14})(?:\.\d{1,8})?+"
# The same, or a bare decimal (".5"), opening with one character class rather than a choice of
# two patterns (which the engine cannot skip to as fast): what follows the digit is _N's.
_NUMBER = re.compile(
    r"[\d.](?<![\d.,][\d.])(?:(?<=\d)(?>\d{0,2}(?:,\d{3}){1,4}(?!\d)|\d{0,14})(?:\.\d{1,8})?+"
    r"|(?<=\.)\d{1,8})"
)
_ROUNDED = re.compile(r",|\.\d\d\d")  # numbers key() changes: commas, more than 2 decimals
# _NUMBER starts a number only where no digit, "." or "," comes before, so each maximal run of
# those characters holds at most one number, decided by the run alone; a trailing "." or ","
# is never part of it. An ASCII text is read in bulk by C string methods (the regex engine
# costs ~20 ns a character): every other byte becomes a space, a "." or "," before a space is
# dropped, and where every run left is a whole number as _NUMBER reads it, the runs are the
# numbers. Any other text is read by _NUMBER.
_NUMBER_BYTES = bytes(c if chr(c) in "0123456789.," else 32 for c in range(256))
_WHOLE_RUNS = re.compile(
    r" *+(?>(?:\d{1,15}(?:\.\d{1,8})?|\d{1,3}(?:,\d{3}){1,4}(?:\.\d{1,8})?|\.\d{1,8}) ++)*+"
)
# One equation: a number, then 1-16 (operator, number) pairs, each number with up to two unit
# words ("6 tomatoes/day", "$3", "(10"), then "=" and the claimed result. Clock times ("11 PM -
# 8 AM") are not arithmetic on their numbers. Every piece is atomic or possessive (Python 3.11):
# with plain quantifiers the spaces between two terms could be split between them in several
# ways, and a run of terms with no "=" after it backtracked through every split: 12 terms took
# 50 ms, each more doubled it. Now a failed match retries at most the 16 pairs, one at a time.
_UNIT = r"(?>(?: ?(?!times\b|[AaPp]\.?[Mm]\b)[A-Za-z][A-Za-z']{1,14}+(?:/[A-Za-z]{1,12}+)?){0,2})"
_TERM = rf"[($ ]{{0,3}}+{_N}%?+{_UNIT}[ )]{{0,3}}+"
_OP = r" {0,2}+(?:[-+*/]|x(?= {0,2}[\d($])|times)"
# The claimed result ends the expression: "2 * (6 + 1.5) = 2 * 7.5" does not claim 2, nor does
# "= 4 weeks * 500" claim 4, and "10 - 4 = 1.5x" is algebra.
_END = rf"(?!\d|[.,]\d|[A-Za-z(]|{_UNIT} {{0,2}}(?:[-+*/^(]|x {{0,2}}[\d($]))"
_EQUATION = re.compile(
    rf"{_N}%?+{_UNIT}[ )]{{0,3}}+(?>{_OP}{_TERM}){{1,16}}= {{0,2}}+\$? {{0,2}}+(?P<res>{_N}){_END}"
)
_TOKEN = re.compile(
    rf"(?P<num>{_N}|\.\d{{1,8}})(?P<pct>%?)|(?P<op>[-+*/()])|(?<=[\d )]) ?x(?= {{0,2}}[\d($])|times"
)
# The commonest left side, "a op b" ("12 x $3", "5/2"), which _TOKEN reads as a, op, b.
_TWO_TERMS = re.compile(r"(\d{1,15}(?:\.\d{1,8})?) {0,2}(?:([-+*/])|x) {0,2}\$?(\d{1,15}(?:\.\d{1,8})?) *")
Kind = Literal["add", "mul", "mixed"]


def key(value: float) -> float:
    """The value as compared: 2 decimals, as responses round ("33.33" for 100/3)."""
    return round(value, 2)


# Expression and Equation are NamedTuples, immutable like the frozen dataclasses elsewhere but
# built in a tenth of the time: a response's every equation makes one of each.
class Expression(NamedTuple):
    operands: tuple[float, ...]
    ops: str  # its operators, sorted: "*", "+-"
    layout: tuple[float | str, ...]  # operands and operators (brackets too) as written
    kind: Kind  # "add": only + and -, no brackets; "mul": only *, no brackets
    terms: tuple[float, ...]  # sorted keys: signed addends ("add"), factors ("mul"), else operands

    @property
    def python(self) -> str:
        """Plain arithmetic, for reasonkit.arith.evaluate (written only when a rule asks)."""
        depth = self.layout.count("(") - self.layout.count(")")
        body = " ".join(x if isinstance(x, str) else repr(x) for x in self.layout)
        return "(" * max(-depth, 0) + body + ")" * max(depth, 0)


class Equation(NamedTuple):
    text: str  # as written (after the rewrite)
    position: int  # offset of the claimed result in the rewritten text
    start: int  # offset of its first operand
    expression: Expression
    result: float


# tuple.__new__ builds a NamedTuple without its generated __new__, a Python call: in half the
# time.
_new = tuple.__new__


def canonical_text(text: str) -> str:
    """The text with annotations cut, LaTeX and Unicode operators rewritten."""
    if "<<" in text:
        text = _ANNOTATION.sub(" ", text)
    if "\\" in text or "\u00d7" in text or "\u00f7" in text or "\u2212" in text:
        if "frac" in text:
            text = _FRAC.sub(_fraction, text)
        # The rewrites run in order, each over the whole text, but a backslashed form the text
        # does not write is skipped ("\\boxed{3}" writes none), and a form found is rewritten
        # without a search first. A rewrite never writes a form a later one rewrites (what it
        # writes starts with " ", "-", "$", "%", "," or "="; "\\$", "\\%" and "\\," come no later
        # than the rewrites that write "$", "%" and ","), except the one that writes nothing,
        # which joins its neighbours: the forms are then found again.
        written = set(_FORMS.findall(text))
        for old, new, form in _REWRITES if written else _UNESCAPED:
            if form is None or form in written:
                text = text.replace(old, new)
                if not new:
                    written = set(_FORMS.findall(text))
    return text


def _fraction(m: re.Match[str]) -> str:
    return "(" + m[1] + ")/(" + m[2] + ")"  # r"(\1)/(\2)" without re's template expansion


def number_keys(text: str) -> list[float]:
    """The key of every number written, in order."""
    return read_numbers(text)[1]


def number_strings(text: str) -> list[str]:
    """Every number written, as written, in order."""
    return read_numbers(text)[0]


def read_numbers(text: str) -> tuple[list[str], list[float]]:
    """``(number_strings(text), keys_of(number_strings(text)))``."""
    if text.isascii():
        runs = " ".join(text.encode().translate(_NUMBER_BYTES).decode().split()) + " "
        runs = runs.replace(". ", " ").replace(", ", " ")  # see _NUMBER_BYTES
        if "." not in runs and "," not in runs:
            found = runs.split()
            if max(map(len, found), default=0) <= 15:  # whole numbers as _NUMBER reads them
                # int() reads these in half float()'s time, exactly.
                return found, list(map(float, map(int, found)))
        elif _WHOLE_RUNS.fullmatch(runs):
            found = runs.split()
            return found, keys_of(found)
    found = _NUMBER.findall(text)
    return found, keys_of(found)


def keys_of(found: list[str]) -> list[float]:
    """The key of each number string (C-level, except where a number has a thousands comma or
    more than 2 decimals: then in Python, once per distinct string)."""
    if not _ROUNDED.search(" ".join(found)):
        # Without a comma, float() reads it; with at most 2 decimals, key() leaves it as it is.
        return list(map(float, found))
    keys = {s: round(float(s.replace(",", "")), 2) for s in set(found)}  # key(), inlined
    return [keys[s] for s in found]


def number_positions(text: str) -> list[tuple[int, float]]:
    """(offset, key) of every number written, in order."""
    return list(zip(number_starts(text), number_keys(text), strict=True))


def number_starts(text: str) -> list[int]:
    """The offset of every number number_keys reads, in the same order."""
    return [m.start() for m in _NUMBER.finditer(text)]


def last_number_start(text: str, number: str) -> int:
    """The offset of the last number written as ``number`` (one of number_strings), found from
    the end: the number regex matches at an offset only where its scan would start a number
    (its look-behind refuses the inside of one), so the last such match is that number."""
    at = text.rfind(number)
    while at >= 0:
        m = _NUMBER.match(text, at)
        if m is not None and m.group() == number:
            return at
        at = text.rfind(number, 0, at + len(number) - 1)
    raise ValueError(f"{number!r} is not a number of the text")


def read_expression(text: str) -> Expression | None:
    """An arithmetic left side ("6 tomatoes/day x 7 days", "3*3*60"); None without an operator."""
    m = _TWO_TERMS.fullmatch(text)
    if m is not None:  # what the loop below reads from these, without _TOKEN's scan (1.5 us)
        a, op, b = float(m[1]), m[2] or "*", float(m[3])
        if op == "+" or op == "-":
            terms = (round(a, 2), round(-b if op == "-" else b, 2))
            kind: Kind = "add"
        else:
            terms = (round(a, 2), round(b, 2))
            kind = "mul" if op == "*" else "mixed"
        return _new(Expression, ((a, b), op, (a, op, b), kind,
                                 terms if terms[0] <= terms[1] else (terms[1], terms[0])))
    operands: list[float] = []
    signed: list[float] = []
    layout: list[float | str] = []
    ops: set[str] = set()
    sign = 1.0
    brackets = False
    for num, pct, op in _TOKEN.findall(text):  # "x" and "times" read as "*"
        if num:
            value = float(num.replace(",", ""))
            value = value / 100 if pct else value
            operands.append(value)
            signed.append(sign * value)
            layout.append(value)
            sign = 1.0
        else:
            op = op or "*"
            layout.append(op)
            if op == "(" or op == ")":
                brackets = True
            else:
                ops.add(op)
            sign = -1.0 if op == "-" else 1.0
    if not ops or len(operands) < 2:
        return None
    kind = ("add" if ops <= {"+", "-"} and not brackets
            else "mul" if ops == {"*"} and not brackets else "mixed")
    return _new(Expression, (tuple(operands), "".join(sorted(ops)), tuple(layout), kind,
                             tuple(sorted([round(v, 2) for v in (signed if kind == "add" else operands)]))))


def equations(text: str, limit: int, until: int | None = None) -> list[Equation]:
    """The first ``limit`` readable ``a op b = c`` equations of the text, in order, claiming
    their result at or before offset ``until`` when given.

    Only lines holding "=" are scanned (an equation never spans lines), each found from an "="
    in it, so text without arithmetic costs a search, not a regex scan. A line is scanned in
    place (``endpos`` ends it for the look-aheads; the look-behinds see the newline before it,
    which no pattern's look-behind refuses, as at the start of a string).
    """
    out: list[Equation] = []
    equals = text.find("=")
    while equals >= 0:
        start = text.rfind("\n", 0, equals) + 1
        if until is not None and start > until:
            return out
        end = text.find("\n", equals)
        end = len(text) if end < 0 else end
        for m in _EQUATION.finditer(text, start, end):
            first, claim = m.start(), m.start(1)  # group 1: "res"
            expression = read_expression(text[first : text.rfind("=", first, claim)])
            if expression is None:
                continue
            if until is not None and claim > until:  # the later ones claim later
                return out
            out.append(_new(Equation, (m[0], claim, first, expression,
                                       float(m[1].replace(",", "")))))
            if len(out) >= limit:
                return out
        equals = text.find("=", end)
    return out
