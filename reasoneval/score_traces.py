"""The traces layer over saved generations (`reasoneval score --layers accuracy,traces`): each
scored row gains its ``trace`` object, and the layer's figures come back as JSON and as text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from reasoneval.records import in_variant
from reasoneval.scoring import MAX_RESPONSE_CHARS, ScoreOptions

__all__ = ["traces_over_rows", "traces_text"]


def traces_over_rows(scored: list[dict[str, Any]], options: ScoreOptions) -> dict[str, Any]:
    """Run the traces layer over scored rows; each row gains its ``trace`` object in place."""
    from reasoneval.layers.traces import TracesConfig, traces_for_rows
    from reasoneval.records import Problem
    from reasonkit.answers import parse_gold as gold_of
    from reasonkit.prompting import THINK_OPEN

    rows, problems, kept = [], [], []
    for index, row in enumerate(scored):
        if row["correct"] is None:
            continue  # unscorable: no gold to judge the trace against
        if options.variant != "all" and not in_variant(row, options.variant):
            continue  # as the accuracy: only the counted rows
        if len(str(row[options.response_field] or "")) > MAX_RESPONSE_CHARS:
            continue  # not read by any layer (MAX_RESPONSE_CHARS)
        item_id = str(row.get("id", index))
        question = str(row.get(options.question_field) or "") if options.question_field else ""
        gold_text = str(row[options.gold_field])
        # A raw GSM8K answer doubles as the gold solution the step-count and gold-path checks
        # compare with, unless --solution-field names one.
        solution = (str(row.get(options.solution_field) or "") or None if options.solution_field
                    else gold_text if "####" in gold_text else None)
        problems.append(Problem(id=item_id, question=question, gold=gold_of(gold_text) or "",
                                solution=solution))
        kept.append(row)
        # Saved outputs may carry the opening <think> that a primed prompt would have held.
        response = str(row[options.response_field] or "").lstrip().removeprefix(THINK_OPEN)
        rows.append({"id": item_id, "response": response,
                     "finish_reason": row.get(options.finish_field) or "stop",
                     "extracted": row["extracted"], "correct": row["correct"],
                     "sample_index": index})
    config = TracesConfig(think=options.think)
    result = traces_for_rows(rows, problems, config=config, seed=options.seed)
    for row, trace_row in zip(kept, rows, strict=True):
        row.update(result.per_sample[(trace_row["id"], "original", trace_row["sample_index"])])
    out = {name: asdict(metric) for name, metric in result.metrics.items()}
    out["not_applicable"] = result.details["not_applicable"]
    return out


def traces_text(traces: Mapping[str, Any]) -> str:
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
