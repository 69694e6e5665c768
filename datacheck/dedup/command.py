"""`datacheck dedup`: near-duplicate clusters of one text field of any JSONL file."""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datacheck.dedup.clusters import (
    DedupConfig,
    near_duplicate_clusters,
    streamed_near_duplicate_clusters,
)
from datacheck.records import SCHEMA_VERSION
from reasonkit.artifacts import atomic_write_text as atomic_write
from reasonkit.artifacts import package_versions
from reasonkit.errors import InputError
from reasonkit.jsonl import BadLine, dumps_line, parse_line
from reasonkit.jsonl import jsonl_text as _jsonl

# UTF-8 of U+2028, U+2029 and U+0085: str.splitlines breaks at them (see reasonkit.jsonl), so a
# kept line holding one raw is written re-serialised, escaped, instead of verbatim.
_LINE_BREAKING = (b"\xe2\x80\xa8", b"\xe2\x80\xa9", b"\xc2\x85")


@dataclass(slots=True)
class FieldRows:
    """The line index and text of every row with a string field; only the texts are held: at 1M
    rows the parsed records would cost more memory than the whole deduplication."""

    lines: array[int] = field(default_factory=lambda: array("q"))  # 8 bytes a row, not ~36
    texts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)


def read_field(path: Path, field: str) -> tuple[FieldRows, list[dict[str, Any]]]:
    """Rows with a string `field`, and a rejection (with reason) for every other line."""
    rows, rejected = FieldRows(), list[dict[str, Any]]()
    for texts in field_batches(path, field, rows, rejected):
        rows.texts += texts
    return rows, rejected


def field_batches(
    path: Path, field: str, rows: FieldRows, rejected: list[dict[str, Any]], size: int = 4096
) -> Iterator[list[str]]:
    """The texts of rows with a string `field`, `size` at a time, as the file is read: each
    row's line index goes into `rows.lines`, each other line into `rejected` with its reason.
    A file with nothing to read (empty, or the field in no row) is an InputError at the end."""
    if not path.is_file():
        raise InputError(f"no file at {path}")
    blank = True
    objects = 0  # lines that are JSON objects, with or without the field
    fields_seen: set[str] = set()  # only needed, so only collected, until a row has the field
    texts: list[str] = []
    with path.open("rb") as fh:  # lines end at b"\n" only, as reasonkit.jsonl.split_lines
        for index, raw in enumerate(fh):
            line = raw.removesuffix(b"\n")
            blank = blank and not line.strip()
            try:
                row = parse_line(line)
            except BadLine as err:
                rejected.append(_rejection(index, str(err), line))
                continue
            if not isinstance(row, dict):
                rejected.append(_rejection(index, "not a JSON object", line))
                continue
            objects += 1
            if not rows.lines:
                fields_seen.update(row)
            text = row.get(field)
            if not isinstance(text, str):
                rejected.append(_rejection(index, f"field {field!r} missing or not a string", line))
                continue
            rows.lines.append(index)
            texts.append(text)
            if len(texts) == size:
                yield texts
                texts = []
    if texts:
        yield texts
    if blank:
        raise InputError(f"{path} is empty")
    if objects and not rows:
        # A mistyped --field rejects every row and used to exit 0 with nothing kept (issue 16).
        raise InputError(
            f"--field {field!r} is a string in none of the {objects} rows of {path}; "
            f"fields there: {', '.join(map(repr, sorted(fields_seen)[:8])) or 'none'}"
        )


def _rejection(index: int, reason: str, line: bytes) -> dict[str, Any]:
    return {"line": index, "reason": reason, "record": line.decode("utf-8", "replace")}


def summary_line(summary: dict[str, Any], out: Path) -> str:
    """The one line `datacheck dedup` prints, in the shape of `datacheck clean`'s."""
    return (
        f"{summary['rows']} rows: {summary['kept']} kept, {summary['duplicates']} near-duplicates "
        f"in {summary['clusters']} clusters, {summary['rejected']} rejected; "
        f"report at {out / 'report.json'}"
    )


def _json_of_line(line: bytes) -> bytes:
    """A line that parsed as JSON, as JSON text for one output line: as it stands (JSON
    whitespace at its ends dropped), unless a raw carriage return or line-breaking character
    would split the line for some readers; those lines are re-serialised, escaped."""
    line = line.strip(b" \t\r")
    if b"\r" in line or (not line.isascii() and any(b in line for b in _LINE_BREAKING)):
        return dumps_line(parse_line(line)).encode("utf-8")
    return line


def _write_from_source(path: Path, out: Path, removed: dict[int, int], rejected: set[int]) -> None:
    """kept.jsonl and duplicates.jsonl in one pass over the source, nothing held in memory.

    Kept rows are written verbatim (unless a raw line break inside a string forces a
    re-serialisation); each duplicate's record is its source line (_json_of_line), not the
    parsed row dumped again. Both files are written beside their place and renamed into it."""
    kept_tmp, dups_tmp = out / ".kept.jsonl.tmp", out / ".duplicates.jsonl.tmp"
    with path.open("rb") as source, kept_tmp.open("wb") as kept, dups_tmp.open("wb") as dups:
        for index, raw in enumerate(source):
            line = raw.removesuffix(b"\n")
            if index in removed:
                dups.write(
                    b'{"line": %d, "duplicate_of": %d, "record": %s}\n'
                    % (index, removed[index], _json_of_line(line))
                )
            elif index not in rejected:
                if not line.isascii() and any(b in line for b in _LINE_BREAKING):
                    line = dumps_line(parse_line(line)).encode("utf-8")
                kept.write(line + b"\n")
    kept_tmp.replace(out / "kept.jsonl")
    dups_tmp.replace(out / "duplicates.jsonl")


def dedup_file(path: Path, field: str, out: Path, config: DedupConfig) -> dict[str, Any]:
    if config.engine == "ray":  # its stages take the whole list of texts
        rows, rejected = read_field(path, field)
        result = near_duplicate_clusters(rows.texts, config)
        rows.texts = []
    else:  # the local engine hashes each batch as it is read: no text held past its batch
        rows, rejected = FieldRows(), list[dict[str, Any]]()
        batches = field_batches(path, field, rows, rejected, config.batch_size)
        result = streamed_near_duplicate_clusters(batches, config)
    lines = rows.lines
    removed: dict[int, int] = {}  # source line -> the line of the member its cluster keeps
    cluster_lines = []
    for members in result.clusters:
        kept = lines[members[0]]  # lowest line index survives
        cluster_lines.append(
            f'{{"kept": {kept}, "members": [{", ".join(str(lines[i]) for i in members)}]}}\n'
        )
        for i in members[1:]:
            removed[lines[i]] = kept
    summary = {
        "schema_version": SCHEMA_VERSION,
        "rows": len(lines) + len(rejected),
        "kept": len(lines) - len(removed),
        "duplicates": len(removed),
        "rejected": len(rejected),
        "clusters": len(cluster_lines),
        "candidates": result.n_candidates,
        "verified_edges": len(result.edges),
        "bands": result.bands,
        "rows_per_band": result.rows,
        "threshold": config.threshold,
        "versions": package_versions(),
    }
    out.mkdir(parents=True, exist_ok=True)
    _write_from_source(path, out, removed, {r["line"] for r in rejected})
    atomic_write(out / "rejected.jsonl", _jsonl(rejected))
    atomic_write(out / "clusters.jsonl", "".join(cluster_lines))
    atomic_write(out / "report.json", json.dumps(summary, indent=2) + "\n")
    return summary
