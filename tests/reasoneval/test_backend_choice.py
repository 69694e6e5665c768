"""`--backend auto` chooses by expected cost, and says why (issue 26, item 6).

Before, auto took vLLM on any CPU: 225.7 s and 5.4 GB for an evaluation HF did in seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reasoneval.backends import Workload, choose_backend
from reasoneval.backends.choice import VLLM_CPU_START_S, estimate_seconds, model_parameters
from reasoneval.backends.engine_log import engine_output_to
from reasoneval.cli import main


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


cpu_only = pytest.mark.skipif(_cuda(), reason="the CPU cost model applies without CUDA")


def test_parameters_are_read_from_the_safetensors_headers(tiny_model_dir: Path) -> None:
    from safetensors import safe_open

    with safe_open(str(tiny_model_dir / "model.safetensors"), "pt") as f:
        expected = sum(f.get_tensor(k).numel() for k in f.keys())  # noqa: SIM118
    assert model_parameters(tiny_model_dir) == expected > 100_000
    assert model_parameters(tiny_model_dir / "nothing-here") is None


@cpu_only
def test_a_tiny_model_goes_to_hf_and_the_reason_gives_the_estimates(tiny_model_dir: Path) -> None:
    # the run: 500 problems x (1 original + 2 variants), 64 new tokens
    work = Workload(prompts=1500, completions=1500, max_new_tokens=64, few_shot=False,
                    parameters=model_parameters(tiny_model_dir))  # fmt: skip
    chosen, reason = choose_backend("auto", work)
    hf, vllm = estimate_seconds(work)
    assert chosen == "hf" and hf < VLLM_CPU_START_S < vllm
    assert reason.startswith("auto: CPU, ") and f"HF ~{hf:.0f} s" in reason
    assert f"vLLM-CPU ~{vllm:.0f} s" in reason and "1500 completions of up to 64 tokens" in reason


@cpu_only
def test_a_long_few_shot_run_of_a_large_model_goes_to_vllm_when_it_can() -> None:
    from reasoneval.backends.vllm_engine import vllm_unavailable_reason

    # GSM8K test, 4-shot, 4 samples, up to 512 tokens, a Qwen2.5-1.5B-sized model
    work = Workload(prompts=1319, completions=4 * 1319, max_new_tokens=512, few_shot=True,
                    parameters=1_540_000_000)  # fmt: skip
    hf, vllm = estimate_seconds(work)
    assert vllm < hf
    chosen, reason = choose_backend("auto", work)
    why_not = vllm_unavailable_reason()
    assert (chosen, reason.startswith("auto: CPU, ")) == (("vllm", True) if why_not is None
                                                          else ("hf", False))  # fmt: skip


@cpu_only
def test_unknown_size_or_no_workload_starts_the_cheap_engine() -> None:
    work = Workload(prompts=10, completions=10, max_new_tokens=8, few_shot=False, parameters=None)
    for chosen, reason in (choose_backend("auto", work), choose_backend("auto")):
        assert chosen == "hf" and "model size unknown" in reason
    assert choose_backend("vllm", work) == ("vllm", "asked for")


@cpu_only
def test_a_real_auto_run_says_its_choice_in_the_plan_line(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "p.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is {i} + 2?", "answer": str(i + 2)})
                            + "\n" for i in range(3)))  # fmt: skip
    out = tmp_path / "out"
    assert main(["run", str(tiny_model_dir), "--dataset", str(data), "--backend", "auto",
                 "--max-new-tokens", "8", "--out", str(out)]) == 0  # fmt: skip
    plan = next(x for x in capsys.readouterr().err.splitlines() if "plan:" in x)
    assert "; backend hf (auto: CPU, " in plan and "3 completions of up to 8 tokens" in plan
    report = json.loads((out / "report.json").read_text())
    assert report["backend"] == "hf" and report["config"]["backend"] == "hf"
    assert not (out / "engine.log").exists()


def test_engine_output_goes_to_the_log_for_the_life_of_its_processes(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "engine.log"
    # a child that outlives the block, as vLLM's engine-core process does, and C-level writes
    child = ("import sys, time; print('child at start', file=sys.stderr, flush=True); "
             "time.sleep(0.5); print('child later', file=sys.stderr, flush=True)")  # fmt: skip
    with engine_output_to(log):
        proc = subprocess.Popen([sys.executable, "-c", child])
        os.write(2, b"c-level warning\n")  # Python's sys.stderr writes to fd 2 as well, outside pytest
        time.sleep(0.2)
    print("ours again", file=sys.stderr)
    proc.wait(timeout=30)
    err = capfd.readouterr().err
    assert err == "ours again\n"
    text = log.read_text()
    for line in ("child at start", "child later", "c-level warning"):
        assert line in text

    with pytest.raises(RuntimeError, match="no engine"), engine_output_to(log):
        os.write(2, b"the reason it died\n")
        raise RuntimeError("no engine")
    err = capfd.readouterr().err
    assert f"engine log {log}, last lines:" in err and "the reason it died" in err
    with engine_output_to(None):  # --verbose: nothing redirected
        os.write(2, b"shown\n")
    assert capfd.readouterr().err == "shown\n"
