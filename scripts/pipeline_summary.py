"""The pipeline's closing table: each evaluated stage's figures, with intervals, from report.json."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reasoneval.artifacts import atomic_write_text

SCHEMA_VERSION = 1
# Figures shown per layer, in this order, when the layer reported them.
SHOWN = {
    "accuracy": ("accuracy",),
    "traces": ("clean_rate", "error_rate.arithmetic", "error_rate.truncation"),
    "sensitivity": ("pss", "worst_case_accuracy", "flip_rate.numeric"),
}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _figure(metric: Mapping[str, Any]) -> str:
    text = _pct(metric.get("value"))
    if metric.get("lo") is not None and metric.get("hi") is not None:
        text += f" [{_pct(metric['lo'])}, {_pct(metric['hi'])}]"
    return text


def stage_row(report: Mapping[str, Any]) -> dict[str, Any]:
    layers = report.get("layers", {})
    row: dict[str, Any] = {"n_problems": report.get("dataset", {}).get("n_problems"), "metrics": {}}
    for layer, data in layers.items():
        for name, metric in data.get("metrics", {}).items():
            row["metrics"][f"{layer}.{name}"] = metric
    row["gates"] = report.get("gates", [])
    return row


def _shown_columns(rows: Mapping[str, Mapping[str, Any]]) -> list[str]:
    present = {key for row in rows.values() for key in row["metrics"]}
    columns = [f"{layer}.{name}" for layer, names in SHOWN.items() for name in names]
    return [c for c in columns if c in present]


def summarize(
    out: Path, stages: Sequence[str], timings: Mapping[str, float], total_seconds: float
) -> str:
    """Write summary.json and summary.md under ``out``; return the markdown."""
    rows = {}
    for stage in stages:
        report = json.loads((out / "eval" / stage / "report.json").read_text(encoding="utf-8"))
        rows[stage] = stage_row(report)
    columns = _shown_columns(rows)
    payload = {
        "schema_version": SCHEMA_VERSION,
        "stages": rows,
        "timings_s": dict(timings),
        "total_s": round(total_seconds, 1),
    }
    atomic_write_text(out / "summary.json", json.dumps(payload, indent=2) + "\n")
    lines = [
        "| stage | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for stage, row in rows.items():
        cells = [_figure(row["metrics"][c]) if c in row["metrics"] else "-" for c in columns]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += ["", "Figures in %, [95% interval] where the layer gives one; "
              f"n = {next(iter(rows.values()))['n_problems'] if rows else 0} held-out problems.", ""]
    lines += ["| step | seconds |", "|---|---|"]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in timings.items()]
    lines.append(f"| **total** | **{total_seconds:.1f}** |")
    for stage, row in rows.items():
        for gate in row["gates"]:
            lines.append(f"\ngate ({stage}): {json.dumps(gate)}")
    markdown = "\n".join(lines) + "\n"
    atomic_write_text(out / "summary.md", markdown)
    return markdown
