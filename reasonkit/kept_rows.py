"""The kept-row record: what ``datacheck clean`` writes to ``kept/<split>.jsonl`` and training reads.

One writer (``kept_rows_text``) and one reader (``read_kept_rows``), so the file's layout is
stated once. A line is the input row's own fields, unchanged and in their order, followed by
datacheck's: ``id``, ``split``, ``reasoning`` (annotations removed) and ``final_answer``
(canonical). The question stays in the input's fields; training reads it as ``question``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasonkit.errors import InputError
from reasonkit.jsonl import BadLine, find_lone_surrogate, iter_lines, jsonl_text, parse_line
from reasonkit.manifest import check_manifest

__all__ = ["KeptRow", "KeptRowsError", "kept_rows_text", "read_kept_rows"]

# datacheck's own fields, written after the input's; a row without a split (written by hand) is read.
OWN_FIELDS = ("id", "split", "reasoning", "final_answer")
_REQUIRED = ("question", "reasoning", "final_answer")


class KeptRowsError(InputError):
    """A kept-rows file that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class KeptRow:
    id: str
    reasoning: str
    final_answer: str
    split: str | None = None
    # The input row's own fields (the question and the raw answer among them), written back
    # unchanged ahead of datacheck's; a field of the same name as one of OWN_FIELDS is replaced.
    source: Mapping[str, Any] = field(default_factory=dict)

    @property
    def question(self) -> str:
        return str(self.source["question"])

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {**self.source, "id": self.id}
        if self.split is not None:
            row["split"] = self.split
        row["reasoning"] = self.reasoning
        row["final_answer"] = self.final_answer
        return row


def kept_rows_text(rows: Iterable[KeptRow]) -> str:
    """The kept-rows file's text: one JSON line per row (reasonkit.jsonl's escaping)."""
    return jsonl_text(row.to_json() for row in rows)


def _parse_row(raw: bytes, where: str) -> KeptRow:
    try:
        obj = parse_line(raw)
    except BadLine as exc:
        raise KeptRowsError(f"{where}: {exc}") from None
    if not isinstance(obj, dict):
        raise KeptRowsError(f"{where}: expected a JSON object")
    surrogate = find_lone_surrogate(obj)
    if surrogate is not None:
        raise KeptRowsError(f"{where}: holds a lone surrogate {surrogate} (not valid Unicode)")
    for key in _REQUIRED:
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            raise KeptRowsError(f"{where}: field {key!r} missing or empty")
    split = obj.get("split")
    return KeptRow(
        id=str(obj.get("id", where)),
        reasoning=obj["reasoning"],
        final_answer=obj["final_answer"],
        split=None if split is None else str(split),
        source={k: v for k, v in obj.items() if k not in OWN_FIELDS},
    )


def read_kept_rows(path: str | Path) -> list[KeptRow]:
    """Every row, or an error: a bad row stops the reader rather than vanishing from the data.

    A file inside a datacheck ``--out`` must match its manifest (reasonkit.manifest); blank
    lines are skipped. An empty file gives no rows: whether that is an error is the caller's call.
    """
    p = Path(path)
    if not p.is_file():
        raise KeptRowsError(f"{p}: no such file")
    try:
        check_manifest(p)
        lines = list(iter_lines(p))
    except InputError as exc:
        raise KeptRowsError(str(exc)) from None
    return [_parse_row(line.raw, f"{p}:{line.number}") for line in lines if line.raw.strip()]
