"""`python -m scripts.pipeline --out DIR`: the embedded default, from data to evidence, on CPU.

datacheck cleans the synthetic task; the committed pretrained tiny base (scripts/build_base.py) is
fine-tuned by QLoRA SFT, then by QLoRA GRPO with the accuracy reward; reasoneval judges the base,
SFT and GRPO models with the accuracy, traces and sensitivity layers; ``reasoneval.compare`` gives
the paired evidence for base -> SFT and SFT -> GRPO. ``--seeds 0,1,2`` repeats training per seed
and compares across seeds. A rerun resumes the finished stages; ``--fresh`` starts over.

Exit codes: 0 ok, 1 the CI gate failed (ci profile), 2 bad input or usage, 3 internal error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from reasonkit.artifacts import atomic_write_text
from reasonkit.errors import EXIT_CODES_HELP, OneLineParser
from scripts import recipe
from scripts.config_overlay import UsageError, check_seeds, guarded_cli, load_dataclass
from scripts.recipe import REPO_ROOT, PipelineConfig
from scripts.stages import Stage, StageRunner, typed_config

CONFIG_DIR = REPO_ROOT / "configs" / "pipeline"
EXIT_OK, EXIT_GATE = 0, 1


def load_config(profile: str, overrides: Sequence[str] = ()) -> PipelineConfig:
    cfg = load_dataclass(PipelineConfig, CONFIG_DIR / f"{profile}.yaml", overrides)
    check_seeds(cfg.seeds)
    return cfg


def verified_base(cfg: PipelineConfig) -> Path:
    """The committed base, checked against the sha256 its provenance records."""
    from scripts.build_base import BASE_FILE, file_hashes

    base = Path(cfg.base) if Path(cfg.base).is_absolute() else REPO_ROOT / cfg.base
    if not (base / BASE_FILE).is_file():
        raise UsageError(f"no pretrained base at {cfg.base} (build it: python -m scripts.build_base)")
    try:
        recorded = json.loads((base / BASE_FILE).read_text(encoding="utf-8"))["sha256"]
        matches = file_hashes(base) == recorded
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise UsageError(f"{cfg.base}: unreadable base ({type(exc).__name__}: {exc})") from None
    if not matches:
        raise UsageError(f"{cfg.base}: files do not match the sha256 in {BASE_FILE}")
    return base


def _check_leaks(cfg: PipelineConfig, data: Path) -> None:
    """The held-out splits must not leak into what is trained on (datacheck's leak audit)."""
    from reasonkit.errors import GateFailed

    over = {s: share for s, share in recipe.leaked_shares(data).items() if share > cfg.max_leaked_share}
    if over:
        raise GateFailed("leak audit: " + ", ".join(f"{s} {share:.1%} of items" for s, share in over.items())
                         + f" have a twin among the kept train rows (max_leaked_share {cfg.max_leaked_share:g};"
                         f" {data / 'report.md'})")  # fmt: skip


def run_pipeline(cfg: PipelineConfig, out: Path) -> dict[str, Path]:
    """Every stage, resumably; returns the evaluation directory of each (stage, seed, split)."""
    import torch

    from reasoneval.backends.threads import THREADS_ENV

    # Fixed threads, training and evaluation alike: float sums then reduce in one order, and a
    # rerun (or CI against its baseline) decodes the same tokens whatever the machine's load.
    torch.set_num_threads(cfg.torch_threads)
    os.environ[THREADS_ENV] = str(cfg.torch_threads)
    base = verified_base(cfg)
    splits = recipe.eval_splits(cfg)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "pipeline_config.json", json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    runner = StageRunner(total=2 + 2 * len(cfg.seeds) + len(splits) * (1 + 2 * len(cfg.seeds)))
    from datacheck.synthetic import SCHEMA_VERSION as TASK_VERSION

    # The task's generator is code, not a setting: its schema version stands for it.
    data = runner.run(Stage("datacheck clean synthetic", out / "data",
                            typed_config(*recipe.clean_configs(cfg), out=out / "data", task_version=TASK_VERSION)),
                      partial(recipe.clean_data, cfg, out / "data"))  # fmt: skip
    _check_leaks(cfg, data)
    parts = runner.run(Stage("split train rows: SFT | GRPO prompts", out / "train_split",
                             {"rl_share": cfg.rl_share}, (data,)),
                       partial(recipe.split_train, cfg, data / "kept" / "train.jsonl", out / "train_split"))  # fmt: skip
    sft_rows, rl_rows = parts / "sft.jsonl", parts / "rl.jsonl"
    threads = {"torch_threads": cfg.torch_threads}  # set outside the typed configs, changes sums
    trained: dict[int, tuple[Path, Path]] = {}
    for seed in cfg.seeds:
        sft_dir, grpo_dir = recipe.train_dir(out, seed, "sft"), recipe.train_dir(out, seed, "grpo")
        runner.run(Stage(f"QLoRA SFT (seed {seed})", sft_dir,
                         typed_config(recipe.sft_config(cfg, seed, base, sft_rows, sft_dir), out=sft_dir, **threads),
                         (parts, base / "base.json")),
                   partial(recipe.sft, cfg, seed, base, sft_rows, sft_dir))  # fmt: skip
        runner.run(Stage(f"QLoRA GRPO (seed {seed})", grpo_dir,
                         typed_config(recipe.grpo_config(cfg, seed, base, sft_dir, rl_rows, grpo_dir), out=grpo_dir,
                                      **threads), (sft_dir,)),
                   partial(recipe.grpo, cfg, seed, base, sft_dir, rl_rows, grpo_dir))  # fmt: skip
        trained[seed] = (sft_dir, grpo_dir)
    evals: dict[str, Path] = {}
    models = [("base", None, base, (base / "base.json",))] + [
        (kind, seed, model, (model,))
        for seed, pair in trained.items() for kind, model in zip(("sft", "grpo"), pair, strict=True)
    ]  # fmt: skip
    for split, layers in recipe.eval_plan(cfg):
        for kind, seed, model, inputs in models:
            name = recipe.eval_name(kind, seed, split)
            target = out / "eval" / name
            config = typed_config(recipe.eval_config(cfg, model, target, None, split, layers), out=target, **threads)
            runner.run(Stage(f"reasoneval run: {name}", target, config, inputs, keep_partial=("cache",)),
                       partial(recipe.evaluate, cfg, model, target, split=split, layers_text=layers))  # fmt: skip
            evals[name] = target
    runner.seconds["total"] = round(sum(runner.seconds.values()), 1)
    atomic_write_text(out / "timings.json", json.dumps(
        {"seconds": runner.seconds, "resumed": runner.resumed}, indent=2) + "\n")  # fmt: skip
    return evals


def main(cfg: PipelineConfig, out: Path, *, fresh: bool = False, update_baseline: bool = False) -> int:
    from reasonkit.outlock import empty_output
    from scripts.pipeline_gate import ci_gate, write_baseline
    from scripts.pipeline_summary import summarize
    from scripts.validate import validate_pipeline

    validate_pipeline(cfg, out, baseline_needed=not update_baseline)  # before any stage starts
    if fresh and out.exists():
        empty_output(out)
    evals = run_pipeline(cfg, out)
    timings = json.loads((out / "timings.json").read_text(encoding="utf-8"))["seconds"]
    print(summarize(out, cfg, evals, timings), flush=True)
    if update_baseline:
        if not cfg.baseline:
            raise UsageError("--update-baseline needs a profile with a baseline")
        write_baseline(cfg, out, evals, REPO_ROOT / cfg.baseline)
        print(f"pipeline: baseline written to {cfg.baseline}", file=sys.stderr)
        return EXIT_OK
    if cfg.baseline and not ci_gate(cfg, out, evals, REPO_ROOT / cfg.baseline):
        return EXIT_GATE
    return EXIT_OK


def make_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m scripts.pipeline", description=__doc__.splitlines()[0],
                           epilog=EXIT_CODES_HELP)  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="run directory (resumed if present)")
    parser.add_argument("--profile", choices=["demo", "ci"], default="demo")
    parser.add_argument("--seeds", help="training seeds, e.g. 0,1,2 (profile default: 0)")
    parser.add_argument("--fresh", action="store_true", help="delete --out first and redo every stage")
    parser.add_argument("--backend", choices=["hf", "vllm"], help="evaluation backend (profile: hf)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value, e.g. --set sft_steps=300")  # fmt: skip
    parser.add_argument("--update-baseline", action="store_true",
                        help="write this run's final evaluation as the profile's baseline")  # fmt: skip
    return parser


def cli(argv: Sequence[str] | None = None) -> int:
    """The project's exit-code boundary (``reasonkit.errors.guarded``) around ``main``."""

    def body(args: argparse.Namespace) -> int:
        overrides = [*args.set, *([f"seeds={args.seeds}"] if args.seeds is not None else []),
                     *([f"backend={args.backend}"] if args.backend else [])]  # fmt: skip
        return main(load_config(args.profile, overrides), args.out.resolve(), fresh=args.fresh,
                    update_baseline=args.update_baseline)  # fmt: skip

    return guarded_cli("pipeline", make_parser(), argv, body)


if __name__ == "__main__":
    raise SystemExit(cli())
