"""Calibration and power of `reasoneval compare` on groups of runs, by simulation (issue 13).

Each simulated experiment trains R "checkpoints" per side on the same n items. Item i has a
difficulty a_i ~ N(0.4, 1.5^2) on the logit scale (about 58% accuracy); run r of a side has a
seed shift u_r ~ N(0, tau^2) and an item x seed interaction w_ri ~ N(0, 1) (checkpoints of one
recipe disagree on many items); y_ri ~ Bernoulli(sigmoid(a_i + u_r + w_ri + effect)). Under the
null both sides share the recipe (effect 0); a false alarm is a 95% CI that excludes 0.

Tests compared, on the same simulated data:
- two-level: reasoneval.compare.compare_groups with all R runs a side (what ships);
- one checkpoint: the paired item bootstrap on run 1 of each side (compare before issue 13);
- two-level bootstrap: percentile CI, resampling runs within sides and then items, paired
  (Saravanan et al. 2020), for comparison.

    python benchmarks/bench_compare_seeds.py [--experiments 2000] [--power-experiments 1000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from reasoneval.compare import compare_groups
from reasoneval.stats import paired_bootstrap_ci
from reasonkit.artifacts import atomic_write_text

ITEM_MEAN, ITEM_SD, INTERACTION_SD = 0.4, 1.5, 1.0
N_BOOT = 1000  # per simulated experiment; a CI bound's Monte Carlo error is small beside 5%
BOOTSTRAP_MAX_N = 500  # the two-level bootstrap costs ~0.25 s an experiment at n = 1319


@dataclass(frozen=True)
class Design:
    n: int
    runs: int
    tau: float  # seed SD on the logit scale
    effect: float = 0.0  # logit shift of the candidate


def simulate(design: Design, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(baseline, candidate) runs x items matrices of 0/1 outcomes, one sample per item."""
    a = rng.normal(ITEM_MEAN, ITEM_SD, design.n)

    def side(shift: float) -> np.ndarray:
        u = rng.normal(0, design.tau, (design.runs, 1))
        w = rng.normal(0, INTERACTION_SD, (design.runs, design.n))
        p = 1 / (1 + np.exp(-(a + u + w + shift)))
        return (rng.random(p.shape) < p).astype(float)

    return side(0.0), side(design.effect)


def as_runs(y: np.ndarray) -> list[dict[str, list[bool]]]:
    return [{str(i): [bool(v)] for i, v in enumerate(row)} for row in y]


def two_level_bootstrap_ci(
    yb: np.ndarray, yc: np.ndarray, rng: np.random.Generator, n_boot: int = N_BOOT
) -> tuple[float, float]:
    """Percentile CI: resample runs within each side, then items (the same items on both sides)."""
    (rb, n), rc = yb.shape, yc.shape[0]
    wb = rng.multinomial(rb, np.full(rb, 1 / rb), size=n_boot) / rb
    wc = rng.multinomial(rc, np.full(rc, 1 / rc), size=n_boot) / rc
    d = wc @ yc - wb @ yb  # (n_boot, n): per-item differences under the resampled runs
    idx = rng.integers(0, n, size=(n_boot, n))
    means = np.take_along_axis(d, idx, axis=1).mean(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(lo), float(hi)


def points_to_logit(points: float, tau: float, rng: np.random.Generator) -> float:
    """The logit shift that raises mean accuracy by `points`, found by bisection."""
    z = rng.normal(ITEM_MEAN, ITEM_SD, 200_000) + rng.normal(0, math.hypot(tau, 1.0), 200_000)
    base = float(np.mean(1 / (1 + np.exp(-z))))
    lo, hi = 0.0, 2.0
    for _ in range(50):
        mid = (lo + hi) / 2
        gain = float(np.mean(1 / (1 + np.exp(-(z + mid))))) - base
        lo, hi = (mid, hi) if gain < points / 100 else (lo, mid)
    return (lo + hi) / 2


def null_row(
    design: Design, experiments: int, boot_experiments: int, seed: int
) -> dict[str, float | None]:
    rng = np.random.default_rng(seed)
    booted = boot_experiments > 0 and design.n <= BOOTSTRAP_MAX_N
    alarms = {"two_level": 0, "one_checkpoint": 0, "two_level_bootstrap": 0}
    shares, seed_sds = [], []
    for e in range(experiments):
        yb, yc = simulate(design, rng)
        g = compare_groups(as_runs(yb), as_runs(yc), n_boot=N_BOOT)
        alarms["two_level"] += not g.ci_low <= 0 <= g.ci_high
        lo, hi = paired_bootstrap_ci(yb[0], yc[0], seed=e, n_boot=N_BOOT)
        alarms["one_checkpoint"] += not lo <= 0 <= hi
        if e < boot_experiments and design.n <= BOOTSTRAP_MAX_N:
            lo, hi = two_level_bootstrap_ci(yb, yc, rng)
            alarms["two_level_bootstrap"] += not lo <= 0 <= hi
        shares.append(g.seed_variance_share or 0.0)
        seed_sds.append(((g.baseline_seed_sd or 0) + (g.candidate_seed_sd or 0)) / 2)
    row: dict[str, float | None] = {
        "n": design.n,
        "runs": design.runs,
        "tau": design.tau,
        "experiments": experiments,
        "seed_sd_points": 100 * float(np.mean(seed_sds)),
        "seed_share": float(np.mean(shares)),
        "alarm_two_level": alarms["two_level"] / experiments,
        "alarm_one_checkpoint": alarms["one_checkpoint"] / experiments,
        "alarm_two_level_bootstrap": (
            alarms["two_level_bootstrap"] / boot_experiments if booted else None
        ),
        "bootstrap_experiments": boot_experiments if booted else 0,
    }
    return row


def power_row(
    design: Design, points: float, experiments: int, seed: int
) -> dict[str, float | None]:
    """Share of experiments where the superiority test (CI lower bound > 0) passes."""
    rng = np.random.default_rng(seed)
    passed = 0
    for _ in range(experiments):
        yb, yc = simulate(design, rng)
        g = compare_groups(as_runs(yb), as_runs(yc), test="superiority", n_boot=N_BOOT)
        passed += g.passed
    return {
        "n": design.n,
        "runs": design.runs,
        "tau": design.tau,
        "effect_points": points,
        "experiments": experiments,
        "power": passed / experiments,
    }


def null_designs(quick: bool) -> Iterator[Design]:
    for n in (200,) if quick else (200, 1319):
        for tau in (0.0, 0.05, 0.1, 0.2):
            yield Design(n, 3, tau)
    if not quick:
        for runs in (2, 5):
            yield Design(500, runs, 0.1)


def markdown(rows: list[dict[str, float | None]], columns: list[tuple[str, str, str]]) -> str:
    head = "| " + " | ".join(title for _, title, _ in columns) + " |"
    rule = "|" + "|".join("---:" for _ in columns) + "|"
    body = [
        "| "
        + " | ".join("—" if r[key] is None else format(r[key], fmt) for key, _, fmt in columns)
        + " |"
        for r in rows
    ]
    return "\n".join([head, rule, *body])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--experiments", type=int, default=2000, help="null experiments a row")
    parser.add_argument("--bootstrap-experiments", type=int, default=500)
    parser.add_argument("--power-experiments", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="n=200 rows only, no power table")
    parser.add_argument("--part", choices=("null", "power", "all"), default="all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write every row to this JSON file")
    args = parser.parse_args()
    start = time.perf_counter()
    nulls: list[dict[str, float | None]] = []
    for i, design in enumerate(null_designs(args.quick) if args.part != "power" else ()):
        nulls.append(null_row(design, args.experiments, args.bootstrap_experiments, args.seed + i))
        print(json.dumps(nulls[-1]), file=sys.stderr, flush=True)  # progress
    print(
        markdown(
            nulls,
            [
                ("n", "items", "d"),
                ("runs", "runs/side", "d"),
                ("tau", "seed SD (logit)", ".2f"),
                ("seed_sd_points", "seed SD (points)", ".2f"),
                ("seed_share", "seed share", ".2f"),
                ("alarm_two_level", "two-level", ".3f"),
                ("alarm_one_checkpoint", "one checkpoint", ".3f"),
                ("alarm_two_level_bootstrap", "two-level bootstrap", ".3f"),
            ],
        )
    )
    power: list[dict[str, float | None]] = []
    if not args.quick and args.part != "null":
        rng = np.random.default_rng(args.seed)
        tau = 0.1
        for points in (0.0, 1.0, 2.0, 3.0, 5.0):
            shift = points_to_logit(points, tau, rng)
            for runs in (1, 3, 5):
                design = Design(1319, runs, tau, shift)
                power.append(power_row(design, points, args.power_experiments, args.seed + runs))
                print(json.dumps(power[-1]), file=sys.stderr, flush=True)
        print()
        print(
            markdown(
                power,
                [
                    ("effect_points", "effect (points)", ".1f"),
                    ("runs", "runs/side", "d"),
                    ("power", "P(superiority passes)", ".3f"),
                ],
            )
        )
    elapsed = time.perf_counter() - start
    load = os.getloadavg()
    print(f"\n{elapsed:.0f} s; load average {load[0]:.2f}; python {sys.version.split()[0]}")
    if args.json:
        atomic_write_text(args.json, json.dumps({"null": nulls, "power": power}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
