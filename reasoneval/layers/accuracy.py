"""The accuracy layer: original prompts, k samples each, scored by reasonkit.answers.

``accuracy`` is the first sample's correctness per item with a Wilson interval over items (with
greedy decoding every sample is that one). With k > 1 it adds ``pass@1`` (mean over all samples),
``pass@k`` and ``maj@k``, each with a percentile bootstrap interval over items, since samples of
one item are not independent.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import ClassVar

from reasoneval.layers.base import GenRequest, LayerResult, Metric, MetricName, RunContext
from reasoneval.records import ORIGINAL, Problem, ScoredSample
from reasonkit.prompting import FewShotExample, build_prompt

N_BOOT = 2000
# pass@k and maj@k only when k > 1 (--samples), k in their names.
METRICS = (
    MetricName("accuracy"), MetricName("missing_answer_rate"), MetricName("truncation_rate"),
    MetricName("format_rate"), MetricName("strict_accuracy"),
    MetricName("pass@{}", key_pattern=r"\d+"), MetricName("maj@{}", key_pattern=r"\d+"),
)


def _bootstrap_ci(
    values: Sequence[float], *, seed: int, n_boot: int = N_BOOT
) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of a mean over items."""
    if not values:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(n_boot))
    return means[int(0.025 * (n_boot - 1))], means[int(0.975 * (n_boot - 1))]


def _wilson_metric(k: int, n: int, *, higher_is_better: bool = True) -> Metric:
    from reasoneval.stats import wilson_interval

    lo, hi = wilson_interval(k, n) if n else (0.0, 0.0)
    return Metric(k / n if n else 0.0, lo, hi, higher_is_better=higher_is_better, n=n)


def _item_metric(per_item: Sequence[float], seed: int) -> Metric:
    lo, hi = _bootstrap_ci(per_item, seed=seed)
    return Metric(sum(per_item) / len(per_item), lo, hi, n=len(per_item))


class AccuracyLayer:
    name: ClassVar[str] = "accuracy"
    metrics: ClassVar[tuple[MetricName, ...]] = METRICS

    def __init__(self, few_shot: Sequence[FewShotExample] = ()) -> None:
        self.few_shot = tuple(few_shot)

    def requests(self, problems: Sequence[Problem], ctx: RunContext) -> list[GenRequest]:
        return [
            GenRequest(
                p.id,
                ORIGINAL,
                ctx.renderer(p) if ctx.renderer is not None
                else build_prompt(p.question, tokenizer=ctx.tokenizer, few_shot=self.few_shot),
                p.gold,
            )
            for p in problems
        ]

    def evaluate(
        self, problems: Sequence[Problem], samples: Sequence[ScoredSample], ctx: RunContext
    ) -> LayerResult:
        from reasoneval.stats import maj_at_k, pass_at_k

        by_item: dict[str, list[ScoredSample]] = defaultdict(list)
        for s in samples:
            if s.generation.variant == ORIGINAL:
                by_item[s.generation.id].append(s)
        groups = [
            sorted(by_item[p.id], key=lambda s: s.generation.sample_index)
            for p in problems
            if by_item.get(p.id)
        ]
        originals = [s for g in groups for s in g]
        firsts = [g[0] for g in groups]
        metrics = {
            "accuracy": _wilson_metric(sum(s.correct for s in firsts), len(firsts)),
            "missing_answer_rate": _wilson_metric(
                sum(s.extracted is None for s in originals), len(originals), higher_is_better=False
            ),
            "truncation_rate": _wilson_metric(
                sum(s.generation.completion.finish_reason == "length" for s in originals),
                len(originals),
                higher_is_better=False,
            ),
        }
        # Format vs correctness: an answer in the line the prompt asked for, against any answer the
        # extractor finds (the demo's '#### n' column, per style).
        in_format = [s.marker == ctx.answer_marker for s in firsts]
        right_in_format = sum(s.correct and f for s, f in zip(firsts, in_format, strict=True))
        metrics["format_rate"] = _wilson_metric(sum(in_format), len(firsts))
        metrics["strict_accuracy"] = _wilson_metric(right_in_format, len(firsts))
        k = ctx.samples
        if k > 1 and groups:
            per_item: dict[str, Callable[[list[ScoredSample]], float]] = {
                "pass@1": lambda g: sum(s.correct for s in g) / len(g),
                f"pass@{k}": lambda g: float(pass_at_k(len(g), sum(s.correct for s in g), k)),
                f"maj@{k}": lambda g: float(maj_at_k([s.extracted for s in g], g[0].gold)),
            }
            for name, fn in per_item.items():
                metrics[name] = _item_metric([fn(g) for g in groups], ctx.seed)
        strategies = Counter(s.strategy or "none" for s in originals)
        lengths = {
            "correct": [s.generation.completion.completion_tokens for s in originals if s.correct],
            "incorrect": [
                s.generation.completion.completion_tokens for s in originals if not s.correct
            ],
        }
        details = {
            "n_items": len(groups),
            "samples_per_item": k,
            "strategies": dict(sorted(strategies.items())),
            "format": {
                "answer_marker": ctx.answer_marker,
                "in_format": sum(in_format),
                "correct_in_format": right_in_format,
                "correct_other_form": sum(s.correct for s in firsts) - right_in_format,
            },
            "mean_completion_tokens": {
                key: (sum(v) / len(v) if v else None) for key, v in lengths.items()
            },
        }
        return LayerResult(self.name, metrics, details, html=_html(metrics, strategies, lengths))


def _html(
    metrics: dict[str, Metric], strategies: Counter[str], lengths: dict[str, list[int]]
) -> str:
    from reasoneval.report import svg_bar_chart, svg_histogram, svg_interval_chart

    shown = [(name, m.value, m.lo, m.hi) for name, m in metrics.items()]
    return (
        svg_interval_chart(shown, title="Accuracy and rates (95% interval)")
        + svg_histogram(lengths, title="Response length by correctness", xlabel="completion tokens")
        + svg_bar_chart(sorted(strategies.items()), title="Answer extraction strategy")
    )
