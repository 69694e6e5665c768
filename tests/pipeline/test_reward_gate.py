"""The pipeline's GRPO reward gate: a broken accuracy reward fails CI even when eval accuracy holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.pipeline import ACCURACY_REWARD, REWARD_FILE, grpo_reward_mean, reward_gate


def _grpo_log(directory: Path, per_step: list[float]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"step": i, "reward_mean": {ACCURACY_REWARD: r, "format_reward": 1.0}})
        for i, r in enumerate(per_step)
    ]
    (directory / "completion_samples.jsonl").write_text("\n".join(lines) + "\n")
    return directory


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    path = tmp_path / "baseline"
    path.mkdir()
    (path / REWARD_FILE).write_text(json.dumps({ACCURACY_REWARD: 0.6}))
    return path


def test_mean_is_over_logged_steps(tmp_path: Path) -> None:
    assert grpo_reward_mean(_grpo_log(tmp_path / "g", [0.5, 0.7, 0.6])) == pytest.approx(0.6)


def test_a_healthy_reward_passes(tmp_path: Path, baseline: Path) -> None:
    assert reward_gate(_grpo_log(tmp_path / "g", [0.55, 0.65]), baseline, 0.15)


@pytest.mark.parametrize("broken", [[0.0, 0.0], [1.0, 1.0], [0.3, 0.4]])
def test_a_reward_stuck_or_inverted_fails(tmp_path: Path, baseline: Path, broken: list[float]) -> None:
    assert not reward_gate(_grpo_log(tmp_path / "g", broken), baseline, 0.15)
