"""`python -m scripts.study recipes --out DIR`: base -> GRPO, base -> SFT and base -> SFT -> GRPO.

The embedded pipeline's data, base, QLoRA SFT and GRPO settings (configs/pipeline/demo.yaml),
each recipe at every training seed, all scored on the same 500 held-out problems. The seed study
that motivates it (issue #17) found, on Qwen2.5-0.5B-Instruct and GSM8K, direct RL best
(45.5 -> 54.0), SFT then RL worse (44.3-45.5), and SFT alone often harmful.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from functools import partial
from itertools import combinations
from pathlib import Path

from reasonkit.artifacts import atomic_write_text
from scripts.recipe import PipelineConfig
from scripts.stages import Stage, run_stage
from scripts.study_records import ArmComparison, RecipeAccuracy, RecipeFigures, Study
from scripts.study_report import (
    COMPARISON_COLUMNS,
    compare_arms,
    comparison_row,
    holm,
    pct,
    section,
)
from scripts.study_runner import Arm, Chain, data_key, run_arms

RECIPES = {"base -> GRPO": ("grpo",), "base -> SFT": ("sft",), "base -> SFT -> GRPO": ("sft", "grpo")}
SEED_STUDY = {"base": "45.5", "base -> GRPO": "54.0", "base -> SFT -> GRPO": "44.3-45.5",
              "base -> SFT": "often below base"}  # fmt: skip


@dataclass
class RecipesConfig:
    """The demo's pipeline settings (a profile of configs/pipeline), run at every seed."""

    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    jobs: int = 2
    profile: str = "demo"
    eval_layers: str = "accuracy"
    overrides: list[str] = field(default_factory=list)  # KEY=VALUE for the pipeline config

    def pipeline(self) -> PipelineConfig:
        from scripts.pipeline import load_config

        cfg = load_config(self.profile, self.overrides)
        return dataclasses.replace(cfg, seeds=self.seeds, layers=self.eval_layers)


def plan_arms(train_file: Path, seeds: list[int]) -> list[Arm]:
    key = data_key("demo", train_file)
    arms = [Arm("base", Chain("base", 0, (), None), "base")]
    shared = {s: Chain(f"{key}-sft-grpo", s, ("sft", "grpo"), train_file) for s in seeds}
    for s in seeds:  # SFT -> GRPO's chain evaluates its SFT model too: that is the SFT arm
        arms.append(Arm("base -> GRPO", Chain(f"{key}-grpo", s, ("grpo",), train_file), "grpo"))
        arms.append(Arm("base -> SFT", shared[s], "sft"))
        arms.append(Arm("base -> SFT -> GRPO", shared[s], "grpo"))
    return arms


def build_study(cfg: RecipesConfig, pcfg: PipelineConfig, evals: dict[Arm, Path], seconds: float,
                stage_seconds: float) -> Study:
    runs = {name: [p for a, p in evals.items() if a.name == name] for name in ["base", *RECIPES]}
    accuracy = {}
    for name, paths in runs.items():
        r = compare_arms(runs["base"], paths).result
        accuracy[name] = RecipeAccuracy(r.candidate_accuracy, r.candidate_runs, r.n_items)
    compared = {f"{b} vs {a}": compare_arms(runs[a], runs[b]) for a, b in combinations(runs, 2)}
    # the six pairwise comparisons are one family
    pairs = dict(zip(compared, holm(list(compared.values())), strict=True))
    best = max(RECIPES, key=lambda n: accuracy[n].mean)
    beaten = [_versus(best, other, pairs) for other in RECIPES if other != best]
    table = [[name, pct(a.mean), ", ".join(pct(r) for r in a.runs), SEED_STUDY[name]]
             for name, a in accuracy.items()]  # fmt: skip
    return Study(
        study="recipes", title="Which recipe? base -> GRPO, base -> SFT, base -> SFT -> GRPO",
        summary=(f"{len(cfg.seeds)} training seeds per recipe; SFT {pcfg.sft_steps} steps, GRPO "
                 f"{pcfg.grpo_steps} steps; {accuracy['base'].n_items} held-out problems; "
                 f"{seconds:.0f} s wall this run; the arms' stages took "
                 f"{stage_seconds:.0f} s in all when they ran (one core each).",
                 f"Highest mean accuracy: {best} ({'; '.join(beaten)})."),
        config={**dataclasses.asdict(cfg), "pipeline": dataclasses.asdict(pcfg)},
        seconds=round(seconds, 1), stage_seconds=stage_seconds,
        figures=RecipeFigures(accuracy, pairs),
        sections=(
            section("Accuracy by recipe", "Seed study column: GSM8K accuracy of Qwen2.5-0.5B-Instruct "
                    "under the same recipes, as issue #17 quotes it.",
                    columns=["recipe", "accuracy (mean of seeds)", "per seed", "seed study (GSM8K)"],
                    rows=table),
            section("Paired comparisons over seeds", columns=COMPARISON_COLUMNS,
                    rows=[comparison_row(k, c) for k, c in pairs.items()]),
        ),
    )  # fmt: skip


def _versus(best: str, other: str, pairs: dict[str, ArmComparison]) -> str:
    """best - other, whichever side of the stored comparison ``best`` was on."""
    from scripts.study_report import effect

    names = ["base", *RECIPES]
    a, b = sorted((best, other), key=names.index)
    c = pairs[f"{b} vs {a}"].result
    sign = 1 if b == best else -1
    lo, hi = sorted((sign * c.ci_low, sign * c.ci_high))
    return f"vs {other} {100 * sign * c.delta:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}], {effect(lo, hi)}"


def main(cfg: RecipesConfig, out: Path, base: Path) -> int:
    from scripts import recipe
    from scripts.study_report import write_study

    started = time.monotonic()
    pcfg = cfg.pipeline()
    data = out / "data"
    run_stage(Stage("datacheck clean synthetic", data, {"data_seed": pcfg.data_seed}),
              partial(recipe.clean_data, pcfg, data))  # fmt: skip
    train_file = data / "kept" / "train.jsonl"
    evals, stage_seconds = run_arms(plan_arms(train_file, cfg.seeds), pcfg, base, None, out, jobs=cfg.jobs, study="recipes")
    study = build_study(cfg, pcfg, evals, time.monotonic() - started, stage_seconds)
    write_study(out, study)
    atomic_write_text(out / "study_config.json", json.dumps(study.config, indent=2) + "\n")
    print((out / "study.md").read_text(encoding="utf-8"))
    return 0
