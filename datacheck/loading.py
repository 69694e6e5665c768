"""Reading GSM8K (hub or local copy), the synthetic set, or any JSONL into Problems.

Every line becomes a Problem or an `input` Rejection saying what was wrong with it, so the
"every row kept or rejected" count holds from the first byte. Whole-source failures (missing
file, empty file, hub unreachable) are InputErrors: one line, exit status 2.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datacheck.parsing import parse_problem
from datacheck.records import Problem, Rejection
from reasonkit.errors import InputError
from reasonkit.jsonl import BadLine, find_lone_surrogate, parse_line, split_lines

GSM8K_ENV = "GSM8K_DIR"
GSM8K_HUB = ("openai/gsm8k", "main")
GSM8K_SPLITS = ("train", "test")
INPUT_CHECK = "input"


@dataclass(frozen=True, slots=True)
class SourceSpec:
    name: str  # "gsm8k", "synthetic", or a path to a JSONL file
    data_dir: Path | None = None
    question_field: str = "question"
    answer_field: str = "answer"
    split: str = "train"  # the split a single JSONL file is taken as
    seed: int = 0


@dataclass(slots=True)
class LoadedSplit:
    split: str
    problems: list[Problem] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.problems) + len(self.rejections)


@dataclass(frozen=True, slots=True)
class LoadedSource:
    splits: dict[str, LoadedSplit]
    input_hashes: dict[str, str]  # file name (or hub id) -> sha256 of the bytes read


def load_source(spec: SourceSpec) -> LoadedSource:
    if spec.name == "gsm8k":
        data_dir = spec.data_dir or (
            Path(os.environ[GSM8K_ENV]) if os.environ.get(GSM8K_ENV) else None
        )
        if data_dir is None:
            return _load_gsm8k_hub(spec)
        if not data_dir.is_dir():
            raise InputError(f"--data-dir {data_dir} is not a directory")
        files = {split: data_dir / f"{split}.jsonl" for split in GSM8K_SPLITS}
        return _load_files(files, prefix="gsm8k", spec=spec)
    if spec.name == "synthetic":
        return _load_synthetic(spec)
    path = Path(spec.name)
    if not path.is_file():
        raise InputError(f"dataset must be gsm8k, synthetic or a JSONL file; no file at {path}")
    return _load_files({spec.split: path}, prefix=path.stem, spec=spec)


def _load_files(files: Mapping[str, Path], *, prefix: str, spec: SourceSpec) -> LoadedSource:
    splits, hashes = {}, {}
    for split, path in files.items():
        if not path.is_file():
            raise InputError(f"missing {path} (expected {', '.join(files)} as .jsonl files)")
        data = path.read_bytes()
        hashes[path.name] = hashlib.sha256(data).hexdigest()
        lines = split_lines(data)
        if not any(line.strip() for line in lines):
            raise InputError(f"{path} is empty")
        splits[split] = _parse_lines(lines, prefix=prefix, split=split, spec=spec)
        _require_fields(splits[split], path, spec)
    return LoadedSource(splits, hashes)


def _require_fields(loaded: LoadedSplit, path: Path, spec: SourceSpec) -> None:
    """A field no row has is a mistyped --question-field/--answer-field: bad usage (exit 2), not
    a run that rejects every row and exits 0 (issue 16)."""
    if loaded.problems:
        return
    objects = [r.source for r in loaded.rejections if isinstance(r.source, Mapping)]
    for flag, name in (("--question-field", spec.question_field),
                       ("--answer-field", spec.answer_field)):  # fmt: skip
        if objects and not any(name in row for row in objects):
            seen = sorted({key for row in objects for key in row})
            raise InputError(
                f"{flag} {name!r} is in none of the {len(objects)} rows of {path}; "
                f"fields there: {', '.join(map(repr, seen[:8]))}"
            )


def _parse_lines(lines: list[bytes], *, prefix: str, split: str, spec: SourceSpec) -> LoadedSplit:
    loaded = LoadedSplit(split)
    for index, line in enumerate(lines):
        row_id = f"{prefix}/{split}/{index}"
        try:
            row = parse_line(line)
        except BadLine as err:
            reason = "blank line" if not line.strip() else str(err)
            raw = line.decode("utf-8", errors="replace")  # the line travels with its rejection
            loaded.rejections.append(Rejection(row_id, split, INPUT_CHECK, reason, raw))
            continue
        _add_row(loaded, row, row_id=row_id, index=index, spec=spec)
    return loaded


def _add_row(loaded: LoadedSplit, row: Any, *, row_id: str, index: int, spec: SourceSpec) -> None:
    reason = _row_problem(row, spec)
    if reason is not None:
        source = row if isinstance(row, dict) else json.dumps(row)
        loaded.rejections.append(Rejection(row_id, loaded.split, INPUT_CHECK, reason, source))
        return
    problem = parse_problem(
        id=row_id,
        split=loaded.split,
        index=index,
        question=row[spec.question_field],
        answer=row[spec.answer_field],
        source=row,
    )
    loaded.problems.append(problem)


def _row_problem(row: Any, spec: SourceSpec) -> str | None:
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    surrogate = find_lone_surrogate(row)
    if surrogate is not None:  # no tokenizer can encode it, and it is never intended text
        return f"holds a lone surrogate {surrogate}, which is not valid Unicode"
    for name in (spec.question_field, spec.answer_field):
        if name not in row:
            return f"missing field {name!r}"
        if not isinstance(row[name], str):
            return f"field {name!r} is {type(row[name]).__name__}, expected a string"
    return None


def rows_source(
    rows_by_split: Mapping[str, Iterable[Mapping[str, Any]]], prefix: str, spec: SourceSpec
) -> LoadedSource:
    """Rows already in memory as a source: each row is checked as a file's line would be."""
    splits, hashes = {}, {}
    for split, rows in rows_by_split.items():
        loaded = LoadedSplit(split)
        digest = hashlib.sha256()
        for index, row in enumerate(rows):
            row = dict(row)
            digest.update(json.dumps(row, sort_keys=True).encode("utf-8") + b"\n")
            _add_row(loaded, row, row_id=f"{prefix}/{split}/{index}", index=index, spec=spec)
        if loaded.n_rows == 0:
            raise InputError(f"{prefix} split {split!r} is empty")
        splits[split] = loaded
        hashes[f"{prefix}/{split}"] = digest.hexdigest()
    return LoadedSource(splits, hashes)


def _load_gsm8k_hub(spec: SourceSpec) -> LoadedSource:
    try:
        import datasets
        from huggingface_hub.utils import logging as hub_logging

        # The hub client logs each retry; the one-line error below says all the user needs.
        datasets.logging.set_verbosity_error()
        hub_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        dataset = datasets.load_dataset(*GSM8K_HUB)
    except Exception as err:  # any hub failure becomes the same actionable one-liner
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        raise InputError(
            f"cannot load {GSM8K_HUB[0]} from the Hugging Face hub ({first_line}); "
            f"pass --data-dir DIR holding train.jsonl and test.jsonl, or set {GSM8K_ENV}"
        ) from None
    return rows_source({split: dataset[split] for split in GSM8K_SPLITS}, "gsm8k", spec)


def _load_synthetic(spec: SourceSpec) -> LoadedSource:
    # Imported here: the synthetic generator is an optional sibling module.
    from datacheck.synthetic import generate_synthetic

    generated = generate_synthetic(None, seed=spec.seed)
    return rows_source({split: rows for split, rows in generated.splits.items() if rows}, "synthetic", spec)
