"""GRPO on datacheck's kept rows, from the base model or an SFT adapter: ``python -m train.grpo``."""

from __future__ import annotations

import dataclasses
import gc
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from train.config import ConfigError, RunConfig, check_common, run_cli, shared_training_args
from train.data import file_sha256, grpo_dataset, read_kept_rows, select_rows
from train.hardware import Hardware, detect_hardware
from train.modeling import (
    adapter_base_path,
    check_model_source,
    load_base_model,
    load_tokenizer,
    lora_config,
    merge_adapter,
    save_merged,
)
from train.preflight import is_local_path
from train.provenance import RunMeta, finish_run, now_utc
from train.rewards import MAX_FORMAT_WEIGHT, accuracy_reward, format_reward
from train.sample_log import CompletionSampleLog, RewardFn

SAMPLES_FILE = "completion_samples.jsonl"
LOSS_TYPES = ("dapo", "grpo", "dr_grpo", "bnpo")  # TRL 1.16's GRPOConfig.loss_type values used here
MERGED_DIR = "merged_base"


@dataclass
class GRPORunConfig(RunConfig):
    output_dir: str = "runs/grpo"
    adapter_path: str | None = field(
        default=None, metadata={"help": "SFT adapter to merge into the base before GRPO"}
    )
    # lr 1e-6, 16 generations, 2,048 completion tokens: the 0.5B study's RL setting
    # (Zhuang et al. 2025, "A Technical Study into Small Reasoning Language Models", arXiv:2506.13404).
    learning_rate: float = 1e-6
    num_generations: int = 16
    max_completion_length: int = 2048
    temperature: float = 1.0
    beta: float = field(default=0.0, metadata={"help": "KL coefficient (TRL's default 0)"})
    min_p: float | None = field(
        default=None, metadata={"help": "sample only tokens with p >= min_p * p(top token)"}
    )
    loss_type: str = field(default="dapo", metadata={"help": "TRL's loss_type (dapo, grpo, dr_grpo, bnpo)"})
    scale_rewards: str = field(
        default="group", metadata={"help": "TRL's scale_rewards: group, batch or none"}
    )
    accuracy_weight: float = 1.0
    format_weight: float = field(default=0.1, metadata={"help": f"<= {MAX_FORMAT_WEIGHT}"})
    use_vllm: Literal["auto", "on", "off"] = field(
        default="auto", metadata={"help": "auto: vLLM colocate when CUDA and vllm are present"}
    )
    vllm_gpu_memory_utilization: float = 0.3
    log_samples_per_step: int = 4


@dataclass
class GRPORun:
    cfg: GRPORunConfig
    hw: Hardware
    trainer: Any
    tokenizer: Any
    data_sha256: str
    n_train: int
    merged_base: str | None
    started_at: str


def _check_adapter(adapter: Path) -> None:
    from reasonkit.checkpoint_files import CheckpointError, check_weights

    if not (adapter / "adapter_config.json").is_file():
        raise ConfigError(f"{adapter}: no adapter_config.json")
    try:
        check_weights(adapter, allow_pickle=False, adapter=True, flag=None)
    except CheckpointError as exc:
        raise ConfigError(f"adapter_path: {exc}") from None


def _resolve(cfg: GRPORunConfig) -> GRPORunConfig:
    """The config as run: checked, and with the base model read from the adapter when not given."""
    if cfg.adapter_path:
        _check_adapter(Path(cfg.adapter_path))
    if not cfg.model_name_or_path and cfg.adapter_path:
        try:
            base = adapter_base_path(cfg.adapter_path)
        except ValueError as exc:  # adapter_config.json unreadable, or names no base
            raise ConfigError(f"adapter_path: {exc}") from None
        if is_local_path(base) and not (Path(base).expanduser() / "config.json").is_file():
            raise ConfigError(f"adapter_path: {cfg.adapter_path} names base model {base}, "
                              "which is not here; set model_name_or_path")
        cfg = dataclasses.replace(cfg, model_name_or_path=base)
    check_common(cfg)
    # A negative weight trains on an inverted reward; nothing downstream would notice.
    if not (math.isfinite(cfg.accuracy_weight) and cfg.accuracy_weight > 0):
        raise ConfigError(f"accuracy_weight must be a finite number > 0, got {cfg.accuracy_weight}")
    if not (math.isfinite(cfg.temperature) and cfg.temperature > 0):
        raise ConfigError(f"temperature must be > 0 (GRPO samples), got {cfg.temperature}")
    if not (math.isfinite(cfg.beta) and cfg.beta >= 0):
        raise ConfigError(f"beta must be a finite number >= 0, got {cfg.beta}")
    if cfg.max_completion_length < 1:
        raise ConfigError(f"max_completion_length must be >= 1, got {cfg.max_completion_length}")
    if not 0 < cfg.vllm_gpu_memory_utilization <= 1:
        raise ConfigError("vllm_gpu_memory_utilization must be in (0, 1]")
    if not 0 <= cfg.format_weight <= MAX_FORMAT_WEIGHT:
        raise ConfigError(
            f"format_weight must be in [0, {MAX_FORMAT_WEIGHT}] so format cannot outweigh accuracy"
        )
    if cfg.min_p is not None and not 0 < cfg.min_p <= 1:
        raise ConfigError(f"min_p must be in (0, 1], got {cfg.min_p}")
    if cfg.loss_type not in LOSS_TYPES:
        raise ConfigError(f"loss_type must be one of {', '.join(LOSS_TYPES)}, got {cfg.loss_type!r}")
    if cfg.scale_rewards not in ("group", "batch", "none"):
        raise ConfigError(f"scale_rewards must be group, batch or none, got {cfg.scale_rewards!r}")
    if cfg.num_generations < 2:
        raise ConfigError(
            "num_generations must be >= 2: GRPO's advantage compares samples within a group"
        )
    return cfg


def _use_vllm(cfg: GRPORunConfig, hw: Hardware) -> bool:
    if cfg.use_vllm == "on" and not hw.vllm_available:
        raise ConfigError("use_vllm: on needs CUDA and the vllm package")
    return cfg.use_vllm == "on" or (cfg.use_vllm == "auto" and hw.vllm_available)


def training_args(cfg: GRPORunConfig, hw: Hardware, reward_weights: Sequence[float]) -> Any:
    from trl.trainer.grpo_config import GRPOConfig

    return GRPOConfig(
        **shared_training_args(cfg, hw),
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        temperature=cfg.temperature,
        min_p=cfg.min_p,
        loss_type=cfg.loss_type,
        scale_rewards=cfg.scale_rewards,
        beta=cfg.beta,
        reward_weights=list(reward_weights),
        use_vllm=_use_vllm(cfg, hw),
        vllm_mode="colocate",
        vllm_gpu_memory_utilization=cfg.vllm_gpu_memory_utilization,
        # Off: TRL's log_completions prints a rich table of prompts at every logging step (issue
        # 16). Our completion_samples.jsonl keeps log_samples_per_step samples with their rewards.
        log_completions=False,
    )


def _starting_model(cfg: GRPORunConfig, hw: Hardware, tokenizer: Any) -> tuple[Any, str | None]:
    """The base model, or base+SFT adapter merged in full precision and saved (see ``merge_adapter``).

    The merged weights are written to disk even when no re-quantisation follows, because vLLM
    loads its copy of the policy from a path, not from the training process's memory.
    """
    if not cfg.adapter_path:
        model = load_base_model(
            cfg.model_name_or_path,
            hw,
            load_in_4bit=cfg.load_in_4bit,
            trust_remote_code=cfg.trust_remote_code,
        )
        return model, None
    merged = merge_adapter(
        cfg.model_name_or_path, cfg.adapter_path, hw, trust_remote_code=cfg.trust_remote_code
    )
    merged_dir = save_merged(merged, tokenizer, Path(cfg.output_dir) / MERGED_DIR)
    del merged
    gc.collect()
    model = load_base_model(
        str(merged_dir), hw, load_in_4bit=cfg.load_in_4bit, trust_remote_code=cfg.trust_remote_code
    )
    return model, str(merged_dir)


def prepare(
    cfg: GRPORunConfig,
    *,
    reward_funcs: Sequence[RewardFn] | None = None,
    reward_weights: Sequence[float] | None = None,
) -> GRPORun:
    """Build the trainer. ``reward_funcs`` replaces the accuracy + format pair (tests use it)."""
    cfg = _resolve(cfg)
    started_at = now_utc()
    # Bad rows fail here, before the heavy imports and the model load.
    rows = select_rows(read_kept_rows(cfg.train_file), cfg.max_samples, cfg.seed)
    check_model_source(cfg.model_name_or_path)

    from transformers import set_seed
    from trl.trainer.grpo_trainer import GRPOTrainer

    # The health log subclasses transformers' callback: imported here, after the console filters.
    from train.rl_health import HEALTH_FILE, RLHealthLog

    hw = detect_hardware(force_cpu=cfg.force_cpu, optim=cfg.optim)
    set_seed(cfg.seed)
    if reward_funcs is None:
        reward_funcs = [accuracy_reward, format_reward]
        reward_weights = [cfg.accuracy_weight, cfg.format_weight]
    weights = list(reward_weights) if reward_weights is not None else [1.0] * len(reward_funcs)
    sample_log = CompletionSampleLog(
        Path(cfg.output_dir) / SAMPLES_FILE,
        reward_funcs,
        weights,
        samples_per_step=cfg.log_samples_per_step,
        every_n_steps=cfg.logging_steps,
    )
    tokenizer = load_tokenizer(cfg.model_name_or_path, trust_remote_code=cfg.trust_remote_code)
    # Prompts are padded on the left for generation; completions follow them directly.
    tokenizer.padding_side = "left"
    dataset = grpo_dataset(rows, tokenizer)
    model, merged_base = _starting_model(cfg, hw, tokenizer)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=list[Any](sample_log.wrapped),
        args=training_args(cfg, hw, weights),
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(cfg),
        callbacks=[RLHealthLog(Path(cfg.output_dir) / HEALTH_FILE)],
    )
    return GRPORun(
        cfg=cfg,
        hw=hw,
        trainer=trainer,
        tokenizer=tokenizer,
        data_sha256=file_sha256(cfg.train_file),
        n_train=len(dataset),
        merged_base=merged_base,
        started_at=started_at,
    )


def finish(run: GRPORun) -> RunMeta:
    from train.rl_health import read_health, summary

    health = summary(read_health(run.cfg.output_dir))
    return finish_run(run, stage="grpo", n_eval=0, merged_base=run.merged_base, rl_health=health)


def main(cfg: GRPORunConfig) -> RunMeta:
    run = prepare(cfg)
    run.trainer.train()
    return finish(run)


def make_parser() -> Any:
    from train.config import make_config_parser

    return make_config_parser(GRPORunConfig, prog="python -m train.grpo")


def cli(argv: Sequence[str] | None = None) -> int:
    return run_cli(GRPORunConfig, main, argv, prog="python -m train.grpo")


if __name__ == "__main__":
    sys.exit(cli())
