"""Checks a run's settings and its base model before anything heavy loads (exit 2 within a second).

Without them a negative learning rate or a zero batch size failed after 20-40 s of model loading
with a traceback, and ``accuracy_weight: -1`` trained on an inverted reward and exited 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reasonkit.checkpoint_files import CheckpointError, check_remote_code, check_weights

# What the hub accepts as a repo id. Anything else, or a path whose first folder exists here, is
# a local path, which must exist now rather than fail after the hub client's retries.
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


class PreflightError(ValueError):
    """A setting or model the run cannot start from; reported as one line, exit 2."""


def _at_least(cfg: Mapping[str, Any], names: Iterable[str], low: float, *, strict: bool) -> None:
    for name in names:
        value = cfg[name]
        if value is None:
            continue
        if not math.isfinite(value) or (value <= low if strict else value < low):
            relation = ">" if strict else ">="
            raise PreflightError(f"{name} must be a finite number {relation} {low:g}, got {value}")


def check_numbers(cfg: Mapping[str, Any]) -> None:
    """``cfg``: a run config's fields by name (dataclasses.asdict of train.config.RunConfig)."""
    _at_least(cfg, ("learning_rate", "num_train_epochs", "lora_alpha"), 0, strict=True)
    _at_least(cfg, ("warmup_steps", "weight_decay", "max_grad_norm", "lora_dropout"), 0,
              strict=False)
    _at_least(cfg, ("per_device_train_batch_size", "gradient_accumulation_steps", "logging_steps",
                    "save_steps", "save_total_limit", "max_samples"), 1, strict=False)
    if cfg["peft"] == "lora":
        _at_least(cfg, ("lora_r",), 1, strict=False)
    if not cfg["lora_dropout"] < 1:
        raise PreflightError(f"lora_dropout must be below 1, got {cfg['lora_dropout']}")
    from reasonkit.errors import SEED_MAX

    if not 0 <= cfg["seed"] <= SEED_MAX:  # transformers.set_seed hands it to numpy: -1 exited 3
        raise PreflightError(f"seed must be an integer from 0 to {SEED_MAX}, got {cfg['seed']}")
    if cfg["max_steps"] < -1 or cfg["max_steps"] == 0:
        raise PreflightError(
            f"max_steps must be -1 (use epochs) or positive, got {cfg['max_steps']}"
        )


def is_local_path(name: str) -> bool:
    path = Path(name).expanduser()
    if path.exists() or path.is_absolute() or name.startswith((".", "~")):
        return True
    first = Path(name).parts[0] if Path(name).parts else ""
    return not _HUB_ID.fullmatch(name) or (first != name and Path(first).is_dir())


def check_model(name: str, *, trust_remote_code: bool, what: str = "model_name_or_path") -> None:
    """A local base model exists, holds safetensors weights and needs no unflagged remote code."""
    if not is_local_path(name):
        return  # a hub id, resolved by transformers (HF_HUB_OFFLINE=1 makes that immediate)
    path = Path(name).expanduser()
    if path.suffix.lower() == ".gguf" or (
        path.is_dir() and not (path / "config.json").is_file() and any(path.glob("*.gguf"))
    ):  # LoRA needs float weights; the converter writes them once (docs/real-model.md)
        raise PreflightError(f"{what}: {name} is a GGUF model; convert it first with "
                             f"`reasoneval convert-gguf {name} --out DIR` and train on DIR")
    if not (path / "config.json").is_file():
        raise PreflightError(f"{what}: no model directory (with config.json) at {name}")
    try:
        check_weights(path, allow_pickle=False, flag=None)
        check_remote_code(path, trust_remote_code=trust_remote_code, flag="--trust_remote_code")
    except CheckpointError as exc:
        raise PreflightError(f"{what}: {exc}") from None
