"""Small statistics the traces and sensitivity layers share: AUROC, PSS, resampling nulls.

Interval and test primitives (Wilson, exact McNemar) live in reasoneval.stats; these are the
layer-specific summaries built on numpy/scipy (sklearn is not a dependency).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from reasoneval.layers.base import Metric
from reasoneval.stats import wilson_interval


def wilson_metric(k: int, n: int, *, higher_is_better: bool) -> Metric:
    lo, hi = wilson_interval(k, n) if n else (0.0, 0.0)
    return Metric(k / n if n else 0.0, lo, hi, higher_is_better=higher_is_better, n=n)


def auroc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """Area under the ROC curve via the Mann-Whitney U statistic (ties count one half).

    U / (n_pos * n_neg) is the probability that a random positive outscores a random negative
    (Hanley & McNeil 1982). None when either class is empty, since the area is then undefined.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(s)  # average ranks for ties
    u = float(ranks[y].sum()) - n_pos * (n_pos + 1) / 2
    return u / (n_pos * n_neg)


def auroc_gain_ci(
    flag_scores: Sequence[float], baseline_scores: Sequence[float], positive: Sequence[bool],
    groups: Sequence[str], *, seed: int, n_boot: int,
) -> tuple[float, float] | None:
    """Percentile 95% interval of AUROC(flags) - AUROC(baseline), resampling items (groups).

    Samples of one item share a problem, so items, not samples, are the unit resampled.
    """
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    blocks = list(by_group.values())
    f, b, y = (np.asarray(x) for x in (flag_scores, baseline_scores, positive))
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(n_boot):
        picks = rng.integers(0, len(blocks), len(blocks))
        idx = np.fromiter(itertools.chain.from_iterable(blocks[p] for p in picks), dtype=int)
        a1, a0 = auroc(f[idx], y[idx]), auroc(b[idx], y[idx])
        if a1 is not None and a0 is not None:
            gains.append(a1 - a0)
    if len(gains) < n_boot // 2:  # too few resamples with both classes to trust the interval
        return None
    lo, hi = np.percentile(gains, [2.5, 97.5])
    return float(lo), float(hi)


def prompt_sensitivity_score(scores: Sequence[float]) -> float:
    """ProSA's PromptSensiScore for one item: the mean |Y_i - Y_j| over all pairs of variants.

    Zhuo et al. 2024, "ProSA: Assessing and Understanding the Prompt Sensitivity of LLMs"
    (EMNLP 2024 Findings): PSS = mean over instances of (1 / C(n,2)) * sum_{i<j} |Y(p_i) -
    Y(p_j)|, Y the score of the response to prompt variant p. 0 = every variant agrees.
    """
    if len(scores) < 2:
        return 0.0
    pairs = list(itertools.combinations(scores, 2))
    return sum(abs(a - b) for a, b in pairs) / len(pairs)


def spread_null(
    original: Sequence[bool], n_variants: int, *, seed: int, n_boot: int
) -> np.ndarray:
    """Max-min accuracy spread of ``n_variants`` pseudo-variants that differ only by noise.

    Each pseudo-variant is a bootstrap resample of the original prompt's per-item correctness,
    so any spread among them is sampling noise. This errs on the wide side (it also resamples
    items, which real variants share), so a real spread above its 95th percentile is sensitivity
    beyond noise with some margin.
    """
    y = np.asarray(original, dtype=float)
    if y.size == 0 or n_variants < 2:
        return np.zeros(n_boot)
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for b in range(n_boot):  # one resample at a time: n_boot x variants x items can be large
        accs = y[rng.integers(0, y.size, (n_variants, y.size))].mean(axis=1)
        out[b] = accs.max() - accs.min()
    return out


def bootstrap_ratio_ci(
    num: Sequence[float], den: Sequence[float], *, seed: int, n_boot: int
) -> tuple[float, float] | None:
    """Percentile 95% interval of 1 - mean(num)/mean(den) over paired items (the PDR)."""
    a, b = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if a.size == 0:
        return None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, (n_boot, a.size))
    den_means = b[idx].mean(axis=1)
    keep = den_means > 0
    if keep.sum() < n_boot // 2:
        return None
    pdr = 1 - a[idx].mean(axis=1)[keep] / den_means[keep]
    lo, hi = np.percentile(pdr, [2.5, 97.5])
    return float(lo), float(hi)
