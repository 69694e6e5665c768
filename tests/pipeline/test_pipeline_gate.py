"""The CI profile of the whole pipeline, end to end: it must learn and pass its baseline gate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_ci_profile_learns_and_passes_the_gate(tmp_path: Path) -> None:
    pytest.importorskip("trl")
    pytest.importorskip("bitsandbytes")
    out = tmp_path / "ci"
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.pipeline", "--profile", "ci", "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = json.loads((out / "summary.json").read_text())
    stages = summary["stages"]
    base = stages["base"]["metrics"]["accuracy.accuracy"]["value"]
    final = stages["grpo"]["metrics"]["accuracy.accuracy"]["value"]
    assert base <= 0.05 < final  # learning happened, and the untrained model cannot answer
    gates = stages["grpo"]["gates"]
    assert gates and all(g["passed"] for g in gates)
