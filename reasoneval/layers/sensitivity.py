"""The sensitivity layer: does the answer survive asking the same question differently?

It asks for one sample per (problem, variant) (reasoneval.variants) and compares each with the
accuracy layer's original sample 0 of the same problem, so every comparison is paired. Reported:
accuracy per variant; per family the performance drop rate PDR = 1 - acc(variant)/acc(original),
the flip rate and 2x2 table with an exact McNemar p; ProSA's per-item PSS with the most fragile
items; HELM's worst-case accuracy; and the max-min spread across variants beside a noise-only
null, because sampling noise alone spreads 100-item accuracies by 10-20 points.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from reasoneval.layers.base import GenRequest, LayerResult, Metric, MetricName, RunContext
from reasoneval.layers.measures import (
    bootstrap_ratio_ci,
    prompt_sensitivity_score,
    spread_null,
    wilson_metric,
)
from reasoneval.layers.sections import heading, html_table, natural_key, paragraph, shorten
from reasoneval.records import ORIGINAL, Problem, ScoredSample
from reasoneval.stats import mcnemar_exact
from reasoneval.variants import (
    FAMILIES,
    REPORTED_FAMILY,
    VARIANT_NAME,
    ExternalVariant,
    VariantConfig,
    family_of,
    load_gsm_plus,
    make_variants,
)
from reasonkit.errors import InputError
from reasonkit.prompting import FewShotExample

# PDR divides by the original prompt's correct pairs. Below 5, one item moves it by 20 points or
# more, and a near-zero accuracy gave values like -1.0 [-3.0, 0.0] (issue 16): undefined instead.
MIN_ORIGINAL_CORRECT = 5
QUESTION_CHARS = 200  # of each fragile item's question, in details and on the page
# What analyze writes; pdr.<family> only where the original is right on MIN_ORIGINAL_CORRECT
# pairs, and the spreads only with two or more prompts asked of every item.
METRICS = (
    MetricName("accuracy.{}", key_pattern=f"{ORIGINAL}|{VARIANT_NAME}"),
    MetricName("pdr.{}", key_pattern=REPORTED_FAMILY),
    MetricName("flip_rate.{}", key_pattern=REPORTED_FAMILY),
    MetricName("pss"), MetricName("worst_case_accuracy"), MetricName("spread"),
    MetricName("spread_null_p95"), MetricName("spread_excess"),
)


@dataclass(frozen=True)
class SensitivityConfig:
    families: tuple[str, ...] = FAMILIES  # --sensitivity-families
    max_per_family: int = 4
    max_per_item: int = 24  # --sensitivity-max-variants: caps generation cost per problem
    external_files: tuple[Path, ...] = ()  # GSM-Plus-layout JSONL
    numeric_variants: Callable[[Problem, int, int], list[tuple[str, str]]] | None = None
    n_boot: int = 1000
    top_fragile: int = 10


@dataclass(frozen=True)
class SensitivityLayer:
    name: ClassVar[str] = "sensitivity"
    metrics: ClassVar[tuple[MetricName, ...]] = METRICS
    # Named for the registry: LayerOptions fields of the same names are passed through.
    sensitivity_config: SensitivityConfig = field(default_factory=SensitivityConfig)
    few_shot: Sequence[FewShotExample] = ()  # the original prompt's shots (accuracy's)

    def _external(self, problems: Sequence[Problem]) -> tuple[dict[str, list[ExternalVariant]],
                                                               list[str]]:
        external: dict[str, list[ExternalVariant]] = {}
        skipped: list[str] = []
        if "external" in self.sensitivity_config.families:
            for path in self.sensitivity_config.external_files:
                found, rejected = load_gsm_plus(path, problems)
                for pid, rows in found.items():
                    external.setdefault(pid, []).extend(rows)
                skipped.extend(rejected)
        return external, skipped

    def requests(self, problems: Sequence[Problem], ctx: RunContext) -> list[GenRequest]:
        c = self.sensitivity_config
        cfg = VariantConfig(c.families, c.max_per_family, c.max_per_item, ctx.seed,
                            tuple(self.few_shot), c.numeric_variants, self._external(problems)[0])
        styled = ctx.renderer is not None and getattr(ctx.renderer, "style", "think") != "think"
        # Under another prompt style only question-level families run (prompt_styles.check_style),
        # each variant's question rendered in that style.
        return [GenRequest(p.id, v.name, ctx.renderer(p, v.question) if styled and ctx.renderer
                           else v.prompt(ctx.tokenizer), v.gold)
                for p in problems for v in make_variants(p, cfg)]

    def evaluate(
        self, problems: Sequence[Problem], samples: Sequence[ScoredSample], ctx: RunContext
    ) -> LayerResult:
        original: dict[str, bool] = {}
        variants: dict[str, dict[str, bool]] = defaultdict(dict)  # variant -> id -> correct
        per_sample: dict[tuple[str, str, int], dict[str, Any]] = {}
        for s in samples:
            g = s.generation
            if g.sample_index != 0:
                continue  # variants get one sample; compare with the original's first
            if g.variant == ORIGINAL:
                original[g.id] = s.correct
            else:
                variants[g.variant][g.id] = s.correct
                per_sample[(g.id, g.variant, 0)] = {"sensitivity": {"family": family_of(g.variant)}}
        if not original:
            raise InputError("the sensitivity layer needs the original samples (accuracy layer)")
        result = analyze(original, variants, seed=ctx.seed, n_boot=self.sensitivity_config.n_boot,
                         top_fragile=self.sensitivity_config.top_fragile,
                         questions={p.id: p.question for p in problems})
        # Rows of GSM-Plus files that could not be used are reported, not dropped silently.
        details = dict(result.details, skipped_external_rows=self._external(problems)[1])
        return replace(result, details=details, per_sample=per_sample)


def analyze(
    original: dict[str, bool], variants: dict[str, dict[str, bool]], *, seed: int, n_boot: int,
    top_fragile: int = 10, questions: dict[str, str] | None = None,
) -> LayerResult:
    """Metrics from paired correctness: original[id] and variants[variant][id]."""
    questions = questions or {}
    variants = {v: {i: c for i, c in by_id.items() if i in original} for v, by_id in variants.items()}
    metrics: dict[str, Metric] = {
        "accuracy.original": wilson_metric(sum(original.values()), len(original),
                                           higher_is_better=True)}
    per_variant = {}
    for v, by_id in sorted(variants.items()):
        metrics[f"accuracy.{v}"] = wilson_metric(sum(by_id.values()), len(by_id),
                                                 higher_is_better=True)
        per_variant[v] = _paired(original, {v: by_id})
    families: dict[str, dict[str, dict[str, bool]]] = defaultdict(dict)
    for v, by_id in variants.items():
        families[family_of(v)][v] = by_id
    family_rows = {}
    for fam, members in sorted(families.items()):
        row = _paired(original, members)
        # One McNemar test per variant; the family's p is their Bonferroni-adjusted minimum,
        # since pooled (item, variant) pairs of one item are not independent.
        p_values = [per_variant[v]["mcnemar_p"] for v in members]
        row["mcnemar_p"] = min(1.0, len(p_values) * min(p_values))
        lo_hi = _pdr_ci(original, members, seed=seed, n_boot=n_boot)
        if row["pdr"] is not None:
            lo, hi = lo_hi or (None, None)
            metrics[f"pdr.{fam}"] = Metric(row["pdr"], lo, hi, higher_is_better=False,
                                           n=row["items"])
        metrics[f"flip_rate.{fam}"] = wilson_metric(row["b"] + row["c"], row["pairs"],
                                                    higher_is_better=False)
        family_rows[fam] = row
    items = sorted(original)
    scores = {i: [float(original[i])] + [float(by_id[i]) for by_id in variants.values()
                                         if i in by_id] for i in items}
    pss = {i: prompt_sensitivity_score(s) for i, s in scores.items()}
    rng = np.random.default_rng(seed)
    pss_values = np.array([pss[i] for i in items])
    boot = pss_values[rng.integers(0, len(items), (n_boot, len(items)))].mean(axis=1)
    metrics["pss"] = Metric(float(pss_values.mean()), float(np.percentile(boot, 2.5)),
                            float(np.percentile(boot, 97.5)), higher_is_better=False,
                            n=len(items))
    worst = sum(min(s) for s in scores.values())
    metrics["worst_case_accuracy"] = wilson_metric(int(worst), len(items), higher_is_better=True)
    spread = _spread(original, variants, seed=seed, n_boot=n_boot)
    if spread["variants"] > 1:
        metrics["spread"] = Metric(spread["spread"], higher_is_better=False, n=len(items))
        metrics["spread_null_p95"] = Metric(spread["null_p95"], higher_is_better=None)  # noise
        metrics["spread_excess"] = Metric(spread["spread"] - spread["null_p95"],
                                          higher_is_better=False)
    fragile = sorted(items, key=lambda i: (-pss[i], natural_key(i)))[:top_fragile]
    details = {
        "n_items": len(items),
        "variants": {v: {"family": family_of(v), **row} for v, row in per_variant.items()},
        "families": family_rows,
        "spread": spread,
        "fragile_items": [
            {"id": i, "pss": pss[i], "original_correct": original[i],
             "variants_correct": int(sum(scores[i][1:])), "variants": len(scores[i]) - 1,
             "question": shorten(questions.get(i, ""), QUESTION_CHARS)}
            for i in fragile if pss[i] > 0
        ],
    }
    return LayerResult("sensitivity", metrics, details, html=_html(metrics, details))


def _paired(original: dict[str, bool], members: dict[str, dict[str, bool]]) -> dict[str, Any]:
    """Pooled 2x2 over (item, variant) pairs: a both right, b original only, c variant only."""
    a = b = c = d = 0
    for by_id in members.values():
        for i, var in by_id.items():
            orig = original[i]
            a += orig and var
            b += orig and not var
            c += var and not orig
            d += not orig and not var
    pairs = a + b + c + d
    orig_acc, var_acc = (a + b) / pairs if pairs else 0.0, (a + c) / pairs if pairs else 0.0
    return {
        "a": a, "b": b, "c": c, "d": d, "pairs": pairs,
        "items": len({i for by_id in members.values() for i in by_id}),
        "accuracy_original": orig_acc, "accuracy_variant": var_acc,
        "pdr": 1 - var_acc / orig_acc if a + b >= MIN_ORIGINAL_CORRECT else None,
        "flip_rate": (b + c) / pairs if pairs else 0.0,
        "mcnemar_p": mcnemar_exact(b, c),
    }


def _pdr_ci(original: dict[str, bool], members: dict[str, dict[str, bool]], *, seed: int,
            n_boot: int) -> tuple[float, float] | None:
    ids = sorted({i for by_id in members.values() for i in by_id})
    var_sum = [sum(by_id[i] for by_id in members.values() if i in by_id) for i in ids]
    orig_sum = [original[i] * sum(i in by_id for by_id in members.values()) for i in ids]
    return bootstrap_ratio_ci(var_sum, orig_sum, seed=seed, n_boot=n_boot)


def _spread(original: dict[str, bool], variants: dict[str, dict[str, bool]], *, seed: int,
            n_boot: int) -> dict[str, Any]:
    # Only variants asked of every item compare on equal footing (numeric and GSM-Plus
    # variants cover a subset), so the spread is taken over those plus the original.
    full = [v for v, by_id in sorted(variants.items()) if len(by_id) == len(original)]
    accs = {ORIGINAL: sum(original.values()) / len(original)}
    accs.update({v: sum(variants[v].values()) / len(original) for v in full})
    observed = max(accs.values()) - min(accs.values())
    null = spread_null([original[i] for i in sorted(original)], len(accs), seed=seed,
                       n_boot=n_boot)
    return {
        "variants": len(accs), "spread": observed,
        "best": max(accs, key=accs.__getitem__), "worst": min(accs, key=accs.__getitem__),
        "null_p95": float(np.percentile(null, 95)), "null_median": float(np.median(null)),
        "p_value": float((null >= observed).mean()),
        "beyond_noise": bool(observed > np.percentile(null, 95)),
        # Right on none or all items: every resample has that accuracy, so the null is 0 and
        # any difference looks "beyond noise". The page says the spread is not judged then.
        "null_degenerate": accs[ORIGINAL] in (0.0, 1.0),
    }


def _pdr_text(row: dict[str, Any]) -> str:
    if row["pdr"] is None:
        return f"undefined (original right on {row['a'] + row['b']} < {MIN_ORIGINAL_CORRECT})"
    return f"{row['pdr']:.3f}"


def _html(metrics: dict[str, Metric], details: dict[str, Any]) -> str:
    from reasoneval.report import svg_interval_chart
    from reasoneval.variant_labels import describe_family, describe_variant

    accs = [(describe_variant(name.removeprefix("accuracy.")), m.value, m.lo, m.hi)
            for name, m in metrics.items() if name.startswith("accuracy.")]
    sp = details["spread"]
    verdict = ("beyond" if sp["beyond_noise"] else "within")
    judged = (f"so the spread is {verdict} sampling noise (p = {sp['p_value']:.3f})"
              if not sp.get("null_degenerate") else
              "but the original prompt is right on none or all of the items, so that null is "
              "degenerate and the spread is not judged")
    return "".join([
        heading("Prompt sensitivity"),
        svg_interval_chart(accs, title="Accuracy per variant (95% Wilson interval)"),
        html_table(["family", "what changes", "items", "pairs", "PDR", "flip rate", "both right",
                    "original only", "variant only", "both wrong", "McNemar p (Bonferroni)"],
                   [(f, describe_family(f), r["items"], r["pairs"], _pdr_text(r), r["flip_rate"],
                     r["a"], r["b"], r["c"], r["d"], r["mcnemar_p"])
                    for f, r in details["families"].items()],
                   caption="Per family, paired with the original prompt. PDR = 1 - "
                           "acc(variant) / acc(original), the relative accuracy drop"),
        html_table(["variant", "id in report.json", "accuracy", "flip rate"],
                   [(describe_variant(v), v, r["accuracy_variant"], r["flip_rate"])
                    for v, r in sorted(details["variants"].items(),
                                       key=lambda kv: natural_key(kv[0]))],
                   caption="Variants"),
        paragraph(f"Max-min accuracy spread over {sp['variants']} prompts asked of every item: "
                  f"{sp['spread']:.3f} ({describe_variant(sp['best'])} vs "
                  f"{describe_variant(sp['worst'])}); a noise-only null of as "
                  f"many bootstrap pseudo-variants has 95th percentile {sp['null_p95']:.3f}, "
                  f"{judged}."),
        paragraph(f"ProSA PSS (mean over items; 0 = every prompt agrees): "
                  f"{metrics['pss'].value:.3f}. HELM worst-case accuracy: "
                  f"{metrics['worst_case_accuracy'].value:.3f}."),
        html_table(["id", "PSS", "original right", "variants right", "question"],
                   [(r["id"], r["pss"], r["original_correct"],
                     f"{r['variants_correct']}/{r['variants']}", r["question"])
                    for r in details["fragile_items"]],
                   caption="Most fragile items"),
    ])
