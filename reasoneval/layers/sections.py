"""HTML pieces for the traces and sensitivity sections; every cell is escaped (responses and
questions are untrusted text)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence


def fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if value is None:
        return "-"
    return str(value)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, caption: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (f'<table class="layer-table" border="1" cellpadding="3" style="border-collapse:'
            f'collapse;margin:8px 0">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


def natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort key that orders ``test/2`` before ``test/10`` (ids sorted as text read 0, 1, 10, 100)."""
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", text) if t]


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary and ending in an ellipsis if cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def heading(text: str) -> str:
    return f"<h3>{html.escape(text)}</h3>"


def paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"
