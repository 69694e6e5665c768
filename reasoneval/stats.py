"""Small-sample statistics for accuracy and paired comparisons. No torch; scipy imported lazily."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

from reasonkit.answers import is_equivalent, normalize, parse_gold

__all__ = [
    "maj_at_k",
    "mcnemar_exact",
    "min_detectable_effect",
    "paired_bootstrap_ci",
    "pass_at_k",
    "wilson_interval",
]


def wilson_interval(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (Wilson 1927); (0, 1) when n == 0."""
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(1 - (1 - conf) / 2)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At k = 0 (k = n) the bound is exactly 0 (1); rounding would leave ~1e-17 there.
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: discordant counts b, c under Binomial(b + c, 1/2)."""
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got b={b}, c={c}")
    if b + c == 0:
        return 1.0
    from scipy.stats import binomtest  # lazy: scipy.stats costs ~0.3 s to import

    return float(binomtest(b, b + c, 0.5).pvalue)


def paired_bootstrap_ci(
    base: Sequence[float],
    cand: Sequence[float],
    *,
    seed: int,
    n_boot: int = 10_000,
    conf: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap CI of mean(cand - base), resampling items (pairs) with replacement.

    Values may be bools (one sample per item) or per-item mean correctness. Resampling n items
    with replacement is the same as drawing Multinomial(n, observed frequencies) over the distinct
    per-item differences, which costs O(n_boot x distinct values) instead of O(n_boot x n).
    """
    if len(base) != len(cand):
        raise ValueError(f"paired samples differ in length: {len(base)} vs {len(cand)}")
    n = len(base)
    if n == 0:
        raise ValueError("no items to bootstrap")
    diffs = np.asarray(cand, dtype=float) - np.asarray(base, dtype=float)
    values, counts = np.unique(np.round(diffs, 12), return_counts=True)
    rng = np.random.default_rng(seed)
    # In chunks: memory stays O(chunk x distinct values) whatever n_boot is, and the draws are the
    # same stream as one call (numpy draws multinomial rows one after another).
    chunk = 100_000
    means = np.concatenate([
        rng.multinomial(n, counts / n, size=min(chunk, n_boot - start)) @ values / n
        for start in range(0, n_boot, chunk)
    ])
    alpha = (1 - conf) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return float(lo), float(hi)


def min_detectable_effect(
    diffs_sd: float, n: int, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest true mean paired difference detectable by a two-sided test at this n.

    Normal approximation for a paired design: MDE = (z_{1-alpha/2} + z_{power}) * sd(d) / sqrt(n),
    with d the per-item difference (for one binary sample per item, sd(d)^2 = discordant rate
    - delta^2, as in Connor 1987's McNemar sample-size formula).
    """
    if n <= 0:
        raise ValueError("n must be positive")
    z = NormalDist()
    return (z.inv_cdf(1 - alpha / 2) + z.inv_cdf(power)) * diffs_sd / math.sqrt(n)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k).

    Chen et al. 2021, "Evaluating Large Language Models Trained on Code", eq. 1; computed as a
    running product to avoid huge binomials.
    """
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1.0 - k / i
    return 1.0 - miss


def maj_at_k(answers: Sequence[str | None], gold: str | None, k: int | None = None) -> bool:
    """Majority vote over the first k extracted answers (None = no answer, casts no vote).

    Answers are grouped by canonical value (so "0.5" and "1/2" vote together); a tie goes to the
    value reached first in sample order, which keeps the result deterministic.
    """
    if k is not None and not 1 <= k <= len(answers):
        raise ValueError(f"k must be in 1..{len(answers)}, got {k}")
    votes: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for i, answer in enumerate(answers[:k]):
        value = normalize(answer) if answer is not None else None
        if value is None:
            continue
        votes[value] += 1
        first_seen.setdefault(value, i)
    if not votes:
        return False
    winner = max(votes, key=lambda v: (votes[v], -first_seen[v]))
    return is_equivalent(winner, parse_gold(gold) if gold is not None else None)
