"""Learnability for a small model: the example fits the context and is not a length outlier.

The target is Qwen2.5-0.5B/1.5B fine-tuned at 2,048 tokens (the project's default). Without a
tokenizer the count is an estimate that errs long: words, single digits (Qwen2's pre-tokenizer
splits every digit, see reasoneval/tiny_model.py) and punctuation each count as one token.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from datacheck.checks.base import KEEP, Verdict
from datacheck.records import Problem

TOKEN_ESTIMATE = re.compile(r"\d|[^\W\d_]+|[^\w\s]")
# Tokens the chat frame adds around question and reasoning (system prompt, role markers, the
# think block and the answer line); measured with prompting.build_prompt on the regex count.
FRAME_TOKENS = 60


def estimate_tokens(text: str) -> int:
    return len(TOKEN_ESTIMATE.findall(text))


def tokenizer_counter(path: str) -> Callable[[str], int]:
    """Token counts from a local tokenizer directory (no hub access on these machines)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def percentile(values: Sequence[int], q: float) -> float:
    """Nearest-rank percentile: the threshold is a value that occurs in the data."""
    if not values:
        return math.inf
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


@dataclass(slots=True)
class LearnabilityCheck:
    name: ClassVar[str] = "learnability"
    context_length: int = 2048
    outlier_percentile: float = 99.0
    count_tokens: Callable[[str], int] = estimate_tokens
    max_reasoning_tokens: float = field(default=math.inf, init=False)
    max_steps: float = field(default=math.inf, init=False)

    def fit(self, problems: Sequence[Problem]) -> None:
        self.max_reasoning_tokens = percentile(
            [self.count_tokens(p.reasoning) for p in problems], self.outlier_percentile
        )
        self.max_steps = percentile([len(p.steps) for p in problems], self.outlier_percentile)

    def __call__(self, problem: Problem) -> Verdict | None:
        reasoning_tokens = self.count_tokens(problem.reasoning)
        total = self.count_tokens(problem.question) + reasoning_tokens + FRAME_TOKENS
        if total > self.context_length:
            return Verdict(
                self.name, f"{total} tokens exceed the {self.context_length}-token context"
            )
        q = f"p{self.outlier_percentile:g}"
        if reasoning_tokens > self.max_reasoning_tokens:
            return Verdict(
                self.name,
                f"reasoning of {reasoning_tokens} tokens is beyond the {q} of "
                f"{self.max_reasoning_tokens:g}",
            )
        if len(problem.steps) > self.max_steps:
            return Verdict(
                self.name, f"{len(problem.steps)} steps is beyond the {q} of {self.max_steps:g}"
            )
        return KEEP
