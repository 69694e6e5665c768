"""The traces layer's section of the HTML report: error rates, flags, AUROC, clusters."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from reasoneval.layers.base import Metric
from reasoneval.layers.failures import HAND_CHECKED
from reasoneval.layers.sections import heading, html_table, paragraph
from reasoneval.layers.trace_checks import PRECEDENCE


def traces_html(metrics: Mapping[str, Metric], details: Mapping[str, Any]) -> str:
    from reasoneval.report import svg_interval_chart

    rates = [(f"error: {t}", metrics[f"error_rate.{t}"].value, metrics[f"error_rate.{t}"].lo,
              metrics[f"error_rate.{t}"].hi) for t in PRECEDENCE if f"error_rate.{t}" in metrics]
    flag_auc = details["flag_auroc"]
    explained = details["explained"]
    skipped = "; ".join(f"{f}: not applicable, {why}" for f, why in details["not_applicable"].items())
    info = details["informativeness"]
    auc = details["auroc"]
    parts = [
        heading("Reasoning traces"),
        paragraph(f"{details['n_samples']} original samples; one error type each, by precedence "
                  + " > ".join(PRECEDENCE) + "."),
        svg_interval_chart(rates, title="Error type rates (95% Wilson interval)"),
        html_table(["flag", "flagged", "wrong when flagged", "unflagged", "wrong when unflagged",
                    "AUROC (wrong answer)"],
                   [(f, v["flagged"], v["wrong_rate_flagged"], v["unflagged"],
                     v["wrong_rate_unflagged"], _fmt(flag_auc.get(f))) for f, v in info.items()
                    if f not in details["not_applicable"]],
                   caption="How informative each flag is"),
        paragraph(f"Explained: {explained['flagged']} of {explained['wrong']} wrong answers "
                  f"carry at least one flag. {skipped}"),
        paragraph(f"AUROC for predicting a wrong answer: flag count {_fmt(auc['flags'])}, "
                  f"response length (baseline) {_fmt(auc['length'])}; gain 95% interval "
                  f"{_fmt_ci(auc['gain_ci'])}."),
        html_table(["feature", "bucket", "samples", "wrong rate", "lo", "hi", "error types"],
                   [(c["feature"], c["bucket"], c["n"], c["wrong_rate"], c["lo"], c["hi"],
                     ", ".join(f"{k}: {v}" for k, v in c["error_types"].items()))
                    for c in details["clusters"]],
                   caption="Failure clusters by problem feature"),
        failures_html(details.get("failures")),
    ]
    return "".join(parts)


def failures_html(failures: Mapping[str, Any] | None) -> str:
    """Where the wrong answers left the gold path: types, types by problem feature, examples.
    Every cell and example goes through html.escape (sections.py): responses are untrusted."""
    if not failures:
        return ""
    types = [t for t, v in failures["types"].items() if v["count"]]
    examples = "".join(
        heading(f"{t}: {len(shown)} example(s)") + "".join(
            paragraph(f"{e['id']} (sample {e['sample_index']}): answer {e['extracted']}; "
                      f"evidence: {e['evidence'] or '-'}") + f"<pre>{html.escape(e['response'])}</pre>"
            for e in shown)
        for t, shown in failures["examples"].items())
    return "".join([
        heading("Where wrong answers left the gold path"),
        paragraph(f"{failures['explained']} of {failures['wrong']} wrong answers get a failure type "
                  f"from the gold solution's annotated steps; {failures['false_alarms']} of "
                  f"{failures['right']} right answers got one (false alarms). Taxonomy and "
                  "validation: docs/layers.md."),
        html_table(["failure type", "wrong answers", "share of wrong answers",
                    "right on hand-checked public responses"],
                   [(t, v["count"], v["share_of_wrong"], _checked(t)) for t, v in failures["types"].items()],
                   caption="Failure types"),
        html_table(["feature", "bucket", "wrong answers", *types],
                   [(c["feature"], c["bucket"], c["wrong"], *(c["types"].get(t, 0) for t in types))
                    for c in failures["by_feature"]],
                   caption="Failure types by problem feature"),
        examples,
    ])


def _checked(failure: str) -> str:
    if failure not in HAND_CHECKED:
        return "-"
    hits, n = HAND_CHECKED[failure]
    return f"{hits} / {n} ({hits / n:.0%})"


def _fmt(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.3f}"


def _fmt_ci(ci: tuple[float, float] | None) -> str:
    return "undefined" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"
