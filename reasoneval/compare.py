"""`reasoneval compare`: paired comparison of a candidate's results against a baseline's.

Each side is one run or a group of runs (training seeds); reasoneval.multiseed has the statistics
and docs/statistics.md their calibration. Items are matched by id. An item may have several rows
(k samples): its correctness is the mean over its samples, and items (not samples) are resampled,
so k samples of one item never count as k independent items. A run's samples.jsonl also holds the
sensitivity layer's prompt variants; only original-prompt rows are compared unless --variant
names another family.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reasoneval.multiseed import (
    MAX_N_BOOT,
    MIN_N_BOOT,
    TESTS,
    GroupComparison,
    Test,
    compare_groups,
)
from reasoneval.records import ORIGINAL, in_variant
from reasonkit.artifacts import read_jsonl
from reasonkit.errors import InputError, finite_float, int_in, non_negative_float, seed_int
from reasonkit.manifest import check_run_files

__all__ = [
    "Comparison",
    "GroupComparison",
    "compare_groups",
    "compare_results",
    "compare_runs",
    "load_run_results",
]

DEFAULT_MARGIN_POINTS = 2.0
DEFAULT_N_BOOT = 10_000


@dataclass(frozen=True, slots=True)
class Comparison:
    """One run per side: the figures `compare_results` has always returned (see GroupComparison)."""

    n_items: int
    baseline_accuracy: float
    candidate_accuracy: float
    delta: float
    ci_low: float
    ci_high: float
    mcnemar_p: float
    baseline_only: int
    candidate_only: int
    mde: float
    margin: float
    seed: int
    n_boot: int
    passed: bool
    baseline_samples: tuple[int, int]
    candidate_samples: tuple[int, int]


def compare_results(
    baseline: Mapping[str, Sequence[bool]],
    candidate: Mapping[str, Sequence[bool]],
    *,
    margin_points: float = DEFAULT_MARGIN_POINTS,
    seed: int = 0,
    n_boot: int = DEFAULT_N_BOOT,
) -> Comparison:
    """Non-inferiority of one run against one: compare_groups with a group of one on each side."""
    g = compare_groups(
        [baseline], [candidate], margin_points=margin_points, seed=seed, n_boot=n_boot
    )
    return Comparison(**{name: getattr(g, name) for name in Comparison.__dataclass_fields__})


def load_run_results(
    path: Path, *, id_field: str = "id", variant: str = ORIGINAL, verify: bool = True
) -> dict[str, list[bool]]:
    """id -> correctness of its samples in sample order, from a run directory or a samples file.

    Only rows of ``variant`` count: "original" (the default; rows without a variant field are
    originals, as `reasoneval score` writes them), one variant ("format-json") or a whole family
    ("format"), never the mix that made the defect of issue 13. A run directory, or a run's
    samples.jsonl, must agree with its manifest (``verify=False``: the run writing it reads it).
    """
    path = Path(path)
    if path.is_dir():
        check_run_files(path)  # every file of the set, not only samples.jsonl (issue 26)
        path = path / "samples.jsonl"
        if not path.is_file():
            raise InputError(f"{path.parent}: a run directory needs samples.jsonl")
    elif path.name == "samples.jsonl" and verify:
        # a run's samples named directly: the same check (not for the run that is writing it)
        check_run_files(path.parent)
    rows = read_jsonl(path)
    if not rows:
        raise InputError(f"{path}: no rows")

    kept = [(i, r) for i, r in enumerate(rows, 1) if in_variant(r, variant)]
    results: dict[str, list[bool]] = {}
    spelled: dict[str, object] = {}  # id text -> the first JSON value that spelled it
    # stable: a file without sample_index keeps its file order
    for index, row in sorted(kept, key=lambda ir: int(ir[1].get("sample_index", 0))):
        if id_field not in row:
            raise InputError(f"{path}: row {index}: missing field {id_field!r}")
        item_id = row[id_field]
        if isinstance(item_id, bool) or not isinstance(item_id, str | int):
            raise InputError(f"{path}: row {index}: {id_field!r} must be a string or integer")
        correct = row.get("correct")
        if not isinstance(correct, bool):
            raise InputError(f"{path}: row {index}: 'correct' must be true or false")
        key = str(item_id)
        first = spelled.setdefault(key, item_id)
        if type(first) is not type(item_id):
            # One rule for run and compare: an id is its text, and 0 and "0" in one file are
            # refused rather than silently merged into one item.
            raise InputError(f"{path}: row {index}: id {item_id!r} and an earlier {first!r} are "
                             "the same id as text; write every id one way")
        results.setdefault(key, []).append(correct)
    if not results:
        raise InputError(f"{path}: no {variant!r} samples among {len(rows)} rows")
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "pair",
        nargs="*",
        type=Path,
        metavar="RUN",
        help="BASELINE CANDIDATE: one run directory or samples JSONL each (or use the options)",
    )
    for side in ("baseline", "candidate"):
        parser.add_argument(
            f"--{side}",
            nargs="+",
            type=Path,
            metavar="RUN",
            help=f"the {side}'s runs (one per training seed): run directories or samples JSONL",
        )
    parser.add_argument("--test", choices=TESTS, default="non-inferiority")
    parser.add_argument(
        "--margin",
        type=non_negative_float,
        default=DEFAULT_MARGIN_POINTS,
        metavar="POINTS",
        help="non-inferiority margin in accuracy points (default %(default)s)",
    )
    parser.add_argument(
        "--min-effect",
        type=finite_float,
        default=0.0,
        metavar="POINTS",
        help="superiority: the CI's lower bound must exceed this (default %(default)s)",
    )
    parser.add_argument(
        "--variant",
        default=ORIGINAL,
        help="compare this prompt variant or family instead of the originals (default original)",
    )
    parser.add_argument("--seed", type=seed_int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument(
        "--n-boot", type=int_in(MIN_N_BOOT, MAX_N_BOOT), default=DEFAULT_N_BOOT,
        help=f"bootstrap resamples, {MIN_N_BOOT} to {MAX_N_BOOT:,} (default %(default)s)",
    )
    parser.add_argument("--id-field", default="id", help="field that matches items (default id)")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument(
        "--allow-style-mismatch",
        action="store_true",
        help="compare runs made with different prompt styles (refused by default)",
    )


def _sides(args: argparse.Namespace) -> tuple[list[Path], list[Path]]:
    grouped = args.baseline is not None or args.candidate is not None
    if grouped and args.pair:
        raise InputError("give BASELINE CANDIDATE or --baseline/--candidate, not both")
    if grouped:
        if args.baseline is None or args.candidate is None:
            raise InputError("--baseline and --candidate go together")
        return list(args.baseline), list(args.candidate)
    if len(args.pair) != 2:
        raise InputError(f"expected BASELINE CANDIDATE, got {len(args.pair)} paths")
    return [args.pair[0]], [args.pair[1]]


def refuse_repeated_runs(side: str, paths: Sequence[Path]) -> None:
    """One run given twice in a group would count as two seeds and narrow the interval (a lower
    bound of +24.7 against +13.6 with a real second seed, issue 29): refuse equal contents."""
    import hashlib

    seen: dict[str, Path] = {}
    for path in paths:
        samples = path / "samples.jsonl" if path.is_dir() else path
        try:
            digest = hashlib.sha256(samples.read_bytes()).hexdigest()
        except OSError:
            continue  # load_run_results names what is wrong with it
        if digest in seen:
            raise InputError(f"{side}: {seen[digest]} and {path} hold the same samples "
                             f"(sha256 {digest[:12]}): one run given twice would count as two "
                             "seeds; give each seed's run once")
        seen[digest] = path


def compare_runs(
    base_paths: Sequence[Path],
    cand_paths: Sequence[Path],
    *,
    test: Test = "non-inferiority",
    margin_points: float = DEFAULT_MARGIN_POINTS,
    min_effect_points: float = 0.0,
    variant: str = ORIGINAL,
    seed: int = 0,
    n_boot: int = DEFAULT_N_BOOT,
    id_field: str = "id",
    allow_style_mismatch: bool = False,
    style_flag: str = "--allow-style-mismatch",
) -> GroupComparison:
    """`reasoneval compare`'s work, for the command and the Python API alike: the checks on both
    groups of runs (no run twice, one prompt style), then the comparison over items x runs."""
    if min_effect_points and test != "superiority":
        raise InputError("--min-effect applies to --test superiority")
    for side, paths in (("--baseline", base_paths), ("--candidate", cand_paths)):
        refuse_repeated_runs(side, paths)
    from reasoneval.prompt_styles import check_same_style

    check_same_style([*base_paths, *cand_paths], allowed=allow_style_mismatch, flag=style_flag)

    def load(paths: Sequence[Path]) -> list[dict[str, list[bool]]]:
        return [load_run_results(p, id_field=id_field, variant=variant) for p in paths]

    return compare_groups(load(base_paths), load(cand_paths), test=test, margin_points=margin_points,
                          min_effect_points=min_effect_points, seed=seed, n_boot=n_boot)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    if args.min_effect and args.test != "superiority":
        raise InputError("--min-effect applies to --test superiority")  # before the paths are read
    base_paths, cand_paths = _sides(args)
    result = compare_runs(base_paths, cand_paths, test=args.test, margin_points=args.margin,
                          min_effect_points=args.min_effect, variant=args.variant, seed=args.seed,
                          n_boot=args.n_boot, id_field=args.id_field,
                          allow_style_mismatch=args.allow_style_mismatch)  # fmt: skip
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.text())
    return 0 if result.passed else 1
