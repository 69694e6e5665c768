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

from reasonkit._lastnumber import _last_number, _rewritten_tail
from reasonkit._markers import _find_markers
from reasonkit._numbers import (
    _CANONICAL,
    _NUMERAL,
    _box_content,
    _canonical,
    _clean,
    _lead_value,
    _numeral_value,
    _plain_value,
    normalize,
    to_fraction,
)
from reasonkit._textforms import rewrite_numbers
from reasonkit.prompting import STOP_STRINGS, THINK_CLOSE, THINK_OPEN

__all__ = [
    "Extraction",
    "PercentMode",
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
    percent: bool = False  # written as a percentage ("33.5%"); see PercentMode


# How "33.5%" compares with a gold. GSM8K states percentages as the number of percent ("What
# percent ...? #### 25"), so "number" is the default; sources disagree (docs/answers.md).
PercentMode = Literal["number", "fraction", "either"]


_SEGMENT = 200  # characters read after a marker
_MAX_MARKERS = 16  # markers tried from the end before falling back to the last number

_RAW_TRIM = " \t\r\n*:_"
_SENTENCE_END = re.compile(r"(?<!\\)[.!?](?:[ \t\n]|$)|[\n\u3002\uff01\uff1f]")  # and CJK full stops
_UNREAD_TAIL = re.compile(r"[eE][-+]?[0-9]|/[ \t]{0,2}[0-9]")
# The answer was written as a percentage: "%", "\%", "percent" right after its first numeral.
_PERCENT_AFTER = re.compile(r"[^0-9]{0,40}?[0-9][0-9,.]{0,60}[ \t]{0,2}(?:\\?%|per[ \t]?cent)")


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
    if _UNREAD_TAIL.match(rest):
        return None  # a numeral the reader could not take whole: "5e999", "1/" + 41 digits
    value = _canonical(number)
    return (value, segment.strip(_RAW_TRIM)) if value is not None else None


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


def _extract(text: str, flexible: bool) -> Extraction | None:
    for _, name, start in _find_markers(text)[:_MAX_MARKERS]:
        found = _marker_segment(text, name, start)
        if found is None:
            continue
        segment, clean = rewrite_numbers(found[0]), found[1]
        parsed = _segment_value(segment, clean=clean)
        if parsed is None and name in ("boxed", "answer_tag", "final_answer"):
            # Prose with one numeral: "\boxed{\text{Janet makes } 18}", "Final answer: She has 18."
            cut = _SENTENCE_END.search(segment) if name == "final_answer" else None
            parsed = _only_number(segment[: cut.start()] if cut else segment)
        if parsed is not None:
            raw = parsed[1]
            percent = ("%" in raw or "cent" in raw) and _PERCENT_AFTER.match(raw) is not None
            return Extraction(parsed[0], parsed[1], "strict", name, percent)
    if not flexible:
        return None
    last = _last_number(_rewritten_tail(text))
    if last is None:
        return None
    return Extraction(last[0], last[1], "flexible", "last_number", last[1].endswith("%"))


def _answer_region(text: str, think: bool) -> str:
    """The part of a response that may hold its answer: never the inside of a think block.

    After the last ``</think>`` when there is one; otherwise the text before an unclosed
    ``<think>``. With ``think`` (the prompt opened the block), a response without ``</think>`` is
    all thinking and has no answer region.
    """
    close = text.rfind(THINK_CLOSE)
    if close >= 0:
        text = text[close + len(THINK_CLOSE) :]
    elif think:
        return ""
    opened = text.find(THINK_OPEN)
    return text[:opened] if opened >= 0 else text


def extract_answer(text: str, *, flexible: bool = True, think: bool = False) -> Extraction | None:
    """The answer a response commits to: the last strict marker with a value, else the last number.

    Text after an end-of-turn token is not part of the response, and neither is thinking: an
    answer that appears only inside ``<think>…</think>`` (closed or not) is a draft, so the response
    has no answer. Pass ``think=True`` when the prompt itself opened ``<think>`` (``reasoneval run``,
    GRPO): a response that never writes ``</think>`` is then all thinking.
    """
    if not text:
        return None
    for stop in STOP_STRINGS:
        cut = text.find(stop)
        if cut >= 0:
            text = text[:cut]
    if "think>" in text or think:
        text = _answer_region(text, think)
    return _extract(text, flexible) if text else None


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


def score_response(
    response: str, gold: str, *, think: bool = False, percent: PercentMode = "number"
) -> tuple[Extraction | None, bool]:
    """Extraction and correctness against a raw or bare gold answer.

    ``percent``: "number" (GSM8K's convention, the default) reads "33.5%" as 33.5; "fraction" reads
    it as 0.335 (and a gold "33.5%" likewise); "either" accepts both readings of the response.
    """
    extraction = extract_answer(response, think=think)
    if extraction is None:
        return None, False
    target = parse_gold(gold)
    value = extraction.value
    if percent != "number" and extraction.percent:
        as_fraction = _canonical(Fraction(value) / 100)
        if percent == "either" and is_equivalent(value, target):
            return extraction, True
        value = as_fraction or value
    if percent == "fraction" and target is not None and _PERCENT_AFTER.match(gold.rpartition("####")[2]):
        target = _canonical(Fraction(target) / 100)
    return extraction, is_equivalent(value, target)
