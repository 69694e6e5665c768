"""SFT on the shared tiny model, on CPU. Each test trains for a few steps and checks a real effect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from train.provenance import read_meta
from train.sft import finish, prepare

pytestmark = pytest.mark.slow


def _lora_and_base(
    model: torch.nn.Module,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    lora, base = {}, {}
    for name, p in model.named_parameters():
        (lora if "lora_" in name else base)[name] = p.detach().clone()
    return lora, base


def test_loss_is_masked_to_exactly_the_completion(make_sft_config) -> None:
    run = prepare(make_sft_config(max_steps=1))
    tok = run.tokenizer
    examples = [run.trainer.train_dataset[i] for i in (0, 1)]
    batch = run.trainer.data_collator(examples)
    assert batch["labels"].shape == batch["input_ids"].shape
    for row, ex in enumerate(examples):
        prompt_ids = tok(ex["prompt"], add_special_tokens=False)["input_ids"]
        full_ids = tok(ex["prompt"] + ex["completion"], add_special_tokens=False)["input_ids"]
        keep = batch["attention_mask"][row].bool()
        ids, labels = batch["input_ids"][row][keep], batch["labels"][row][keep]
        assert ids.tolist() == full_ids
        n_prompt = len(prompt_ids)
        assert 0 < n_prompt < len(full_ids)
        assert (labels[:n_prompt] == -100).all()
        assert labels[n_prompt:].tolist() == ids[n_prompt:].tolist()
        assert labels[-1].item() == tok.eos_token_id  # the model learns to stop
        assert (batch["labels"][row][~keep] == -100).all()  # padding never counts


def test_lora_trains_and_base_stays_frozen(make_sft_config) -> None:
    run = prepare(make_sft_config(max_steps=3, learning_rate=1e-3))
    lora_before, base_before = _lora_and_base(run.trainer.model)
    assert lora_before and all(
        torch.count_nonzero(v) == 0 for k, v in lora_before.items() if "lora_B" in k
    )
    run.trainer.train()
    lora_after, base_after = _lora_and_base(run.trainer.model)
    changed = [k for k in lora_before if not torch.equal(lora_before[k], lora_after[k])]
    assert len(changed) == len(lora_before)
    assert all(torch.equal(base_before[k], base_after[k]) for k in base_before)
    assert all(torch.count_nonzero(v) > 0 for k, v in lora_after.items() if "lora_B" in k)
    targets = {k.split(".lora_")[0].rsplit(".", 1)[-1] for k in lora_after}
    assert targets == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


def test_loss_falls_on_a_fixed_batch(make_sft_config, tmp_path: Path) -> None:
    one = json.loads(Path(make_sft_config().train_file).read_text().splitlines()[0])
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text((json.dumps(one) + "\n") * 4)
    run = prepare(
        make_sft_config(train_file=str(fixed), eval_fraction=0.0, max_steps=8, learning_rate=5e-3)
    )
    run.trainer.train()
    losses = [e["loss"] for e in run.trainer.state.log_history if "loss" in e]
    assert len(losses) == 8
    assert sum(losses[-2:]) / 2 < 0.7 * losses[0]


def test_same_seed_same_first_step_loss(make_sft_config, tmp_path: Path) -> None:
    def first_loss(seed: int, out: str) -> float:
        run = prepare(make_sft_config(max_steps=1, seed=seed, output_dir=str(tmp_path / out)))
        run.trainer.train()
        return float(run.trainer.state.log_history[0]["loss"])

    assert first_loss(3407, "a") == first_loss(3407, "b")
    assert first_loss(3407, "c") != first_loss(1, "d")  # the seed does reach the data order


def test_saved_adapter_reloads_to_identical_logits(make_sft_config, tiny_model_dir: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    cfg = make_sft_config(
        max_steps=3, learning_rate=1e-3, eval_steps=1, save_steps=1, save_total_limit=1
    )
    run = prepare(cfg)
    run.trainer.train()
    meta = finish(run)
    out = Path(cfg.output_dir)
    assert (out / "adapter_model.safetensors").is_file() and (out / "config.yaml").is_file()
    assert meta == read_meta(out)
    assert meta.best_checkpoint is not None and meta.best_metric is not None  # eval loss chose it

    ids = run.tokenizer("<think>\nAva has 3+4=7 apples.", return_tensors="pt")["input_ids"]
    trained = run.trainer.model.eval()
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        expected = trained(input_ids=ids).logits
        base_logits = base(input_ids=ids).logits
        reloaded = PeftModel.from_pretrained(base, out).eval()(input_ids=ids).logits
    assert not torch.allclose(expected, base_logits, atol=1e-4)  # the adapter does something
    torch.testing.assert_close(reloaded, expected, rtol=0, atol=1e-6)


def test_nf4_qlora_path_trains_on_cpu(make_sft_config) -> None:
    import bitsandbytes as bnb

    run = prepare(make_sft_config(load_in_4bit=True, max_steps=2, learning_rate=1e-3))
    model = run.trainer.model
    linear4 = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(linear4) == 7 * 2  # every projection of both layers is NF4
    state = linear4[0].weight.quant_state
    assert state.quant_type == "nf4" and state.nested  # nested = double quantisation
    lora_before, _ = _lora_and_base(model)
    run.trainer.train()
    lora_after, _ = _lora_and_base(model)
    assert all(not torch.equal(lora_before[k], lora_after[k]) for k in lora_before)
    losses = [e["loss"] for e in run.trainer.state.log_history if "loss" in e]
    assert losses and all(torch.isfinite(torch.tensor(losses)))


def test_full_fine_tuning_updates_every_weight(make_sft_config) -> None:
    """``peft: none`` is the warm-up for a from-scratch tiny model: no adapter, all weights train."""
    run = prepare(make_sft_config(peft="none", max_steps=2, learning_rate=1e-3))
    model = run.trainer.model
    assert not any("lora_" in n for n, _ in model.named_parameters())
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    run.trainer.train()
    unchanged = [n for n, p in model.named_parameters() if torch.equal(before[n], p.detach())]
    assert unchanged == []
    meta = finish(run)
    assert (Path(run.cfg.output_dir) / "model.safetensors").is_file() and meta.global_step == 2
