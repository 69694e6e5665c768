"""What `reasoneval run` says on the console: the plan before generating and a summary after;
and `--base` for an adapter whose recorded base does not resolve from here."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from reasoneval import backends
from reasoneval.backends.base import SamplingConfig
from reasoneval.cli import main
from reasoneval.records import Completion

QUESTIONS = [f"Ann has {i} pens and gets {i + 2} more. How many pens now?" for i in range(6)]
GOLD = [str(2 * i + 2) for i in range(6)]


class RightExceptFirst:
    """Answers every prompt correctly, except the first question; records the load arguments."""

    name = "hf"

    def __init__(self) -> None:
        self.load_kwargs: dict[str, Any] = {}

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        out = []
        for prompt in prompts:
            item = next((i for i, q in enumerate(QUESTIONS) if q in prompt), 0)
            answer = "0" if item == 0 else GOLD[item]
            out.append([Completion(f"</think>\n#### {answer}", "stop", 10, 5)] * sampling.n)
        return out

    def close(self) -> None:
        pass


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> RightExceptFirst:
    scripted = RightExceptFirst()

    def load(*args: Any, **kwargs: Any) -> RightExceptFirst:
        scripted.load_kwargs = kwargs
        return scripted

    monkeypatch.setattr(backends, "load_backend", load)
    return scripted


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "problems.jsonl"
    path.write_text(
        "".join(
            json.dumps({"question": q, "answer": f"so {g}.\n#### {g}"}) + "\n"
            for q, g in zip(QUESTIONS, GOLD, strict=True)
        )
    )
    return path


def _stderr_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_run_prints_its_plan_then_a_summary_with_report_and_verdict(
    tiny_model_dir: Path,
    dataset: Path,
    tmp_path: Path,
    backend: RightExceptFirst,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    args = ["run", str(tiny_model_dir), "--dataset", str(dataset), "--backend", "hf"]
    assert main([*args, "--layers", "accuracy,traces", "--out", str(out)]) == 0
    lines = _stderr_lines(capsys)
    assert (  # the backend and why it was chosen end the plan line (issue 26)
        "reasoneval run: plan: prompt style think (auto: model/tiny_model.json records it); accuracy 6 prompts; "
        "6 unique prompts, 6 completions; 0 from the cache, 6 to generate; backend hf (asked for)" in lines
    )
    assert "reasoneval run: accuracy: accuracy 0.833 [0.436, 0.970] (n=6)" in lines
    assert "reasoneval run: traces: clean_rate 1.000 [0.610, 1.000] (n=6)" in lines
    assert f"reasoneval run: report: {out.resolve() / 'report.html'}" in lines[-2]
    assert lines[-1] == "reasoneval run: verdict: no gates asked for (--baseline, --gate)"

    # The same run again: everything comes from the cache, and a failing gate is the verdict.
    gate = ["--gate", "accuracy>=0.9"]
    assert main([*args, "--layers", "accuracy", "--out", str(out), *gate]) == 1
    lines = _stderr_lines(capsys)
    assert any(x.endswith("6 from the cache, 0 to generate; backend hf (asked for)") for x in lines)
    assert lines[-1] == "reasoneval run: verdict: FAIL, 1 of 1 gates failed"


def test_plan_states_the_sensitivity_layers_extra_prompts(
    tiny_model_dir: Path,
    dataset: Path,
    tmp_path: Path,
    backend: RightExceptFirst,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["run", str(tiny_model_dir), "--dataset", str(dataset), "--backend", "hf"]
    layers = ["--layers", "sensitivity", "--sensitivity-families", "format,spacing"]
    assert main([*args, *layers, "--limit", "4", "--out", str(tmp_path / "o")]) == 0
    plan = next(x for x in _stderr_lines(capsys) if "plan:" in x)
    found = re.search(r"sensitivity (\d+) prompts \(([\d.]+) per item\)", plan)
    assert found and plan.startswith("reasoneval run: plan: prompt style think (auto: model/tiny_model.json records it); accuracy 4 prompts; sensitivity ")
    variants = int(found[1])
    assert variants > 4 and float(found[2]) == pytest.approx(variants / 4, abs=0.01)
    assert f"{4 + variants} unique prompts" in plan


def test_base_flag_overrides_an_adapters_recorded_base(
    tiny_model_dir: Path,
    dataset: Path,
    tmp_path: Path,
    backend: RightExceptFirst,
    capsys: pytest.CaptureFixture[str],
) -> None:
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    # What train.sft used to write: a base relative to the directory training ran in.
    (adapter / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "runs/tiny", "peft_type": "LORA"})
    )
    (adapter / "adapter_model.safetensors").write_bytes(b"not read by the scripted backend")
    args = ["run", str(adapter), "--dataset", str(dataset), "--backend", "hf", "--limit", "2"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 2
    assert "names base model 'runs/tiny'" in _stderr_lines(capsys)[-1]

    out = tmp_path / "b"
    assert main([*args, "--base", str(tiny_model_dir), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["model"]["base_model"] == str(tiny_model_dir.resolve())
    # every path the page shows is absolute: it mixed the typed and the resolved ones
    assert report["model"]["checkpoint"] == str(adapter.resolve())
    command = report["command"]
    assert command[2] == str(adapter.resolve()) and str(out.resolve()) in command
    assert command[command.index("--base") + 1] == str(tiny_model_dir.resolve())
    assert backend.load_kwargs["base"] == str(tiny_model_dir)

    assert main([*args, "--base", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "--base" in _stderr_lines(capsys)[-1]
