"""The ci profile's gate: paired accuracy non-inferiority at 5 points, plus GRPO's own reward."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts.pipeline_gate import REWARD_FILE, ci_gate
from scripts.recipe import PipelineConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
N = 500


def _outcomes(accuracy: float, seed: int) -> list[bool]:
    rng = random.Random(seed)
    return [rng.random() < accuracy for _ in range(N)]


@pytest.fixture
def setup(tmp_path: Path, write_run: Any, write_rewards: Any) -> Any:
    def make(final: list[bool], rewards: list[float], update: float = 0.01
             ) -> tuple[PipelineConfig, dict[str, Path], Path]:  # fmt: skip
        return _setup(tmp_path, final, rewards, write_run, lambda d, r: write_rewards(d, r, update))

    return make


def _setup(tmp_path: Path, final: list[bool], rewards: list[float], write_run: Any,
           write_rewards: Any) -> tuple[PipelineConfig, dict[str, Path], Path]:  # fmt: skip
    baseline = write_run(tmp_path / "baseline", _outcomes(0.7, 0), None)
    (baseline / REWARD_FILE).write_text(json.dumps({"accuracy_reward": 0.6, "relative_weight_change": 0.01}))
    out = tmp_path / "run"
    write_rewards(out / "seed0" / "grpo", rewards)
    evals = {"grpo/seed0": write_run(out / "eval" / "grpo" / "seed0", final, None)}
    return PipelineConfig(baseline="baselines/ci", margin=5.0), evals, baseline


def test_the_same_model_passes(tmp_path: Path, setup: Any) -> None:
    cfg, evals, baseline = setup(_outcomes(0.7, 0), [0.55, 0.65])
    assert ci_gate(cfg, tmp_path / "run", evals, baseline)
    saved = json.loads((tmp_path / "run" / "gate.json").read_text())
    assert saved["accuracy"]["passed"] and saved["accuracy"]["delta"] == 0


def test_rl_that_does_not_train_fails_the_training_gate(tmp_path: Path, setup: Any) -> None:
    """Same answers and rewards as the baseline, but the adapter barely moved (a learning rate
    near 0): only the training check sees it."""
    cfg, evals, baseline = setup(_outcomes(0.7, 0), [0.55, 0.65], update=1e-6)
    assert not ci_gate(cfg, tmp_path / "run", evals, baseline)
    saved = json.loads((tmp_path / "run" / "gate.json").read_text())
    assert saved["accuracy"]["passed"] and saved["reward"]["passed"] and not saved["training"]["passed"]


def test_a_ten_point_regression_fails_the_accuracy_gate(tmp_path: Path, setup: Any) -> None:
    worse = [ok and random.Random(i).random() > 0.15 for i, ok in enumerate(_outcomes(0.7, 0))]
    cfg, evals, baseline = setup(worse, [0.6, 0.6])
    assert not ci_gate(cfg, tmp_path / "run", evals, baseline)
    assert not json.loads((tmp_path / "run" / "gate.json").read_text())["accuracy"]["passed"]


@pytest.mark.parametrize("broken", [[0.0, 0.0], [1.0, 1.0], [0.3, 0.4]])
def test_a_reward_stuck_or_inverted_fails_even_when_accuracy_holds(
    tmp_path: Path, setup: Any, broken: list[float]
) -> None:
    cfg, evals, baseline = setup(_outcomes(0.7, 0), broken)
    assert not ci_gate(cfg, tmp_path / "run", evals, baseline)
    saved = json.loads((tmp_path / "run" / "gate.json").read_text())
    assert saved["accuracy"]["passed"] and not saved["reward"]["passed"]


@pytest.mark.slow
def test_ci_profile_learns_and_passes_the_gate(tmp_path: Path) -> None:
    pytest.importorskip("trl")
    pytest.importorskip("bitsandbytes")
    out = tmp_path / "ci"
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.pipeline", "--profile", "ci", "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=2400, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["comparisons"]["base -> SFT"]["delta"] > 0.15  # learning happened
    gate = json.loads((out / "gate.json").read_text())
    assert gate["accuracy"]["passed"] and gate["reward"]["passed"]
