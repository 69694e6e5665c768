"""The HF backend on CUDA gives the CPU's greedy outputs (runs where a GPU is present)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoneval.backends import load_backend
from reasoneval.backends.base import SamplingConfig
from reasonkit.prompting import build_prompt

QUESTIONS = ["Tom has 3 apples and buys 4 more. How many now?", "What is 6 times 7?"]


@pytest.mark.gpu
def test_cuda_greedy_matches_cpu(tiny_model_dir: Path) -> None:
    prompts = [build_prompt(q) for q in QUESTIONS]
    sampling = SamplingConfig(max_new_tokens=16, seed=0)
    on_cpu = load_backend("hf", tiny_model_dir, device="cpu").generate(prompts, sampling)
    on_gpu = load_backend("hf", tiny_model_dir, device="cuda").generate(prompts, sampling)
    # float32 on both; the tiny model's logits are far apart, so greedy picks must agree.
    assert [[c.text for c in s] for s in on_gpu] == [[c.text for c in s] for s in on_cpu]
    assert all(c.completion_tokens > 0 for s in on_gpu for c in s)
