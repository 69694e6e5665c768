"""Random bytes and random JSON into every JSONL reader: a reason or rows, never a traceback.

And the round trip: whatever any writer writes, every reader reads back unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from datacheck.dedup.command import read_field
from datacheck.loading import SourceSpec, load_source
from reasoneval.cache import GenerationCache
from reasoneval.records import Completion
from reasonkit.errors import InputError
from reasonkit.jsonl import BadLine, dumps_line, jsonl_text, parse_line, read_objects
from train.data import TrainDataError, read_kept_rows

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

# Strings from all of Unicode, lone surrogates and the line separators included.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=30) | st.sampled_from(
    ["\u2028", "\u2029", "\u0085", "\ud800", "a\udfffb", "\r", "\x1c", "\x1e", "\x0b"]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
HOSTILE_LINES = st.sampled_from([b"[" * 100_000, b"9" * 5000, b'{"a": ' + b"[" * 2000 + b"]" * 2000 + b"}"])
LINES = st.lists(
    st.binary(max_size=60)
    | JSON_VALUES.map(lambda v: json.dumps(v).encode())
    | HOSTILE_LINES,
    max_size=6,
)


_WORKDIR = tempfile.TemporaryDirectory(prefix="reader-fuzz-")


def _file(data: bytes) -> Path:
    path = Path(_WORKDIR.name) / "in.jsonl"
    path.write_bytes(data)
    return path


@FUZZ
@given(LINES)
@example([b'{"\\n":null}'])  # a key holding a newline once made the exit-2 message two lines
def test_datacheck_reader_rejects_or_keeps_every_line(lines: list[bytes]) -> None:
    data = b"".join(line.replace(b"\n", b" ") + b"\n" for line in lines)
    try:
        source = load_source(SourceSpec(str(_file(data))))
    except InputError as err:  # only an empty file, or a field no JSON-object line has (issue 16)
        if "is in none of the" not in str(err):
            assert not any(line.strip() for line in data.split(b"\n"))
        else:
            assert "\n" not in str(err) and _objects(data)
        return
    assert source.splits["train"].n_rows == len(lines)  # every line kept or rejected
    try:
        rows, rejected = read_field(_file(data), "question")  # datacheck dedup's reader
    except InputError as err:
        objects = _objects(data)
        assert "\n" not in str(err) and objects and not any("question" in x for x in objects)
        return
    assert len(rows) + len(rejected) == len(lines)


def _objects(data: bytes) -> list[dict[str, Any]]:
    """The lines that parse to JSON objects, as both readers parse them."""
    objects = []
    for line in data.split(b"\n")[:-1]:
        try:
            value = parse_line(line)
        except BadLine:
            continue
        if isinstance(value, dict):
            objects.append(value)
    return objects


@FUZZ
@given(st.binary(max_size=300) | LINES.map(b"\n".join))
def test_reasoneval_and_train_readers_give_a_reason_or_rows(data: bytes) -> None:
    path = _file(data)
    try:
        read_objects(path)
    except InputError as exc:
        assert "\n" not in str(exc)
    try:
        read_kept_rows(path)
    except TrainDataError as exc:
        assert "\n" not in str(exc)


COMPLETIONS = st.lists(st.builds(Completion, ANY_TEXT, st.sampled_from(["stop", "length"]),
                                 st.integers(0, 9), st.integers(0, 9)), max_size=3)  # fmt: skip
CACHE_ENTRY = st.tuples(st.sampled_from(["k1", "k2", "k3"]), COMPLETIONS)  # repeated keys: last wins


@FUZZ
@given(st.lists(CACHE_ENTRY | st.binary(max_size=60), max_size=8), st.binary(max_size=40))
def test_the_resume_cache_keeps_exactly_its_whole_entries(
    lines: list[tuple[str, list[Completion]] | bytes], tail: bytes
) -> None:
    """Whole entries are kept (the last of a key wins), a damaged line is dropped, and the cut
    last line of a killed run is truncated away, so appending after it starts a clean line."""
    encoded, expected = [], {}
    for line in lines:
        if isinstance(line, bytes):
            encoded.append(line.replace(b"\n", b" "))  # damage: not an entry
        else:
            key, comps = line
            record = {"key": key, "completions": [dataclasses.asdict(c) for c in comps]}
            encoded.append(dumps_line(record).encode())
            expected[key] = comps
    tail = tail.replace(b"\n", b" ")
    path = _file(b"".join(x + b"\n" for x in encoded) + tail)
    cache = GenerationCache(path)
    assert {k: cache.get(k) for k in ("k1", "k2", "k3") if k in cache} == expected
    assert len(cache) == len(expected)
    assert path.read_bytes().endswith(b"\n") or not path.read_bytes()  # the fragment is gone
    new = [Completion("appended", "stop", 1, 1)]
    cache.put_many({"k9": new})
    reopened = GenerationCache(path)
    assert reopened.get("k9") == new and len(reopened) == len(expected) + 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=4), max_size=5))
def test_every_reader_reads_what_the_writer_writes(rows: list[dict[str, Any]]) -> None:
    data = jsonl_text(rows).encode("utf-8")  # strict UTF-8: the writer never fails
    assert len(data.splitlines()) == len(rows)  # bytes.splitlines breaks at \n, \r and nothing else
    assert read_objects(_file(data)) == rows
