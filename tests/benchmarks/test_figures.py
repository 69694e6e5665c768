"""benchmarks/figures.py: the docs' non-timing figures come from a script (issue 26)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _figures() -> ModuleType:
    spec = importlib.util.spec_from_file_location("figures", ROOT / "benchmarks" / "figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_statistics_tables_in_the_docs_are_the_stored_simulations() -> None:
    """Each table docs/statistics.md shows is printed, cell for cell, from the stored output of
    `bench_compare_seeds.py` (docs/figures/compare_seeds.json)."""
    tables = _figures().statistics(recompute=False).strip().split("\n\n")
    doc = (ROOT / "docs" / "statistics.md").read_text(encoding="utf-8")
    assert len(tables) == 2
    for table in tables:
        assert table in doc, table


# (response, correct): gold is 5 throughout.
RESPONSES = [
    ("3 + 2 = 5. Then 5 + 1 = 6. The answer is 6.", False),  # one step past the gold
    ("2 + 3 = 5. Then 5 * 2 = 10. Then 10 - 1 = 9. The answer is 9.", False),  # earlier, not -2
    ("4 + 4 = 8. The answer is 8.", False),  # never reached
    ("Then 9 - 4 = 5. The answer is 4.", False),  # the last equation is the gold: anywhere only
    ("I do not know.", False),
    ("3 + 2 = 5. The answer is 5.", True),  # right: not counted
]


def _eval_dir(path: Path, rows: list[tuple[str, bool]], marker: str) -> Path:
    path.mkdir(parents=True)
    samples = []
    for i, (response, correct) in enumerate(rows):
        base = {"id": f"t/{i}", "sample_index": 0, "gold": "5", "response": response,
                "correct": correct, "marker": marker if "answer is" in response or "#" in marker else None}  # fmt: skip
        samples += [{**base, "variant": "original"}, {**base, "variant": "numeric-n0", "correct": True}]
    (path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in samples))
    acc = sum(c for _, c in rows) / len(rows)
    metric = {"value": acc, "lo": 0.0, "hi": 1.0}
    (path / "report.json").write_text(json.dumps(
        {"dataset": {"n_problems": len(rows)}, "layers": {"accuracy": {"metrics": {"accuracy": metric}}}}))  # fmt: skip
    return path


def test_demo_figures_read_a_pipeline_run_directory(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "eval").mkdir(parents=True)
    (run / "pipeline_config.json").write_text(json.dumps({"seeds": [0]}))
    _eval_dir(run / "eval" / "base", RESPONSES, "the_answer_is")
    right = [(f"#### 5 ({i})", True) for i in range(len(RESPONSES))]
    _eval_dir(run / "eval" / "sft" / "seed0", right, "####")
    _eval_dir(run / "eval" / "grpo" / "seed0", [*right[:-1], ("#### 4", False)], "####")
    grpo = run / "seed0" / "grpo"
    grpo.mkdir(parents=True)
    steps = [{"reward_mean": {"accuracy_reward": r, "format_reward": f}}
             for r, f in ((0.5, 0.0), (0.75, 0.01), (1.0, 0.02))]  # fmt: skip
    (grpo / "completion_samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in steps))

    figures = _figures()
    assert figures.gold_reached_early(run / "eval" / "base") == {
        "wrong": 5, "earlier": 2, "one_step_past": 1, "anywhere": 3}  # fmt: skip
    text = figures.demo(run)
    assert "the gold was the result of an equation before the last in 2, of the second-to-last " \
        "(one step too many) in 1, of any equation in 3" in text  # fmt: skip
    assert "base answers by marker (original prompts): the_answer_is 5, None 1" in text
    assert "accuracy_reward per logged step: 0.500-1.000, mean 0.750 over 3 steps" in text
    assert "SFT -> GRPO changed 1 answers for the worse and 0 for the better" in text
    assert re.search(r"\| base -> SFT \| \+83\.3 \|", text)  # the comparison table, as summary.md
    with pytest.raises(FileNotFoundError):
        figures.demo(tmp_path / "not-a-run")


def test_the_banding_table_in_the_docs_is_computed() -> None:
    doc = (ROOT / "docs" / "datacheck.md").read_text(encoding="utf-8")
    assert _figures().lsh_table() in doc
