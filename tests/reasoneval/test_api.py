"""The Python API (reasoneval.api): each call gives what its command gives, on the same input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from reasoneval import api, backends
from reasoneval.backends.base import SamplingConfig
from reasoneval.cli import main
from reasoneval.records import Completion
from reasonkit.errors import InputError

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = [f"Ann has {i} pens and finds {i + 2} more. How many pens now?" for i in range(10)]
GOLD = [str(2 * i + 2) for i in range(10)]


class Scripted:
    """Answers every question right, except the items in ``wrong``."""

    name = "hf"

    def __init__(self, wrong: set[int]) -> None:
        self.wrong = wrong

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        out = []
        for prompt in prompts:
            item = next(i for i, q in enumerate(QUESTIONS) if q in prompt)
            answer = "0" if item in self.wrong else GOLD[item]
            out.append([Completion(f"</think>\n#### {answer}", "stop", 20, 5)] * sampling.n)
        return out

    close = staticmethod(lambda: None)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    rows = [{"question": q, "answer": f"so {g}.\n#### {g}"} for q, g in zip(QUESTIONS, GOLD, strict=True)]
    (tmp_path / "problems.jsonl").write_text("".join(f"{json.dumps(r)}\n" for r in rows))
    return tmp_path / "problems.jsonl"


def scripted_run(monkeypatch: pytest.MonkeyPatch, model: Path, data: Path, out: Path,
                 wrong: set[int]) -> api.RunReportRecord:
    monkeypatch.setattr(backends, "load_backend", lambda *a, **k: Scripted(wrong))
    report = api.run(model, out=out, dataset=data, backend="hf", layers=("accuracy", "traces"))
    assert report is not None
    return report


def masked(report_json: str, *paths: Path) -> str:
    """A report.json with its clock and its own paths masked (they differ between two runs)."""
    for path in paths:
        report_json = report_json.replace(str(path.resolve()), "OUT")
    return re.sub(r'"(seconds|started)": [0-9.e+]+', r'"\1": T', report_json)


@pytest.mark.slow
def test_run_on_the_tiny_model_writes_what_the_cli_writes(tiny_model_dir: Path, tmp_path: Path) -> None:
    common = ["--dataset", "synthetic", "--limit", "4", "--max-new-tokens", "16", "--backend", "hf"]
    assert main(["run", str(tiny_model_dir), *common, "--out", str(tmp_path / "cli")]) == 0
    report = api.run(tiny_model_dir, out=tmp_path / "api", dataset="synthetic", limit=4,
                     max_new_tokens=16, backend="hf")  # fmt: skip
    assert report is not None
    cli = json.loads((tmp_path / "cli" / "report.json").read_text())
    accuracy = report.metric("accuracy", "accuracy")
    assert accuracy is not None and accuracy.value == cli["layers"]["accuracy"]["metrics"]["accuracy"]["value"]
    assert accuracy.n == 4
    assert (tmp_path / "api" / "samples.jsonl").read_bytes() == (tmp_path / "cli" / "samples.jsonl").read_bytes()
    written = (tmp_path / "api" / "report.json").read_text()
    assert masked(written, tmp_path / "api") == masked(
        (tmp_path / "cli" / "report.json").read_text(), tmp_path / "cli")
    assert api.read_report(tmp_path / "api") == report  # the record returned is the one written


def test_run_checks_its_options_as_the_command_does(tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--samples 2 needs --temperature above 0"):
        api.run(tiny_model_dir, out=tmp_path / "o", samples=2)
    with pytest.raises(InputError, match="--limit"):
        api.run(tiny_model_dir, out=tmp_path / "o", limit=0)
    with pytest.raises(TypeError, match="max_new_token"):
        api.run(tiny_model_dir, out=tmp_path / "o", max_new_token=8)
    with pytest.raises(InputError, match="unknown gate metric"):
        api.run(tiny_model_dir, out=tmp_path / "o", gates=["acuracy>=0.5"])
    assert not (tmp_path / "o").exists()


def test_gate_fails_on_a_real_regression_and_passes_without_one(
    tiny_model_dir: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = scripted_run(monkeypatch, tiny_model_dir, dataset, tmp_path / "base", set())
    worse = scripted_run(monkeypatch, tiny_model_dir, dataset, tmp_path / "worse", {0, 1, 2, 3, 4})
    assert base.flat_metrics()["accuracy.accuracy"] == 1.0
    assert worse.flat_metrics()["accuracy.accuracy"] == 0.5
    paired, floor, relative = api.gate(tmp_path / "worse", ["accuracy>=0.9", "accuracy>=baseline-0.1"],
                                       baseline=tmp_path / "base")  # fmt: skip
    assert not paired.passed and "non-inferior" in paired.description
    assert not floor.passed and not relative.passed
    assert all(g.passed for g in api.gate(tmp_path / "base", ["accuracy>=0.9", "traces.clean_rate>=0"]))
    with pytest.raises(InputError, match="refers to the baseline"):
        api.gate(tmp_path / "worse", ["accuracy>=baseline"])
    # the same verdicts as the command's own gates on that run
    code = main(["run", str(tiny_model_dir), "--dataset", str(dataset), "--backend", "hf",
                 "--out", str(tmp_path / "again"), "--baseline", str(tmp_path / "base"),
                 "--gate", "accuracy>=0.9", "--gate", "accuracy>=baseline-0.1"])  # fmt: skip
    assert code == 1
    again = api.read_report(tmp_path / "again").gates
    assert [(g.description, g.passed) for g in again] == [(g.description, g.passed)
                                                          for g in (paired, floor, relative)]


def test_compare_gives_the_cli_figures(
    tiny_model_dir: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scripted_run(monkeypatch, tiny_model_dir, dataset, tmp_path / "base", set())
    scripted_run(monkeypatch, tiny_model_dir, dataset, tmp_path / "worse", {0, 1, 2, 3, 4})
    result = api.compare(tmp_path / "base", tmp_path / "worse", n_boot=2000)
    capsys.readouterr()
    code = main(["compare", str(tmp_path / "base"), str(tmp_path / "worse"), "--n-boot", "2000", "--json"])
    assert code == 1 and not result.passed
    assert json.loads(json.dumps(result.to_dict())) == json.loads(capsys.readouterr().out)
    assert result.delta == pytest.approx(-0.5)
    with pytest.raises(InputError, match="same samples"):
        api.compare([tmp_path / "base", tmp_path / "base"], [tmp_path / "worse"] * 2)


def test_score_gives_the_cli_summary_and_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"id": str(i), "response": f"so #### {g}" if i % 3 else "no idea", "gold": g}
            for i, g in enumerate(GOLD)]  # fmt: skip
    data = tmp_path / "gens.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    argv = ["score", str(data), "--response-field", "response", "--gold-field", "gold", "--json",
            "--layers", "accuracy,traces", "--out", str(tmp_path / "cli.jsonl")]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    from_file = api.score(data, response_field="response", gold_field="gold",
                          layers=("accuracy", "traces"), out=tmp_path / "api.jsonl")  # fmt: skip
    assert from_file.json() == printed and from_file.summary.correct == 6
    assert (tmp_path / "api.jsonl").read_bytes() == (tmp_path / "cli.jsonl").read_bytes()
    in_memory = api.score(rows, response_field="response", gold_field="gold")
    assert in_memory.summary == from_file.summary and in_memory.traces is None
    with pytest.raises(InputError, match="cannot run on saved generations"):
        api.score(rows, response_field="response", gold_field="gold", layers=("sensitivity",))


def test_importing_reasoneval_and_its_api_surface_loads_no_torch() -> None:
    code = ("import sys, reasoneval; reasoneval.RunReportRecord; reasoneval.api.gate; "
            "assert 'torch' not in sys.modules, 'torch'; print(sorted(reasoneval.__all__))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-800:]
    assert "'api'" in done.stdout


@pytest.mark.slow
def test_the_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Python API", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    monkeypatch.chdir(tmp_path)
    exec(compile(block[1], "README.md", "exec"), {})
    assert api.read_report(tmp_path / "runs" / "api-eval").layer("accuracy") is not None
