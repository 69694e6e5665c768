"""HTML pieces for the traces and sensitivity sections; every cell is escaped (responses and
questions are untrusted text)."""

from __future__ import annotations

import html
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


def heading(text: str) -> str:
    return f"<h3>{html.escape(text)}</h3>"


def paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"
