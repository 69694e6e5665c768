"""Evaluation problems: GSM8K (local copy or the HF hub), the project's synthetic set, or any JSONL.

Every source becomes a list of :class:`reasoneval.records.Problem` with a stable id; the gold is
the canonical answer from :func:`reasonkit.answers.parse_gold`. A row whose gold does not parse
is an input error, never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reasoneval.records import Problem
from reasonkit.artifacts import read_jsonl
from reasonkit.errors import InputError
from reasonkit.jsonl import find_lone_surrogate
from reasonkit.manifest import check_manifest
from reasonkit.prompting import FewShotExample

GSM8K_ENV = "GSM8K_DIR"
ANSWER_MARKER = "####"


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    name: str  # "gsm8k", "synthetic", or a path to a JSONL file
    split: str = "test"
    data_dir: Path | None = None
    limit: int | None = None
    question_field: str = "question"
    answer_field: str = "answer"
    id_field: str = "id"
    # The synthetic set's generator seed, not the run's: 0 is the set `datacheck clean synthetic`
    # writes, so evaluation sees exactly the held-out rows training never saw.
    seed: int = 0


def _split_solution(answer: str) -> tuple[str | None, str]:
    """GSM8K's ``reasoning\\n#### 72`` -> (reasoning, raw answer); a bare value has no reasoning."""
    if ANSWER_MARKER in answer:
        reasoning, _, final = answer.rpartition(ANSWER_MARKER)
        return reasoning.strip() or None, final.strip()
    return None, answer.strip()


def _to_problem(row: Mapping[str, Any], *, index: int, prefix: str, spec: DatasetSpec) -> Problem:
    from reasonkit.answers import parse_gold

    question = row.get(spec.question_field)
    answer = row.get(spec.answer_field)
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{prefix} row {index}: no text in field {spec.question_field!r}")
    if answer is None or isinstance(answer, bool):
        raise InputError(f"{prefix} row {index}: no answer in field {spec.answer_field!r}")
    solution, raw = _split_solution(str(answer))
    gold = parse_gold(str(answer))
    if gold is None:
        raise InputError(f"{prefix} row {index}: answer {raw[:40]!r} is not a number")
    row_id = row.get(spec.id_field)
    return Problem(
        id=str(row_id) if row_id is not None else f"{prefix}/{spec.split}/{index}",
        question=question,
        gold=gold,
        solution=solution,
        split=spec.split,
    )


def _gsm8k_rows(spec: DatasetSpec) -> list[dict[str, Any]]:
    data_dir = spec.data_dir or (Path(os.environ[GSM8K_ENV]) if os.environ.get(GSM8K_ENV) else None)
    if data_dir is not None:
        path = Path(data_dir) / f"{spec.split}.jsonl"
        if not path.is_file():
            raise InputError(f"GSM8K split file not found: {path}")
        check_manifest(path)  # e.g. --data-dir OUT/kept of a datacheck run
        return read_jsonl(path)
    try:
        import datasets  # lazy: heavy, and only this path needs it

        ds = datasets.load_dataset("openai/gsm8k", "main", split=spec.split)
    except Exception as exc:  # hub errors come in many types; all mean "not available"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise InputError(
            f"cannot load openai/gsm8k from the Hugging Face hub ({first}); "
            f"pass --data-dir or set {GSM8K_ENV} to a local copy"
        ) from None
    return [dict(r) for r in ds]


def _synthetic_rows(spec: DatasetSpec) -> list[dict[str, Any]]:
    from reasonkit.tasks.split import load_split

    try:
        rows: list[dict[str, Any]] = load_split(spec.split, n=spec.limit, seed=spec.seed)
    except ValueError as exc:
        raise InputError(f"synthetic dataset: {exc}") from None
    return rows


def load_problems(spec: DatasetSpec) -> list[Problem]:
    if spec.limit is not None and spec.limit < 1:
        raise InputError(f"--limit must be at least 1, got {spec.limit}")
    if spec.name == "gsm8k":
        rows, prefix = _gsm8k_rows(spec), "gsm8k"
    elif spec.name == "synthetic":
        rows, prefix = _synthetic_rows(spec), "synthetic"
    else:
        path = Path(spec.name)
        if not path.is_file():
            raise InputError(
                f"--dataset must be gsm8k, synthetic or a JSONL file; not found: {path}"
            )
        check_manifest(path)
        rows, prefix = read_jsonl(path), path.stem
    for index, row in enumerate(rows):
        surrogate = find_lone_surrogate(row)
        if surrogate is not None:  # no tokenizer or hash can encode it; name the row instead
            raise InputError(f"{spec.name} row {index}: holds a lone surrogate {surrogate}, "
                             "which is not valid Unicode")
    if spec.limit is not None:
        rows = rows[: spec.limit]
    problems = [_to_problem(r, index=i, prefix=prefix, spec=spec) for i, r in enumerate(rows)]
    if not problems:
        raise InputError(f"dataset {spec.name!r} split {spec.split!r} has no rows")
    seen: set[str] = set()
    for p in problems:
        if p.id in seen:
            # Ids are compared as text (compare's rule too): 0 and "0" are one id.
            raise InputError(f"dataset {spec.name!r}: duplicate id {p.id!r} (ids compare as text)")
        seen.add(p.id)
    return problems


def load_few_shot(spec: DatasetSpec, n: int) -> list[FewShotExample]:
    """The first ``n`` train-split problems that carry a worked solution (fixed, so reproducible)."""
    if n <= 0:
        return []
    if spec.name not in ("gsm8k", "synthetic"):
        raise InputError("--few-shot needs a dataset with a train split (gsm8k or synthetic)")
    train = load_problems(replace(spec, split="train", limit=None))
    shots = [
        FewShotExample(p.question, _strip_calculator(p.solution), p.gold)
        for p in train
        if p.solution
    ][:n]
    if len(shots) < n:
        raise InputError(f"--few-shot {n}: the train split has only {len(shots)} worked examples")
    return shots


def _strip_calculator(text: str | None) -> str:
    # GSM8K's <<48/2=24>> calculator annotations are tool calls, not prose the model should copy.
    return re.sub(r"<<[^<>]*>>", "", text or "")


def dataset_hash(problems: Sequence[Problem]) -> str:
    """sha256 over the problems as evaluated (id, question, gold), in order."""
    h = hashlib.sha256()
    for p in problems:
        h.update(json.dumps([p.id, p.question, p.gold], ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()
