"""Comparing two recipes through groups of runs (training seeds), not two fixed checkpoints.

Each side is R runs x n items: Y[r, i] is run r's mean correctness on item i. Items are crossed
with runs, so the difference of the two sides' mean accuracies,

    delta = mean_i(mean_r Yc[r, i] - mean_r Yb[r, i]),

varies with the items drawn (paired across sides) and with the seeds drawn (independent per side).
With the two-way random-effects decomposition Y = mu + item + seed + residual (residual: the
item x seed interaction plus sampling noise),

    Var(delta) = Var_i(item_c - item_b) / n + sum_sides (s2_seed / R + s2_resid / (n R)).

The sample variance of a side's run accuracies estimates s2_seed + s2_resid / n, and the sample
variance of the per-item differences D_i estimates Var_i(item_c - item_b) + sum s2_resid / R,
so subtracting the two-way ANOVA residual mean square once gives an unbiased estimate
(Searle, Casella & McCulloch 1992, "Variance Components", ch. 4). Seed variances are pooled over
the sides. The CI is delta +- t * SE with Satterthwaite (1946) degrees of freedom: with three
seeds a side the seed term has only 4 df, and a normal interval would be too narrow. The two-level
bootstrap (Saravanan et al. 2020) estimates the same variance; docs/statistics.md measures both.
Seeds as a level of variance: Bouthillier et al. 2021; error bars on evals: Miller 2024.

With one run per side nothing can be said about seeds, and the result is the fixed-checkpoint
paired item bootstrap that `reasoneval compare` has always computed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist

import numpy as np

from reasoneval.group_comparison import TESTS, GroupComparison, Test
from reasoneval.stats import mcnemar_exact, min_detectable_effect, paired_bootstrap_ci
from reasonkit.errors import InputError

__all__ = ["TESTS", "GroupComparison", "Test", "compare_groups"]

# Bootstrap resamples. The Monte Carlo error of a 2.5% percentile at 10,000 resamples is already
# a small share of the CI's width (Efron & Tibshirani 1993, ch. 19 suggest 1,000-2,000 for
# intervals); 1,000,000 bounds the cost (100,000,000 took 61 s and 5 GB, issue 29).
MIN_N_BOOT, MAX_N_BOOT = 100, 1_000_000
RunResults = Mapping[str, Sequence[bool]]


def _matrix(runs: Sequence[RunResults], ids: list[str], name: str) -> np.ndarray:
    """(R, n) per-run per-item mean correctness; InputError on an item with no samples."""
    rows = []
    for number, run in enumerate(runs, 1):
        empty = next((i for i in ids if len(run[i]) == 0), None)
        if empty is not None:
            raise InputError(f"{name} run {number}: item {empty!r} has no samples")
        rows.append([sum(run[i]) / len(run[i]) for i in ids])
    return np.asarray(rows, dtype=float)


def _common_ids(baseline: Sequence[RunResults], candidate: Sequence[RunResults]) -> list[str]:
    every = [("baseline", j, run) for j, run in enumerate(baseline, 1)] + [
        ("candidate", j, run) for j, run in enumerate(candidate, 1)
    ]
    union = set().union(*(set(run) for _, _, run in every))
    gaps = [
        f"{name} run {j} lacks {len(missing)} (e.g. {sorted(missing)[:3]})"
        for name, j, run in every
        if (missing := union - set(run))
    ]
    if gaps:
        raise InputError(
            f"item sets differ across runs ({len(union)} ids in all): " + "; ".join(gaps)
        )
    if not union:
        raise InputError("no items to compare")
    return sorted(union)


def _residual_ms(y: np.ndarray) -> float:
    """Two-way ANOVA residual mean square of a runs x items matrix (the item x seed noise)."""
    r, n = y.shape
    if r < 2 or n < 2:
        return 0.0
    resid = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + y.mean()
    return float((resid**2).sum() / ((r - 1) * (n - 1)))


def _t(q: float, df: float) -> float:
    if math.isinf(df):
        return NormalDist().inv_cdf(q)
    from scipy.stats import t  # lazy, as in reasoneval.stats

    return float(t.ppf(q, df))


def _two_level(yb: np.ndarray, yc: np.ndarray) -> tuple[float, float, float, float]:
    """(variance of delta, its seed part, Satterthwaite df, item-only variance); see module doc."""
    (rb, n), rc = yb.shape, yc.shape[0]
    d = yc.mean(axis=0) - yb.mean(axis=0)
    var_d = float(d.var(ddof=1)) if n > 1 else 0.0
    # Seed and residual variances are pooled over the sides, as in Student's pooled t: exact when
    # both recipes are equally seed-sensitive (as under the null), robust when R_b == R_c, and a
    # side with one run borrows the other's. Welch's separate variances, with 2 df each at three
    # seeds, alarmed 3.2-3.5% at alpha 0.05 in the simulation (docs/statistics.md).
    sides = [y for y in (yb, yc) if y.shape[0] >= 2]
    seed_df = sum(y.shape[0] - 1 for y in sides)
    run_var = sum((y.shape[0] - 1) * float(y.mean(axis=1).var(ddof=1)) for y in sides) / seed_df
    resid = sum((y.shape[0] - 1) * _residual_ms(y) for y in sides) / seed_df
    item_var = max(var_d - resid / rb - resid / rc, 0.0) / n
    seed_term = run_var * (1 / rb + 1 / rc)
    total = item_var + seed_term
    denom = (item_var**2 / (n - 1) if n > 1 else 0.0) + seed_term**2 / seed_df
    df = total**2 / denom if denom > 0 else math.inf
    seed_part = max(run_var - resid / n, 0.0) * (1 / rb + 1 / rc)
    return total, min(seed_part, total), df, var_d / n


def compare_groups(
    baseline: Sequence[RunResults],
    candidate: Sequence[RunResults],
    *,
    test: Test = "non-inferiority",
    margin_points: float = 2.0,
    min_effect_points: float = 0.0,
    seed: int = 0,
    n_boot: int = 10_000,
) -> GroupComparison:
    """Non-inferiority passes when the CI's lower bound is >= -margin; superiority when > min_effect.

    Each mapping is one run (one training seed): item id -> its samples' correctness. With one run
    per side the CI is the paired item bootstrap (seeded, n_boot resamples), as before; with more,
    the two-level t interval of the module docstring (n_boot is then unused).
    """
    if test not in TESTS:
        raise InputError(f"test must be one of {', '.join(TESTS)}, got {test!r}")
    if not (math.isfinite(margin_points) and margin_points >= 0):  # nan failed, inf always passed
        raise InputError(f"margin must be a finite number >= 0 points, got {margin_points}")
    if not MIN_N_BOOT <= n_boot <= MAX_N_BOOT:
        raise InputError(f"n_boot must be in [{MIN_N_BOOT}, {MAX_N_BOOT:,}], got {n_boot}")
    if not baseline or not candidate:
        raise InputError("each side needs at least one run")
    ids = _common_ids(baseline, candidate)
    yb, yc = _matrix(baseline, ids, "baseline"), _matrix(candidate, ids, "candidate")
    n, rb, rc = len(ids), yb.shape[0], yc.shape[0]
    d = yc.mean(axis=0) - yb.mean(axis=0)
    delta = float(d.mean())
    first_b = np.mean([[run[i][0] for i in ids] for run in baseline], axis=0)
    first_c = np.mean([[run[i][0] for i in ids] for run in candidate], axis=0)
    b, c = int((first_b > first_c).sum()), int((first_c > first_b).sum())
    if 1 < rb == rc and np.array_equal(yb, yc):
        # The same runs on both sides are the same seeds: seeds cancel as items do, and there is
        # no difference to estimate (as one file compared with itself always gave [0, 0]).
        lo = hi = se = item_se = 0.0
        df, share, method = None, None, "identical runs on both sides"
        mde = min_detectable_effect(math.sqrt(1.0 / n), n)
    elif rb == rc == 1:
        lo, hi = paired_bootstrap_ci(yb[0], yc[0], seed=seed, n_boot=n_boot)
        item_var = float(d.var(ddof=1)) if n > 1 else 0.0
        # With no disagreement the observed variance is 0 and would call any effect detectable;
        # floor it at the variance of a single discordant item in n.
        mde = min_detectable_effect(math.sqrt(max(item_var, 1.0 / n)), n)
        se = item_se = math.sqrt(item_var / n)
        df, share = None, None
        method = f"paired bootstrap of items, seed {seed}, {n_boot} resamples"
    else:
        total, seed_part, df, item_only = _two_level(yb, yc)
        se, item_se = math.sqrt(total), math.sqrt(item_only)
        half = _t(0.975, df) * se
        lo, hi = delta - half, delta + half
        floor = max(total, 1.0 / n**2)  # as above: one discordant item in n
        mde = (_t(0.975, df) + _t(0.8, df)) * math.sqrt(floor)
        share = seed_part / total if total > 0 else 0.0
        method = f"two-level: items x seeds, t with {df:.1f} df"
        if math.isinf(df):  # no variance at all: keep --json valid JSON (no Infinity)
            df, method = None, "two-level: items x seeds, no variance"
    margin, min_effect = margin_points / 100, min_effect_points / 100
    # tolerance: float quantiles of identical files are -0.0
    passed = lo >= -margin - 1e-12 if test == "non-inferiority" else lo > min_effect + 1e-12

    def seed_sd(y: np.ndarray) -> float | None:
        return float(y.mean(axis=1).std(ddof=1)) if y.shape[0] > 1 else None

    def k_range(runs: Sequence[RunResults]) -> tuple[int, int]:
        counts = [len(run[i]) for run in runs for i in ids]
        return min(counts), max(counts)

    return GroupComparison(
        n_items=n,
        n_baseline_runs=rb,
        n_candidate_runs=rc,
        baseline_accuracy=float(yb.mean()),
        candidate_accuracy=float(yc.mean()),
        delta=delta,
        ci_low=float(lo),
        ci_high=float(hi),
        ci_method=method,
        df=df,
        se=se,
        item_se=item_se,
        baseline_seed_sd=seed_sd(yb),
        candidate_seed_sd=seed_sd(yc),
        seed_variance_share=share,
        mde=mde,
        mcnemar_p=mcnemar_exact(b, c),
        baseline_only=b,
        candidate_only=c,
        test=test,
        margin=margin,
        min_effect=min_effect,
        seed=seed,
        n_boot=n_boot,
        passed=bool(passed),
        baseline_runs=tuple(float(a) for a in yb.mean(axis=1)),
        candidate_runs=tuple(float(a) for a in yc.mean(axis=1)),
        baseline_samples=k_range(baseline),
        candidate_samples=k_range(candidate),
    )
