"""`reasoneval score` on a run's samples.jsonl counts what the run's accuracy counts (issue 26)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from reasoneval import backends
from reasoneval.backends.base import SamplingConfig
from reasoneval.cli import main
from reasoneval.records import Completion

QUESTIONS = {f"Ann has {i} pens and gets {i + 2} more. How many pens now?": 2 * i + 2
             for i in range(12)}  # fmt: skip


class OriginalsRight:
    """Right on an unchanged question (all but one); wrong where a format demand follows it."""

    name = "hf"

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        out = []
        for prompt in prompts:
            gold = next((g for q, g in QUESTIONS.items()
                         if q in prompt and f"{q}\n\n" not in prompt and g != 2), None)  # fmt: skip
            text = f"</think>\n#### {gold if gold is not None else -1}"
            out.append([Completion(text, "stop", 10, 5)] * sampling.n)
        return out

    def close(self) -> None:
        pass


def test_score_of_a_run_counts_its_original_prompts_as_the_run_does(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    data = tmp_path / "problems.jsonl"
    data.write_text("".join(json.dumps({"question": q, "answer": f"#### {g}"}) + "\n"
                            for q, g in QUESTIONS.items()))  # fmt: skip
    monkeypatch.setattr(backends, "load_backend", lambda *a, **k: OriginalsRight())
    run = tmp_path / "run"
    assert main(["run", str(tiny_model_dir), "--dataset", str(data), "--backend", "hf",
                 "--layers", "accuracy,sensitivity", "--sensitivity-families", "format",
                 "--out", str(run)]) == 0  # fmt: skip
    reported = json.loads((run / "report.json").read_text())["layers"]["accuracy"]["metrics"]
    rows = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    variants = sum(r["variant"] != "original" for r in rows)
    assert variants > len(QUESTIONS)  # the mix the issue saw: more variant rows than originals
    capsys.readouterr()

    argv = ["score", str(run / "samples.jsonl"), "--response-field", "response",
            "--gold-field", "gold", "--think", "--json"]  # fmt: skip
    assert main([*argv, "--out", str(tmp_path / "scored.jsonl")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n"] == len(QUESTIONS) == reported["accuracy"]["n"]
    assert summary["accuracy"] == reported["accuracy"]["value"] == 11 / 12
    assert summary["other_variants"] == variants
    scored = [json.loads(x) for x in (tmp_path / "scored.jsonl").read_text().splitlines()]
    assert len(scored) == len(rows)  # every row is still scored and written

    # --variant all counts the mix, and the text says what it counted either way
    assert main([*argv[:-1], "--variant", "all", "--out", str(tmp_path / "all.jsonl")]) == 0
    mixed = capsys.readouterr().out
    assert f"counted: all {len(rows)} rows, prompt variants included" in mixed
    assert f"/{len(rows)})" in mixed and "accuracy 91.67%" not in mixed
    assert main([*argv[:-1], "--out", str(tmp_path / "orig.jsonl")]) == 0
    text = capsys.readouterr().out
    assert f"counted: the {len(QUESTIONS)} 'original'-prompt rows; {variants} rows" in text
    assert "accuracy 91.67% (11/12)" in text


def test_score_by_variant_family_and_a_variant_with_no_rows(tmp_path: Path) -> None:
    src = tmp_path / "s.jsonl"
    rows = [{"variant": v, "out": o, "gold": "4"} for v, o in
            [("original", "4"), ("format-json", "5"), ("format-boxed", "4"), ("numeric-1", "4")]]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    from reasoneval.score import score_rows
    from reasonkit.errors import InputError

    _, family = score_rows(rows, response_field="out", gold_field="gold", variant="format")
    assert (family.n, family.correct, family.other_variants) == (2, 1, 2)
    with pytest.raises(InputError, match="no 'shots' rows among 4"):
        score_rows(rows, response_field="out", gold_field="gold", variant="shots")
