"""GRPO on the shared tiny model, on CPU."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from train.grpo import MERGED_DIR, SAMPLES_FILE, prepare
from train.sft import finish as finish_sft
from train.sft import prepare as prepare_sft

pytestmark = pytest.mark.slow

TARGET = "7"


def target_char_fraction(completions: list[str], **_: Any) -> list[float]:
    """Trivially learnable: the share of completion characters that are one given digit."""
    return [c.count(TARGET) / max(1, len(c)) for c in completions]


def test_mean_reward_rises_on_a_learnable_reward(make_grpo_config) -> None:
    cfg = make_grpo_config(
        max_steps=10,
        learning_rate=3e-2,
        lr_scheduler_type="constant",
        per_device_train_batch_size=8,
        num_generations=8,
        log_samples_per_step=2,
    )
    run = prepare(cfg, reward_funcs=[target_char_fraction], reward_weights=[1.0])
    run.trainer.train()
    rewards = [e["reward"] for e in run.trainer.state.log_history if "reward" in e]
    assert len(rewards) == 10
    first, last = sum(rewards[:3]) / 3, sum(rewards[-3:]) / 3
    assert last > first + 0.1, rewards

    lines = [json.loads(x) for x in (Path(cfg.output_dir) / SAMPLES_FILE).read_text().splitlines()]
    assert [r["step"] for r in lines] == list(range(10))
    assert len(lines[-1]["samples"]) == 2 and lines[-1]["n_completions"] == 8
    logged = lines[-1]["reward_mean"]["target_char_fraction"]
    samples = lines[-1]["samples"]
    assert all(
        s["rewards"]["target_char_fraction"] == target_char_fraction([s["completion"]])[0]
        for s in samples
    )
    assert 0.0 <= logged <= 1.0


def test_starts_from_sft_adapter_merged_in_full_precision(
    make_sft_config, make_grpo_config, tmp_path: Path
) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    sft_cfg = make_sft_config(max_steps=2, learning_rate=1e-2, output_dir=str(tmp_path / "sft"))
    sft = prepare_sft(sft_cfg)
    sft.trainer.train()
    finish_sft(sft)

    cfg = make_grpo_config(adapter_path=sft_cfg.output_dir, model_name_or_path="", max_steps=1)
    run = prepare(cfg)
    assert run.merged_base == str(Path(cfg.output_dir) / MERGED_DIR)
    assert run.cfg.model_name_or_path == sft_cfg.model_name_or_path  # read from adapter_config.json
    assert (Path(run.merged_base) / "model.safetensors").is_file()

    ids = run.tokenizer("<think>\nAva has 3+4=7 apples.", return_tensors="pt")["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(
        sft_cfg.model_name_or_path, dtype=torch.float32
    ).eval()
    with torch.no_grad():
        base_logits = base(input_ids=ids).logits
        sft_logits = (
            PeftModel.from_pretrained(base, sft_cfg.output_dir).eval()(input_ids=ids).logits
        )
        # The fresh GRPO LoRA starts at B=0, so the policy equals base+SFT adapter before training.
        policy_logits = run.trainer.model.eval()(input_ids=ids).logits
    assert not torch.allclose(sft_logits, base_logits, atol=1e-3)
    torch.testing.assert_close(policy_logits, sft_logits, rtol=0, atol=1e-4)
    fresh = [p for n, p in run.trainer.model.named_parameters() if "lora_B" in n]
    assert fresh and all(torch.count_nonzero(p) == 0 for p in fresh)


def test_merged_base_can_be_requantised(make_sft_config, make_grpo_config, tmp_path: Path) -> None:
    import bitsandbytes as bnb

    sft_cfg = make_sft_config(max_steps=1, output_dir=str(tmp_path / "sft"))
    sft = prepare_sft(sft_cfg)
    sft.trainer.train()
    finish_sft(sft)
    run = prepare(make_grpo_config(adapter_path=sft_cfg.output_dir, load_in_4bit=True, max_steps=1))
    assert any(isinstance(m, bnb.nn.Linear4bit) for m in run.trainer.model.modules())
    run.trainer.train()
    assert run.trainer.state.global_step == 1
