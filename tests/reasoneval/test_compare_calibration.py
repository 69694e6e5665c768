"""A small run of benchmarks/bench_compare_seeds.py: the two-level test holds its false-alarm
rate under seed noise, and the one-checkpoint paired test does not (docs/statistics.md has the
full tables)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_compare_seeds.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_compare_seeds", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_false_alarms_under_seed_noise() -> None:
    bench = _bench()
    # 600 null experiments: the binomial SE of a 5% rate is 0.9 points, so these windows are
    # about 3.5 SE wide and the (seeded) result is not a coin toss.
    row = bench.null_row(bench.Design(n=200, runs=3, tau=0.2), 600, 0, seed=11)
    assert 0.02 <= row["alarm_two_level"] <= 0.08
    assert row["alarm_one_checkpoint"] >= 0.10  # seed luck read as an effect
    assert row["seed_share"] > 0.3
