"""QLoRA supervised fine-tuning on datacheck's kept rows: ``python -m train.sft --config FILE``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from train.config import ConfigError, RunConfig, check_common, run_cli, shared_training_args
from train.data import (
    file_sha256,
    read_kept_rows,
    select_rows,
    sft_dataset,
    split_train_eval,
)
from train.hardware import Hardware, detect_hardware
from train.modeling import check_model_source, load_base_model, load_tokenizer, lora_config
from train.provenance import RunMeta, finish_run, now_utc


@dataclass
class SFTRunConfig(RunConfig):
    output_dir: str = "runs/sft"
    eval_fraction: float = field(default=0.1, metadata={"help": "seeded validation split"})
    eval_steps: int = 50
    per_device_eval_batch_size: int = 2
    max_length: int = field(default=1024, metadata={"help": "prompt+completion tokens kept"})
    load_best_model_at_end: bool = True


@dataclass
class SFTRun:
    """Everything built before training starts; tests drive ``trainer`` directly."""

    cfg: SFTRunConfig
    hw: Hardware
    trainer: Any
    tokenizer: Any
    data_sha256: str
    n_train: int
    n_eval: int
    started_at: str


def _check(cfg: SFTRunConfig) -> None:
    check_common(cfg)
    if not 0 <= cfg.eval_fraction < 1:
        raise ConfigError("eval_fraction must be in [0, 1)")
    if cfg.eval_fraction > 0 and cfg.load_best_model_at_end and cfg.save_steps % cfg.eval_steps:
        # transformers can only restore a checkpoint that was also evaluated.
        raise ConfigError(
            "save_steps must be a multiple of eval_steps when load_best_model_at_end is set"
        )


def training_args(cfg: SFTRunConfig, hw: Hardware, *, has_eval: bool) -> Any:
    from trl.trainer.sft_config import SFTConfig

    return SFTConfig(
        **shared_training_args(cfg, hw),
        per_device_eval_batch_size=cfg.per_device_eval_batch_size,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=cfg.eval_steps,
        load_best_model_at_end=has_eval and cfg.load_best_model_at_end,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        max_length=cfg.max_length,
        # Loss on the completion only; our rows are prompt/completion pairs, so TRL builds the mask.
        completion_only_loss=True,
        packing=False,
    )


def prepare(cfg: SFTRunConfig) -> SFTRun:
    _check(cfg)
    started_at = now_utc()
    # Bad rows fail here, before the heavy imports and the model load.
    rows = select_rows(read_kept_rows(cfg.train_file), cfg.max_samples, cfg.seed)
    check_model_source(cfg.model_name_or_path)

    from transformers import set_seed
    from trl.trainer.sft_trainer import SFTTrainer

    hw = detect_hardware(force_cpu=cfg.force_cpu, optim=cfg.optim)
    set_seed(cfg.seed)  # python, numpy and torch; before LoRA init so adapters start identical
    tokenizer = load_tokenizer(cfg.model_name_or_path, trust_remote_code=cfg.trust_remote_code)
    train_ds, eval_ds = split_train_eval(sft_dataset(rows, tokenizer), cfg.eval_fraction, cfg.seed)
    model = load_base_model(
        cfg.model_name_or_path,
        hw,
        load_in_4bit=cfg.load_in_4bit,
        trust_remote_code=cfg.trust_remote_code,
    )
    trainer = SFTTrainer(
        model=model,
        args=training_args(cfg, hw, has_eval=eval_ds is not None),
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=lora_config(cfg),
    )
    return SFTRun(
        cfg=cfg,
        hw=hw,
        trainer=trainer,
        tokenizer=tokenizer,
        data_sha256=file_sha256(cfg.train_file),
        n_train=len(train_ds),
        n_eval=0 if eval_ds is None else len(eval_ds),
        started_at=started_at,
    )


def finish(run: SFTRun) -> RunMeta:
    return finish_run(run, stage="sft", n_eval=run.n_eval)


def main(cfg: SFTRunConfig) -> RunMeta:
    run = prepare(cfg)
    run.trainer.train()
    return finish(run)


def make_parser() -> Any:
    from train.config import make_config_parser

    return make_config_parser(SFTRunConfig, prog="python -m train.sft")


def cli(argv: Sequence[str] | None = None) -> int:
    return run_cli(SFTRunConfig, main, argv, prog="python -m train.sft")


if __name__ == "__main__":
    sys.exit(cli())
