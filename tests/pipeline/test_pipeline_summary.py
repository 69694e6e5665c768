"""The closing evidence: paired deltas, discordant counts, format vs correctness and seed spread."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scripts.pipeline_summary import format_shares, summarize
from scripts.recipe import PipelineConfig

N = 100


def test_deltas_discordant_counts_and_format_come_from_the_samples(tmp_path: Path, write_run: Any) -> None:
    base = [i < 30 for i in range(N)]  # 30% right, none in #### form
    sft = [i < 60 for i in range(N)]  # gains items 30..59, loses none
    grpo = [5 <= i < 70 for i in range(N)]  # gains 60..69, loses 0..4
    evals = {
        "base": write_run(tmp_path / "eval/base", base, [False] * N),
        "sft/seed0": write_run(tmp_path / "eval/sft/seed0", sft, None),
        "grpo/seed0": write_run(tmp_path / "eval/grpo/seed0", grpo, None),
    }
    text = summarize(tmp_path, PipelineConfig(eval_splits="test"), evals, {"QLoRA SFT (seed 0)": 12.5})
    saved = json.loads((tmp_path / "summary.json").read_text())
    to_sft, to_grpo = saved["comparisons"]["base -> SFT"], saved["comparisons"]["SFT -> GRPO"]
    assert round(100 * to_sft["delta"]) == 30 and (to_sft["baseline_only"], to_sft["candidate_only"]) == (0, 30)
    assert to_sft["target_met"] and to_sft["ci_low"] > 0
    assert round(100 * to_grpo["delta"]) == 5 and (to_grpo["baseline_only"], to_grpo["candidate_only"]) == (5, 10)
    assert not to_grpo["target_met"]  # +5 with 15 discordant items: the CI reaches below 0
    assert "| base -> SFT | +30.0 |" in text and "| SFT -> GRPO | +5.0 |" in text
    assert "| base | 0.0 | 30.0 | 0.0 |" in text  # format, correct, correct when formatted
    assert "| QLoRA SFT (seed 0) | 12.5 |" in text
    assert (tmp_path / "summary.md").read_text() == text


def test_seed_spread_over_several_seeds(tmp_path: Path, write_run: Any) -> None:
    evals = {"base": write_run(tmp_path / "eval/base", [i < 30 for i in range(N)], None)}
    for seed, (a, b) in enumerate(((60, 66), (62, 70), (58, 64))):
        evals[f"sft/seed{seed}"] = write_run(tmp_path / f"eval/sft/seed{seed}", [i < a for i in range(N)], None)
        evals[f"grpo/seed{seed}"] = write_run(tmp_path / f"eval/grpo/seed{seed}", [i < b for i in range(N)], None)
    text = summarize(tmp_path, PipelineConfig(seeds=[0, 1, 2], eval_splits="test"), evals, {})
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["seed_spread_points"] == {"sft": 4.0, "grpo": 6.0}
    assert saved["comparisons"]["SFT -> GRPO"]["n_candidate_runs"] == 3
    assert "Seed spread of GRPO accuracy (max - min): 6.0 points (**over**" in text


def test_each_held_out_split_gets_its_own_comparisons(tmp_path: Path, write_run: Any) -> None:
    evals = {}
    for prefix, (b, s, g) in (("", (30, 60, 70)), ("test-ood/", (20, 40, 44))):
        evals[f"{prefix}base"] = write_run(tmp_path / f"eval/{prefix}base", [i < b for i in range(N)], None)
        evals[f"{prefix}sft/seed0"] = write_run(tmp_path / f"eval/{prefix}sft/seed0", [i < s for i in range(N)], None)
        evals[f"{prefix}grpo/seed0"] = write_run(tmp_path / f"eval/{prefix}grpo/seed0", [i < g for i in range(N)], None)
    text = summarize(tmp_path, PipelineConfig(), evals, {})
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert round(100 * saved["comparisons"]["base -> SFT (test-ood)"]["delta"]) == 20
    assert round(100 * saved["comparisons"]["SFT -> GRPO (test-ood)"]["delta"]) == 4
    assert round(100 * saved["comparisons"]["SFT -> GRPO"]["delta"]) == 10
    assert "| test-ood/grpo/seed0 | 44.0" in text


def test_the_gain_is_split_into_answer_line_and_reasoning_repairs(tmp_path: Path, write_run: Any) -> None:
    sft = [i < 60 for i in range(N)]
    line_errors = [60 <= i < 70 for i in range(N)]  # SFT: 10 wrong on the answer line, 30 in reasoning
    grpo = [i < 72 for i in range(N)]  # GRPO repairs those 10, and 2 reasoning errors
    evals = {
        "base": write_run(tmp_path / "eval/base", [False] * N, None),
        "sft/seed0": write_run(tmp_path / "eval/sft/seed0", sft, None, line_errors),
        "grpo/seed0": write_run(tmp_path / "eval/grpo/seed0", grpo, None),
    }
    text = summarize(tmp_path, PipelineConfig(eval_splits="test"), evals, {})
    parts = json.loads((tmp_path / "summary.json").read_text())["comparisons"]["SFT -> GRPO"]["from_errors"]
    assert round(100 * parts["answer_line"]) == 10 and round(100 * parts["reasoning"]) == 2
    assert "| SFT -> GRPO | +10.0 | +2.0 |" in text


def test_format_shares_ignore_variant_rows(tmp_path: Path, write_run: Any) -> None:
    run = write_run(tmp_path / "r", [True, False, True, False], [True, True, False, False])
    assert format_shares(run) == {"formatted": 0.5, "correct": 0.5, "correct_if_formatted": 0.5}
