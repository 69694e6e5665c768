"""The traces layer: why answers are wrong, read from the responses accuracy already has.

No extra generation. Each original sample gets a ``trace`` (flags and one error type, see
trace_checks); the layer reports the rate of each error type with Wilson intervals, failure
clusters by problem feature, and how informative the flags are: the wrong-answer rate among
flagged vs unflagged samples, and the AUROC of the flag count for predicting a wrong answer
beside response length, the baseline the flags have to beat.

``python -m reasoneval.layers.traces DIR`` runs every check on GSM8K's gold solutions (DIR
holds train.jsonl/test.jsonl) and prints each flag's false-alarm rate.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from reasoneval.layers.base import GenRequest, LayerResult, Metric, MetricName, RunContext
from reasoneval.layers.failures import FAILURE_METRICS, FailureRow, failure_metrics, failure_summary
from reasoneval.layers.features import problem_features
from reasoneval.layers.measures import auroc, auroc_gain_ci, wilson_metric
from reasoneval.layers.trace_checks import (
    ERROR_FLAG,
    FLAGS,
    PRECEDENCE,
    Trace,
    TracesConfig,
    trace_sample,
)
from reasoneval.layers.traces_html import traces_html
from reasoneval.records import ORIGINAL, Problem, ScoredSample
from reasonkit.jsonl import read_objects

__all__ = ["Trace", "TracesConfig", "TracesLayer", "trace_sample", "traces_for_rows"]

N_BOOT = 1000
_ANNOTATION = re.compile(r"<<[^<>]{0,200}>>")
# What summarize writes. A type or flag whose check is not applicable is left out; the AUROCs
# need both right and wrong samples.
METRICS = (
    MetricName("error_rate.{}", PRECEDENCE), MetricName("clean_rate"),
    MetricName("flag_rate.{}", FLAGS), MetricName("auroc.flag.{}", FLAGS),
    MetricName("explained"), MetricName("auroc.flags"), MetricName("auroc.length"),
    MetricName("auroc.gain"), *FAILURE_METRICS,
)


@dataclass(frozen=True, slots=True)
class _Row:
    id: str
    correct: bool
    length: int  # completion tokens, or characters when the backend gave no count
    trace: Trace
    sample_index: int = 0
    extracted: str | None = None
    response: str = ""  # kept for the failure clusters' examples


@dataclass(frozen=True, slots=True)
class TracesLayer:
    name: ClassVar[str] = "traces"
    metrics: ClassVar[tuple[MetricName, ...]] = METRICS
    # Named for the registry: a LayerOptions field of the same name is passed through.
    traces_config: TracesConfig = field(default_factory=TracesConfig)
    n_boot: int = N_BOOT

    def requests(self, problems: Sequence[Problem], ctx: RunContext) -> list[GenRequest]:
        return []  # reads the accuracy layer's original samples

    def evaluate(
        self, problems: Sequence[Problem], samples: Sequence[ScoredSample], ctx: RunContext
    ) -> LayerResult:
        by_id = {p.id: p for p in problems}
        rows, per_sample = [], {}
        for s in samples:
            g = s.generation
            if g.variant != ORIGINAL:
                continue
            p = by_id.get(g.id)
            trace = trace_sample(
                g.completion.text, g.completion.finish_reason, s.extracted,
                p.solution if p else None, question=p.question if p else None, config=self.traces_config,
                gold=p.gold if p else None,
            )
            length = g.completion.completion_tokens or len(g.completion.text)
            rows.append(_Row(g.id, s.correct, length, trace, g.sample_index, s.extracted,
                             g.completion.text))
            per_sample[(g.id, g.variant, g.sample_index)] = {"trace": asdict(trace)}
        return summarize(rows, by_id, per_sample, seed=ctx.seed, n_boot=self.n_boot,
                         not_applicable=not_applicable(self.traces_config, problems))


def traces_for_rows(
    rows: Sequence[Mapping[str, Any]], problems: Sequence[Problem] = (), *,
    config: TracesConfig | None = None, seed: int = 0, n_boot: int = N_BOOT,
) -> LayerResult:
    """The traces layer over saved samples.jsonl rows (``reasoneval score FILE``).

    Reads ``id``, ``response``, ``finish_reason``, ``extracted``, ``correct`` and, when present,
    ``variant``, ``sample_index``, ``completion_tokens``; ``problems`` supply questions and gold
    solutions where known. Rows of other variants are left to the sensitivity layer.
    """
    config = config or TracesConfig()
    by_id = {p.id: p for p in problems}
    out, per_sample = [], {}
    for row in rows:
        variant = str(row.get("variant") or ORIGINAL)
        if variant != ORIGINAL:
            continue
        p = by_id.get(str(row["id"]))
        response = str(row["response"])
        extracted = row.get("extracted")
        trace = trace_sample(
            response, str(row.get("finish_reason") or "stop"),
            None if extracted is None else str(extracted), p.solution if p else None,
            question=p.question if p else None, config=config, gold=p.gold if p else None,
        )
        length = int(row.get("completion_tokens") or 0) or len(response)
        index = int(row.get("sample_index") or 0)
        out.append(_Row(str(row["id"]), bool(row["correct"]), length, trace, index,
                        None if extracted is None else str(extracted), response))
        per_sample[(str(row["id"]), variant, index)] = {"trace": asdict(trace)}
    return summarize(out, by_id, per_sample, seed=seed, n_boot=n_boot,
                     not_applicable=not_applicable(config, problems))


def not_applicable(config: TracesConfig, problems: Sequence[Problem]) -> dict[str, str]:
    """Flags that cannot be judged on this run, with the reason the report shows."""
    out = {}
    if not config.think:
        out["tags_malformed"] = "the prompt did not open <think> (reasoneval score --think)"
    if not any(p.question for p in problems):
        out["ungrounded"] = "no question text (reasoneval score --question-field)"
    if not any(p.solution and "<<" in p.solution for p in problems):
        out["off_gold_path"] = ("no gold solution with <<a*b=c>> step annotations "
                                "(reasoneval score --solution-field)")
    return out


def summarize(
    rows: Sequence[_Row], problems: Mapping[str, Problem],
    per_sample: Mapping[tuple[str, str, int], Mapping[str, Any]], *, seed: int, n_boot: int,
    not_applicable: Mapping[str, str] | None = None,
) -> LayerResult:
    n = len(rows)
    types = Counter(r.trace.error_type for r in rows)
    skipped = dict(not_applicable or {})
    metrics: dict[str, Metric] = {
        f"error_rate.{t}": wilson_metric(types[t], n, higher_is_better=False)
        for t in PRECEDENCE if ERROR_FLAG[t] not in skipped
    }
    metrics["clean_rate"] = wilson_metric(types["none"], n, higher_is_better=True)
    wrong = [not r.correct for r in rows]
    flag_auroc: dict[str, float | None] = {}
    for flag in FLAGS:
        if flag in skipped:
            continue
        on = [r.trace.flags()[flag] for r in rows]
        metrics[f"flag_rate.{flag}"] = wilson_metric(sum(on), n, higher_is_better=False)
        area = flag_auroc[flag] = auroc([float(x) for x in on], wrong)
        if area is not None:
            metrics[f"auroc.flag.{flag}"] = Metric(area, n=n)
    # "Explained": the share of wrong answers that carry at least one flag.
    n_wrong = sum(wrong)
    explained = sum(any(r.trace.flags().values()) for r in rows if not r.correct)
    metrics["explained"] = wilson_metric(explained, n_wrong, higher_is_better=True)
    informativeness = _informativeness(rows)
    flag_score = [float(sum(r.trace.flags().values())) for r in rows]
    length_score = [float(r.length) for r in rows]
    auc_flags, auc_length = auroc(flag_score, wrong), auroc(length_score, wrong)
    auc: dict[str, Any] = {"flags": auc_flags, "length": auc_length, "gain_ci": None}
    if auc_flags is not None and auc_length is not None:
        ci = auroc_gain_ci(flag_score, length_score, wrong, [r.id for r in rows],
                           seed=seed, n_boot=n_boot)
        auc["gain_ci"] = ci
        metrics["auroc.flags"] = Metric(auc_flags, n=n)
        metrics["auroc.length"] = Metric(auc_length, n=n, higher_is_better=None)  # a reference
        lo, hi = ci or (None, None)
        metrics["auroc.gain"] = Metric(auc_flags - auc_length, lo, hi, n=n)
    else:
        auc["note"] = "undefined: every sample is right, or every sample is wrong"
    features = {pid: problem_features(problems.get(pid)) for pid in {r.id for r in rows}}
    failures = failure_summary(
        [FailureRow(r.id, r.sample_index, r.correct, r.trace.failure, r.trace.failure_evidence,
                    r.extracted, r.response) for r in rows], features)
    if failures is not None:
        metrics.update(failure_metrics(failures))
    details = {
        "n_samples": n,
        "n_items": len({r.id for r in rows}),
        "precedence": list(PRECEDENCE),
        "error_types": {t: types[t] for t in (*PRECEDENCE, "none")},
        "informativeness": informativeness,
        "auroc": auc,
        "flag_auroc": flag_auroc,
        "explained": {"wrong": n_wrong, "flagged": explained},
        "not_applicable": skipped,
        "clusters": _clusters(rows, features),
        "failures": failures,
    }
    return LayerResult("traces", metrics, details, per_sample, traces_html(metrics, details))


def _informativeness(rows: Sequence[_Row]) -> dict[str, dict[str, Any]]:
    out = {}
    for flag in (*FLAGS, "any_flag"):
        def flagged(r: _Row, flag: str = flag) -> bool:
            f = r.trace.flags()
            return any(f.values()) if flag == "any_flag" else f[flag]
        on = [r for r in rows if flagged(r)]
        off = [r for r in rows if not flagged(r)]
        out[flag] = {
            "flagged": len(on), "flagged_wrong": sum(not r.correct for r in on),
            "unflagged": len(off), "unflagged_wrong": sum(not r.correct for r in off),
            "wrong_rate_flagged": _rate(on), "wrong_rate_unflagged": _rate(off),
        }
    return out


def _rate(rows: Sequence[_Row]) -> float | None:
    return sum(not r.correct for r in rows) / len(rows) if rows else None


def _clusters(
    rows: Sequence[_Row], features: Mapping[str, Mapping[str, list[str]]]
) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[_Row]] = defaultdict(list)
    for r in rows:
        for feature, buckets in features[r.id].items():
            for bucket in buckets:
                groups[(feature, bucket)].append(r)
    out = []
    for (feature, bucket), members in sorted(groups.items()):
        m = wilson_metric(sum(not r.correct for r in members), len(members), higher_is_better=False)
        out.append({
            "feature": feature, "bucket": bucket, "n": len(members), "wrong_rate": m.value,
            "lo": m.lo, "hi": m.hi,
            "error_types": dict(Counter(r.trace.error_type for r in members).most_common()),
        })
    return out


def gold_calibration(rows: Sequence[Mapping[str, str]]) -> dict[str, int]:
    """How often each flag fires on GSM8K gold solutions written as a well-formed response."""
    from reasonkit.answers import parse_gold

    counts: Counter[str] = Counter()
    for row in rows:
        reasoning, _, answer = row["answer"].rpartition("####")
        response = f"{reasoning.strip()}\n</think>\n#### {answer.strip()}"
        trace = trace_sample(response, "stop", parse_gold(row["answer"]), row["answer"],
                             question=row["question"])
        counts.update(f for f, on in trace.flags().items() if on and f != "ungrounded")
        # Grounding is measured with the <<a*b=c>> annotations cut out, as a model writes: an
        # annotation restates its inline step and would make every operand look grounded.
        bare = _ANNOTATION.sub("", response)
        counts["ungrounded"] += trace_sample(bare, "stop", parse_gold(row["answer"]), None,
                                             question=row["question"]).ungrounded
    return {"solutions": len(rows), **{f: counts[f] for f in FLAGS}}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    directory = Path(args[0] if args else "../shared/data/gsm8k")
    for split in ("train", "test"):
        path = directory / f"{split}.jsonl"
        if not path.is_file():
            print(f"{path} not found (pass the GSM8K directory)", file=sys.stderr)
            return 2
        result = gold_calibration(read_objects(path))
        n = result.pop("solutions")
        rates = ", ".join(f"{f} {k}/{n} ({k / n:.2%})" for f, k in result.items())
        print(f"{split}: {rates}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
