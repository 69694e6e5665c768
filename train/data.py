"""datacheck's kept rows -> prompt/completion datasets in the one shared ChatML ``<think>`` format."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reasonkit import kept_rows
from reasonkit.kept_rows import KeptRow, KeptRowsError
from reasonkit.prompting import build_prompt, format_completion

# `datasets` is imported on use, so a bad input file fails before the heavy imports.
if TYPE_CHECKING:
    from datasets import Dataset


class TrainDataError(ValueError):
    """A kept-rows file that cannot be trained on; the message names the file and line."""


def read_kept_rows(path: str | Path) -> list[KeptRow]:
    """reasonkit's kept-row reader for training: an unreadable or empty file is a TrainDataError
    (exit 2 in train's CLIs), since a bad row must stop the run rather than vanish from the data."""
    try:
        rows = kept_rows.read_kept_rows(path)
    except KeptRowsError as exc:
        raise TrainDataError(str(exc)) from None
    if not rows:
        raise TrainDataError(f"{Path(path)}: no rows")
    return rows


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def select_rows(rows: list[KeptRow], max_samples: int | None, seed: int) -> list[KeptRow]:
    """A seeded shuffle, then the first ``max_samples`` (Tiny-Reason trains on a 2,000-row sample)."""
    order = list(rows)
    random.Random(seed).shuffle(order)
    return order if max_samples is None else order[:max_samples]


def sft_dataset(rows: list[KeptRow], tokenizer: Any) -> Dataset:
    """Prompt/completion pairs: TRL's SFTTrainer then puts the loss on the completion only."""
    from datasets import Dataset

    eos = tokenizer.eos_token
    if not eos:
        raise TrainDataError("tokenizer has no eos_token; the completion could not be terminated")
    return Dataset.from_dict(
        {
            "id": [r.id for r in rows],
            "prompt": [build_prompt(r.question, tokenizer=tokenizer) for r in rows],
            "completion": [format_completion(r.reasoning, r.final_answer) + eos for r in rows],
        }
    )


def grpo_dataset(rows: list[KeptRow], tokenizer: Any) -> Dataset:
    """Prompts plus the gold answer, which GRPOTrainer passes to reward functions by column name."""
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "id": [r.id for r in rows],
            "prompt": [build_prompt(r.question, tokenizer=tokenizer) for r in rows],
            "final_answer": [r.final_answer for r in rows],
        }
    )


def split_train_eval(
    dataset: Dataset, eval_fraction: float, seed: int
) -> tuple[Dataset, Dataset | None]:
    if eval_fraction <= 0:
        return dataset, None
    n_eval = max(1, round(len(dataset) * eval_fraction))
    if n_eval >= len(dataset):
        raise TrainDataError(
            f"{len(dataset)} rows are too few for a {eval_fraction:.0%} validation split"
        )
    parts = dataset.train_test_split(test_size=n_eval, seed=seed, shuffle=True)
    return parts["train"], parts["test"]
