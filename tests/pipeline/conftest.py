"""Run directories with known per-item outcomes, in the layout reasoneval run writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

RunFactory = Callable[..., Path]


def _write_run(path: Path, correct: Sequence[bool], formatted: Sequence[bool] | None = None,
               answer_line: Sequence[bool] | None = None) -> Path:  # fmt: skip
    """samples.jsonl (one original sample per item, plus a variant row that must be ignored) and
    a report.json with the accuracy layer. A wrong item's reasoning ends on the gold value when
    ``answer_line`` marks it (only its answer line is wrong), on another value otherwise."""
    formatted = formatted if formatted is not None else [True] * len(correct)
    answer_line = answer_line if answer_line is not None else [False] * len(correct)
    rows = []
    for i, (ok, fmt, line) in enumerate(zip(correct, formatted, answer_line, strict=True)):
        reached = "5" if ok or line else "6"
        response = f"2 + 3 = {reached}\n</think>\n#### {'5' if ok else '7'}"
        base = {"id": f"synthetic/test/{i}", "sample_index": 0, "correct": ok, "gold": "5", "response": response}
        rows.append({**base, "variant": "original", "marker": "####" if fmt else "the_answer_is"})
        rows.append({**base, "variant": "numeric-n0", "correct": not ok, "marker": "####"})
    path.mkdir(parents=True, exist_ok=True)
    (path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    acc = sum(correct) / len(correct)
    metric = {"value": acc, "lo": max(0.0, acc - 0.1), "hi": min(1.0, acc + 0.1)}
    report = {"dataset": {"n_problems": len(correct)}, "layers": {"accuracy": {"metrics": {"accuracy": metric}}}}
    (path / "report.json").write_text(json.dumps(report))
    return path


def _write_rewards(grpo_dir: Path, per_step: Sequence[float], update: float = 0.01) -> Path:
    """GRPO's logged rewards, and the adapter's relative weight change in its train_meta.json."""
    grpo_dir.mkdir(parents=True, exist_ok=True)
    (grpo_dir / "train_meta.json").write_text(json.dumps({"rl_health": {"relative_weight_change": update}}))
    lines = [json.dumps({"step": i, "reward_mean": {"accuracy_reward": r}}) for i, r in enumerate(per_step)]
    (grpo_dir / "completion_samples.jsonl").write_text("\n".join(lines) + "\n")
    return grpo_dir


@pytest.fixture
def write_run() -> RunFactory:
    return _write_run


@pytest.fixture
def write_rewards() -> Callable[..., Path]:
    return _write_rewards
