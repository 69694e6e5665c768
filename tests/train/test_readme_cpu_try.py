"""The README's "Try it on CPU" commands, run exactly as written, in order, from a fresh directory."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The console scripts, as their modules: the test runs this checkout, whatever is installed.
MODULES = {"reasoneval": "reasoneval.cli", "datacheck": "datacheck.cli"}


def readme_cpu_commands() -> list[list[str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"\*\*Try it on CPU\*\*.*?```bash\n(.*?)```", text, re.S)
    assert block, "README has no 'Try it on CPU' block"
    commands = []
    for line in block[1].splitlines():
        argv = shlex.split(line, comments=True)
        if argv[0] in MODULES:
            argv = [sys.executable, "-m", MODULES[argv[0]], *argv[1:]]
        elif argv[0] == "python":
            argv = [sys.executable, *argv[1:]]
        commands.append(argv)
    return commands


def test_the_block_chains_datacheck_train_and_reasoneval() -> None:
    stages = [" ".join(argv[1:4]) for argv in readme_cpu_commands()]
    assert stages == [
        "-m reasoneval.cli tiny-model", "-m datacheck.cli clean", "-m train.sft --config",
        "-m train.grpo --config", "-m reasoneval.cli run",
    ]  # fmt: skip


@pytest.mark.slow
def test_readme_cpu_commands_run_in_order(tmp_path: Path) -> None:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    env = {
        **os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
    }  # fmt: skip
    for argv in readme_cpu_commands():
        proc = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, f"{shlex.join(argv)}\n{proc.stderr[-3000:]}"
    adapter = json.loads((tmp_path / "runs/sft-tiny/adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(tmp_path / "runs" / "tiny")
    report = json.loads((tmp_path / "runs/eval-tiny/report.json").read_text())
    assert report["model"]["is_adapter"] and report["dataset"]["n_problems"] == 20
    assert "verdict:" in proc.stderr.splitlines()[-1]
