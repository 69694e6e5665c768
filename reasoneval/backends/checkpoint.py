"""What a CKPT argument points at: a full model directory, or a PEFT adapter over a base model.

Both backends serve adapters by merging them into the base (PEFT ``merge_and_unload``): the HF
backend merges in memory, vLLM gets a merged copy written once to a cache directory keyed by the
adapter's bytes. vLLM's own LoRA path would avoid the copy, but it needs ``enable_lora`` and a
LoRA rank/module set known up front, and merged weights are what a user deploys anyway.

A GGUF file (or a directory holding one) is converted once into a safetensors checkpoint in the
cache (reasoneval.gguf) and served from there by both backends.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasoneval.cache_root import cache_root
from reasonkit.checkpoint_files import check_remote_code, check_weights
from reasonkit.errors import InputError

ADAPTER_CONFIG = "adapter_config.json"
_TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json")


@dataclass(frozen=True, slots=True)
class ResolvedCheckpoint:
    model_dir: Path  # the full (base) model
    adapter_dir: Path | None  # a PEFT adapter to apply on top, if any
    tokenizer_dir: Path  # the adapter's own tokenizer when it saved one, else the base's
    gguf: Path | None = None  # the GGUF file model_dir was converted from, if any


def _has_tokenizer(path: Path) -> bool:
    return any((path / name).is_file() for name in _TOKENIZER_FILES)


def _find_base(adapter_dir: Path, base: str) -> Path:
    # PEFT records whatever path or hub id training used; without hub access it must be local.
    candidates = [Path(base).expanduser()]
    if not candidates[0].is_absolute():
        candidates.append(adapter_dir / base)
    for cand in candidates:
        if (cand / "config.json").is_file():
            return cand.resolve()
    raise InputError(
        f"adapter {adapter_dir} names base model {base!r}, which is not a local model directory "
        "(no hub access here; pass the base explicitly)"
    )


def resolve_checkpoint(
    path: str | os.PathLike[str],
    *,
    base: str | None = None,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
) -> ResolvedCheckpoint:
    """Classify CKPT and check what it holds (reasonkit.checkpoint_files) before any loader runs.

    ``base`` overrides the adapter's recorded ``base_model_name_or_path``."""
    resolved = _classify(Path(path).expanduser(), base)
    check_weights(resolved.model_dir, allow_pickle=allow_pickle)
    check_remote_code(resolved.model_dir, trust_remote_code=trust_remote_code)
    if resolved.adapter_dir is not None:
        check_weights(resolved.adapter_dir, allow_pickle=allow_pickle, adapter=True)
        check_remote_code(resolved.adapter_dir, trust_remote_code=trust_remote_code)
    return resolved


def _classify(ckpt: Path, base: str | None) -> ResolvedCheckpoint:
    from reasoneval.gguf import converted_checkpoint, find_gguf

    gguf_file = find_gguf(ckpt) if ckpt.exists() else None
    if gguf_file is not None:
        converted = converted_checkpoint(gguf_file)
        return ResolvedCheckpoint(converted, None, converted, gguf_file.resolve())
    if not ckpt.is_dir():
        raise InputError(f"checkpoint {ckpt} is not a directory or a .gguf file")
    adapter_cfg = ckpt / ADAPTER_CONFIG
    if adapter_cfg.is_file():
        try:
            recorded = json.loads(adapter_cfg.read_text(encoding="utf-8"))["base_model_name_or_path"]
        except KeyError:
            recorded = None
        except (ValueError, TypeError, RecursionError) as exc:  # bad JSON, bytes or shape
            raise InputError(f"{adapter_cfg} is not a readable JSON object ({exc})") from None
        name = base or recorded
        if not name:
            raise InputError(
                f"{adapter_cfg} has no base_model_name_or_path; pass the base explicitly"
            )
        model_dir = _find_base(ckpt, name)
        tok = ckpt if _has_tokenizer(ckpt) else model_dir
        return ResolvedCheckpoint(model_dir, ckpt.resolve(), tok.resolve())
    if not (ckpt / "config.json").is_file():
        raise InputError(
            f"{ckpt} has neither config.json (a model) nor {ADAPTER_CONFIG} (an adapter)"
        )
    return ResolvedCheckpoint(ckpt.resolve(), None, ckpt.resolve())


def _adapter_digest(ckpt: ResolvedCheckpoint) -> str:
    assert ckpt.adapter_dir is not None
    h = hashlib.sha256(str(ckpt.model_dir).encode())
    for f in sorted(ckpt.adapter_dir.iterdir()):
        if f.is_file() and f.name.startswith("adapter_"):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def default_cache_dir() -> Path:
    return cache_root() / "merged"


def merge_adapter(
    ckpt: ResolvedCheckpoint, *, cache_dir: Path | None = None, trust_remote_code: bool = False
) -> Path:
    """A full model directory with the adapter merged in (reused if already in the cache)."""
    if ckpt.adapter_dir is None:
        return ckpt.model_dir
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = (cache_dir or default_cache_dir()) / _adapter_digest(ckpt)
    if (out / "config.json").is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        base: Any = AutoModelForCausalLM.from_pretrained(
            ckpt.model_dir, dtype="auto", use_safetensors=True, trust_remote_code=trust_remote_code
        )
        tokenizer = AutoTokenizer.from_pretrained(
            ckpt.tokenizer_dir, trust_remote_code=trust_remote_code
        )
        if base.get_input_embeddings().num_embeddings < len(tokenizer):
            base.resize_token_embeddings(len(tokenizer))  # the adapter grew the vocabulary
        with torch.inference_mode():
            merged = PeftModel.from_pretrained(base, ckpt.adapter_dir).merge_and_unload()
        merged.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        tmp.chmod(0o755)
        try:
            os.replace(tmp, out)
        except OSError:  # another process merged the same adapter first; its copy is identical
            if not (out / "config.json").is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
