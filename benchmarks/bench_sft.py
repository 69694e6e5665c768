"""SFT throughput and peak memory: QLoRA vs bf16 LoRA vs a plain TRL default run, side by side.

On CUDA the model is shaped like Qwen2.5-0.5B (random weights; speed does not depend on their
values). Without CUDA it runs a tiny model as a smoke check that every variant trains; those CPU
figures say nothing about GPU speed. Each variant runs in its own subprocess so peak-memory
readings do not leak between them.

    python benchmarks/bench_sft.py                 # auto: GPU shape on CUDA, smoke on CPU
    python benchmarks/bench_sft.py --steps 30 --out runs/bench_sft.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

VARIANTS = ("trl_default", "lora_bf16", "qlora_nf4")
BASELINE = "trl_default"

# Qwen2.5-0.5B's published config.json: 24 layers, hidden 896, 14 heads / 2 KV heads,
# FFN 4864, vocab 151,936, tied embeddings.
QWEN25_05B = {
    "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
    "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
}  # fmt: skip
SMOKE = {
    "hidden_size": 128, "intermediate_size": 384, "num_hidden_layers": 2,
    "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 1024,
}  # fmt: skip


def build_model(out: Path, shape: dict[str, int]) -> Path:
    """The local tiny tokenizer plus a random Qwen2 model of the requested shape."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    from reasoneval.tiny_model import build_tiny_model

    tok_dir = build_tiny_model(out / "tok", seed=0)
    tok = AutoTokenizer.from_pretrained(tok_dir)
    cfg = Qwen2Config(
        **shape,
        head_dim=shape["hidden_size"] // shape["num_attention_heads"],
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(cfg).to(torch.bfloat16 if torch.cuda.is_available() else torch.float32)
    model.save_pretrained(out / "model", safe_serialization=True)
    tok.save_pretrained(out / "model")
    return out / "model"


def write_rows(path: Path, n: int) -> Path:
    """GSM8K-sized synthetic kept rows (about 5 reasoning lines each)."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            a, b, c = 12 + i, 7 + i % 9, 3 + i % 5
            steps = [
                f"Each box holds {a} pencils, so {b} boxes hold {a}*{b}={a * b} pencils.",
                f"She gives away {c} boxes, which is {a}*{c}={a * c} pencils.",
                f"That leaves {a * b}-{a * c}={a * b - a * c} pencils.",
                f"Split between 2 classes, each class gets {a * b - a * c}/2={(a * b - a * c) / 2} pencils.",
            ]
            row = {
                "id": f"bench/train/{i}",
                "question": f"A teacher buys {b} boxes of {a} pencils and gives away {c} boxes. "
                "She splits the rest between 2 classes. How many pencils does each class get?",
                "reasoning": "\n".join(steps),
                "final_answer": str((a * b - a * c) / 2).removesuffix(".0"),
            }
            fh.write(json.dumps(row) + "\n")
    return path


class _Clock:
    """Tokens and seconds over the steps after warm-up (CUDA work synchronised at each edge)."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.t0 = self.t1 = 0.0
        self.tok0 = self.tok1 = 0

    def callback(self) -> Any:
        import torch
        from transformers import TrainerCallback

        clock = self

        class Cb(TrainerCallback):  # type: ignore[misc]
            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                if state.global_step == clock.warmup:
                    clock.t0, clock.tok0 = time.perf_counter(), state.num_input_tokens_seen
                clock.t1, clock.tok1 = time.perf_counter(), state.num_input_tokens_seen

        return Cb()


def run_variant(
    name: str, model: str, rows: str, steps: int, warmup: int, out: str
) -> dict[str, Any]:
    import torch

    from train.hardware import detect_hardware
    from train.sft import SFTRunConfig, prepare

    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    hw = detect_hardware()
    common = {
        "model_name_or_path": model, "train_file": rows, "output_dir": out, "max_steps": steps,
        "eval_fraction": 0.0, "save_steps": 10_000, "logging_steps": 10_000, "warmup_steps": 0,
        "per_device_train_batch_size": 2, "gradient_accumulation_steps": 4, "max_length": 1024,
    }  # fmt: skip
    clock = _Clock(warmup)
    if name == BASELINE:
        # TRL's defaults: full fine-tuning, model dtype from its config, SFTConfig's optimiser.
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        from train.data import read_kept_rows, sft_dataset
        from train.modeling import load_tokenizer

        tok = load_tokenizer(model)
        args = SFTConfig(
            output_dir=out, max_steps=steps, per_device_train_batch_size=2, gradient_accumulation_steps=4,
            report_to="none", save_strategy="no", use_cpu=hw.use_cpu, bf16=hw.bf16, logging_steps=10_000,
        )  # fmt: skip
        data: Dataset = sft_dataset(read_kept_rows(rows), tok)
        trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tok)
    else:
        cfg = SFTRunConfig(**common, load_in_4bit=(name == "qlora_nf4"))
        trainer = prepare(cfg).trainer
    trainer.args.include_num_input_tokens_seen = "non_padding"
    trainer.add_callback(clock.callback())
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    seconds = clock.t1 - clock.t0
    import resource

    return {
        "variant": name,
        "tokens_per_s": (clock.tok1 - clock.tok0) / seconds if seconds > 0 else float("nan"),
        "timed_steps": steps - warmup,
        "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30
        if torch.cuda.is_available()
        else None,
        # Linux reports ru_maxrss in KiB; on CPU this is the only memory figure there is.
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "base_dtype": "nf4"
        if name == "qlora_nf4"
        else str(hw.compute_dtype).removeprefix("torch."),
        "optim": trainer.args.optim
        if isinstance(trainer.args.optim, str)
        else trainer.args.optim.value,
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("--steps", type=int, default=None, help="optimiser steps per variant")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    parser.add_argument("--_variant", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--_work", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    import torch

    cuda = torch.cuda.is_available()
    steps = args.steps or (20 if cuda else 3)
    warmup = args.warmup if args.warmup is not None else (5 if cuda else 1)
    if args._variant:  # child process: one variant, JSON on the last stdout line
        work = Path(args._work)
        result = run_variant(
            args._variant, str(work / "model"), str(work / "rows.jsonl"), steps, warmup,
            str(work / f"out_{args._variant}"),
        )  # fmt: skip
        print(json.dumps(result))
        return 0

    names = [v for v in args.variants.split(",") if v]
    unknown = set(names) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; choose from {VARIANTS}")
    with tempfile.TemporaryDirectory(prefix="bench_sft.") as tmp:
        work = Path(tmp)
        build_model(work, QWEN25_05B if cuda else SMOKE)
        write_rows(work / "rows.jsonl", 64 if cuda else 16)
        results = []
        for name in names:
            proc = subprocess.run(
                [sys.executable, __file__, "--_variant", name, "--_work", str(work),
                 "--steps", str(steps), "--warmup", str(warmup)],
                capture_output=True, text=True, cwd=REPO,
            )  # fmt: skip
            if proc.returncode != 0:
                print(proc.stderr[-4000:], file=sys.stderr)
                return 1
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    base = next((r for r in results if r["variant"] == BASELINE), None)
    label = (
        "Qwen2.5-0.5B shape, random weights"
        if cuda
        else "CPU SMOKE CHECK (tiny model; not a speed figure)"
    )
    print(f"bench_sft: {label}; {steps} steps, {warmup} untimed; batch 2 x accum 4")
    print(
        f"{'variant':<12} {'base':>8} {'tokens/s':>10} {'x baseline':>11} {'GPU GiB':>8} {'RSS GiB':>8}  optim"
    )
    for r in results:
        ratio = r["tokens_per_s"] / base["tokens_per_s"] if base else float("nan")
        mem = f"{r['peak_mem_gib']:.2f}" if r["peak_mem_gib"] is not None else "n/a"
        print(
            f"{r['variant']:<12} {r['base_dtype']:>8} {r['tokens_per_s']:>10.1f} {ratio:>11.2f} "
            f"{mem:>8} {r['peak_rss_gib']:>8.2f}  {r['optim']}"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(
                {"label": label, "steps": steps, "warmup": warmup, "results": results}, indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
