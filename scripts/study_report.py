"""A study's outputs: ``study.json`` (every figure), ``study.md`` and one self-contained ``study.html``.

A study (``scripts.study_records.Study``) is a title, its settings, its typed figures and a list of
sections, each with paragraphs, a table and perhaps an inline SVG plot. Every comparison goes
through ``reasoneval.compare.compare_groups`` over the arms' training seeds: with several seeds a
side, items x seeds with a t interval.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Collection, Sequence
from pathlib import Path

from reasonkit.artifacts import atomic_write_text, package_versions
from scripts.study_records import ArmComparison, HolmAdjustment, Page, Section, Study, Table


def effect(lo: float, hi: float) -> str:
    """The CI's reading: the candidate helps, hurts, or the data cannot tell."""
    return "helps" if lo > 0 else "hurts" if hi < 0 else "no clear effect"


def compare_arms(baseline: Sequence[Path], candidate: Sequence[Path],
                 items: Collection[str] | None = None) -> ArmComparison:  # fmt: skip
    """candidate - baseline over the runs (seeds) of each side, on ``items`` or every test item."""
    from reasoneval.compare import compare_groups, load_run_results

    sides = [[load_run_results(p) for p in paths] for paths in (baseline, candidate)]
    if items is not None:
        sides = [[{i: r for i, r in run.items() if i in items} for run in side] for side in sides]
    result = compare_groups(sides[0], sides[1], test="superiority", seed=0)
    return ArmComparison(result, two_sided_p(result.delta, result.se, result.df),
                         effect(result.ci_low, result.ci_high))  # fmt: skip


def two_sided_p(delta: float, se: float, df: float | None) -> float:
    """The p-value matching the comparison's interval: t with its df, normal for the bootstrap."""
    from scipy import stats

    if se <= 0:
        return 1.0 if delta == 0 else 0.0
    z = abs(delta) / se
    return float(2 * (stats.t.sf(z, df) if df is not None else stats.norm.sf(z)))


def holm(family: Sequence[ArmComparison], alpha: float = 0.05) -> list[ArmComparison]:
    """Holm's step-down adjustment (Holm 1979) over one study's family of comparisons, returned in
    the family's order: each tested comparison gets its ``HolmAdjustment``, keeping the CI's
    reading only where the adjusted p < alpha. Comparisons whose arms kept the same rows have no
    test and stay out of the family, unchanged."""
    tested = sorted((i for i, c in enumerate(family) if c.tested), key=lambda i: family[i].p_value)
    adjusted = list(family)
    running = 0.0
    for rank, i in enumerate(tested):
        c = family[i]
        running = max(running, min(1.0, (len(tested) - rank) * c.p_value))
        reading = c.effect if running < alpha else "not resolved after Holm"
        adjusted[i] = dataclasses.replace(c, holm=HolmAdjustment(running, reading, len(tested)))
    return adjusted


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def delta_cell(c: ArmComparison) -> str:
    r = c.result
    return f"{100 * r.delta:+.1f} [{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}]"


def comparison_row(label: str, c: ArmComparison) -> list[str]:
    adjusted = f"{c.holm.p_holm:.3g}: {c.holm.effect}" if c.holm else "-"
    return [label, pct(c.result.baseline_accuracy), pct(c.result.candidate_accuracy), delta_cell(c),
            c.effect, f"{c.p_value:.3g}", adjusted, str(c.result.n_items)]  # fmt: skip


COMPARISON_COLUMNS = ["comparison", "baseline", "candidate", "Δ points [95% CI]", "verdict (CI)", "p",
                      "Holm-adjusted p: verdict", "items"]  # fmt: skip


def section(heading: str, *text: str, columns: Sequence[str] = (), rows: Sequence[Sequence[str]] = (),
            svg: str | None = None) -> Section:  # fmt: skip
    table = Table(tuple(columns), tuple(tuple(r) for r in rows)) if columns else None
    return Section(heading, text, table, svg)


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_markdown(page: Page) -> str:
    lines = [f"# {page.title}", "", *page.summary, ""]
    for s in page.sections:
        lines += [f"## {s.heading}", ""]
        for paragraph in s.text:
            lines += [paragraph, ""]
        if s.table:
            cols = s.table.columns
            lines += ["| " + " | ".join(map(_md_cell, cols)) + " |", "|" + "---|" * len(cols)]
            lines += ["| " + " | ".join(map(_md_cell, r)) + " |" for r in s.table.rows]
            lines.append("")
        if s.svg:
            lines += ["![plot](plot.svg)", ""]
    lines.append(f"Versions: {', '.join(f'{k} {v}' for k, v in page.versions.items())}")
    return "\n".join(lines) + "\n"


def render_html(page: Page) -> str:
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(page.title)}</title><style>body{{font-family:sans-serif;max-width:1000px;"
        "margin:2em auto}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:left}th{background:#f3f3f3}</style></head><body>",
        f"<h1>{esc(page.title)}</h1>",
        *(f"<p>{esc(p)}</p>" for p in page.summary),
    ]
    for s in page.sections:
        parts.append(f"<h2>{esc(s.heading)}</h2>")
        parts += [f"<p>{esc(p)}</p>" for p in s.text]
        if s.table:
            head = "".join(f"<th>{esc(str(c))}</th>" for c in s.table.columns)
            body = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in r) + "</tr>"
                           for r in s.table.rows)  # fmt: skip
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
        if s.svg:
            parts.append(s.svg)  # built by reasoneval.charts, which escapes its labels
    joined = ", ".join(f"{k} {v}" for k, v in page.versions.items())
    parts.append(f"<p><small>Versions: {esc(joined)}</small></p></body></html>")
    return "\n".join(parts) + "\n"


def write_study(out: Path, study: Study) -> None:
    """study.json (the records' one JSON form), study.md, study.html (and plot.svg when a section
    has one), each atomically."""
    versions = package_versions()
    text = json.dumps(study.to_json(versions), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(out / "study.json", text)
    atomic_write_text(out / "study.md", render_markdown(study.page(versions)))
    atomic_write_text(out / "study.html", render_html(study.page(versions)))
    for s in study.sections:
        if s.svg:
            atomic_write_text(out / "plot.svg", s.svg + "\n")
