"""`reasoneval run`'s prompt style for one run: auto resolved, checked against the layers and the
baseline, and the renderer with its shots (reasoneval/prompt_styles.py has the styles)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from reasoneval.datasets import load_few_shot, load_problems
from reasoneval.prompt_styles import PromptRenderer, check_style, choose_style
from reasoneval.records import Problem
from reasoneval.report_record import report_from_json
from reasoneval.run_config import RunConfig
from reasonkit.errors import InputError


def resolve_prompt_style(
    cfg: RunConfig, model: dict[str, Any], tokenizer: Any,
    baseline: tuple[dict[str, Any], Path] | None,
) -> tuple[str, PromptRenderer, str]:
    """The style (auto resolved), its renderer and why; refuses a baseline of another style."""
    dirs = [Path(model["checkpoint"]), *([Path(model["base_model"])] if model["base_model"] else [])]
    style, reason = choose_style(cfg.prompt_style, dirs, tokenizer)
    from reasoneval.variants import FAMILIES

    sens = cfg.sensitivity_config
    families = (sens.families if sens else FAMILIES) if "sensitivity" in cfg.layers else None
    n_shots = check_style(style, tokenizer, cfg.few_shot, families)
    if baseline is not None and not cfg.allow_style_mismatch:
        recorded = report_from_json(baseline[0], str(baseline[1].parent)).prompt_style
        theirs = None if recorded is None else recorded.name
        if theirs is not None and theirs != style:
            raise InputError(f"--baseline {baseline[1].parent} used prompt style {theirs}, this "
                             f"run {style}; accuracy under one prompt is not comparable with "
                             "another; pass --allow-style-mismatch to gate anyway")
    shots = tuple(load_few_shot(cfg.dataset, n_shots)) if style == "think" else ()
    pool: tuple[Problem, ...] = ()
    if style == "fewshot-gsm8k":
        if cfg.dataset.name not in ("gsm8k", "synthetic"):
            raise InputError("--prompt-style fewshot-gsm8k needs a dataset with a train split "
                             "(gsm8k or synthetic)")
        train = load_problems(replace(cfg.dataset, split="train", limit=None))
        pool = tuple(p for p in train if p.solution)
        if len(pool) < n_shots:
            raise InputError(f"--few-shot {n_shots}: the train split has {len(pool)} solutions")
    renderer = PromptRenderer(style, tokenizer, n_shots, shots, pool, cfg.sampling.seed)  # type: ignore[arg-type]
    return style, renderer, reason
