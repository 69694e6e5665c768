"""The generation interface every backend implements; backends import vllm/torch lazily."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from reasoneval.records import Completion
from reasonkit.prompting import STOP_STRINGS

BackendName = Literal["auto", "vllm", "hf"]


@dataclass(frozen=True, slots=True)
class SamplingConfig:
    n: int = 1  # samples per prompt
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 512
    seed: int = 0
    stop: tuple[str, ...] = STOP_STRINGS


class Backend(Protocol):
    name: str

    def generate(
        self, prompts: Sequence[str], sampling: SamplingConfig
    ) -> list[list[Completion]]:
        """One list of ``sampling.n`` completions per prompt, in prompt order."""
        ...

    def close(self) -> None: ...
