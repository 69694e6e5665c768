"""`datacheck dedup`: near-duplicate clusters of one text field of any JSONL file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datacheck.dedup import DedupConfig, near_duplicate_clusters
from datacheck.records import SCHEMA_VERSION
from reasoneval.artifacts import atomic_write_text as atomic_write
from reasoneval.artifacts import package_versions
from reasoneval.errors import InputError
from reasoneval.jsonl import BadLine, dumps_line, parse_line
from reasoneval.jsonl import jsonl_text as _jsonl

# UTF-8 of U+2028, U+2029 and U+0085: str.splitlines breaks at them (see reasoneval.jsonl), so a
# kept line holding one raw is written re-serialised, escaped, instead of verbatim.
_LINE_BREAKING = (b"\xe2\x80\xa8", b"\xe2\x80\xa9", b"\xc2\x85")


@dataclass(slots=True)
class FieldRows:
    """The line index and text of every row with a string field; only the texts are held: at 1M
    rows the parsed records would cost more memory than the whole deduplication."""

    lines: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)


def read_field(path: Path, field: str) -> tuple[FieldRows, list[dict[str, Any]]]:
    """Rows with a string `field`, and a rejection (with reason) for every other line."""
    if not path.is_file():
        raise InputError(f"no file at {path}")
    rows, rejected = FieldRows(), []
    blank = True
    objects = 0  # lines that are JSON objects, with or without the field
    fields_seen: set[str] = set()  # only needed, so only collected, until a row has the field
    with path.open("rb") as fh:  # lines end at b"\n" only, as reasoneval.jsonl.split_lines
        for index, raw in enumerate(fh):
            line = raw.removesuffix(b"\n")
            blank = blank and not line.strip()
            reason, row = None, None
            try:
                row = parse_line(line)
            except BadLine as err:
                reason = str(err)
            if reason is None:
                if isinstance(row, dict):
                    objects += 1
                    if not rows.lines:
                        fields_seen.update(row)
                    if not isinstance(row.get(field), str):
                        reason = f"field {field!r} missing or not a string"
                else:
                    reason = "not a JSON object"
            if reason is None and isinstance(row, dict):
                rows.lines.append(index)
                rows.texts.append(row[field])
            else:
                rejected.append(
                    {"line": index, "reason": reason, "record": line.decode("utf-8", "replace")}
                )
    if blank:
        raise InputError(f"{path} is empty")
    if objects and not rows:
        # A mistyped --field rejects every row and used to exit 0 with nothing kept (issue 16).
        raise InputError(
            f"--field {field!r} is a string in none of the {objects} rows of {path}; "
            f"fields there: {', '.join(map(repr, sorted(fields_seen)[:8])) or 'none'}"
        )
    return rows, rejected


def summary_line(summary: dict[str, Any], out: Path) -> str:
    """The one line `datacheck dedup` prints, in the shape of `datacheck clean`'s."""
    return (
        f"{summary['rows']} rows: {summary['kept']} kept, {summary['duplicates']} near-duplicates "
        f"in {summary['clusters']} clusters, {summary['rejected']} rejected; "
        f"report at {out / 'report.json'}"
    )


def _write_kept_lines(path: Path, out: Path, skip: set[int]) -> None:
    """The kept rows verbatim, line by line from the source: nothing re-serialised (unless a raw
    line break inside a string forces it), nothing held in memory, renamed into place."""
    tmp = out.with_name(f".{out.name}.tmp")
    with path.open("rb") as source, tmp.open("wb") as sink:
        for index, raw in enumerate(source):
            if index in skip:
                continue
            line = raw.removesuffix(b"\n")
            if not line.isascii() and any(b in line for b in _LINE_BREAKING):
                line = dumps_line(parse_line(line)).encode("utf-8")
            sink.write(line + b"\n")
    tmp.replace(out)


def _records(path: Path, wanted: set[int]) -> dict[int, Any]:
    with path.open("rb") as fh:
        return {i: parse_line(raw.removesuffix(b"\n")) for i, raw in enumerate(fh) if i in wanted}


def dedup_file(path: Path, field: str, out: Path, config: DedupConfig) -> dict[str, Any]:
    rows, rejected = read_field(path, field)
    lines = rows.lines
    result = near_duplicate_clusters(rows.texts, config)
    rows.texts = []
    removed: dict[int, int] = {}
    clusters = []
    for members in result.clusters:
        keep = members[0]  # lowest line index survives
        clusters.append({"kept": lines[keep], "members": [lines[i] for i in members]})
        for i in members[1:]:
            removed[i] = keep
    records = _records(path, {lines[i] for i in removed})
    duplicates = [
        {"line": lines[i], "duplicate_of": lines[k], "record": records[lines[i]]}
        for i, k in sorted(removed.items())
    ]
    summary = {
        "schema_version": SCHEMA_VERSION,
        "rows": len(lines) + len(rejected),
        "kept": len(lines) - len(removed),
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
    out.mkdir(parents=True, exist_ok=True)
    skip = {lines[i] for i in removed} | {r["line"] for r in rejected}
    _write_kept_lines(path, out / "kept.jsonl", skip)
    atomic_write(out / "duplicates.jsonl", _jsonl(duplicates))
    atomic_write(out / "rejected.jsonl", _jsonl(rejected))
    atomic_write(out / "clusters.jsonl", _jsonl(clusters))
    atomic_write(out / "report.json", json.dumps(summary, indent=2) + "\n")
    return summary
