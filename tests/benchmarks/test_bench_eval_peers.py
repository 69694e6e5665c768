"""bench_eval_peers.py at toy size (2 items, 4 tokens), so it cannot rot; CI times nothing here."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_eval_peers_run_side_by_side_or_skip_with_reason(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_eval_peers.py"), "--limit", "2",
         "--max-new-tokens", "4", "--rounds", "1", "--backends", "hf",
         "--lm-eval-batches", "2", "--lm-eval-threads", "1", "--out", str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=ROOT, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "round 1: reasoneval-hf" in out and "tok/s" in out
    if importlib.util.find_spec("lm_eval") is None:
        assert "skipped lm-eval: `lm-eval` is not installed" in out
    else:
        assert "round 1: lm-eval-b2" in out
        assert "answers 2/2 identical" in out  # the same prompt, greedy: the same answers
        assert "target reasoneval-hf >= 1.5x lm-eval's best batch" in out
