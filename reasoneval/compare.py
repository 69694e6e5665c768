"""`reasoneval compare`: paired non-inferiority check of a candidate's results against a baseline.

Items are matched by id. An item may have several rows (k samples): its correctness is the mean
over its samples, and the bootstrap resamples items, so k samples of one item never count as k
independent items. The McNemar test needs one binary outcome per side, so it uses each item's
first sample in file order. docs/answers.md describes the statistics.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from reasoneval.artifacts import read_jsonl
from reasoneval.errors import InputError
from reasoneval.stats import mcnemar_exact, min_detectable_effect, paired_bootstrap_ci

__all__ = ["Comparison", "compare_results", "load_results"]

DEFAULT_MARGIN_POINTS = 2.0
DEFAULT_N_BOOT = 10_000


@dataclass(frozen=True, slots=True)
class Comparison:
    n_items: int
    baseline_accuracy: float  # fractions in [0, 1]; the text report shows points
    candidate_accuracy: float
    delta: float  # candidate - baseline
    ci_low: float  # paired 95% bootstrap CI of delta
    ci_high: float
    mcnemar_p: float
    baseline_only: int  # items the baseline got right and the candidate wrong (first sample)
    candidate_only: int
    mde: float  # minimum detectable |delta| at alpha 0.05, power 0.8
    margin: float  # the non-inferiority margin, as a fraction
    seed: int
    n_boot: int
    passed: bool
    baseline_samples: tuple[int, int]  # (fewest, most) samples per item
    candidate_samples: tuple[int, int]

    def text(self) -> str:
        verdict = (
            "PASS: CI lower bound is within the margin"
            if self.passed
            else "FAIL: regression beyond the margin"
        )

        def k(r: tuple[int, int]) -> str:
            return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]} (uneven)"

        lines = [
            f"items {self.n_items}; samples per item: baseline {k(self.baseline_samples)}, "
            f"candidate {k(self.candidate_samples)}",
            f"baseline  accuracy {100 * self.baseline_accuracy:.2f}%",
            f"candidate accuracy {100 * self.candidate_accuracy:.2f}%",
            f"delta {100 * self.delta:+.2f} points, paired 95% bootstrap CI "
            f"[{100 * self.ci_low:+.2f}, {100 * self.ci_high:+.2f}] "
            f"(seed {self.seed}, {self.n_boot} resamples of items)",
            f"McNemar exact p = {self.mcnemar_p:.4g} (baseline-only correct "
            f"{self.baseline_only}, candidate-only correct {self.candidate_only})",
            f"minimum detectable effect at n={self.n_items}: {100 * self.mde:.2f} points "
            "(alpha 0.05, power 0.8)",
        ]
        if self.mde > self.margin:
            lines.append(
                f"warning: the margin ({100 * self.margin:.2f} points) is below the minimum "
                "detectable effect; more items are needed to show non-inferiority reliably"
            )
        lines.append(
            f"verdict: {verdict} (lower bound {100 * self.ci_low:+.2f} vs "
            f"-margin {-100 * self.margin:+.2f} points)"
        )
        return "\n".join(lines)


def compare_results(
    baseline: Mapping[str, Sequence[bool]],
    candidate: Mapping[str, Sequence[bool]],
    *,
    margin_points: float = DEFAULT_MARGIN_POINTS,
    seed: int = 0,
    n_boot: int = DEFAULT_N_BOOT,
) -> Comparison:
    """Non-inferiority: fails when the lower bound of the CI of delta is below -margin."""
    if margin_points < 0:
        raise InputError(f"margin must be >= 0 points, got {margin_points}")
    if n_boot < 100:
        raise InputError(f"n_boot must be >= 100, got {n_boot}")
    if set(baseline) != set(candidate):
        only_base = sorted(set(baseline) - set(candidate))
        only_cand = sorted(set(candidate) - set(baseline))
        raise InputError(
            f"item sets differ: {len(only_base)} only in baseline (e.g. {only_base[:3]}), "
            f"{len(only_cand)} only in candidate (e.g. {only_cand[:3]})"
        )
    ids = sorted(baseline)
    if not ids:
        raise InputError("no items to compare")
    for name, side in (("baseline", baseline), ("candidate", candidate)):
        empty = [i for i in ids if len(side[i]) == 0]
        if empty:
            raise InputError(f"{name}: item {empty[0]!r} has no samples")
    base = [sum(baseline[i]) / len(baseline[i]) for i in ids]
    cand = [sum(candidate[i]) / len(candidate[i]) for i in ids]
    n = len(ids)
    lo, hi = paired_bootstrap_ci(base, cand, seed=seed, n_boot=n_boot)
    b = sum(1 for i in ids if baseline[i][0] and not candidate[i][0])
    c = sum(1 for i in ids if candidate[i][0] and not baseline[i][0])
    diffs = [y - x for x, y in zip(base, cand, strict=True)]
    mean = sum(diffs) / n
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1) if n > 1 else 0.0
    # With no disagreement the observed variance is 0 and would claim any effect detectable;
    # floor it at the variance of a single discordant item in n.
    sd = math.sqrt(max(var, 1.0 / n))
    margin = margin_points / 100
    return Comparison(
        n_items=n,
        baseline_accuracy=sum(base) / n,
        candidate_accuracy=sum(cand) / n,
        delta=mean,
        ci_low=lo,
        ci_high=hi,
        mcnemar_p=mcnemar_exact(b, c),
        baseline_only=b,
        candidate_only=c,
        mde=min_detectable_effect(sd, n),
        margin=margin,
        seed=seed,
        n_boot=n_boot,
        passed=lo >= -margin - 1e-12,  # tolerance: float quantiles of identical files are -0.0
        baseline_samples=(min(map(len, baseline.values())), max(map(len, baseline.values()))),
        candidate_samples=(min(map(len, candidate.values())), max(map(len, candidate.values()))),
    )


def load_results(path: Path, *, id_field: str = "id") -> dict[str, list[bool]]:
    """id -> its samples' `correct` values, in file order."""
    results: dict[str, list[bool]] = {}
    for index, row in enumerate(read_jsonl(path), 1):
        if id_field not in row:
            raise InputError(f"{path}: row {index}: missing field {id_field!r}")
        item_id = row[id_field]
        if isinstance(item_id, bool) or not isinstance(item_id, str | int):
            raise InputError(f"{path}: row {index}: {id_field!r} must be a string or integer")
        correct = row.get("correct")
        if not isinstance(correct, bool):
            raise InputError(f"{path}: row {index}: 'correct' must be true or false")
        results.setdefault(str(item_id), []).append(correct)
    if not results:
        raise InputError(f"{path}: no rows")
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("baseline", type=Path, help="per-sample JSONL with id and correct")
    parser.add_argument("candidate", type=Path, help="per-sample JSONL with id and correct")
    parser.add_argument(
        "--margin",
        type=float,
        default=DEFAULT_MARGIN_POINTS,
        metavar="POINTS",
        help="non-inferiority margin in accuracy points (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--n-boot", type=int, default=DEFAULT_N_BOOT, help="bootstrap resamples")
    parser.add_argument("--id-field", default="id", help="field that matches items (default id)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    baseline = load_results(args.baseline, id_field=args.id_field)
    candidate = load_results(args.candidate, id_field=args.id_field)
    result = compare_results(
        baseline, candidate, margin_points=args.margin, seed=args.seed, n_boot=args.n_boot
    )
    print(json.dumps(asdict(result), indent=2) if args.json else result.text())
    return 0 if result.passed else 1
