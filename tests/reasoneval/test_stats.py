"""reasoneval.stats against hand-computed values and scipy/numpy references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reasoneval.stats import (
    maj_at_k,
    mcnemar_exact,
    min_detectable_effect,
    paired_bootstrap_ci,
    pass_at_k,
    wilson_interval,
)


def test_wilson_interval_matches_hand_computation() -> None:
    # k=8, n=10, z=1.959964: centre = (0.8 + z^2/20) / (1 + z^2/10) = 0.7168,
    # half = z * sqrt(0.016 + z^2/400) / (1 + z^2/10) = 0.2266
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_mcnemar_exact_is_two_sided_binomial() -> None:
    # b=1, c=9: 2 * P(X <= 1 | Bin(10, 1/2)) = 2 * 11 / 1024
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    assert mcnemar_exact(9, 1) == pytest.approx(22 / 1024)
    assert mcnemar_exact(5, 5) == pytest.approx(1.0)
    assert mcnemar_exact(0, 0) == 1.0


def test_pass_at_k_hand_values() -> None:
    # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    # k=1 is the plain success rate
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    # n=4, c=1, k=3: 1 - C(3,3)/C(4,3) = 1 - 1/4
    assert pass_at_k(4, 1, 3) == pytest.approx(0.75)
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(5, 3, 3) == 1.0  # n - c < k: some draw of 3 always includes a success
    assert pass_at_k(20, 7, 5) == pytest.approx(1 - math.comb(13, 5) / math.comb(20, 5))
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_maj_at_k_hand_values() -> None:
    assert maj_at_k(["3", "4", "3"], "3")
    assert not maj_at_k(["3", "4", "4"], "3")
    assert maj_at_k(["1/2", "0.5", "7"], "#### 0.50")  # equal values vote together
    assert not maj_at_k([None, None, "4"], "3")
    assert maj_at_k([None, None, "3"], "3")  # no answer casts no vote
    assert not maj_at_k([None, None], "3")
    assert maj_at_k(["4", "3", "3", "4"], "4")  # tie: first-reached value wins
    assert not maj_at_k(["4", "3", "3", "3"], "3", k=1)  # only the first k samples vote
    with pytest.raises(ValueError):
        maj_at_k(["3"], "3", k=2)


def test_paired_bootstrap_matches_index_resampling() -> None:
    rng = np.random.default_rng(7)
    base = rng.random(300) < 0.6
    cand = np.where(rng.random(300) < 0.15, ~base, base)
    lo, hi = paired_bootstrap_ci(list(base), list(cand), seed=3, n_boot=20_000)
    # Reference: resample item indices directly.
    diffs = cand.astype(float) - base.astype(float)
    idx = np.random.default_rng(11).integers(0, 300, size=(20_000, 300))
    ref_lo, ref_hi = np.quantile(diffs[idx].mean(axis=1), [0.025, 0.975])
    assert lo == pytest.approx(ref_lo, abs=0.006)
    assert hi == pytest.approx(ref_hi, abs=0.006)
    assert lo < diffs.mean() < hi


def test_paired_bootstrap_is_seeded_and_identical_samples_give_zero() -> None:
    a = [True, False] * 50
    b = [True, True] * 50
    assert paired_bootstrap_ci(a, b, seed=1, n_boot=1000) == paired_bootstrap_ci(
        a, b, seed=1, n_boot=1000
    )
    assert paired_bootstrap_ci(a, a, seed=1, n_boot=1000) == (0.0, 0.0)
    with pytest.raises(ValueError):
        paired_bootstrap_ci(a, b[:-1], seed=1)


def test_min_detectable_effect_formula() -> None:
    # (1.95996 + 0.84162) * 0.3 / sqrt(100)
    assert min_detectable_effect(0.3, 100) == pytest.approx(0.0840, abs=1e-4)
    assert min_detectable_effect(0.3, 400) == pytest.approx(0.0420, abs=1e-4)
