"""Bad input to `train.sft` / `train.grpo`: exit 2 with one line before any model loads."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hostile_helpers import invoke, write_lines

from train import grpo, sft

KEPT = {"question": "Ava has 3 apples and buys 4 more. How many?", "reasoning": "3+4=7",
        "final_answer": "7", "id": "t/train/0"}


def _model(path: Path, *, weights: str = "model.safetensors", config: dict | None = None) -> Path:
    """A directory that looks like a model; loading it would fail, so every check must come first."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(config or {"model_type": "qwen2"}))
    (path / weights).write_bytes(b"not weights")
    return path


def _argv(tmp_path: Path, model: Path | str | None = None, rows: Path | None = None) -> list[str]:
    model = model if model is not None else _model(tmp_path / "m")
    rows = rows or write_lines(tmp_path / "kept.jsonl", [KEPT])
    return ["--model_name_or_path", str(model), "--train_file", str(rows),
            "--output_dir", str(tmp_path / "out")]


NUMBER_CASES = [
    ("learning_rate", "-0.5"),
    ("learning_rate", "nan"),
    ("per_device_train_batch_size", "0"),
    ("gradient_accumulation_steps", "0"),
    ("lora_r", "0"),
    ("lora_dropout", "1.5"),
    ("num_train_epochs", "0"),
    ("max_steps", "-3"),
    ("max_samples", "0"),
]


@pytest.mark.parametrize("stage", [sft, grpo], ids=["sft", "grpo"])
@pytest.mark.parametrize(("name", "value"), NUMBER_CASES)
def test_bad_numbers_exit_2_within_a_second(
    stage: object, name: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    result = invoke(stage.cli, [*_argv(tmp_path), f"--{name}", value], capsys)  # type: ignore[attr-defined]
    assert result.code == 2 and name in result.line
    assert time.perf_counter() - started < 5  # generous for a loaded 2-core machine
    assert not (tmp_path / "out").exists()


def test_grpo_refuses_an_inverted_reward(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(grpo.cli, [*_argv(tmp_path), "--accuracy_weight", "-1"], capsys)
    assert result.code == 2 and "accuracy_weight" in result.line


@pytest.mark.parametrize(
    ("model", "part"),
    [
        ("./no-such-model-dir", "no model directory"),
        ("pickle", "pickled model weights"),
        ("remote", "needs its own Python code"),
    ],
)
def test_a_base_model_that_must_not_load_exits_2(
    model: str, part: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if model == "pickle":
        model = str(_model(tmp_path / "p", weights="pytorch_model.bin"))
    elif model == "remote":
        model = str(_model(tmp_path / "r", config={"auto_map": {"AutoModel": "x.Y"}}))
    result = invoke(sft.cli, _argv(tmp_path, model=model), capsys)
    assert result.code == 2 and part in result.line


def test_non_utf8_train_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = write_lines(tmp_path / "kept.jsonl", [KEPT, b'{"question": "\xff"}'])
    result = invoke(sft.cli, _argv(tmp_path, rows=rows), capsys)
    assert result.code == 2 and "kept.jsonl:2: not valid UTF-8" in result.line


@pytest.mark.parametrize("line", ["[" * 100_000, '{"question": ' + "1" * 5000 + "}"])
def test_hostile_train_lines_exit_2(
    line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = write_lines(tmp_path / "kept.jsonl", [KEPT, line])
    result = invoke(sft.cli, _argv(tmp_path, rows=rows), capsys)
    assert result.code == 2 and "kept.jsonl:2:" in result.line


def _adapter(path: Path, base: str, weights: str = "adapter_model.safetensors") -> Path:
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base}))
    (path / weights).write_bytes(b"not weights")
    return path


def test_grpo_adapter_whose_base_is_missing_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    adapter = _adapter(tmp_path / "a", str(tmp_path / "gone"))
    rows = write_lines(tmp_path / "kept.jsonl", [KEPT])
    result = invoke(grpo.cli, ["--adapter_path", str(adapter), "--train_file", str(rows)], capsys)
    assert result.code == 2 and "names base model" in result.line


def test_grpo_pickled_adapter_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    adapter = _adapter(tmp_path / "a", str(_model(tmp_path / "base")), weights="adapter_model.bin")
    result = invoke(grpo.cli, [*_argv(tmp_path), "--adapter_path", str(adapter)], capsys)
    assert result.code == 2 and "pickled adapter weights" in result.line


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for stage in (sft, grpo):
        result = invoke(stage.cli, ["--no_such_flag", "1"], capsys)
        assert result.code == 2 and "no_such_flag" in result.line


@pytest.mark.parametrize("stage", [sft, grpo], ids=["sft", "grpo"])
def test_a_crash_exits_3_never_1(
    stage: object, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_cfg: object) -> None:
        raise MemoryError("simulated")

    monkeypatch.setattr(stage, "main", broken)
    result = invoke(stage.cli, _argv(tmp_path), capsys)  # type: ignore[attr-defined]
    assert result.code == 3 and "internal error: MemoryError: simulated" in result.line
    assert list((tmp_path / "crash").glob("*.log"))
