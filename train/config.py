"""Typed run configs: dataclass defaults, overlaid by a YAML file, overridden by command-line flags.

The parsing is TRL's ``TrlParser`` (``yaml.safe_load`` on ``--config``, then argparse over the
dataclass fields), as in TRL's ``trl/scripts/sft.py``. YAML holds numbers and paths only.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from train.console import interactive

# The seven projections of a Qwen2/Llama block. Tiny-Reason adapts all of them, FFN included,
# rather than attention only (https://taivu1998.github.io/projects/12_tiny_reason).
ALL_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


if TYPE_CHECKING:
    from train.hardware import Hardware


class ConfigError(ValueError):
    """A config the run cannot start from; the CLI prints it as one line and exits 2."""


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class RunConfig:
    """Fields shared by SFT and GRPO."""

    model_name_or_path: str = field(default="", metadata=_help("base model directory or hub id"))
    train_file: str = field(default="", metadata=_help("datacheck kept-rows JSONL"))
    output_dir: str = field(default="runs/train", metadata=_help("adapter + meta land here"))
    load_in_4bit: bool = field(default=True, metadata=_help("NF4 + double-quant base (QLoRA)"))
    peft: Literal["lora", "none"] = field(
        default="lora", metadata=_help("'none' = full fine-tuning (small models only)")
    )
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    lora_target_modules: list[str] = field(default_factory=lambda: list(ALL_PROJECTIONS))
    learning_rate: float = 2e-4
    lr_scheduler_type: str = "linear"
    warmup_steps: float = field(
        default=0.1, metadata=_help("< 1: fraction of total steps; >= 1: a step count")
    )
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_steps: int = field(default=-1, metadata=_help("-1: run num_train_epochs"))
    num_train_epochs: float = 1.0
    per_device_train_batch_size: int = 2
    gradient_accumulation_steps: int = 4
    gradient_checkpointing: bool = True
    logging_steps: int = 10
    save_steps: int = 50
    save_total_limit: int = 2
    max_samples: int | None = field(
        default=None, metadata=_help("use the first N rows after a seeded shuffle")
    )
    seed: int = 3407
    optim: str = field(
        default="auto", metadata=_help("'auto': paged_adamw_8bit on CUDA, adamw_torch on CPU")
    )
    force_cpu: bool = field(default=False, metadata=_help("train on CPU even when CUDA exists"))
    trust_remote_code: bool = False
    report_to: str = "none"


C = TypeVar("C", bound=RunConfig)


def make_config_parser(config_cls: type[C], prog: str) -> Any:
    from trl.scripts.utils import TrlParser

    dataclass_types: list[Any] = [config_cls]
    from reasonkit.errors import EXIT_CODES_HELP, EXIT_INPUT, one_line

    # allow_abbrev: no silent prefix matches (`--max_step` for `--max_steps`), as in every CLI here.
    parser = TrlParser(dataclass_types, prog=prog, epilog=EXIT_CODES_HELP, allow_abbrev=False)

    def error(message: str) -> Any:  # one line, exit 2: the contract's usage error
        parser.exit(EXIT_INPUT, f"{prog}: error: {one_line(message)} (see --help)\n")

    parser.error = error  # type: ignore[method-assign]
    # The spelling the docs use; TrlParser already accepts `--load_in_4bit false`.
    parser.add_argument("--no-quantize", dest="load_in_4bit", action="store_false")
    return parser


def parse_config(config_cls: type[C], argv: Sequence[str] | None, prog: str) -> C:
    """``--config file.yaml`` sets defaults; every other flag overrides them. Unknown keys fail."""
    import yaml

    parser = make_config_parser(config_cls, prog)
    try:
        (cfg,) = parser.parse_args_and_config(list(argv) if argv is not None else None)
    # Unknown YAML keys, an unreadable file, or YAML that is not a mapping.
    except (ValueError, OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(exc)) from exc
    if not isinstance(cfg, config_cls):
        raise TypeError(f"parser returned {type(cfg).__name__}, expected {config_cls.__name__}")
    return cfg


def check_common(cfg: RunConfig) -> None:
    """Fail fast with one line, before any model is loaded."""
    from train.preflight import PreflightError, check_model, check_numbers

    if not cfg.model_name_or_path:
        raise ConfigError("model_name_or_path is required")
    if not cfg.train_file:
        raise ConfigError("train_file is required")
    if cfg.peft == "none" and cfg.load_in_4bit:
        raise ConfigError(
            "peft: none (full fine-tuning) cannot train a 4-bit base; set load_in_4bit: false"
        )
    try:
        check_numbers(dataclasses.asdict(cfg))
        check_model(cfg.model_name_or_path, trust_remote_code=cfg.trust_remote_code)
    except PreflightError as exc:
        raise ConfigError(str(exc)) from None
    _check_output_dir(cfg.output_dir)


def _check_output_dir(output_dir: str) -> None:
    """Writable before training starts: /proc/x failed at the first save, exit 3 (issue 29)."""
    from pathlib import Path

    from reasonkit.artifacts import check_out_dir
    from reasonkit.errors import InputError

    try:
        check_out_dir(Path(output_dir))
    except InputError as exc:
        raise ConfigError(str(exc).replace("--out", "output_dir", 1)) from None


def shared_training_args(cfg: RunConfig, hw: Hardware) -> dict[str, Any]:
    """The TrainingArguments fields SFT and GRPO set alike, from the shared RunConfig."""
    return {
        "output_dir": cfg.output_dir,
        "learning_rate": cfg.learning_rate,
        "lr_scheduler_type": cfg.lr_scheduler_type,
        "warmup_steps": cfg.warmup_steps,
        "weight_decay": cfg.weight_decay,
        "max_grad_norm": cfg.max_grad_norm,
        "max_steps": cfg.max_steps,
        "num_train_epochs": cfg.num_train_epochs,
        "per_device_train_batch_size": cfg.per_device_train_batch_size,
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
        "gradient_checkpointing": cfg.gradient_checkpointing,
        "logging_steps": cfg.logging_steps,
        "save_strategy": "steps",
        "save_steps": cfg.save_steps,
        "save_total_limit": cfg.save_total_limit,
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "optim": hw.optim,
        "bf16": hw.bf16,
        "fp16": hw.fp16,
        "use_cpu": hw.use_cpu,
        "report_to": cfg.report_to,
        "trust_remote_code": cfg.trust_remote_code,
        # On a terminal, a progress bar; in a piped log, the loss line every logging_steps.
        "disable_tqdm": not interactive(),
    }


def run_cli(config_cls: type[C], main: Callable[[C], Any], argv: Sequence[str] | None,
            prog: str) -> int:
    """The exit-code contract (docs/exit-codes.md): 0 trained; 2 a bad config or bad training data;
    3 an internal error. Training has no gate, so it never exits 1."""
    from reasonkit.errors import EXIT_OK, debug_requested, guarded
    from train.console import quiet_library_noise, quiet_progress_bars
    from train.data import TrainDataError

    quiet_library_noise()
    name = prog.removeprefix("python -m ")
    args = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(args)

    def body() -> int:
        from pathlib import Path

        from reasonkit.outlock import output_lock

        cfg = parse_config(config_cls, args, prog=prog)
        quiet_progress_bars()
        _check_output_dir(cfg.output_dir)
        with output_lock(Path(cfg.output_dir)):  # one training per output_dir at a time
            meta = main(cfg)
        print(f"{name}: {meta.global_step} steps; adapter and train_meta.json in {cfg.output_dir}")
        return EXIT_OK

    return guarded(name, body, debug=debug, input_errors=(ConfigError, TrainDataError))
