"""report.json (versioned) and a self-contained report.html with inline SVG plots.

Everything model- or dataset-derived that reaches the HTML goes through ``html.escape``: responses
are untrusted text. The SVG helpers are public so layers can draw their own sections the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reasoneval.charts import esc, svg_bar_chart, svg_histogram, svg_interval_chart
from reasoneval.layers.base import LayerResult, Metric
from reasoneval.report_record import (
    SCHEMA_VERSION,
    LayerRecord,
    MetricRecord,
    RunReportRecord,
    as_written,
    report_from_json,
    write_report_json,
)
from reasonkit.artifacts import atomic_write_text

__all__ = [  # the chart helpers too: layers have always imported them from here
    "SCHEMA_VERSION",
    "VOLATILE_KEYS",
    "examples_html",
    "layer_record",
    "layers_json",
    "metric_json",
    "metrics_table",
    "render_html",
    "svg_bar_chart",
    "svg_histogram",
    "svg_interval_chart",
    "write_report",
]

# Keys that legitimately differ between two runs of the same evaluation (wall clock, what came
# from the resume cache); everything else in report.json must match.
VOLATILE_KEYS = ("timing", "generation")


def metric_record(m: Metric) -> MetricRecord:
    return MetricRecord(m.value, m.lo, m.hi, m.n, m.higher_is_better)


def metric_json(m: Metric) -> dict[str, Any]:
    return metric_record(m).to_json()


def layer_record(result: LayerResult) -> LayerRecord:
    """A layer's result as the report records it: its metrics and its details."""
    metrics = {k: metric_record(m) for k, m in result.metrics.items()}
    return LayerRecord(result.name, metrics, as_written(dict(result.details)))


def layers_json(results: Sequence[LayerResult]) -> dict[str, Any]:
    """report.json's ``layers`` for these results, as the report record writes them."""
    return {r.name: layer_record(r).to_json() for r in results}


def metrics_table(metrics: Mapping[str, Metric]) -> str:
    rows = []
    for name, m in metrics.items():
        ci = f"[{m.lo:.3f}, {m.hi:.3f}]" if m.lo is not None and m.hi is not None else ""
        arrow = {True: "↑", False: "↓", None: "none (a reference)"}[m.higher_is_better]
        rows.append(
            f"<tr><td>{esc(name)}</td><td>{m.value:.4f}</td><td>{ci}</td>"
            f"<td>{'' if m.n is None else m.n}</td><td>{arrow}</td></tr>"
        )
    return (
        "<table><tr><th>metric</th><th>value</th><th>95% interval</th><th>n</th>"
        "<th>better</th></tr>" + "".join(rows) + "</table>"
    )


_CSS = """body{font-family:sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;font-size:13px}th{background:#f3f3f3}section{margin:24px 0;border-top:2px solid
#1565c0;padding-top:8px}pre{white-space:pre-wrap;background:#f7f7f7;padding:8px;font-size:12px;
max-height:320px;overflow:auto}.pass{color:#2e7d32}.fail{color:#c62828}"""


def _provenance_table(report: Mapping[str, Any]) -> str:
    model, dataset, sampling = report["model"], report["dataset"], report["sampling"]
    rows = [
        ("checkpoint", model.get("checkpoint")),
        ("base model", model.get("base_model")),
        ("GGUF source", _gguf_line(model.get("gguf"))),
        ("prompt style", _style_line(report.get("prompt_style"))),
        ("backend", report.get("backend")),
        ("tokenizer", report.get("tokenizer", {}).get("name")),
        (
            "dataset",
            f"{dataset.get('name')} / {dataset.get('split')} "
            f"({dataset.get('n_problems')} problems)",
        ),
        ("dataset sha256", dataset.get("sha256")),
        ("sampling", ", ".join(f"{k}={v}" for k, v in sampling.items() if k != "stop")),
        ("seed", report.get("seed")),
        ("git revision", report.get("git_revision")),
        ("command", " ".join(report.get("command", []))),
    ]
    body = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc('—' if v is None else v)}</td></tr>" for k, v in rows
    )
    return f"<table>{body}</table>"


def _gguf_line(gguf: Any) -> str | None:
    if not isinstance(gguf, Mapping):
        return None
    types = ", ".join(f"{n} {t}" for t, n in (gguf.get("tensor_types") or {}).items())
    return f"{gguf.get('path')} (sha256 {gguf.get('sha256')}; {types}); {gguf.get('dequantisation')}"


def _style_line(style: Any) -> str | None:
    if not isinstance(style, Mapping) or "name" not in style:
        return None
    return (f"{style['name']} ({style.get('reason')}; {style.get('few_shot')} shots; answer read "
            f"as {style.get('answer_marker')}; {style.get('scored_whole_text')} responses scored "
            f"on their whole text). Source: {style.get('source')}")


def _gates_html(report: Mapping[str, Any]) -> str:
    gates = report.get("gates") or []
    if not gates:
        return ""
    items = "".join(
        f'<li class="{"pass" if g["passed"] else "fail"}">{"PASS" if g["passed"] else "FAIL"}: '
        f"{esc(g['description'])}</li>"
        for g in gates
    )
    return f"<section><h2>Gates</h2><ul>{items}</ul></section>"


def examples_html(
    rows: Sequence[Mapping[str, Any]],
    questions: Mapping[str, str] | None = None,
    *,
    limit: int = 5,
    max_chars: int = 1500,
) -> str:
    """A few incorrect items' first samples, with their question, shown verbatim (escaped: they
    are model output)."""
    questions = questions or {}
    wrong = [
        r
        for r in rows
        if r.get("variant") == "original" and r.get("sample_index") == 0 and not r.get("correct")
    ][:limit]
    if not wrong:
        return ""
    items = "".join(
        f"<h3>{esc(r['id'])} (sample {esc(r['sample_index'])}): extracted "
        f"{esc(r.get('extracted'))}, gold {esc(r.get('gold'))}, "
        f"finish {esc(r.get('finish_reason'))}</h3>"
        + (f"<p><b>Question:</b> {esc(questions[r['id']])}</p>" if r["id"] in questions else "")
        + f"<pre>{esc(_clip(str(r['response']), max_chars))}</pre>"
        for r in wrong
    )
    return f"<section><h2>Incorrect examples</h2>{items}</section>"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


def render_html(
    report: Mapping[str, Any],
    results: Sequence[LayerResult],
    rows: Sequence[Mapping[str, Any]] = (),
    questions: Mapping[str, str] | None = None,
) -> str:
    sections = "".join(
        f"<section><h2>{esc(r.name)}</h2>{metrics_table(r.metrics)}{r.html}</section>"
        for r in results
    )
    title = f"reasoneval: {report['model'].get('checkpoint')}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>"
        f"{_provenance_table(report)}{_gates_html(report)}{sections}"
        f"{examples_html(rows, questions)}"
        "</body></html>\n"
    )


def write_report(
    out_dir: Path,
    report: RunReportRecord | Mapping[str, Any],
    results: Sequence[LayerResult],
    rows: Sequence[Mapping[str, Any]] = (),
    questions: Mapping[str, str] | None = None,
) -> None:
    """report.json through its one writer (a mapping is read into the record first), and the HTML."""
    record = report if isinstance(report, RunReportRecord) else report_from_json(report)
    write_report_json(out_dir, record)
    atomic_write_text(out_dir / "report.html", render_html(record.to_json(), results, rows, questions))
