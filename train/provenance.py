"""What produced an adapter, written beside it: ``config.yaml`` and ``train_meta.json``."""

from __future__ import annotations

import dataclasses
import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from reasonkit.artifacts import atomic_write_text, git_state, package_versions

# Bump when a field is renamed or removed; readers check it (nanochat's meta_<step>.json idea).
META_SCHEMA_VERSION = 1
META_FILE = "train_meta.json"
CONFIG_FILE = "config.yaml"
ADAPTER_CONFIG = "adapter_config.json"


@dataclass(frozen=True, slots=True)
class RunMeta:
    stage: str  # "sft" | "grpo"
    data_file: str
    data_sha256: str
    n_train: int
    n_eval: int
    device: str
    compute_dtype: str
    optim: str
    load_in_4bit: bool
    git_revision: str | None
    git_dirty: bool | None
    started_at: str
    finished_at: str
    global_step: int
    best_checkpoint: str | None
    best_metric: float | None
    final_train_loss: float | None
    # For GRPO from an SFT adapter: where the merged full-precision base was written.
    merged_base: str | None = None
    # GRPO: train.rl_health.summary of rl_health.jsonl (reward first/last quarter, dead groups,
    # relative weight change); None for SFT.
    rl_health: dict[str, float] | None = None
    # The prompt format the adapter was trained on (train/data.py renders only this one);
    # `reasoneval run --prompt-style auto` reads it.
    prompt_style: str = "think"
    packages: dict[str, str] = field(default_factory=dict)
    python: str = field(default_factory=platform.python_version)
    schema_version: int = META_SCHEMA_VERSION


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_provenance(out_dir: str | Path, config: dict[str, Any], meta: RunMeta) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / CONFIG_FILE, yaml.safe_dump(config, sort_keys=False))
    atomic_write_text(out / META_FILE, json.dumps(dataclasses.asdict(meta), indent=2) + "\n")


def anchor_adapter_base(adapter_dir: Path) -> None:
    """Record a local base model as an absolute path in the adapter's config.

    PEFT stores the string training was given, so ``--model_name_or_path runs/tiny`` resolved
    only from the directory training ran in (issue 16). A hub id is left as it is.
    """
    path = adapter_dir / ADAPTER_CONFIG
    if not path.is_file():  # full fine-tuning saves a model, not an adapter
        return
    config = json.loads(path.read_text(encoding="utf-8"))
    base = config.get("base_model_name_or_path")
    if isinstance(base, str) and base and Path(base).expanduser().is_dir():
        config["base_model_name_or_path"] = str(Path(base).expanduser().resolve())
        atomic_write_text(path, json.dumps(config, indent=2, sort_keys=True) + "\n")


def read_meta(out_dir: str | Path) -> RunMeta:
    raw = json.loads((Path(out_dir) / META_FILE).read_text(encoding="utf-8"))
    if raw.get("schema_version") != META_SCHEMA_VERSION:
        raise ValueError(
            f"{out_dir}: train_meta schema {raw.get('schema_version')}, expected {META_SCHEMA_VERSION}"
        )
    return RunMeta(**raw)


def finish_run(run: Any, *, stage: str, n_eval: int, merged_base: str | None = None,
               rl_health: dict[str, float] | None = None) -> RunMeta:  # fmt: skip
    """Save the (best) model and, on the main process only, its tokenizer and provenance.

    ``run`` is an SFTRun or GRPORun: trainer, cfg, tokenizer, hw, data_sha256, n_train, started_at.
    """
    trainer = run.trainer
    out = Path(run.cfg.output_dir)
    trainer.save_model(str(out))  # every rank must call it (FSDP/ZeRO gather the shards)
    revision, dirty = git_state()
    state = trainer.state
    losses = [float(e["loss"]) for e in state.log_history if "loss" in e]
    meta = RunMeta(
        stage=stage,
        data_file=run.cfg.train_file,
        data_sha256=run.data_sha256,
        n_train=run.n_train,
        n_eval=n_eval,
        device=run.hw.device,
        compute_dtype=str(run.hw.compute_dtype).removeprefix("torch."),
        optim=run.hw.optim,
        load_in_4bit=run.cfg.load_in_4bit,
        git_revision=revision,
        git_dirty=dirty,
        started_at=run.started_at,
        finished_at=now_utc(),
        global_step=int(state.global_step),
        best_checkpoint=state.best_model_checkpoint,
        best_metric=None if state.best_metric is None else float(state.best_metric),
        final_train_loss=losses[-1] if losses else None,
        merged_base=merged_base,
        rl_health=rl_health,
        packages=package_versions(),
    )
    if trainer.is_world_process_zero():  # one writer under DDP/FSDP
        run.tokenizer.save_pretrained(str(out))
        anchor_adapter_base(out)
        write_provenance(out, dataclasses.asdict(run.cfg), meta)
    return meta
