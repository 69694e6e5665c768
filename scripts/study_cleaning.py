"""`python -m scripts.study cleaning --out DIR`: what each datacheck check is worth to a trained model.

At each flaw level (the default mix of ``datacheck.flaws`` rescaled; the defaults' own total is
always one of them) the same QLoRA SFT recipe trains on the raw rows, on the fully cleaned rows
and on the rows kept by every check but one, at each training seed. All arms are scored on the
same held-out test. Reported: cleaning's Δ over raw, each check's Δ (clean vs clean-without-it),
the dose-response of both, which planted flaws each check caught, and how much the raw arm's
score is inflated on test items whose problem leaked into train.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from datacheck.flaws import FlawRates
from reasonkit.artifacts import atomic_write_text
from scripts.recipe import PipelineConfig
from scripts.study_data import LevelData, level_label, prepare
from scripts.study_records import (
    ArmComparison,
    CleaningFigures,
    Inflation,
    LevelFigures,
    Study,
)
from scripts.study_report import (
    COMPARISON_COLUMNS,
    compare_arms,
    comparison_row,
    holm,
    pct,
    section,
)
from scripts.study_runner import Arm, Chain, data_key, run_arms


@dataclass
class CleaningConfig:
    """configs/study/cleaning.yaml overlays these; the toy test shrinks them."""

    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    jobs: int = 2  # worker processes, one torch thread each
    data_seed: int = 0
    base: str = "models/tiny-base"
    n_train: int = 3000
    n_test: int = 500
    # Shares of train rows flawed. FlawRates' default total (11.5%) is added: the realistic level.
    levels: list[float] = field(default_factory=lambda: [0.0, 0.05, 0.2])
    # The demo's QLoRA SFT recipe (scripts/recipe.py) with fewer steps: 200 x 16 rows is about one
    # pass over 3,000 rows, so each arm trains in under a minute on one core.
    sft_steps: int = 200
    sft_batch: int = 16
    sft_lr: float = 1e-3
    sft_eval_every: int = 100
    max_new_tokens: int = 64
    torch_threads: int = 1

    def all_levels(self) -> list[float]:
        return sorted({round(x, 6) for x in [*self.levels, FlawRates().total]})

    def pipeline(self) -> PipelineConfig:
        return PipelineConfig(
            data_seed=self.data_seed, seeds=self.seeds, base=self.base, sft_steps=self.sft_steps,
            sft_lr=self.sft_lr, sft_batch=self.sft_batch, sft_eval_every=self.sft_eval_every,
            eval_limit=self.n_test, max_new_tokens=self.max_new_tokens, layers="accuracy",
            torch_threads=self.torch_threads,
        )  # fmt: skip


def plan_arms(levels: list[LevelData], seeds: list[int]) -> list[Arm]:
    arms = []
    for data in levels:
        for variant, path in data.train_files.items():
            key = data_key("sft", path)
            arms += [Arm(f"{data.label} {variant}", Chain(key, s, ("sft",), path), "sft") for s in seeds]
    return arms


def _runs(evals: dict[Arm, Path], name: str) -> list[Path]:
    return [path for arm, path in evals.items() if arm.name == name]


def level_figures(data: LevelData, evals: dict[Arm, Path]) -> LevelFigures:
    """One level's figures: what datacheck rejected and caught, clean vs raw, each check's Δ."""
    clean = _runs(evals, f"{data.label} clean")
    checks: dict[str, ArmComparison] = {}
    for variant, path in data.train_files.items():
        if not variant.startswith("without "):
            continue
        c = compare_arms(_runs(evals, f"{data.label} {variant}"), clean)
        same = data_key("sft", path) == data_key("sft", data.train_files["clean"])
        effect = "same rows kept: other checks reject them" if same else c.effect
        checks[variant.removeprefix("without ")] = dataclasses.replace(c, effect=effect, same_rows_as_clean=same)
    return LevelFigures(data.level, data.rates, data.rejected, data.detection, data.unflawed_rejected,
                        compare_arms(_runs(evals, f"{data.label} raw"), clean), checks, inflation(data, evals))  # fmt: skip


def with_holm(levels: list[LevelFigures]) -> list[LevelFigures]:
    """One family: clean vs raw and every check, at every level (Holm over all of them)."""
    adjusted = iter(holm([c for f in levels for c in f.family()]))
    out = []
    for f in levels:
        clean_vs_raw = next(adjusted)
        out.append(dataclasses.replace(f, clean_vs_raw=clean_vs_raw, checks={k: next(adjusted) for k in f.checks}))
    return out


def build_study(cfg: CleaningConfig, levels: list[LevelData], evals: dict[Arm, Path], seconds: float,
                stage_seconds: float) -> Study:  # fmt: skip
    default = level_label(FlawRates().total)
    labels = [data.label for data in levels]
    figures = dict(zip(labels, with_holm([level_figures(data, evals) for data in levels]), strict=True))
    rows: list[list[str]] = []
    dose: list[list[str]] = []
    series: dict[str, list[tuple[float, float]]] = {"all checks (clean vs raw)": []}
    for label, entry in figures.items():
        series["all checks (clean vs raw)"].append((100 * entry.level, 100 * entry.clean_vs_raw.result.delta))
        dose.append(comparison_row(f"{label}: clean vs raw", entry.clean_vs_raw))
        for check, c in entry.checks.items():
            series.setdefault(check, []).append((100 * entry.level, 100 * c.result.delta))
            row = comparison_row(f"{label}: {check} (clean vs without it)", c)
            (rows if label == default else dose).append(row)
    main = figures[default]
    mdes = [c.result.mde for f in figures.values() for c in f.family() if c.tested]
    detect = [[d.flaw, d.variant, str(d.planted), ", ".join(f"{k} {v}" for k, v in sorted(d.caught_by.items()))]
              for d in main.detection]  # fmt: skip
    infl = [[label, *f.inflation.cells] for label, f in figures.items() if f.inflation]
    from reasoneval.charts import svg_line_chart

    plot = svg_line_chart(series, x_label="share of train rows flawed (%)", y_label="Δ accuracy (points)",
                          title="What cleaning is worth, by flaw level")  # fmt: skip
    return Study(
        study="cleaning", title="Does cleaning pay? The cleaning study",
        summary=(f"{len(cfg.seeds)} training seeds per arm, {cfg.n_train} train rows, "
                 f"QLoRA SFT {cfg.sft_steps} steps x {cfg.sft_batch}; test items: "
                 f"{main.clean_vs_raw.result.n_items}; {seconds:.0f} s wall this run; the arms' stages took "
                 f"{stage_seconds:.0f} s in all when they ran (one core each).",
                 f"Each comparison can detect (alpha 0.05, power 0.8) a Δ of about "
                 f"{100 * min(mdes):.1f}-{100 * max(mdes):.1f} points at these seeds; "
                 "smaller effects read as 'no clear effect'."),
        config=dataclasses.asdict(cfg), seconds=round(seconds, 1), stage_seconds=stage_seconds,
        figures=CleaningFigures(figures),
        sections=(
            section(f"At the default flaw rates ({default} of rows)",
                    "Δ = clean minus the other arm, so a positive Δ means the check or cleaning helped. "
                    "The CI verdict reads each comparison alone; the Holm column adjusts its p "
                    "(the t test matching the interval) for every comparison of this study, at "
                    "every level, as one family (Holm 1979, family-wise error 0.05).",
                    columns=COMPARISON_COLUMNS,
                    rows=[comparison_row(f"{default}: clean vs raw", main.clean_vs_raw), *rows]),
            section("What each check caught (default rates)",
                    f"Unflawed train rows rejected: {dict(main.unflawed_rejected) or 'none'}.",
                    columns=["flaw", "variant", "planted", "caught by"], rows=detect),
            section("Dose-response", columns=COMPARISON_COLUMNS, rows=dose, svg=plot),
            section("Contamination inflation (raw arm)",
                    "Accuracy on test items whose problem leaked into train (verbatim, renamed or reworded) "
                    "against the rest. The raw arm trained on the leaks; the clean arm did not "
                    "(datacheck removes verbatim, renamed and reworded leaks alike). The held-out "
                    "split shares no computation with train, so the clean arm is an uncontaminated "
                    "control.",
                    columns=["level", "leaked items", "raw: leaked", "raw: rest", "clean: leaked",
                             "raw - clean on leaked [95% CI]", "raw - clean on the rest"],
                    rows=infl),
        ),
    )  # fmt: skip


def inflation(data: LevelData, evals: dict[Arm, Path]) -> Inflation | None:
    from scripts.study_report import delta_cell

    leaked = {f"study/{f.source}" for f in data.planted if f.kind == "leak" and f.source}
    if not leaked:
        return None
    raw, clean = _runs(evals, f"{data.label} raw"), _runs(evals, f"{data.label} clean")
    on_leaked = compare_arms(clean, raw, leaked)
    rest = compare_arms(clean, raw, _all_items(raw[0]) - leaked)
    cells = (str(on_leaked.result.n_items), pct(on_leaked.result.candidate_accuracy),
             pct(rest.result.candidate_accuracy), pct(on_leaked.result.baseline_accuracy),
             delta_cell(on_leaked), delta_cell(rest))  # fmt: skip
    return Inflation(on_leaked, rest, cells)


def _all_items(run_dir: Path) -> set[str]:
    from reasoneval.compare import load_run_results

    return set(load_run_results(run_dir))


def main(cfg: CleaningConfig, out: Path, base: Path) -> int:
    from scripts.study_report import write_study

    started = time.monotonic()
    levels, test_file = prepare(cfg.all_levels(), cfg.n_train, cfg.n_test, cfg.data_seed, out)
    arms = plan_arms(levels, cfg.seeds)
    evals, stage_seconds = run_arms(arms, cfg.pipeline(), base, test_file, out, jobs=cfg.jobs, study="cleaning")
    study = build_study(cfg, levels, evals, time.monotonic() - started, stage_seconds)
    write_study(out, study)
    atomic_write_text(out / "study_config.json", json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    print((out / "study.md").read_text(encoding="utf-8"))
    return 0
