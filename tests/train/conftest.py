"""Fixtures for the training tests: a small kept-rows file in datacheck's format, and fast configs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from train.grpo import GRPORunConfig
from train.sft import SFTRunConfig


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    # The CI box has 2 cores shared with other jobs; tiny models gain nothing from more threads.
    import torch

    torch.set_num_threads(1)


def write_kept_rows(path: Path, n: int = 20) -> Path:
    """Rows as datacheck writes them to OUT/kept/<split>.jsonl."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            a, b = 3 + i, 4 + 2 * i
            row = {
                "question": f"Ava has {a} apples and buys {b} more. How many apples does she have?",
                "answer": f"Ava has {a}+{b}=<<{a}+{b}={a + b}>>{a + b} apples.\n#### {a + b}",
                "id": f"synthetic/train/{i}",
                "split": "train",
                "reasoning": f"Ava has {a}+{b}={a + b} apples.",
                "final_answer": str(a + b),
            }
            fh.write(json.dumps(row) + "\n")
    return path


@pytest.fixture(scope="session")
def kept_rows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kept_rows(tmp_path_factory.mktemp("kept") / "train.jsonl")


_FAST: dict[str, Any] = {
    "load_in_4bit": False,
    "gradient_checkpointing": False,
    "logging_steps": 1,
    "save_steps": 1000,  # no checkpoints unless a test asks for them
    "warmup_steps": 0,
    "per_device_train_batch_size": 2,
    "gradient_accumulation_steps": 1,
}


SftFactory = Callable[..., SFTRunConfig]
GrpoFactory = Callable[..., GRPORunConfig]


@pytest.fixture
def make_sft_config(tiny_model_dir: Path, kept_rows: Path, tmp_path: Path) -> SftFactory:
    """A fast SFT config on the shared tiny model: full precision, no checkpoints, no eval by default."""

    def make(**overrides: Any) -> SFTRunConfig:
        fields = {
            "model_name_or_path": str(tiny_model_dir),
            "train_file": str(kept_rows),
            "output_dir": str(tmp_path / "sft"),
            "eval_steps": 1000,
            **_FAST,
            **overrides,
        }
        return SFTRunConfig(**fields)

    return make


@pytest.fixture
def make_grpo_config(tiny_model_dir: Path, kept_rows: Path, tmp_path: Path) -> GrpoFactory:
    def make(**overrides: Any) -> GRPORunConfig:
        fields = {
            "model_name_or_path": str(tiny_model_dir),
            "train_file": str(kept_rows),
            **_FAST,
            "per_device_train_batch_size": 4,
            "num_generations": 4,
            "max_completion_length": 12,
            "log_samples_per_step": 0,
            "output_dir": str(tmp_path / "grpo"),
            **overrides,
        }
        return GRPORunConfig(**fields)

    return make
