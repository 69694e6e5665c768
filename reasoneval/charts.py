"""Inline SVG charts for report.html: interval bars, count bars, histograms. No JavaScript, no
external files. Labels go through ``html.escape``: they can be dataset or model text."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

COLORS = {"correct": "#2e7d32", "incorrect": "#c62828", "bar": "#1565c0", "ci": "#222"}
FONT = 'font-family="sans-serif" font-size="12"'


def esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def _svg_open(width: int, height: int, title: str) -> list[str]:
    """An SVG root sized width x height, with ``title`` as its accessible label and heading."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{esc(title)}">',
        f'<text x="4" y="14" {FONT} font-weight="bold">{esc(title)}</text>',
    ]


def svg_interval_chart(
    rows: Sequence[tuple[str, float, float | None, float | None]],
    *,
    width: int = 560,
    title: str = "",
) -> str:
    """Horizontal bars on [0, 1] with 95% interval whiskers: one row per (label, value, lo, hi)."""
    bar_h, gap, top = 18, 10, 24
    # Room for the longest label (about 7 px a character at 12 px sans-serif): readable variant
    # names run to 35 characters and were cut at the left edge. The plot keeps its width.
    left = max(170, 7 * max((len(r[0]) for r in rows), default=0) + 12)
    width += left - 170
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
            f'<text x="{left - 6}" y="{y + 13}" {FONT} text-anchor="end">{esc(label)}</text>'
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
            f'<text x="{left - 6}" y="{y + 13}" {FONT} text-anchor="end">{esc(label)}</text>'
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
    ticks = _ticks(values, lo, hi)
    if hi <= lo:  # one distinct value: a unit-wide range centred on it, one tick at it
        lo, hi = lo - 0.5, hi + 0.5
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
            f'<text x="{lx + 14}" y="{height - 5}" {FONT}>{esc(name)} '
            f"({len(series[name])})</text>"
        )
    for tick in ticks:
        x = left + (tick - lo) / (hi - lo) * plot_w
        out.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 14}" {FONT} text-anchor="middle">'
            f"{tick:.4g}</text>"
        )
    if xlabel:
        out.append(
            f'<text x="{left + plot_w}" y="{height - 5}" {FONT} text-anchor="end">'
            f"{esc(xlabel)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _ticks(values: Sequence[float], lo: float, hi: float) -> list[float]:
    """Axis labels at the ends and the middle; whole numbers only for whole-number data (token
    counts), so one value of 48 is labelled 48, not 48 / 48.5 / 49."""
    if hi <= lo:
        return [lo]
    ticks = [lo, (lo + hi) / 2, hi]
    if all(float(v).is_integer() for v in values):
        ticks = sorted({float(round(t)) for t in ticks})
    return ticks


LINE_COLORS = ("#000000", "#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#8d6e63")


def svg_line_chart(
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    x_label: str,
    y_label: str,
    title: str = "",
    width: int = 640,
    height: int = 360,
) -> str:
    """One line with point markers per series of (x, y), a dashed y = 0 line, and a legend."""
    points = [p for values in series.values() for p in values]
    if not points:
        return "".join([*_svg_open(width, 40, title), "</svg>"])
    left, right, top, bottom = 56, 190, 28, 40
    xs, ys = [p[0] for p in points], [p[1] for p in points] + [0.0]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1
    pad = 0.08 * (y1 - y0)
    y0, y1 = y0 - pad, y1 + pad
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return top + (y1 - y) / (y1 - y0) * plot_h

    out = _svg_open(width, height, title)
    out.append(f'<line x1="{left}" y1="{py(0):.1f}" x2="{left + plot_w}" y2="{py(0):.1f}" '
               'stroke="#888" stroke-dasharray="4 3"/>')  # fmt: skip
    for x in sorted(set(xs)):
        out.append(f'<text x="{px(x):.1f}" y="{height - bottom + 16}" {FONT} '
                   f'text-anchor="middle">{x:g}</text>')  # fmt: skip
    for y in _ticks(ys, y0, y1):
        out.append(f'<text x="{left - 6}" y="{py(y) + 4:.1f}" {FONT} text-anchor="end">{y:.1f}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" {FONT} '
               f'text-anchor="middle">{esc(x_label)}</text>')  # fmt: skip
    out.append(f'<text x="12" y="{top + plot_h / 2:.1f}" {FONT} text-anchor="middle" '
               f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">{esc(y_label)}</text>')  # fmt: skip
    for i, (name, values) in enumerate(series.items()):
        color = LINE_COLORS[i % len(LINE_COLORS)]
        ordered = sorted(values)
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in ordered)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        out += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>' for x, y in ordered]
        ly = top + 14 + 18 * i
        out.append(f'<line x1="{width - right + 12}" y1="{ly - 4}" x2="{width - right + 32}" '
                   f'y2="{ly - 4}" stroke="{color}" stroke-width="2"/>')  # fmt: skip
        out.append(f'<text x="{width - right + 38}" y="{ly}" {FONT}>{esc(name)}</text>')
    out.append("</svg>")
    return "".join(out)
