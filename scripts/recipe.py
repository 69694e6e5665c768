"""The embedded default's recipe: the pipeline's settings and one function per stage.

Each stage builds the typed config of the package that does the work and calls its Python
function: ``datacheck.clean``, ``train.sft.main``, ``train.grpo.main`` or ``reasoneval.run.execute``.
Nothing here goes through a command line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datacheck.config import CleanConfig
    from datacheck.loading import SourceSpec
    from reasoneval.run_config import RunConfig
    from train.grpo import GRPORunConfig
    from train.sft import SFTRunConfig

from reasonkit.artifacts import atomic_write_text

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class PipelineConfig:
    """Numbers and paths only; configs/pipeline/<profile>.yaml overlays these defaults."""

    data_seed: int = 0  # the synthetic task's draw; training seeds vary, the data does not
    seeds: list[int] = field(default_factory=lambda: [0])  # training seeds (SFT and GRPO)
    base: str = "models/tiny-base"  # the committed pretrained base (scripts/build_base.py)
    # The share of train computations set aside for GRPO's prompts and kept out of SFT. RL learns
    # only where its samples disagree; on problems SFT has already fitted, they rarely do.
    # 0: GRPO prompts from every kept train row, as SFT's. Chosen on val (docs/pipeline.md).
    rl_share: float = 0.0
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
    # GRPO: QLoRA on the SFT model, accuracy reward through reasonkit.answers + format reward.
    # The RL rate is a tenth of the SFT rate. TRL's defaults put it 20x below (GRPO 1e-6, SFT
    # 2e-5); a tenth because LoRA on a 0.5M-parameter model moves slowly (the SFT note above).
    grpo_steps: int = 40
    grpo_lr: float = 1e-4
    grpo_generations: int = 8
    grpo_prompts_per_step: int = 8
    grpo_max_completion_length: int = 48
    grpo_temperature: float = 1.0
    grpo_min_p: float | None = None
    grpo_lr_scheduler: str = "linear"
    grpo_loss_type: str = "dapo"  # TRL 1.16's default
    grpo_scale_rewards: str = "group"  # TRL 1.16's default
    # GRPO adapts the full-precision merge of the SFT model, the model evaluation scores, so it
    # samples from the model it is judged as. QLoRA here would sample from an NF4 re-quantised
    # copy (±1.5 points greedy on 200 items in issue 23's measurement).
    grpo_load_in_4bit: bool = False
    grpo_format_weight: float = 0.1
    grpo_accuracy_weight: float = 1.0
    # Evaluation on the task's held-out splits (reasonkit.tasks.split): the first with every
    # layer below, the others accuracy only. test: new computations in seen templates;
    # test-ood: the same computations in held-out wordings; val: for choosing a recipe.
    eval_splits: str = "test,test-ood"
    # The pipeline stops (exit 1) when more than this share of a held-out split's items has a
    # twin among the kept train rows (datacheck's leak audit). The split is held out by
    # construction, so the audit finds none; any is a defect in the task or the cleaning.
    max_leaked_share: float = 0.0
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
    # GRPO's relative weight change must reach this share of the baseline run's; between seeds
    # it varies by well under half (docs/pipeline.md), a learning rate of 1e-9 leaves ~0.
    min_rl_update: float = 0.5


def train_dir(out: Path, seed: int, kind: str) -> Path:
    """Where a run keeps one seed's ``sft`` or ``grpo`` adapter."""
    return out / f"seed{seed}" / kind


def eval_name(kind: str, seed: int | None = None, split: str = "test") -> str:
    """An evaluation's name, and its directory under ``out/eval``: ``base``, ``sft/seed0`` on the
    test split, ``test-ood/sft/seed0`` on another."""
    name = kind if seed is None else f"{kind}/seed{seed}"
    return name if split == "test" else f"{split}/{name}"


def eval_splits(cfg: PipelineConfig) -> list[str]:
    from reasonkit.tasks.split import EVAL_SPLITS

    splits = [s.strip() for s in cfg.eval_splits.split(",") if s.strip()]
    unknown = [s for s in splits if s not in EVAL_SPLITS]
    if unknown or not splits or len(set(splits)) != len(splits):
        raise ValueError(f"eval_splits: held-out splits are {', '.join(EVAL_SPLITS)}, each once; got {cfg.eval_splits!r}")
    return splits


def eval_plan(cfg: PipelineConfig) -> list[tuple[str, str]]:
    """(split, layers) of each evaluation: the first split gets every layer, the others accuracy
    alone (the demo's time budget)."""
    splits = eval_splits(cfg)
    return [(split, cfg.layers if i == 0 else "accuracy") for i, split in enumerate(splits)]


# Each stage below is a builder of the typed config the working package takes, and a runner
# that hands it over. The resume fingerprint of a stage is that config, read field by field
# (scripts.stages.typed_config), so no setting can be left out of it (issue 26).


def clean_configs(cfg: PipelineConfig) -> tuple[SourceSpec, CleanConfig]:
    from datacheck.config import CleanConfig
    from datacheck.contamination import TEMPLATED_RULES
    from datacheck.loading import SourceSpec

    # As `datacheck clean synthetic`: the task's test split shares templates with train by design.
    return SourceSpec("synthetic", seed=cfg.data_seed), CleanConfig(contamination_rules=TEMPLATED_RULES)


def split_train(cfg: PipelineConfig, kept: Path, out: Path) -> None:
    """Kept train rows -> ``out/sft.jsonl`` and ``out/rl.jsonl``, cut by computation (commuted
    first steps together): a computation is in one of them, never both. ``rl_share`` 0 gives
    both every row."""
    import hashlib

    from reasonkit.kept_rows import KeptRow, kept_rows_text, read_kept_rows
    from reasonkit.tasks.arithmetic import computation_of

    def to_rl(row: KeptRow) -> bool:
        try:
            key = str(computation_of(row.question).canonical())
        except ValueError:  # not the task's wording (a flawed row): its own text decides
            key = row.question
        digest = hashlib.blake2b(f"rl|{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < cfg.rl_share

    rows = read_kept_rows(kept)
    rl = [r for r in rows if to_rl(r)] if cfg.rl_share > 0 else rows
    sft = [r for r in rows if not to_rl(r)] if cfg.rl_share > 0 else rows
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "sft.jsonl", kept_rows_text(sft))
    atomic_write_text(out / "rl.jsonl", kept_rows_text(rl))


def leaked_shares(data_dir: Path) -> dict[str, float]:
    """Held-out split -> share of its items with a twin among the kept train rows."""
    report = json.loads((data_dir / "report.json").read_text(encoding="utf-8"))
    return {split: float(a["leaked_share"]) for split, a in report["leak_audit"].items()}


def clean_data(cfg: PipelineConfig, out: Path) -> Path:
    """``datacheck clean synthetic``: generate the task, check it, write kept/rejected rows."""
    from datacheck.clean import clean_to_dir

    clean_to_dir(*clean_configs(cfg), out)
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
    """GRPO on the SFT model, or on the base itself when ``sft_adapter`` is None."""
    from train.grpo import GRPORunConfig

    return GRPORunConfig(
        **{**_train_common(cfg, seed, base, train_file, out), "load_in_4bit": cfg.grpo_load_in_4bit},
        adapter_path=str(sft_adapter) if sft_adapter else None,
        learning_rate=cfg.grpo_lr, lr_scheduler_type=cfg.grpo_lr_scheduler, max_steps=cfg.grpo_steps,
        warmup_steps=0, per_device_train_batch_size=cfg.grpo_generations * cfg.grpo_prompts_per_step,
        num_generations=cfg.grpo_generations, temperature=cfg.grpo_temperature, min_p=cfg.grpo_min_p,
        loss_type=cfg.grpo_loss_type, scale_rewards=cfg.grpo_scale_rewards,
        max_completion_length=cfg.grpo_max_completion_length, save_steps=cfg.grpo_steps,
        accuracy_weight=cfg.grpo_accuracy_weight, format_weight=cfg.grpo_format_weight,
        use_vllm="off", logging_steps=5, log_samples_per_step=2,
    )  # fmt: skip


def grpo(cfg: PipelineConfig, seed: int, base: Path, sft_adapter: Path | None, train_file: Path, out: Path) -> None:
    from train.grpo import main

    main(grpo_config(cfg, seed, base, sft_adapter, train_file, out))


def eval_config(cfg: PipelineConfig, checkpoint: Path, out: Path, test_file: Path | None = None,
                split: str = "test", layers_text: str | None = None) -> RunConfig:  # fmt: skip
    """``reasoneval run --layers ...`` on a held-out split of the task (or ``test_file``, a JSONL
    file in GSM8K layout); greedy, so no seed matters."""
    from reasoneval.backends.base import SamplingConfig
    from reasoneval.datasets import DatasetSpec
    from reasoneval.layers import parse_layers
    from reasoneval.layers.sensitivity import SensitivityConfig
    from reasoneval.run_config import RunConfig
    from reasoneval.variants import parse_families

    layers = parse_layers(layers_text or cfg.layers)
    sensitivity = SensitivityConfig(families=parse_families(cfg.sensitivity_families),
                                    max_per_item=cfg.sensitivity_max_variants)  # fmt: skip
    return RunConfig(
        checkpoint=checkpoint, out=out, layers=layers,
        dataset=DatasetSpec("synthetic", split, None, cfg.eval_limit, seed=cfg.data_seed)
        if test_file is None else DatasetSpec(str(test_file), "test", None, cfg.eval_limit),
        backend=cfg.backend,  # type: ignore[arg-type]
        sampling=SamplingConfig(n=1, temperature=0.0, max_new_tokens=cfg.max_new_tokens, seed=0),
        sensitivity_config=sensitivity if "sensitivity" in layers else None,
    )  # fmt: skip


def evaluate(cfg: PipelineConfig, checkpoint: Path, out: Path, test_file: Path | None = None,
             split: str = "test", layers_text: str | None = None) -> None:  # fmt: skip
    from reasoneval.run import execute

    code = execute(eval_config(cfg, checkpoint, out, test_file, split, layers_text))
    if code != 0:
        raise RuntimeError(f"reasoneval run on {checkpoint} exited {code}")


def grpo_reward_mean(grpo_dir: Path) -> float:
    """Mean accuracy reward over the steps GRPO logged (train/sample_log.py's JSONL)."""
    lines = (grpo_dir / "completion_samples.jsonl").read_text(encoding="utf-8").splitlines()
    means = [json.loads(line)["reward_mean"]["accuracy_reward"] for line in lines if line.strip()]
    if not means:
        raise RuntimeError(f"GRPO logged no rewards in {grpo_dir}")
    return float(sum(means) / len(means))
