"""Loading the base model (NF4 or full precision), the LoRA config, and merging an SFT adapter."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from train.config import ConfigError, RunConfig
from train.hardware import Hardware

# Seconds to wait for the hub before saying it is unreachable. Left to itself, the hub client
# retried an unreachable hub for 58 s, then transformers raised a 90-line traceback (issue 16).
HUB_PROBE_TIMEOUT_S = 10.0


def check_model_source(name: str) -> None:
    """A local directory, a hub id already in the local cache, or one the hub answers for.

    Anything else is a ConfigError (one line, exit 2) within seconds, before any model loads.
    """
    if Path(name).expanduser().is_dir():
        return
    from huggingface_hub import constants, get_session, try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        cached = try_to_load_from_cache(name, "config.json")
    except HFValidationError:
        raise ConfigError(
            f"model_name_or_path {name!r} is neither a local directory nor a hub id"
        ) from None
    if isinstance(cached, str):
        return
    if constants.HF_HUB_OFFLINE:
        raise ConfigError(
            f"model_name_or_path {name!r} is not a local directory, and it is not in the local "
            "hub cache (HF_HUB_OFFLINE is set); pass a local model directory"
        )
    url = f"{constants.ENDPOINT}/api/models/{name}"
    try:
        status = get_session().head(url, timeout=HUB_PROBE_TIMEOUT_S).status_code
    except Exception as exc:  # any transport failure: DNS, refused, timeout, proxy
        raise ConfigError(
            f"model_name_or_path {name!r} is not a local directory and the hub at "
            f"{constants.ENDPOINT} is unreachable ({type(exc).__name__}); pass a local model "
            "directory"
        ) from None
    if status in (401, 404):
        raise ConfigError(
            f"model_name_or_path {name!r} is not a local directory, and the hub has no such "
            f"model (HTTP {status}; gated models need HF_TOKEN)"
        )


def load_tokenizer(path: str, *, trust_remote_code: bool = False) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    if tok.pad_token is None:
        # Qwen ships <|endoftext|> as pad; fall back to eos only for tokenizers without one.
        tok.pad_token = tok.eos_token
    return tok


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "false").lower() == "true"


def _device_map(hw: Hardware) -> dict[str, Any] | None:
    if hw.use_cpu:
        return {"": "cpu"}
    # FSDP and DeepSpeed (set by `accelerate launch`) place parameters themselves.
    if _env_flag("ACCELERATE_USE_FSDP") or _env_flag("ACCELERATE_USE_DEEPSPEED"):
        return None
    # One full copy per process under DDP: each rank loads onto its own GPU.
    from accelerate import PartialState

    return {"": PartialState().local_process_index}


def quantization_config(hw: Hardware) -> Any:
    """NF4 with double quantisation and a compute dtype matched to the hardware (QLoRA, arXiv:2305.14314)."""
    import torch
    from transformers import BitsAndBytesConfig

    fsdp = _env_flag("ACCELERATE_USE_FSDP")
    return BitsAndBytesConfig(  # type: ignore[no-untyped-call]
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=hw.compute_dtype,
        # FSDP shards flat tensors of one dtype, so the packed 4-bit weights must be stored in the
        # same float dtype as the rest (PEFT's FSDP+QLoRA guide).
        bnb_4bit_quant_storage=hw.compute_dtype if fsdp else torch.uint8,
    )


def load_base_model(
    path: str, hw: Hardware, *, load_in_4bit: bool, trust_remote_code: bool = False
) -> Any:
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {
        "dtype": hw.compute_dtype,
        "trust_remote_code": trust_remote_code,
        "use_safetensors": True,
        "device_map": _device_map(hw),
    }
    if load_in_4bit:
        kwargs["quantization_config"] = quantization_config(hw)
    return AutoModelForCausalLM.from_pretrained(path, **kwargs)


def lora_config(cfg: RunConfig) -> Any:
    if cfg.peft == "none":
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=list(cfg.lora_target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


def adapter_base_path(adapter_path: str) -> str:
    import json

    cfg = json.loads((Path(adapter_path) / "adapter_config.json").read_text(encoding="utf-8"))
    base = cfg.get("base_model_name_or_path")
    if not isinstance(base, str) or not base:
        raise ValueError(f"{adapter_path}: adapter_config.json names no base model")
    return base


def merge_adapter(
    base_path: str, adapter_path: str, hw: Hardware, *, trust_remote_code: bool = False
) -> Any:
    """The SFT adapter folded into a NON-quantised base.

    Merging into a 4-bit base would add the LoRA delta to dequantised weights and then round the
    sum back onto the NF4 grid, losing much of a small delta (QLoRA, arXiv:2305.14314; PEFT's
    ``merge_and_unload`` warns about merging into quantised layers). So the base is loaded in the
    compute dtype, merged there, and only re-quantised afterwards if the run asks for 4-bit.
    """
    from peft import PeftModel

    base = load_base_model(base_path, hw, load_in_4bit=False, trust_remote_code=trust_remote_code)
    merged = PeftModel.from_pretrained(base, adapter_path).merge_and_unload()
    return merged


def save_merged(model: Any, tokenizer: Any, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    return out_dir
