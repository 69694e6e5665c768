"""`datacheck dedup`: near-duplicate clusters of one text field of any JSONL file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datacheck.dedup import DedupConfig, near_duplicate_clusters
from datacheck.records import SCHEMA_VERSION
from reasoneval.artifacts import atomic_write_text as atomic_write
from reasoneval.artifacts import package_versions
from reasoneval.errors import InputError
from reasoneval.jsonl import BadLine, parse_line, split_lines
from reasoneval.jsonl import jsonl_text as _jsonl


def read_field(
    path: Path, field: str
) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    """Rows with a string `field`, and a rejection (with reason) for every other line."""
    if not path.is_file():
        raise InputError(f"no file at {path}")
    lines = split_lines(path.read_bytes())
    if not any(line.strip() for line in lines):
        raise InputError(f"{path} is empty")
    rows, rejected = [], []
    objects = 0  # lines that are JSON objects, with or without the field
    fields_seen: set[str] = set()
    for index, line in enumerate(lines):
        reason, row = None, None
        try:
            row = parse_line(line)
        except BadLine as err:
            reason = str(err)
        if reason is None:
            if isinstance(row, dict):
                objects += 1
                fields_seen.update(row)
                if not isinstance(row.get(field), str):
                    reason = f"field {field!r} missing or not a string"
            else:
                reason = "not a JSON object"
        if reason is None and isinstance(row, dict):
            rows.append((index, row))
        else:
            rejected.append(
                {"line": index, "reason": reason, "record": line.decode("utf-8", "replace")}
            )
    if objects and not rows:
        # A mistyped --field rejects every row and used to exit 0 with nothing kept (issue 16).
        raise InputError(
            f"--field {field!r} is a string in none of the {objects} rows of {path}; "
            f"fields there: {', '.join(sorted(fields_seen)[:8]) or 'none'}"
        )
    return rows, rejected


def summary_line(summary: dict[str, Any], out: Path) -> str:
    """The one line `datacheck dedup` prints, in the shape of `datacheck clean`'s."""
    return (
        f"{summary['rows']} rows: {summary['kept']} kept, {summary['duplicates']} near-duplicates "
        f"in {summary['clusters']} clusters, {summary['rejected']} rejected; "
        f"report at {out / 'report.json'}"
    )


def dedup_file(path: Path, field: str, out: Path, config: DedupConfig) -> dict[str, Any]:
    rows, rejected = read_field(path, field)
    result = near_duplicate_clusters([row[field] for _, row in rows], config)
    removed: dict[int, int] = {}
    clusters = []
    for members in result.clusters:
        keep = members[0]  # lowest line index survives
        clusters.append({"kept": rows[keep][0], "members": [rows[i][0] for i in members]})
        for i in members[1:]:
            removed[i] = keep
    kept = [row for i, (_, row) in enumerate(rows) if i not in removed]
    duplicates = [
        {"line": rows[i][0], "duplicate_of": rows[k][0], "record": rows[i][1]}
        for i, k in sorted(removed.items())
    ]
    summary = {
        "schema_version": SCHEMA_VERSION,
        "rows": len(rows) + len(rejected),
        "kept": len(kept),
        "duplicates": len(duplicates),
        "rejected": len(rejected),
        "clusters": len(clusters),
        "candidates": result.n_candidates,
        "verified_edges": len(result.edges),
        "bands": result.bands,
        "rows_per_band": result.rows,
        "threshold": config.threshold,
        "versions": package_versions(),
    }
    atomic_write(out / "kept.jsonl", _jsonl(kept))
    atomic_write(out / "duplicates.jsonl", _jsonl(duplicates))
    atomic_write(out / "rejected.jsonl", _jsonl(rejected))
    atomic_write(out / "clusters.jsonl", _jsonl(clusters))
    atomic_write(out / "report.json", json.dumps(summary, indent=2) + "\n")
    return summary
