"""``python -m train.sft`` / ``python -m train.grpo`` end to end, in a subprocess, for 2 steps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from train.data import file_sha256

REPO = Path(__file__).resolve().parents[2]


def _run(
    module: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        **(env or {}),
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _check_outputs(out: Path, rows: Path, stage: str) -> None:
    assert (out / "adapter_model.safetensors").is_file()
    assert (out / "adapter_config.json").is_file()
    meta = json.loads((out / "train_meta.json").read_text())
    assert meta["stage"] == stage and meta["global_step"] == 2
    assert meta["data_sha256"] == file_sha256(rows)
    assert {"torch", "transformers", "trl", "peft", "bitsandbytes"} <= set(meta["packages"])
    assert "git_revision" in meta
    assert "model_name_or_path:" in (out / "config.yaml").read_text()


@pytest.mark.slow
def test_sft_cli_two_steps(tiny_model_dir: Path, kept_rows: Path, tmp_path: Path) -> None:
    out = tmp_path / "sft"
    cfg = tmp_path / "sft.yaml"
    # The shipped recipe with the model, data and size swapped for the tiny ones on the command line.
    cfg.write_text((REPO / "configs" / "sft_gsm8k.yaml").read_text())
    proc = _run(
        "train.sft", "--config", str(cfg),
        "--model_name_or_path", str(tiny_model_dir), "--train_file", str(kept_rows),
        "--output_dir", str(out), "--max_steps", "2", "--eval_steps", "1", "--save_steps", "1",
        "--max_samples", "10", "--gradient_accumulation_steps", "1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_outputs(out, kept_rows, "sft")
    _no_noise(proc)
    meta = json.loads((out / "train_meta.json").read_text())
    assert (meta["n_train"], meta["n_eval"], meta["load_in_4bit"]) == (9, 1, True)
    assert meta["best_metric"] is not None


@pytest.mark.slow
def test_grpo_cli_two_steps(tiny_model_dir: Path, kept_rows: Path, tmp_path: Path) -> None:
    out = tmp_path / "grpo"
    proc = _run(
        "train.grpo", "--config", str(REPO / "configs" / "grpo_gsm8k.yaml"),
        "--model_name_or_path", str(tiny_model_dir), "--train_file", str(kept_rows),
        "--output_dir", str(out), "--max_steps", "2", "--no-quantize",
        "--num_generations", "4", "--per_device_train_batch_size", "4",
        "--gradient_accumulation_steps", "1", "--max_completion_length", "8", "--logging_steps", "1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_outputs(out, kept_rows, "grpo")
    samples = [json.loads(x) for x in (out / "completion_samples.jsonl").read_text().splitlines()]
    assert samples and set(samples[0]["reward_mean"]) == {"accuracy_reward", "format_reward"}
    _no_noise(proc)
    assert "┏" not in proc.stdout  # no rich table of prompts at every logging step


def _no_noise(proc: subprocess.CompletedProcess[str]) -> None:
    """Piped output carries no progress bars and none of the library warnings issue 16 listed."""
    console = proc.stdout + proc.stderr
    assert "it/s]" not in console  # tqdm's rate, written at every update
    assert "kernels-community" not in console  # bitsandbytes' optional-kernels hint
    assert "TRL currently supports vLLM" not in console
    assert "train_loss" in console  # the loss is still reported, as lines


def test_unreachable_hub_model_exits_2_with_one_line_within_seconds(
    kept_rows: Path, tmp_path: Path
) -> None:
    env = {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path)}
    started = time.monotonic()
    proc = _run(
        "train.sft", "--config", str(REPO / "configs" / "sft_gsm8k.yaml"),
        "--train_file", str(kept_rows), "--output_dir", str(tmp_path / "out"), env=env,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines() == [
        "train.sft: error: model_name_or_path 'Qwen/Qwen2.5-1.5B-Instruct' is not a local "
        "directory and the hub at http://127.0.0.1:9 is unreachable (ConnectError); pass a "
        "local model directory"
    ]
    # Imports take most of it; the hub client's own retries took 58 s.
    assert time.monotonic() - started < 45


def test_bad_rows_exit_2_with_one_line(tmp_path: Path) -> None:
    rows = tmp_path / "kept.jsonl"
    rows.write_text(json.dumps({"question": "1+1?", "reasoning": "", "final_answer": "2"}) + "\n")
    # Rejected before any model is loaded: the model path is never opened.
    proc = _run("train.sft", "--model_name_or_path", "no-such-model", "--train_file", str(rows))
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().splitlines()[-1]
        == f"train.sft: error: {rows}:1: field 'reasoning' missing or empty"
    )


def test_unknown_config_key_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("num_generation: 8\n")  # typo of num_generations
    proc = _run("train.grpo", "--config", str(cfg))
    assert proc.returncode == 2 and "num_generation" in proc.stderr.strip().splitlines()[-1]
