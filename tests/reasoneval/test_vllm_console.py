"""A real `reasoneval run --backend vllm` in a subprocess: warnings only, and a clean shutdown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.vllm
def test_vllm_run_is_quiet_and_shuts_its_engine_down_cleanly(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("vllm")
    data = tmp_path / "problems.jsonl"
    data.write_text(
        "".join(json.dumps({"question": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n"
                for i in range(3))
    )  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
    env.pop("VLLM_LOGGING_LEVEL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "reasoneval", "run", str(tiny_model_dir), "--dataset", str(data),
         "--backend", "vllm", "--max-new-tokens", "8", "--out", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    # vLLM logged ~300 INFO lines per run, then force-killed its engine core and leaked shared
    # memory at exit (issue 16).
    assert not [x for x in lines if " INFO " in x]
    assert "force killing" not in proc.stderr and "leaked shared_memory" not in proc.stderr
    # Its start-up still printed ~20 lines past its logger (Triton, NUMA, tcmalloc; issue 26):
    # now every console line is ours, and those go to the run's engine log.
    # ("" is tqdm's carriage return after a newline, split as a line of its own)
    foreign = [x for x in lines if x and not x.startswith(("reasoneval", "generating"))]
    assert not foreign, proc.stderr
    log = tmp_path / "out" / "engine.log"
    assert f"reasoneval run: starting the vLLM engine; its output goes to {log}" in lines
    assert log.is_file() and log.stat().st_size > 0
    assert lines[-1] == "reasoneval run: verdict: no gates asked for (--baseline, --gate)"
