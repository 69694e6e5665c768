"""A real pipeline run, killed mid-stage with SIGKILL, resumes its finished stages on the rerun."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# The demo's stages at toy size: seconds each, the same code paths.
TOY = ["--set", "sft_steps=6", "--set", "sft_eval_every=3", "--set", "grpo_steps=1",
       "--set", "grpo_prompts_per_step=2", "--set", "grpo_generations=2", "--set", "eval_limit=6",
       "--set", "layers=accuracy", "--set", "max_new_tokens=12", "--set", "eval_splits=test",
       "--seeds", "0"]  # fmt: skip


def _pipeline(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scripts.pipeline", "--out", str(out), *TOY, *extra],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False)  # fmt: skip


@pytest.mark.slow
def test_kill_9_mid_stage_then_rerun_resumes_without_a_traceback(tmp_path: Path) -> None:
    pytest.importorskip("trl")
    pytest.importorskip("bitsandbytes")
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "scripts.pipeline", "--out", str(out), *TOY],
                            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    sft_dir = out / "seed0" / "sft"
    deadline = time.monotonic() + 600
    while not (sft_dir.is_dir() and any(sft_dir.iterdir())) and time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before SFT started writing"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # mid-SFT: its directory is half-written, no stage.json
    proc.wait()
    assert (out / "data" / "stage.json").is_file() and not (sft_dir / "stage.json").exists()

    rerun = _pipeline(out)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "Traceback" not in rerun.stderr
    assert "datacheck clean synthetic: done earlier" in rerun.stderr
    assert (sft_dir / "stage.json").is_file() and (out / "summary.md").is_file()
    first = json.loads((out / "summary.json").read_text())

    again = _pipeline(out)  # nothing left to do: every stage is kept, the evidence is the same
    stages = re.search(r"=== \[1/(\d+)\]", again.stderr)
    assert again.returncode == 0 and stages, again.stderr[-3000:]
    assert again.stderr.count("done earlier") == int(stages.group(1)) == 7, again.stderr[-3000:]
    assert json.loads((out / "summary.json").read_text())["models"] == first["models"]

    fresh = _pipeline(out, "--fresh")
    assert fresh.returncode == 0 and "done earlier" not in fresh.stderr, fresh.stderr[-3000:]
