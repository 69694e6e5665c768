"""Plain records passed between reasoneval's stages. Stages return new records; none mutates one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ORIGINAL = "original"  # the variant name of an unperturbed prompt in samples.jsonl


@dataclass(frozen=True, slots=True)
class Problem:
    """One evaluation item. ``gold`` is the bare final answer; ``solution`` the gold reasoning."""

    id: str
    question: str
    gold: str
    solution: str | None = None
    split: str = "test"


@dataclass(frozen=True, slots=True)
class Completion:
    """What a backend returns for one sample of one prompt."""

    text: str
    finish_reason: str  # "stop" | "length"
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class Generation:
    """One sample for one (item, variant): the exact prompt and what came back."""

    id: str
    variant: str
    sample_index: int
    prompt: str
    prompt_hash: str
    completion: Completion


@dataclass(frozen=True, slots=True)
class ScoredSample:
    generation: Generation
    gold: str
    extracted: str | None
    strategy: str | None
    correct: bool
    marker: str | None = None  # the answer marker extraction used ("####", "the_answer_is"...)


def in_variant(row: Mapping[str, object], variant: str) -> bool:
    """Whether a samples.jsonl row belongs to ``variant``: "original" (a row without a variant
    field is one, as `reasoneval score` writes them), one variant ("format-json") or a family
    ("format"). `compare` and `score` select rows by it, so a run's sensitivity variants never
    mix into the accuracy of its original prompts (issues 13 and 26)."""
    name = str(row.get("variant", ORIGINAL))
    return name == variant or name.startswith(f"{variant}-")
