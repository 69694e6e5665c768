"""`accelerate launch` with the shipped DDP config runs SFT on 2 CPU processes (gloo).

The non-quantised LoRA path: bitsandbytes' 4-bit layers have no CPU DDP support to test here,
so `load_in_4bit: false`. On a GPU machine the same command with `load_in_4bit: true` is QLoRA DDP.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_two_process_cpu_sft_through_the_ddp_config(
    tiny_model_dir: Path, kept_rows: Path, tmp_path: Path
) -> None:
    launcher = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    if launcher is None:
        pytest.skip("the accelerate launcher is not installed beside this Python")
    out = tmp_path / "sft"
    config = tmp_path / "sft.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model_name_or_path": str(tiny_model_dir),
                "train_file": str(kept_rows),
                "output_dir": str(out),
                "load_in_4bit": False,
                "force_cpu": True,
                "gradient_checkpointing": False,
                "max_steps": 2,
                "per_device_train_batch_size": 2,
                "gradient_accumulation_steps": 1,
                "learning_rate": 1e-3,
                "warmup_steps": 0,
                "eval_fraction": 0.0,
                "logging_steps": 1,
                "save_steps": 1000,
            }
        )
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TRANSFORMERS_VERBOSITY": "info"}
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        env.pop(var, None)
    done = subprocess.run(
        # ddp.yaml says MULTI_GPU/bf16; on a CPU box the same torchrun launcher forms a gloo
        # group (force_cpu -> use_cpu) and bf16 autocast is switched off here.
        [launcher, "launch", "--config_file", str(REPO_ROOT / "configs/accelerate/ddp.yaml"),
         "--num_processes", "2", "--mixed_precision", "no", "--main_process_port", "0",
         "-m", "train.sft", "--config", str(config)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    log = done.stdout + done.stderr
    # The Trainer saw two processes: 2 per device x 2 processes x 1 accumulation step.
    assert "Total train batch size (w. parallel, distributed & accumulation) = 4" in log, log[
        -3000:
    ]
    meta = json.loads((out / "train_meta.json").read_text())
    assert meta["global_step"] == 2
    assert meta["final_train_loss"] is not None
    from safetensors.torch import load_file

    adapter = load_file(str(out / "adapter_model.safetensors"))
    lora_b = [t for name, t in adapter.items() if "lora_B" in name]
    assert lora_b and any(t.abs().sum() > 0 for t in lora_b)  # LoRA B starts at zero: it trained
