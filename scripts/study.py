"""`python -m scripts.study cleaning|recipes --out DIR`: the two studies on the embedded task.

``cleaning`` measures what each datacheck check is worth to a QLoRA SFT model, at several flaw
levels (scripts/study_cleaning.py); ``recipes`` compares base -> GRPO, base -> SFT and
base -> SFT -> GRPO (scripts/study_recipes.py). Both train every arm at each training seed, compare
arms through ``reasoneval.compare`` over seeds, and write study.json, study.md and study.html
into DIR. A rerun resumes: finished arms are kept (keyed by their config and data); ``--fresh``
starts over.

Exit codes: 0 ok, 2 bad input or usage, 3 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from reasonkit.errors import EXIT_CODES_HELP, OneLineParser
from scripts.config_overlay import UsageError, check_seeds, guarded_cli, load_dataclass
from scripts.recipe import REPO_ROOT
from scripts.study_cleaning import CleaningConfig
from scripts.study_recipes import RecipesConfig

CONFIG_DIR = REPO_ROOT / "configs" / "study"
STUDIES = ("cleaning", "recipes")


def load_config(study: str, profile: str, overrides: Sequence[str] = ()) -> CleaningConfig | RecipesConfig:
    path = CONFIG_DIR / f"{study}-{profile}.yaml"
    if not path.is_file():
        raise UsageError(f"no {profile!r} profile for the {study} study ({path.name})")
    cls = CleaningConfig if study == "cleaning" else RecipesConfig
    cfg = load_dataclass(cls, path, overrides)
    check_seeds(cfg.seeds)
    if cfg.jobs < 1:
        raise UsageError(f"jobs must be at least 1, got {cfg.jobs}")
    return cfg


def main(cfg: CleaningConfig | RecipesConfig, out: Path, *, fresh: bool = False) -> int:
    from reasonkit.outlock import empty_output
    from scripts import study_cleaning, study_recipes
    from scripts.pipeline import verified_base
    from scripts.validate import validate_study

    validate_study(cfg, out)  # every setting, before any arm starts
    if fresh and out.exists():
        empty_output(out)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(cfg, CleaningConfig):
        from scripts.recipe import PipelineConfig

        return study_cleaning.main(cfg, out, verified_base(PipelineConfig(base=cfg.base)))
    return study_recipes.main(cfg, out, verified_base(cfg.pipeline()))


def make_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m scripts.study", description=__doc__.splitlines()[0],
                           epilog=EXIT_CODES_HELP)  # fmt: skip
    parser.add_argument("study", choices=STUDIES)
    parser.add_argument("--out", type=Path, required=True, help="study directory (resumed if present)")
    parser.add_argument("--profile", default="full", help="configs/study/<study>-<profile>.yaml (full, toy)")
    parser.add_argument("--seeds", help="training seeds, e.g. 0,1,2 (profile default: 0,1,2)")
    parser.add_argument("--jobs", type=int, help="arms trained at once, one CPU thread each (default 2)")
    parser.add_argument("--fresh", action="store_true", help="delete --out first and redo every arm")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value, e.g. --set sft_steps=100")  # fmt: skip
    return parser


def cli(argv: Sequence[str] | None = None) -> int:
    """The project's exit-code boundary (``reasonkit.errors.guarded``) around ``main``."""

    def body(args: argparse.Namespace) -> int:
        overrides = [*args.set, *([f"seeds={args.seeds}"] if args.seeds is not None else []),
                     *([f"jobs={args.jobs}"] if args.jobs is not None else [])]  # fmt: skip
        return main(load_config(args.study, args.profile, overrides), args.out.resolve(), fresh=args.fresh)

    return guarded_cli("study", make_parser(), argv, body)


if __name__ == "__main__":
    raise SystemExit(cli())
