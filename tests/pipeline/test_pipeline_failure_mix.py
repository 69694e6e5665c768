"""The pipeline summary reports each model's failure mix from the traces layer's gold-path check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reasoneval.layers.traces import traces_for_rows
from reasoneval.records import Problem
from reasoneval.report import layers_json
from scripts.pipeline_summary import summarize
from scripts.recipe import PipelineConfig

GOLD = "Ava has 3 + 4 = <<3+4=7>>7 apples.\nShe doubles them: 7 * 2 = <<7*2=14>>14.\n#### 14"


def _add_traces(run: Path, responses: list[tuple[str, str, bool]]) -> None:
    problems = [Problem(f"synthetic/test/{i}", "q", "14", GOLD) for i in range(len(responses))]
    rows = [{"id": p.id, "response": r, "extracted": x, "correct": ok}
            for p, (r, x, ok) in zip(problems, responses, strict=True)]
    report = json.loads((run / "report.json").read_text())
    report["layers"].update(layers_json([traces_for_rows(rows, problems, n_boot=20)]))
    (run / "report.json").write_text(json.dumps(report))


def test_summary_tables_the_failure_mix_before_and_after_a_stage(tmp_path: Path, write_run: Any) -> None:
    base = write_run(tmp_path / "base", [False, False], None)
    sft = write_run(tmp_path / "sft/seed0", [True, False], None)
    grpo = write_run(tmp_path / "grpo/seed0", [True, True], None)
    _add_traces(base, [("3 + 4 = 7\n#### 7", "7", False), ("3 + 4 = 7\n7 / 2 = 3.5\n#### 3.5", "3.5", False)])
    _add_traces(sft, [("3 + 4 = 7\n7 * 2 = 14\n#### 14", "14", True), ("3 + 4 = 7\n#### 7", "7", False)])
    evals = {"base": base, "sft/seed0": sft, "grpo/seed0": grpo}  # grpo ran without traces
    text = summarize(tmp_path, PipelineConfig(eval_splits="test"), evals, {})
    saved = json.loads((tmp_path / "summary.json").read_text())["models"]
    assert saved["base"]["failures"]["missing_step"] == 0.5
    assert saved["base"]["failures"]["wrong_operation"] == 0.5
    assert saved["sft/seed0"]["failures"]["missing_step"] == 1.0 and saved["grpo/seed0"]["failures"] is None
    assert "Failure mix" in text and "| grpo/seed0 | - |" in text
    row = next(line for line in text.splitlines() if line.startswith("| base | ") and "50.0" in line)
    assert row.count("50.0") == 2
