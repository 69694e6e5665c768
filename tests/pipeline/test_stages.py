"""Resumable stages: a finished stage with the same config and inputs is kept, anything else redone."""

from __future__ import annotations

import json
from pathlib import Path

from scripts.stages import DONE_FILE, Stage, StageRunner, is_done


def _work(stage: Stage, calls: list[str]) -> None:
    calls.append(stage.name)
    (stage.out / "result.txt").write_text(json.dumps(dict(stage.config)))


def test_a_finished_stage_is_kept_on_rerun(tmp_path: Path) -> None:
    calls: list[str] = []
    stage = Stage("data", tmp_path / "data", {"seed": 0})
    first = StageRunner(total=1)
    first.run(stage, lambda: _work(stage, calls))
    runner = StageRunner(total=1)
    runner.run(stage, lambda: _work(stage, calls))
    assert calls == ["data"] and runner.resumed == ["data"]
    assert runner.seconds["data"] == first.seconds["data"]  # the first run's, as recorded


def test_a_changed_config_or_upstream_redoes_the_stage(tmp_path: Path) -> None:
    calls: list[str] = []
    up = Stage("data", tmp_path / "data", {"seed": 0})
    down = Stage("train", tmp_path / "train", {"lr": 1}, inputs=(up.out,))
    for s in (up, down):
        StageRunner(total=2).run(s, lambda s=s: _work(s, calls))  # type: ignore[misc]
    assert is_done(down)
    changed_up = Stage("data", tmp_path / "data", {"seed": 1})
    StageRunner(total=1).run(changed_up, lambda: _work(changed_up, calls))
    assert not is_done(down)  # its input's identity moved
    assert not is_done(Stage("train", tmp_path / "train", {"lr": 2}, inputs=(up.out,)))


def test_an_interrupted_stage_is_cleared_except_its_resume_cache(tmp_path: Path) -> None:
    stage = Stage("eval", tmp_path / "eval", {"n": 5}, keep_partial=("cache",))
    (stage.out / "cache").mkdir(parents=True)
    (stage.out / "cache" / "generations.jsonl").write_text("{}\n")
    (stage.out / "report.json").write_text("half-written")  # a killed run left this, no stage.json
    assert not is_done(stage)
    seen: list[bool] = []
    StageRunner(total=1).run(stage, lambda: seen.append((stage.out / "report.json").exists()))
    assert seen == [False]
    assert (stage.out / "cache" / "generations.jsonl").read_text() == "{}\n"
    assert json.loads((stage.out / DONE_FILE).read_text())["stage"] == "eval"


def test_a_corrupt_done_file_means_redo(tmp_path: Path) -> None:
    stage = Stage("data", tmp_path / "data", {})
    stage.out.mkdir()
    (stage.out / DONE_FILE).write_text("{not json")
    assert not is_done(stage)
