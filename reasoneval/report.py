"""report.json (versioned) and a self-contained report.html with inline SVG plots.

Everything model- or dataset-derived that reaches the HTML goes through ``html.escape``: responses
are untrusted text. The SVG helpers are public so layers can draw their own sections the same way.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reasoneval.artifacts import atomic_write_text
from reasoneval.layers.base import LayerResult, Metric

SCHEMA_VERSION = 1
# Keys that legitimately differ between two runs of the same evaluation (wall clock, what came
# from the resume cache); everything else in report.json must match.
VOLATILE_KEYS = ("timing", "generation")
COLORS = {"correct": "#2e7d32", "incorrect": "#c62828", "bar": "#1565c0", "ci": "#222"}
FONT = 'font-family="sans-serif" font-size="12"'


def metric_json(m: Metric) -> dict[str, Any]:
    return {
        "value": m.value,
        "lo": m.lo,
        "hi": m.hi,
        "n": m.n,
        "higher_is_better": m.higher_is_better,
    }


def layers_json(results: Sequence[LayerResult]) -> dict[str, Any]:
    return {
        r.name: {
            "metrics": {k: metric_json(v) for k, v in r.metrics.items()},
            "details": dict(r.details),
        }
        for r in results
    }


def _esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def _svg_open(width: int, height: int, title: str) -> list[str]:
    """An SVG root sized width x height, with ``title`` as its accessible label and heading."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{_esc(title)}">',
        f'<text x="4" y="14" {FONT} font-weight="bold">{_esc(title)}</text>',
    ]


def svg_interval_chart(
    rows: Sequence[tuple[str, float, float | None, float | None]],
    *,
    width: int = 560,
    title: str = "",
) -> str:
    """Horizontal bars on [0, 1] with 95% interval whiskers: one row per (label, value, lo, hi)."""
    left, bar_h, gap, top = 170, 18, 10, 24
    plot_w = width - left - 60
    height = top + len(rows) * (bar_h + gap) + 24
    out = _svg_open(width, height, title)
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * plot_w
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 20}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{height - 6}" {FONT} text-anchor="middle">{tick:.2f}</text>'
        )
    for i, (label, value, lo, hi) in enumerate(rows):
        y = top + i * (bar_h + gap)
        v = min(max(value, 0.0), 1.0) if math.isfinite(value) else 0.0
        out.append(
            f'<text x="{left - 6}" y="{y + 13}" {FONT} text-anchor="end">{_esc(label)}</text>'
        )
        out.append(
            f'<rect x="{left}" y="{y}" width="{v * plot_w:.1f}" height="{bar_h}" '
            f'fill="{COLORS["bar"]}" opacity="0.75"/>'
        )
        if lo is not None and hi is not None:
            x1, x2, ym = left + lo * plot_w, left + hi * plot_w, y + bar_h / 2
            out.append(
                f'<line x1="{x1:.1f}" y1="{ym}" x2="{x2:.1f}" y2="{ym}" '
                f'stroke="{COLORS["ci"]}" stroke-width="2"/>'
            )
            for x in (x1, x2):
                out.append(
                    f'<line x1="{x:.1f}" y1="{y + 3}" x2="{x:.1f}" y2="{y + bar_h - 3}" '
                    f'stroke="{COLORS["ci"]}" stroke-width="2"/>'
                )
        text_x = left + max(v, hi or 0.0) * plot_w + 6
        out.append(f'<text x="{text_x:.1f}" y="{y + 13}" {FONT}>{value:.3f}</text>')
    out.append("</svg>")
    return "".join(out)


def svg_bar_chart(counts: Sequence[tuple[str, int]], *, width: int = 560, title: str = "") -> str:
    """Horizontal count bars, one per (label, count)."""
    rows_max = max((c for _, c in counts), default=0) or 1
    left, bar_h, gap, top = 170, 18, 8, 24
    plot_w = width - left - 60
    height = top + len(counts) * (bar_h + gap) + 8
    out = _svg_open(width, height, title)
    for i, (label, count) in enumerate(counts):
        y = top + i * (bar_h + gap)
        w = count / rows_max * plot_w
        out.append(
            f'<text x="{left - 6}" y="{y + 13}" {FONT} text-anchor="end">{_esc(label)}</text>'
        )
        out.append(
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{COLORS["bar"]}" opacity="0.75"/>'
        )
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 13}" {FONT}>{count}</text>')
    out.append("</svg>")
    return "".join(out)


def svg_histogram(
    series: Mapping[str, Sequence[float]],
    *,
    bins: int = 20,
    width: int = 560,
    height: int = 220,
    title: str = "",
    xlabel: str = "",
) -> str:
    """Side-by-side histograms sharing bins, one colour per series (e.g. correct / incorrect)."""
    values = [v for vs in series.values() for v in vs]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    step = (hi - lo) / bins
    counts = {name: [0] * bins for name in series}
    for name, vs in series.items():
        for v in vs:
            counts[name][min(int((v - lo) / step), bins - 1)] += 1
    peak = max((c for cs in counts.values() for c in cs), default=0) or 1
    left, top, bottom = 40, 24, 40
    plot_w, plot_h = width - left - 10, height - top - bottom
    slot = plot_w / bins
    bar_w = slot / max(len(series), 1)
    out = [
        *_svg_open(width, height, title),
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 10}" {FONT} text-anchor="end">{peak}</text>',
    ]
    for j, name in enumerate(series):
        color = COLORS.get(name, COLORS["bar"])
        for b, c in enumerate(counts[name]):
            if c:
                h = c / peak * plot_h
                x = left + b * slot + j * bar_w
                out.append(
                    f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                    f'height="{h:.1f}" fill="{color}" opacity="0.8"/>'
                )
        lx = left + 10 + j * 120
        out.append(
            f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{color}"/>'
            f'<text x="{lx + 14}" y="{height - 5}" {FONT}>{_esc(name)} '
            f"({len(series[name])})</text>"
        )
    for frac in (0.0, 0.5, 1.0):
        x = left + frac * plot_w
        out.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 14}" {FONT} text-anchor="middle">'
            f"{lo + frac * (hi - lo):.4g}</text>"
        )
    if xlabel:
        out.append(
            f'<text x="{left + plot_w}" y="{height - 5}" {FONT} text-anchor="end">'
            f"{_esc(xlabel)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def metrics_table(metrics: Mapping[str, Metric]) -> str:
    rows = []
    for name, m in metrics.items():
        ci = f"[{m.lo:.3f}, {m.hi:.3f}]" if m.lo is not None and m.hi is not None else ""
        arrow = "↑" if m.higher_is_better else "↓"
        rows.append(
            f"<tr><td>{_esc(name)}</td><td>{m.value:.4f}</td><td>{ci}</td>"
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
        f"<tr><th>{_esc(k)}</th><td>{_esc('—' if v is None else v)}</td></tr>" for k, v in rows
    )
    return f"<table>{body}</table>"


def _gates_html(report: Mapping[str, Any]) -> str:
    gates = report.get("gates") or []
    if not gates:
        return ""
    items = "".join(
        f'<li class="{"pass" if g["passed"] else "fail"}">{"PASS" if g["passed"] else "FAIL"}: '
        f"{_esc(g['description'])}</li>"
        for g in gates
    )
    return f"<section><h2>Gates</h2><ul>{items}</ul></section>"


def examples_html(
    rows: Sequence[Mapping[str, Any]], *, limit: int = 5, max_chars: int = 1500
) -> str:
    """A few incorrect items' first samples, shown verbatim (escaped: they are model output)."""
    wrong = [
        r
        for r in rows
        if r.get("variant") == "original" and r.get("sample_index") == 0 and not r.get("correct")
    ][:limit]
    if not wrong:
        return ""
    items = "".join(
        f"<h3>{_esc(r['id'])} (sample {_esc(r['sample_index'])}): extracted "
        f"{_esc(r.get('extracted'))}, gold {_esc(r.get('gold'))}, "
        f"finish {_esc(r.get('finish_reason'))}</h3><pre>{_esc(str(r['response'])[:max_chars])}</pre>"
        for r in wrong
    )
    return f"<section><h2>Incorrect examples</h2>{items}</section>"


def render_html(
    report: Mapping[str, Any],
    results: Sequence[LayerResult],
    rows: Sequence[Mapping[str, Any]] = (),
) -> str:
    sections = "".join(
        f"<section><h2>{_esc(r.name)}</h2>{metrics_table(r.metrics)}{r.html}</section>"
        for r in results
    )
    title = f"reasoneval: {report['model'].get('checkpoint')}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{_esc(title)}</h1>"
        f"{_provenance_table(report)}{_gates_html(report)}{sections}{examples_html(rows)}"
        "</body></html>\n"
    )


def write_report(
    out_dir: Path,
    report: Mapping[str, Any],
    results: Sequence[LayerResult],
    rows: Sequence[Mapping[str, Any]] = (),
) -> None:
    atomic_write_text(out_dir / "report.json", json.dumps(report, indent=2, ensure_ascii=False))
    atomic_write_text(out_dir / "report.html", render_html(report, results, rows))
