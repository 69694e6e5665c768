"""Re-verify the arithmetic written in a solution: ``a op b = c`` chains and ``<<expr=value>>``.

Text is untrusted, so expressions go through reasonkit.arith's ast-walking evaluator (numbers and
+ - * / ** only, size-limited), never ``eval``. Prose arithmetic is messy ("7 stickers/page * 6
pages", "20% of 50", "$100-$94", "287 x 4 = 1,148"), so the reader is deliberately conservative:
an equation is checked only when its left side is a complete expression with at least one
operator; anything it cannot read is skipped, not flagged. The tolerances (rounded results,
whole-number results of a division, "%" read either as /100 or as a plain number) were set so
that the real GSM8K gold solutions almost never raise a false alarm: run
``python -m reasoneval.layers.traces DIR`` for the figure (docs/layers.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from reasonkit.arith import UnsafeExpression, evaluate

_TOKEN = re.compile(
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?|\.\d+%?)"
    r"|(?P<op>\*\*|[-+*/^\u00d7\u00f7\u2212])"  # \u00d7 times, \u00f7 divide, \u2212 minus
    # "5 x 3" and "5x3" multiply; "11x + 15" is algebra, so x must sit between numbers.
    r"|(?P<times>(?<=[\d)\s])[xX](?=\s*[\d($.]))"
    r"|(?P<lp>\()|(?P<rp>\))|(?P<eq>=)|(?P<money>\$)"
    r"|(?P<word>[A-Za-z][A-Za-z'\u2019]*)"
    r"|(?P<space>[ \t]+)"
    r"|(?P<other>.|\n)"
)
_ANNOTATION = re.compile(r"<<([^<>]{1,200})>>")
_OP_TEXT = {"\u00d7": "*", "\u00f7": "/", "^": "**", "\u2212": "-", "x": "*", "X": "*"}
MAX_UNIT_WORDS = 2  # "stickers", "gallons each"; longer word runs read as prose
MAX_TOKENS = 60  # a longer run of numbers and operators is prose, not one calculation


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Equation:
    text: str  # as written, for the report
    value: float  # the value the writer claims (right-hand side)
    ok: bool
    source: Literal["annotation", "inline"]
    position: int  # character offset, so equations can be put in reading order


def _tokens(text: str) -> list[_Tok]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind == "space":
            continue
        if kind == "times":
            kind = "op"
        out.append(_Tok(kind, m.group(), m.start(), m.end()))
    return out


def _number(t: _Tok, percent_as_fraction: bool) -> str:
    number = t.text.replace(",", "")
    if number.endswith("%"):
        return f"({number[:-1]}/100)" if percent_as_fraction else number[:-1]
    return number


def _glued_fraction(toks: Sequence[_Tok], k: int) -> bool:
    """toks[k:k+3] is a fraction written without spaces, like "1/3"."""
    if k + 2 >= len(toks):
        return False
    a, slash, b = toks[k], toks[k + 1], toks[k + 2]
    return (
        a.kind == "num" and slash.text == "/" and b.kind == "num"
        and a.end == slash.start and slash.end == b.start
    )


def _expr_text(toks: Sequence[_Tok], percent_as_fraction: bool) -> str:
    parts, k = [], 0
    while k < len(toks):
        t = toks[k]
        # "25 / 1/3" means 25 divided by a third: a fraction written without spaces is one number.
        if _glued_fraction(toks, k):
            parts.append(f"({_number(t, percent_as_fraction)}/"
                         f"{_number(toks[k + 2], percent_as_fraction)})")
            k += 3
            continue
        if t.kind == "num":
            parts.append(_number(t, percent_as_fraction))
        elif t.kind == "op":
            parts.append(_OP_TEXT.get(t.text, t.text))
        elif t.kind in ("lp", "rp"):
            parts.append(t.text)
        k += 1
    return " ".join(parts)


def _values(toks: Sequence[_Tok]) -> list[Fraction]:
    """Every reading of the expression ('%' as /100 and as a plain number); [] if unreadable."""
    readings = (True, False) if any(t.text.endswith("%") for t in toks) else (True,)
    out = []
    for pct in readings:
        try:
            out.append(evaluate(_expr_text(toks, pct)))
        except (UnsafeExpression, ZeroDivisionError, ValueError, OverflowError):
            continue
    return out


def _decimals(toks: Sequence[_Tok]) -> int:
    last = next((t.text for t in reversed(toks) if t.kind == "num"), "")
    digits = last.rstrip("%")
    return len(digits.split(".", 1)[1]) if "." in digits else 0


def _agrees(lhs: Fraction, rhs: Fraction, decimals: int, *, divides: bool) -> bool:
    if lhs == rhs or abs(lhs - rhs) <= abs(rhs) * Fraction(1, 10**6):
        return True
    if lhs.denominator != 1:  # the writer rounded: "10/3 = 3.33", "2/3 = 66.7%"
        scale = abs(rhs) if rhs else Fraction(1)
        step = Fraction(1, 10**decimals)
        # A written result may be rounded or truncated to its last shown digit.
        if abs(lhs - rhs) <= step or abs(lhs - rhs) <= scale * step / 100:
            return True
        # Whole results of a division: "how many full boxes" floors, "how many trips" ceils.
        if divides and decimals == 0 and rhs.denominator == 1 and abs(lhs - rhs) < 1:
            return True
    return False


def _equation_ok(lhs: Sequence[_Tok], rhs: Sequence[_Tok]) -> bool | None:
    """True/False when both sides read as numbers; None (unchecked) otherwise."""
    lhs_values, rhs_values = _values(lhs), _values(rhs)
    if not lhs_values or not rhs_values:
        return None
    divides = any(t.kind == "op" and t.text in "/\u00f7" for t in lhs)
    if any(t.kind == "op" for t in rhs) and rhs[0].kind == "num":
        # A running chain "2 * 3 = 6 + 1 = 7" is sloppy notation, not a wrong calculation:
        # the left side must equal the right side's leading number.
        rhs_values = rhs_values + _values(rhs[:1])
    # With a "%" on either side any consistent reading counts: "100% - 20% = 80%", "0.2 = 20%".
    # Percent and cents switch units by exactly 100 mid-equation: "1 / 2 = 50", "$2.50 - $2.24
    # = 26"; accepting that reading costs little, since an error off by exactly 100x is rare.
    scaled = [v * f for v in lhs_values for f in (1, 100, Fraction(1, 100))]
    return any(_agrees(a, b, _decimals(rhs), divides=divides) for a in scaled for b in rhs_values)


def _well_formed(toks: Sequence[_Tok]) -> bool:
    if not toks or len(toks) > MAX_TOKENS or toks[-1].kind == "op":
        return False
    depth = 0
    for t in toks:
        depth += (t.kind == "lp") - (t.kind == "rp")
        if depth < 0:
            return False
    if depth != 0:
        return False
    first = toks[0]
    # A leading operator means the walk stopped at a word ("6 pages * 3"): incomplete, skip it;
    # a minus glued to its number ("-5 + 2") is a sign.
    return first.kind != "op" or (
        first.text in "-\u2212" and len(toks) > 1 and toks[1].start == first.end
    )


def _left_side(toks: Sequence[_Tok], eq: int) -> list[_Tok]:
    """Walk back from the '=' over numbers, operators, parentheses, '$' and trailing unit words.

    Returns [] when the left side is not plain arithmetic: a letter glued to a number is an
    algebra variable ("11x", "2S"), a token glued to the start is part of something else
    ("12:00", "P-10"), and a stop at "NUM word" may be a compound quantity ("1 hour 30 minutes").
    """
    i = eq - 1
    picked: list[_Tok] = []
    while i >= 0:
        t = toks[i]
        if t.kind in ("num", "op", "lp", "rp"):
            picked.append(t)
            i -= 1
        elif t.kind == "money":
            i -= 1
        elif t.kind == "word":
            j = i
            while j >= 0 and toks[j].kind == "word":
                j -= 1
            follows_number = j >= 0 and toks[j].kind == "num"
            if follows_number and toks[j].end == toks[j + 1].start:
                return []
            # Unit words ride after a number and before an operator or '=': "3 stickers + 42".
            # Longer runs or single letters are prose or algebra: "1/3 gives b =", "of Solomon".
            run = toks[j + 1 : i + 1]
            is_unit = len(run) <= MAX_UNIT_WORDS and all(len(w.text) > 1 for w in run)
            if not (follows_number and is_unit and toks[i + 1].kind in ("op", "eq")):
                if follows_number and picked:
                    return []
                break
            i = j
        else:
            break
    picked.reverse()
    if picked and i >= 0 and toks[i].end == picked[0].start and toks[i].text not in "\n([{":
        return []
    return picked


def _right_side(toks: Sequence[_Tok], eq: int) -> list[_Tok]:
    picked: list[_Tok] = []
    # Indexing, not toks[eq + 1:]: a slice per "=" copied the rest of the text's tokens, which
    # was quadratic on a response of many "=" (issue 29). The walk stops at the next "=".
    for k in range(eq + 1, len(toks)):
        t = toks[k]
        if t.kind in ("num", "op", "lp", "rp"):
            picked.append(t)
        elif t.kind != "money":
            break
    while picked and picked[-1].kind in ("op", "lp"):
        picked.pop()
    # Keep only a balanced prefix: "= 15 (for 3 days)" compares 15.
    depth, cut = 0, len(picked)
    for k, t in enumerate(picked):
        depth += (t.kind == "lp") - (t.kind == "rp")
        if depth < 0:
            cut = k
            break
    return picked[:cut]


def _inline(text: str, offset_map: Sequence[int]) -> Iterator[Equation]:
    toks = _tokens(text)
    for k, t in enumerate(toks):
        if t.kind != "eq":
            continue
        lhs, rhs = _left_side(toks, k), _right_side(toks, k)
        if not any(x.kind == "op" for x in lhs) or not _well_formed(lhs) or not _well_formed(rhs):
            continue
        ok = _equation_ok(lhs, rhs)
        if ok is None:
            continue
        claimed = _values(rhs)[0]
        yield Equation(text[lhs[0].start : rhs[-1].end], float(claimed), ok, "inline",
                       offset_map[t.start])


def check_arithmetic(text: str) -> list[Equation]:
    """Every checkable equation in ``text``, in reading order, each marked ok or not."""
    found: list[Equation] = []
    for m in _ANNOTATION.finditer(text):
        expr, sep, claimed = m.group(1).rpartition("=")
        lhs, rhs = _tokens(expr), _tokens(claimed)
        if not sep or not _well_formed(lhs) or not _well_formed(rhs):
            continue
        ok = _equation_ok(lhs, rhs)
        if ok is not None:
            found.append(Equation(m.group(), float(_values(rhs)[0]), ok, "annotation", m.start()))
    # Prose equations are read with the annotations cut out ("= <<2*7=14>>14" -> "= 14"),
    # keeping a map back to the original offsets for ordering.
    prose: list[str] = []
    offsets: list[int] = []
    last = 0
    for m in _ANNOTATION.finditer(text):
        prose.append(text[last : m.start()])
        offsets.extend(range(last, m.start()))
        last = m.end()
    prose.append(text[last:])
    offsets.extend(range(last, len(text) + 1))
    found.extend(_inline("".join(prose), offsets))
    return sorted(found, key=lambda e: e.position)


def gold_false_alarms(rows: Sequence[dict[str, str]]) -> tuple[int, int, int, int]:
    """(solutions flagged, solutions, equations flagged, equations) over GSM8K-layout rows."""
    flagged_solutions = n_equations = flagged_equations = 0
    for row in rows:
        equations = check_arithmetic(row["answer"].rpartition("####")[0])
        bad = sum(not e.ok for e in equations)
        flagged_solutions += bad > 0
        flagged_equations += bad
        n_equations += len(equations)
    return flagged_solutions, len(rows), flagged_equations, n_equations
