from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.pipeline import PipelineConfig, load_config
from scripts.pipeline_summary import summarize


@pytest.mark.parametrize("profile", ["demo", "ci"])
def test_profiles_load_and_ci_gates(profile: str) -> None:
    cfg = load_config(profile)  # type: ignore[arg-type]
    assert isinstance(cfg, PipelineConfig)
    assert cfg.stages_to_eval[-1] == "grpo"
    if profile == "ci":
        assert cfg.baseline is not None
        assert (Path(__file__).resolve().parents[2] / cfg.baseline / "samples.jsonl").is_file()


def test_overrides_are_typed_and_unknown_keys_fail() -> None:
    cfg = load_config("demo", ["warmup_steps=7", "grpo_lr=1e-5"])
    assert cfg.warmup_steps == 7 and cfg.grpo_lr == pytest.approx(1e-5)
    with pytest.raises(SystemExit, match="unknown config keys"):
        load_config("demo", ["warmup_stepz=7"])
    with pytest.raises(SystemExit, match="wants a number"):
        load_config("demo", ["warmup_steps=many"])
    assert load_config("ci", ["baseline=null"]).baseline is None


def _report(acc: float) -> dict[str, object]:
    metric = {"value": acc, "lo": acc / 2, "hi": min(1.0, acc * 1.5), "n": 10, "higher_is_better": True}
    return {"dataset": {"n_problems": 10}, "layers": {"accuracy": {"metrics": {"accuracy": metric}}},
            "gates": []}


def test_summary_table_carries_each_stage_with_its_interval(tmp_path: Path) -> None:
    for stage, acc in (("base", 0.0), ("sft", 0.5), ("grpo", 0.6)):
        (tmp_path / "eval" / stage).mkdir(parents=True)
        (tmp_path / "eval" / stage / "report.json").write_text(json.dumps(_report(acc)))

    text = summarize(tmp_path, ["base", "sft", "grpo"], {"SFT": 1.5}, 9.0)
    assert "| sft | 50.0 [25.0, 75.0] |" in text
    assert "| grpo | 60.0 [30.0, 90.0] |" in text
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["stages"]["base"]["metrics"]["accuracy.accuracy"]["value"] == 0.0
    assert (tmp_path / "summary.md").read_text() == text
