"""The embedded default's recipe: the pipeline's settings and one function per stage.

Each stage builds the typed config of the package that does the work and calls its Python
function: ``datacheck.clean``, ``train.sft.main``, ``train.grpo.main`` or ``reasoneval.run.execute``.
Nothing here goes through a command line.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reasoneval.run_config import RunConfig
    from train.grpo import GRPORunConfig
    from train.sft import SFTRunConfig

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class PipelineConfig:
    """Numbers and paths only; configs/pipeline/<profile>.yaml overlays these defaults."""

    data_seed: int = 0  # the synthetic task's draw; training seeds vary, the data does not
    seeds: list[int] = field(default_factory=lambda: [0])  # training seeds (SFT and GRPO)
    base: str = "models/tiny-base"  # the committed pretrained base (scripts/build_base.py)
    # QLoRA SFT in the Tiny-Reason shape: NF4 base, LoRA r=16 / alpha 32 on all seven
    # projections, linear decay, best checkpoint by validation loss. The rate is 5x Tiny-Reason's
    # 2e-4 (set for 1.5B models): at 2e-4 this 0.5M-parameter base's validation loss was still
    # 2.64 after 200 steps, against 1.04 at 1e-3 (docs/pipeline.md).
    sft_steps: int = 500
    sft_lr: float = 1e-3
    sft_batch: int = 16
    sft_eval_every: int = 100  # validation loss (and a checkpoint) every N steps
    sft_eval_fraction: float = 0.03
    lora_r: int = 16
    lora_alpha: int = 32
    # GRPO: QLoRA on the SFT model, accuracy reward through reasoneval.answers + format reward.
    # The RL rate is a tenth of the SFT rate. TRL's defaults put it 20x below (GRPO 1e-6, SFT
    # 2e-5); a tenth because LoRA on a 0.5M-parameter model moves slowly (the SFT note above).
    grpo_steps: int = 40
    grpo_lr: float = 1e-4
    grpo_generations: int = 8
    grpo_prompts_per_step: int = 8
    grpo_max_completion_length: int = 48
    grpo_temperature: float = 1.0
    grpo_format_weight: float = 0.1
    grpo_accuracy_weight: float = 1.0
    # Evaluation on the held-out test split of the synthetic task.
    eval_limit: int = 500
    max_new_tokens: int = 64
    layers: str = "accuracy,traces,sensitivity"
    # Two variants per problem keep three evaluations of 500 problems inside the demo's budget.
    sensitivity_families: str = "numeric,format"
    sensitivity_max_variants: int = 2
    backend: str = "hf"
    torch_threads: int = 1
    # CI gate: the final model's samples against a committed run directory (relative to the repo).
    baseline: str | None = None
    margin: float = 5.0  # points
    reward_tolerance: float = 0.15  # GRPO's mean accuracy reward vs the baseline run's

    def stage_dict(self, *names: str) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        return {n: values[n] for n in names}


def train_dir(out: Path, seed: int, kind: str) -> Path:
    """Where a run keeps one seed's ``sft`` or ``grpo`` adapter."""
    return out / f"seed{seed}" / kind


def eval_name(kind: str, seed: int | None = None) -> str:
    """An evaluation's name, and its directory under ``out/eval``: ``base``, ``sft/seed0``."""
    return kind if seed is None else f"{kind}/seed{seed}"


SFT_FIELDS = ("sft_steps", "sft_lr", "sft_batch", "sft_eval_every", "sft_eval_fraction",
              "lora_r", "lora_alpha")  # fmt: skip
GRPO_FIELDS = ("grpo_steps", "grpo_lr", "grpo_generations", "grpo_prompts_per_step",
               "grpo_max_completion_length", "grpo_temperature", "grpo_format_weight",
               "grpo_accuracy_weight", "lora_r", "lora_alpha")  # fmt: skip
EVAL_FIELDS = ("eval_limit", "max_new_tokens", "layers", "sensitivity_families",
               "sensitivity_max_variants", "backend", "data_seed")  # fmt: skip


def clean_data(cfg: PipelineConfig, out: Path) -> Path:
    """``datacheck clean synthetic``: generate the task, check it, write kept/rejected rows."""
    from datacheck.clean import CleanConfig
    from datacheck.loading import SourceSpec
    from datacheck.report import clean_to_dir

    clean_to_dir(SourceSpec("synthetic", seed=cfg.data_seed), CleanConfig(), out)
    return out / "kept" / "train.jsonl"


def _train_common(cfg: PipelineConfig, seed: int, model: Path, train_file: Path, out: Path) -> dict[str, Any]:
    return {
        "model_name_or_path": str(model), "train_file": str(train_file), "output_dir": str(out),
        "seed": seed, "force_cpu": True, "gradient_checkpointing": False,
        "gradient_accumulation_steps": 1, "save_total_limit": 1, "load_in_4bit": True,
        "peft": "lora", "lora_r": cfg.lora_r, "lora_alpha": cfg.lora_alpha,
    }  # fmt: skip


def sft_config(cfg: PipelineConfig, seed: int, base: Path, train_file: Path, out: Path) -> SFTRunConfig:
    """The SFT stage's typed config (scripts/validate.py checks this same config up front)."""
    from train.sft import SFTRunConfig

    return SFTRunConfig(
        **_train_common(cfg, seed, base, train_file, out), learning_rate=cfg.sft_lr,
        lr_scheduler_type="linear", max_steps=cfg.sft_steps, warmup_steps=0.05,
        per_device_train_batch_size=cfg.sft_batch, eval_fraction=cfg.sft_eval_fraction,
        eval_steps=cfg.sft_eval_every, save_steps=cfg.sft_eval_every,
        per_device_eval_batch_size=64, load_best_model_at_end=True, max_length=256,
        logging_steps=cfg.sft_eval_every,
    )  # fmt: skip


def sft(cfg: PipelineConfig, seed: int, base: Path, train_file: Path, out: Path) -> None:
    from train.sft import main

    main(sft_config(cfg, seed, base, train_file, out))


def grpo_config(cfg: PipelineConfig, seed: int, base: Path, sft_adapter: Path | None, train_file: Path,
                out: Path) -> GRPORunConfig:  # fmt: skip
    from train.grpo import GRPORunConfig

    return GRPORunConfig(
        **_train_common(cfg, seed, base, train_file, out),
        adapter_path=str(sft_adapter) if sft_adapter else None,
        learning_rate=cfg.grpo_lr, max_steps=cfg.grpo_steps, warmup_steps=0,
        per_device_train_batch_size=cfg.grpo_generations * cfg.grpo_prompts_per_step,
        num_generations=cfg.grpo_generations, temperature=cfg.grpo_temperature,
        max_completion_length=cfg.grpo_max_completion_length, save_steps=cfg.grpo_steps,
        accuracy_weight=cfg.grpo_accuracy_weight, format_weight=cfg.grpo_format_weight,
        use_vllm="off", logging_steps=5, log_samples_per_step=2,
    )  # fmt: skip


def grpo(cfg: PipelineConfig, seed: int, base: Path, sft_adapter: Path | None, train_file: Path, out: Path) -> None:
    """GRPO on the SFT model, or on the base itself when ``sft_adapter`` is None."""
    from train.grpo import main

    main(grpo_config(cfg, seed, base, sft_adapter, train_file, out))


def eval_config(cfg: PipelineConfig, checkpoint: Path, out: Path, test_file: Path | None = None) -> RunConfig:
    from reasoneval.backends.base import SamplingConfig
    from reasoneval.datasets import DatasetSpec
    from reasoneval.layers import parse_layers
    from reasoneval.layers.sensitivity import SensitivityConfig
    from reasoneval.run_config import RunConfig
    from reasoneval.variants import parse_families

    layers = parse_layers(cfg.layers)
    sensitivity = SensitivityConfig(families=parse_families(cfg.sensitivity_families),
                                    max_per_item=cfg.sensitivity_max_variants)  # fmt: skip
    return RunConfig(
        checkpoint=checkpoint, out=out, layers=layers,
        dataset=DatasetSpec("synthetic", "test", None, cfg.eval_limit, seed=cfg.data_seed)
        if test_file is None else DatasetSpec(str(test_file), "test", None, cfg.eval_limit),
        backend=cfg.backend,  # type: ignore[arg-type]
        sampling=SamplingConfig(n=1, temperature=0.0, max_new_tokens=cfg.max_new_tokens, seed=0),
        sensitivity_config=sensitivity if "sensitivity" in layers else None,
    )  # fmt: skip


def evaluate(cfg: PipelineConfig, checkpoint: Path, out: Path, test_file: Path | None = None) -> None:
    """``reasoneval run --layers ...`` on the held-out test split (or ``test_file``, a JSONL file in
    GSM8K layout); greedy, so no seed matters."""
    from reasoneval.run import execute

    code = execute(eval_config(cfg, checkpoint, out, test_file))
    if code != 0:
        raise RuntimeError(f"reasoneval run on {checkpoint} exited {code}")


def grpo_reward_mean(grpo_dir: Path) -> float:
    """Mean accuracy reward over the steps GRPO logged (train/sample_log.py's JSONL)."""
    lines = (grpo_dir / "completion_samples.jsonl").read_text(encoding="utf-8").splitlines()
    means = [json.loads(line)["reward_mean"]["accuracy_reward"] for line in lines if line.strip()]
    if not means:
        raise RuntimeError(f"GRPO logged no rewards in {grpo_dir}")
    return float(sum(means) / len(means))
