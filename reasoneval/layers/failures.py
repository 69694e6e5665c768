"""Failure clusters from the gold-path check, and the failure mix of an evaluation directory.

The traces layer gives each response whose gold solution annotates its steps one failure type
(gold_path.py). Here they are counted: by type and by problem feature (gold steps, operations),
each with its share of the wrong answers and a few example responses, for report.json and
report.html. :func:`failure_mix` reads the same summary back from a run's report.json, so the
pipeline summary and the studies can say what each training stage changed (answer lines or
reasoning).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasoneval.layers.base import Metric, MetricName
from reasoneval.layers.gold_path import FAILURE_TYPES
from reasoneval.layers.measures import wilson_metric

__all__ = ["FAILURE_METRICS", "HAND_CHECKED", "FailureRow", "failure_metrics", "failure_mix", "failure_summary"]

TYPES = (*FAILURE_TYPES, "unexplained")  # how a wrong answer can be typed
EXAMPLES = 3  # responses shown per failure type
EXAMPLE_CHARS = 800  # each clipped: responses are untrusted and can be megabytes
# How often each type matched a blind hand label on public GSM8K response sets (hits, typed):
# sample held-out-2, labeller c (d gives the same), benchmarks/labels/ and docs/layers.md,
# "Precision, by hand labels". A report shows it beside its counts: a type is a lead, not a fact.
HAND_CHECKED: dict[str, tuple[int, int]] = {
    "arithmetic": (11, 12), "missing_step": (12, 18), "wrong_operation": (8, 12),
    "answer_line": (7, 12), "extra_step": (6, 12), "foreign_quantity": (6, 12),
}
# What failure_metrics writes (the traces layer reports them when some gold is step-annotated).
FAILURE_METRICS = (MetricName("failure_rate.{}", TYPES), MetricName("failure_explained"),
                   MetricName("failure_false_alarms"))


@dataclass(frozen=True, slots=True)
class FailureRow:
    id: str
    sample_index: int
    correct: bool
    failure: str | None  # None: no gold path for this problem
    evidence: str
    extracted: str | None
    response: str


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def failure_summary(
    rows: Sequence[FailureRow], features: Mapping[str, Mapping[str, Sequence[str]]]
) -> dict[str, Any] | None:
    """Counts and shares of each failure type among the wrong answers, overall and by problem
    feature, with example responses. None when no problem had a step-annotated gold solution."""
    applicable = [r for r in rows if r.failure is not None]
    if not applicable:
        return None
    wrong = [r for r in applicable if not r.correct]
    right = len(applicable) - len(wrong)
    types = Counter(r.failure for r in wrong)
    by_bucket: dict[tuple[str, str], list[FailureRow]] = defaultdict(list)
    for r in wrong:
        for feature, buckets in features.get(r.id, {}).items():
            for bucket in buckets:
                by_bucket[(feature, bucket)].append(r)
    examples: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(wrong, key=lambda r: (r.id, r.sample_index)):
        shown = examples.setdefault(str(r.failure), [])
        if len(shown) < EXAMPLES:
            text = r.response if len(r.response) <= EXAMPLE_CHARS else (
                r.response[:EXAMPLE_CHARS] + f"… [{len(r.response) - EXAMPLE_CHARS} more characters]")
            shown.append({"id": r.id, "sample_index": r.sample_index, "extracted": r.extracted,
                          "evidence": r.evidence, "response": text})
    return {
        "applicable": len(applicable),
        "wrong": len(wrong),
        "explained": sum(types[t] for t in FAILURE_TYPES),
        "right": right,
        "false_alarms": sum(r.failure in FAILURE_TYPES for r in applicable if r.correct),
        "types": {t: {"count": types[t], "share_of_wrong": _share(types[t], len(wrong))}
                  for t in TYPES},
        "by_feature": [
            {"feature": feature, "bucket": bucket, "wrong": len(members),
             "types": {t: c for t in TYPES if (c := sum(m.failure == t for m in members))}}
            for (feature, bucket), members in sorted(by_bucket.items())
        ],
        "examples": {t: examples[t] for t in TYPES if t in examples},
    }


def failure_metrics(failures: Mapping[str, Any]) -> dict[str, Metric]:
    """Gateable figures of the gold-path check: each failure type's rate among the samples it
    could judge, the share of wrong answers it types, and its false alarms on right ones."""
    n = failures["applicable"]
    out = {f"failure_rate.{t}": wilson_metric(v["count"], n, higher_is_better=False)
           for t, v in failures["types"].items()}
    out["failure_explained"] = wilson_metric(failures["explained"], failures["wrong"],
                                             higher_is_better=True)
    out["failure_false_alarms"] = wilson_metric(failures["false_alarms"], failures["right"],
                                                higher_is_better=False)
    return out


def failure_mix(eval_dir: str | Path) -> dict[str, float | None] | None:
    """The share of wrong answers of each failure type in a ``reasoneval run`` directory (read
    from its report.json), plus ``explained``; None when the run had no traces layer or no
    step-annotated gold. For a before/after table of training stages."""
    from reasoneval.report_record import read_report

    traces = read_report(Path(eval_dir)).layer("traces")
    summary = traces.details.get("failures") if traces is not None else None
    if not summary:
        return None
    mix: dict[str, float | None] = {t: v["share_of_wrong"] for t, v in summary["types"].items()}
    mix["explained"] = _share(summary["explained"], summary["wrong"])
    return mix
