"""Fixtures shared across the test suite: one tiny checkpoint per session, the GSM8K copy."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from reasoneval.backends import Backend

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip by capability: `gpu` tests run wherever CUDA is present, and skip with why elsewhere."""
    if not any("gpu" in item.keywords for item in items):
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (torch.cuda.is_available() is False)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Qwen2 checkpoint (reasoneval.tiny_model defaults, seed 0), built once."""
    from reasoneval.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


@pytest.fixture(scope="session")
def gsm8k_dir() -> Path:
    """The real GSM8K copy: $GSM8K_DIR, else ../shared/data/gsm8k beside the repository."""
    path = Path(os.environ.get("GSM8K_DIR") or REPO_ROOT.parent / "shared" / "data" / "gsm8k")
    if not (path / "test.jsonl").is_file():
        pytest.skip(f"GSM8K not found at {path} (set GSM8K_DIR)")
    return path


@pytest.fixture(scope="session")
def vllm_tiny_backend(tiny_model_dir: Path) -> Iterator[Backend]:
    """One vLLM engine on the tiny model for the whole session (start-up costs ~25 s on 2 cores)."""
    pytest.importorskip("vllm")
    from reasoneval.backends import load_backend

    # eager mode: torch.compile would add ~30 s to start-up for a model this small
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    backend = load_backend(
        "vllm", tiny_model_dir, seed=0, max_model_len=512, enforce_eager=True, use_tqdm=False
    )
    yield backend
    backend.close()
