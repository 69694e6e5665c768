"""Scoring saved generations without a model: each row's answer read and judged, and the summary
(`reasoneval score` is its command line, reasoneval/score.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reasoneval.records import ORIGINAL, in_variant
from reasoneval.stats import wilson_interval
from reasonkit.answers import PercentMode, parse_gold, score_response
from reasonkit.errors import InputError

__all__ = ["MAX_RESPONSE_CHARS", "SCORE_LAYERS", "ScoreOptions", "ScoreSummary", "score_rows"]

# What one saved response may cost. Qwen3's longest recommended output budget is 38,912 tokens
# (its model card), about 160,000 characters at ~4 a token; 250,000 leaves room, and a 50 MB
# response line no longer costs minutes (issue 29). A longer response is not read: it counts as
# no answer (a model that wrote that much did not answer), with its reason in `too_long`.
MAX_RESPONSE_CHARS = 250_000


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    n: int
    correct: int
    accuracy: float
    ci_low: float  # 95% Wilson interval
    ci_high: float
    invalid: int  # responses with no extractable answer
    invalid_rate: float
    strict: int  # answers found by an explicit final-answer marker
    flexible: int  # answers found only as the last number
    unscorable: int = 0  # rows whose gold has no numeric answer: kept, not counted in n
    too_long: int = 0  # responses over MAX_RESPONSE_CHARS: counted as no answer, not read
    variant: str = ORIGINAL  # the prompt variant (or family) counted; "all" counts every row
    other_variants: int = 0  # rows of other variants: scored in the output, not counted here
    variants_seen: bool = False  # the file names prompt variants (a `reasoneval run`'s samples)

    def scope(self) -> str:
        """What the figures count, when the file holds more than one kind of prompt."""
        if self.other_variants:
            return (f"counted: the {self.n} {self.variant!r}-prompt rows; {self.other_variants} "
                    "rows of other prompt variants are scored in --out but not counted here "
                    "(--variant all counts every row)")
        if self.variant == "all" and self.variants_seen:
            return f"counted: all {self.n} rows, prompt variants included (--variant all)"
        return ""

    def text(self) -> str:
        skipped = (f"\nunscorable rows {self.unscorable} (gold has no numeric answer; "
                   "see each row's 'unscorable')" if self.unscorable else "")
        scope = f"{self.scope()}\n" if self.scope() else ""
        if self.too_long:
            skipped += (f"\nresponses over {MAX_RESPONSE_CHARS:,} characters {self.too_long} "
                        "(not read, counted as no answer; see each row's 'too_long')")
        return (
            f"{scope}accuracy {100 * self.accuracy:.2f}% ({self.correct}/{self.n}), "
            f"95% Wilson CI [{100 * self.ci_low:.2f}, {100 * self.ci_high:.2f}]\n"
            f"invalid answers {100 * self.invalid_rate:.2f}% ({self.invalid}/{self.n}); "
            f"extracted by marker {self.strict}, by last number {self.flexible}{skipped}"
        )


def _field(row: Mapping[str, Any], name: str, index: int, *, nullable: bool = False) -> str:
    if name not in row:
        raise InputError(f"row {index}: missing field {name!r}")
    value = row[name]
    if value is None and nullable:
        return ""  # a failed generation: scored as an invalid answer, not dropped
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(f"row {index}: field {name!r} must be a string or number")
    return str(value)


def score_rows(
    rows: Sequence[Mapping[str, Any]],
    *,
    response_field: str,
    gold_field: str,
    id_field: str | None = None,
    think: bool = False,
    percent: PercentMode = "number",
    strict_gold: bool = False,
    variant: str = ORIGINAL,
) -> tuple[list[dict[str, Any]], ScoreSummary]:
    """Each row plus ``extracted``, ``strategy`` and ``correct``; and the summary over the rows of
    ``variant``.

    A run's samples.jsonl holds the sensitivity layer's prompt variants beside the originals;
    counting them all gave 68.67% for a model whose run reported 89.6% (issue 26). So only rows
    of ``variant`` (reasoneval.records.in_variant; "all": every row) count, as in `compare`;
    every row is still scored and written.

    With ``id_field`` the row also gets ``id`` (its value as a string), which `compare` matches on.
    A row whose gold has no numeric answer is kept with ``correct: null`` and its reason in
    ``unscorable``, and left out of the accuracy; ``strict_gold`` makes it an input error instead.
    ``think``: the responses continue a prompt that opened ``<think>`` (see extract_answer).
    """
    scored: list[dict[str, Any]] = []
    correct = invalid = strict = unscorable = too_long = others = 0
    for index, row in enumerate(rows, 1):
        counted = variant == "all" or in_variant(row, variant)
        others += not counted
        response = _field(row, response_field, index, nullable=True)
        gold_text = _field(row, gold_field, index)
        gold = parse_gold(gold_text)
        if gold is None:
            reason = f"gold {gold_text[-60:]!r} has no numeric answer"
            if strict_gold:
                raise InputError(f"row {index}: {reason}")
            scored.append({**row, "extracted": None, "strategy": None, "correct": None,
                           "unscorable": reason})
            unscorable += counted
            continue
        out = dict(row)
        if id_field is not None:
            item_id = _field(row, id_field, index)
            if "id" in row and str(row["id"]) != item_id:
                raise InputError(f"row {index}: has an 'id' that differs from {id_field!r}")
            out["id"] = item_id
        if len(response) > MAX_RESPONSE_CHARS:
            out.update(extracted=None, strategy=None, correct=False, too_long=(
                f"response of {len(response):,} characters is over the {MAX_RESPONSE_CHARS:,} cap"))
            scored.append(out)
            invalid += counted
            too_long += counted
            continue
        extraction, is_correct = score_response(response, gold_text, think=think, percent=percent)
        out["extracted"] = extraction.value if extraction else None
        out["strategy"] = extraction.strategy if extraction else None
        out["correct"] = is_correct
        scored.append(out)
        if counted:
            correct += is_correct
            invalid += extraction is None
            strict += extraction is not None and extraction.strategy == "strict"
    n = len(scored) - others - unscorable
    if n == 0:
        if others:
            raise InputError(f"no {variant!r} rows among {len(scored)} (--variant names a prompt "
                             "variant or family, or all)")
        raise InputError("no rows to score" if not unscorable else
                         f"no scorable rows: each of the {unscorable} golds has no numeric answer")
    lo, hi = wilson_interval(correct, n)
    summary = ScoreSummary(
        n=n,
        correct=correct,
        accuracy=correct / n,
        ci_low=lo,
        ci_high=hi,
        invalid=invalid,
        invalid_rate=invalid / n,
        strict=strict,
        flexible=n - invalid - strict,
        unscorable=unscorable,
        too_long=too_long,
        variant=variant,
        other_variants=others,
        variants_seen=any("variant" in row for row in rows),
    )
    return scored, summary


SCORE_LAYERS = ("accuracy", "traces")  # the layers that need no generation


@dataclass(frozen=True, slots=True)
class ScoreOptions:
    """How saved rows are read and scored: `reasoneval score`'s options, or the API's arguments."""

    response_field: str
    gold_field: str
    id_field: str | None = None
    think: bool = False  # the responses continue a prompt that opened <think>
    percent: PercentMode = "number"
    strict_gold: bool = False  # a gold with no numeric answer is an input error, not unscorable
    variant: str = ORIGINAL  # the prompt variant (or family, or "all") the summary counts
    layers: tuple[str, ...] = ("accuracy",)
    finish_field: str = "finish_reason"
    seed: int = 0  # the traces bootstrap's
    question_field: str | None = None
    solution_field: str | None = None
