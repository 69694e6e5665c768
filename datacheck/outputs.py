"""Writing `--out`: kept rows per split, rejections, clusters, report.json and report.md.

Every file goes to a temporary name in the same directory and is moved into place with
os.replace, so a crash never leaves a half-written output that looks complete.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from datacheck.records import Problem, Rejection
from datacheck.report import render_markdown
from datacheck.result import CleanResult
from reasonkit.artifacts import atomic_write_text as atomic_write
from reasonkit.jsonl import jsonl_text as _jsonl
from reasonkit.kept_rows import KeptRow, kept_rows_text
from reasonkit.manifest import begin_output, finish_output


def kept_row(p: Problem) -> KeptRow:
    if p.final_answer is None:  # only when both format and round_trip are skipped
        raise ValueError(f"{p.id} has no final answer, so it cannot be a kept row")
    return KeptRow(id=p.id, reasoning=p.reasoning, final_answer=p.final_answer, split=p.split,
                   source=p.source)  # fmt: skip


def rejected_row(r: Rejection) -> dict[str, Any]:
    row: dict[str, Any] = {"id": r.id, "split": r.split, "check": r.check, "reason": r.reason}
    if r.matched_id is not None:
        row["matched_id"] = r.matched_id
    row["record"] = dict(r.source) if isinstance(r.source, Mapping) else r.source
    return row


def write_outputs(out: Path, result: CleanResult, report: Mapping[str, Any]) -> None:
    """Every output, then manifest.json last: a directory without it is unfinished
    (reasonkit.manifest), so a killed rerun never leaves a mix that looks complete."""
    begin_output(out)
    texts = {f"kept/{split}.jsonl": kept_rows_text(kept_row(p) for p in problems)
             for split, problems in result.kept.items()}  # fmt: skip
    texts["rejected.jsonl"] = _jsonl(rejected_row(r) for r in result.rejected)
    texts["clusters.jsonl"] = _jsonl(asdict(c) for c in result.clusters)
    texts["report.json"] = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    texts["report.md"] = render_markdown(result, report)
    stale = set((out / "kept").glob("*.jsonl")) - {out / name for name in texts}
    for path in stale:  # a split an earlier run wrote and this one did not
        path.unlink()
    for name, text in texts.items():
        atomic_write(out / name, text)
    finish_output(out, texts, writer="datacheck clean")
