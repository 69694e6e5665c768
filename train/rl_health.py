"""Is the RL training at all? Per logged GRPO step: reward, spread, dead groups, weight change.

GRPO learns only from groups whose samples disagree: a group whose rewards are all equal has
zero advantage and no gradient (TRL logs the share of such groups as ``frac_reward_zero_std``).
The first embedded recipe moved its adapter by 0.17% of the base weights in 40 steps, and no
figure it logged said so (issue 23). This callback writes, per logging step, TRL's reward
figures beside the LoRA update's size relative to the weights it adapts,
``||scale * B @ A|| / ||W||`` over every adapted layer, to ``rl_health.jsonl``; ``summary``
folds the file into the run's provenance (``train_meta.json``).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

HEALTH_FILE = "rl_health.jsonl"
# TRL's log keys kept per step (trl/trainer/grpo_trainer.py, _generate_and_score_completions).
KEYS = ("reward", "reward_std", "frac_reward_zero_std", "rewards/accuracy_reward/mean",
        "rewards/format_reward/mean", "entropy", "completions/mean_length", "learning_rate", "loss")  # fmt: skip


def _base_weight(layer: Any) -> Any:
    """The full-precision weight under a LoRA layer (dequantised when it is NF4)."""
    weight = layer.base_layer.weight
    state = getattr(weight, "quant_state", None)
    if state is None:
        return weight.detach().float()
    import bitsandbytes.functional as bnbf

    return bnbf.dequantize_4bit(weight.data, state).float()


def relative_update(model: Any, base_norm_sq: float | None = None) -> tuple[float, float]:
    """(||ΔW|| / ||W|| over all LoRA layers, ||W||²); pass ``base_norm_sq`` back to skip the
    dequantisation on later calls."""
    import torch

    delta_sq, weight_sq = 0.0, 0.0
    with torch.no_grad():
        for module in model.modules():
            if not hasattr(module, "lora_A") or not hasattr(module, "base_layer"):
                continue
            for name in module.lora_A:
                a, b = module.lora_A[name].weight.float(), module.lora_B[name].weight.float()
                delta_sq += float((module.scaling[name] * (b @ a)).pow(2).sum())
            if base_norm_sq is None:
                weight_sq += float(_base_weight(module).pow(2).sum())
    norm_sq = base_norm_sq if base_norm_sq is not None else weight_sq
    return (math.sqrt(delta_sq / norm_sq) if norm_sq > 0 else 0.0), norm_sq


class RLHealthLog(TrainerCallback):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.base_norm_sq: float | None = None

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None,
               model: Any = None, **_: Any) -> None:  # fmt: skip
        if not logs or "reward" not in logs or model is None or not state.is_world_process_zero:
            return
        change, self.base_norm_sq = relative_update(model, self.base_norm_sq)
        record = {"step": int(state.global_step), **{k: logs[k] for k in KEYS if k in logs},
                  "relative_weight_change": change}  # fmt: skip
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def read_health(out_dir: str | Path) -> list[dict[str, float]]:
    path = Path(out_dir) / HEALTH_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _window_mean(values: Sequence[float], first: bool) -> float:
    k = max(1, len(values) // 4)
    return statistics.fmean(values[:k] if first else values[-k:])


def summary(records: Sequence[dict[str, float]]) -> dict[str, float] | None:
    """The run in a few numbers: accuracy reward in the first and last quarter of logged steps,
    the mean share of dead (zero-variance) groups, and the final relative weight change."""
    rewards = [r["rewards/accuracy_reward/mean"] for r in records if "rewards/accuracy_reward/mean" in r]
    if not rewards:
        return None
    return {
        "logged_steps": len(records),
        "accuracy_reward_first_quarter": _window_mean(rewards, first=True),
        "accuracy_reward_last_quarter": _window_mean(rewards, first=False),
        "frac_reward_zero_std_mean": statistics.fmean(r.get("frac_reward_zero_std", math.nan) for r in records),
        "relative_weight_change": records[-1]["relative_weight_change"],
    }
