"""Training output a user can act on: adapters that find their base from anywhere, and library
noise filtered one message at a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from train.provenance import anchor_adapter_base

REPO = Path(__file__).resolve().parents[2]


def _adapter(path: Path, base: str) -> Path:
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": base, "r": 16})
    )
    return path


def test_a_local_base_is_recorded_as_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "runs" / "tiny").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)  # training ran here, with model_name_or_path "runs/tiny"
    adapter = _adapter(tmp_path / "runs" / "sft", "runs/tiny")
    anchor_adapter_base(adapter)
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config == {"base_model_name_or_path": str(tmp_path / "runs" / "tiny"), "r": 16}


def test_a_hub_id_or_a_full_model_is_left_as_it_is(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path / "sft", "Qwen/Qwen2.5-0.5B-Instruct")
    before = (adapter / "adapter_config.json").read_text()
    anchor_adapter_base(adapter)
    assert (adapter / "adapter_config.json").read_text() == before
    anchor_adapter_base(tmp_path)  # no adapter_config.json: a full fine-tune; nothing to do


def _import_noise(quiet: bool) -> str:
    code = (
        ("from train.console import quiet_library_noise; quiet_library_noise()\n" if quiet else "")
        + "import bitsandbytes\nimport trl.import_utils as t\n"
        + "t.is_vllm_available(); t.is_vllm_available()\n"
        + "import logging; logging.getLogger('bitsandbytes.backends.cpu.ops').warning('other warnings show')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], cwd=REPO, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return proc.stderr


@pytest.mark.slow
@pytest.mark.vllm
def test_bitsandbytes_kernels_hint_and_trl_vllm_warning_are_filtered() -> None:
    pytest.importorskip("vllm")
    loud = _import_noise(quiet=False)
    # bitsandbytes looks for `kernels` only on CPUs with AVX512-BF16, as this machine's.
    assert "TRL currently supports vLLM" in loud
    quiet = _import_noise(quiet=True)
    assert "kernels-community" not in quiet and "TRL currently supports vLLM" not in quiet
    assert "other warnings show" in quiet


@pytest.mark.parametrize("module", ["train.sft", "train.grpo"])
def test_importing_a_training_cli_leaves_the_libraries_for_after_the_console_filters(
    module: str,
) -> None:
    # bitsandbytes logs its kernels hint at import; the CLIs install the filter first, so neither
    # it nor transformers (which imports it) may load when the module does.
    code = f"import sys, {module}; print(sorted(m for m in ('transformers', 'bitsandbytes', 'trl') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]", out.stderr[-2000:]
