"""Generation backends behind one small protocol; vllm and torch load only when one is chosen."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from reasoneval.backends.base import Backend, BackendName, SamplingConfig
from reasoneval.backends.checkpoint import (
    ResolvedCheckpoint,
    default_cache_dir,
    merge_adapter,
    resolve_checkpoint,
)
from reasoneval.backends.choice import Workload, choose_backend  # `auto`: by expected cost

__all__ = [
    "Backend",
    "BackendName",
    "ResolvedCheckpoint",
    "SamplingConfig",
    "Workload",
    "checkpoint_dtype",
    "choose_backend",
    "default_cache_dir",
    "load_backend",
    "merge_adapter",
    "resolve_checkpoint",
]

log = logging.getLogger(__name__)


def checkpoint_dtype(model_dir: Path) -> str:
    """The dtype config.json records, else "auto".

    vLLM reads dtype="auto" as "half precision for float32 checkpoints" (bf16 on CPU) while
    transformers keeps float32; passing the recorded dtype makes both backends compute alike.
    """
    try:
        cfg = json.loads((model_dir / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return "auto"
    recorded = cfg.get("dtype") or cfg.get("torch_dtype")
    return recorded if isinstance(recorded, str) else "auto"


def load_backend(
    name: BackendName,
    model: str | os.PathLike[str],
    *,
    seed: int = 0,
    trust_remote_code: bool = False,
    dtype: str = "auto",
    max_model_len: int | None = None,
    base: str | None = None,
    allow_pickle: bool = False,
    **engine_kwargs: Any,
) -> Backend:
    """Load CKPT (a model or a PEFT adapter directory) into the chosen backend.

    ``engine_kwargs`` go to the engine: ``vllm.LLM`` keywords (``enforce_eager``...) or the HF
    backend's ``batch_size``/``device``.
    """
    chosen, reason = choose_backend(name)
    log.debug("backend %s (%s)", chosen, reason)  # `reasoneval run` logs the choice once
    ckpt = resolve_checkpoint(
        model, base=base, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code
    )
    if chosen == "hf":
        import torch

        from reasoneval.backends.hf import HFBackend

        torch.manual_seed(seed)
        return HFBackend(
            ckpt, dtype=dtype, trust_remote_code=trust_remote_code, max_model_len=max_model_len,
            allow_pickle=allow_pickle, **engine_kwargs,
        )  # fmt: skip
    from reasoneval.backends.vllm_engine import VLLMBackend

    served = merge_adapter(ckpt, trust_remote_code=trust_remote_code)
    tokenizer = served if ckpt.adapter_dir is not None else ckpt.tokenizer_dir
    if dtype == "auto":
        dtype = checkpoint_dtype(served)
    if not allow_pickle:  # vLLM would otherwise fall back to pytorch_model.bin silently
        engine_kwargs.setdefault("load_format", "safetensors")
    return VLLMBackend(
        str(served), tokenizer_dir=str(tokenizer), seed=seed, dtype=dtype,
        trust_remote_code=trust_remote_code, max_model_len=max_model_len, **engine_kwargs,
    )  # fmt: skip
