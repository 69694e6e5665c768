"""`reasoneval score`: rescore saved generations from a JSONL file, without a model."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reasoneval.records import ORIGINAL, in_variant
from reasoneval.stats import wilson_interval
from reasonkit.answers import PercentMode, parse_gold, score_response
from reasonkit.artifacts import check_out_file, read_jsonl, write_jsonl_atomic
from reasonkit.errors import InputError, seed_int

__all__ = ["MAX_RESPONSE_CHARS", "ScoreSummary", "score_rows"]

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="JSONL of saved generations")
    parser.add_argument("--response-field", required=True, help="field holding the model output")
    parser.add_argument("--gold-field", required=True, help="raw GSM8K answer or bare value")
    parser.add_argument("--id-field", help="field copied to 'id' for `reasoneval compare`")
    parser.add_argument("--out", type=Path, required=True, help="scored JSONL to write")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--layers",
        default="accuracy",
        help="comma-separated: accuracy (always) and traces; traces reads no model either",
    )
    parser.add_argument("--finish-field", default="finish_reason", help="stop/length per row")
    parser.add_argument("--seed", type=seed_int, default=0, help="seed for the traces bootstrap")
    parser.add_argument(
        "--think", action="store_true",
        help="the responses continue a prompt that opened <think> (as `reasoneval run` primes): "
        "a response without </think> has no answer, and traces checks the tags",
    )
    parser.add_argument("--question-field", help="question text per row, for the traces checks")
    parser.add_argument(
        "--solution-field",
        help="gold solution per row in GSM8K layout (<<a*b=c>> step annotations), for the traces "
        "gold-path check; by default a --gold-field value holding '####' is used as the solution",
    )
    parser.add_argument(
        "--percent", choices=("number", "fraction", "either"), default="number",
        help="how '33.5%%' compares with a gold: as 33.5 (GSM8K's convention), as 0.335, or either",
    )
    parser.add_argument(
        "--variant", default=ORIGINAL,
        help="count the rows of this prompt variant or family (default original: a run's "
        "sensitivity variants are left out, as in `compare`), or all",
    )
    parser.add_argument(
        "--strict", action="store_true",
        help="exit 2 on a gold with no numeric answer (default: that row is unscorable)",
    )


SCORE_LAYERS = ("accuracy", "traces")  # the layers that need no generation


def _parse_score_layers(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in SCORE_LAYERS]
    if unknown:
        raise InputError(f"--layers: {', '.join(unknown)} cannot run on saved generations "
                         f"(choose from {', '.join(SCORE_LAYERS)})")
    return names


def _traces(scored: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """Run the traces layer over scored rows; each row gains its ``trace`` object in place."""
    from reasoneval.layers.traces import TracesConfig, traces_for_rows
    from reasoneval.records import Problem
    from reasonkit.answers import parse_gold as gold_of
    from reasonkit.prompting import THINK_OPEN

    rows, problems, kept = [], [], []
    for index, row in enumerate(scored):
        if row["correct"] is None:
            continue  # unscorable: no gold to judge the trace against
        if args.variant != "all" and not in_variant(row, args.variant):
            continue  # as the accuracy: only the counted rows
        if len(str(row[args.response_field] or "")) > MAX_RESPONSE_CHARS:
            continue  # not read by any layer (MAX_RESPONSE_CHARS)
        item_id = str(row.get("id", index))
        question = str(row.get(args.question_field) or "") if args.question_field else ""
        gold_text = str(row[args.gold_field])
        # A raw GSM8K answer doubles as the gold solution the step-count and gold-path checks
        # compare with, unless --solution-field names one.
        solution = (str(row.get(args.solution_field) or "") or None if args.solution_field
                    else gold_text if "####" in gold_text else None)
        problems.append(Problem(id=item_id, question=question, gold=gold_of(gold_text) or "",
                                solution=solution))
        kept.append(row)
        # Saved outputs may carry the opening <think> that a primed prompt would have held.
        response = str(row[args.response_field] or "").lstrip().removeprefix(THINK_OPEN)
        rows.append({"id": item_id, "response": response,
                     "finish_reason": row.get(args.finish_field) or "stop",
                     "extracted": row["extracted"], "correct": row["correct"],
                     "sample_index": index})
    config = TracesConfig(think=args.think)
    result = traces_for_rows(rows, problems, config=config, seed=args.seed)
    for row, trace_row in zip(kept, rows, strict=True):
        row.update(result.per_sample[(trace_row["id"], "original", trace_row["sample_index"])])
    out = {name: asdict(metric) for name, metric in result.metrics.items()}
    out["not_applicable"] = result.details["not_applicable"]
    return out


def run(args: argparse.Namespace) -> int:
    layers = _parse_score_layers(args.layers)
    check_out_file(args.out)
    rows = read_jsonl(args.file)
    for option, name in (("--question-field", args.question_field),
                         ("--solution-field", args.solution_field)):
        if name and rows and name not in rows[0]:
            raise InputError(f"row 1: missing field {name!r} ({option})")
    scored, summary = score_rows(
        rows, response_field=args.response_field, gold_field=args.gold_field,
        id_field=args.id_field, think=args.think, percent=args.percent, strict_gold=args.strict,
        variant=args.variant,
    )
    traces = _traces(scored, args) if "traces" in layers else None
    write_jsonl_atomic(args.out, scored)
    if args.json:
        payload: dict[str, Any] = asdict(summary)
        if traces is not None:
            payload["traces"] = traces
        print(json.dumps(payload, indent=2))
        return 0
    print(summary.text())
    if traces is not None:
        print(_traces_text(traces))
    return 0


def _traces_text(traces: Mapping[str, Any]) -> str:
    rates = {k: v["value"] for k, v in traces.items() if k.startswith("error_rate.")}
    lines = ["traces: " + ", ".join(f"{k.removeprefix('error_rate.')} {100 * v:.1f}%"
                                    for k, v in sorted(rates.items()))]
    lines += [f"traces: {flag} not applicable: {why}"
              for flag, why in traces["not_applicable"].items()]
    explained = traces["explained"]
    flag_auc = {k.removeprefix("auroc.flag."): v["value"] for k, v in traces.items()
                if k.startswith("auroc.flag.")}
    length = traces.get("auroc.length", {}).get("value")
    lines.append(
        f"explained: {100 * explained['value']:.1f}% of {explained['n']} wrong answers carry a flag; "
        "AUROC for a wrong answer: " + ", ".join(f"{f} {v:.3f}" for f, v in flag_auc.items())
        + (f"; response length (baseline) {length:.3f}" if length is not None else "")
    )
    if "failure_explained" in traces:  # the gold-path check ran (docs/layers.md)
        typed, alarms = traces["failure_explained"], traces["failure_false_alarms"]
        lines.append(f"gold path: {100 * typed['value']:.1f}% of {typed['n']} wrong answers get a "
                     f"failure type; {100 * alarms['value']:.1f}% of {alarms['n']} right ones do")
    return "\n".join(lines)
