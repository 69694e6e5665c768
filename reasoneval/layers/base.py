"""What a layer is: it asks for generations, then turns scored samples into metrics.

accuracy asks for the original prompts; traces asks for nothing and reads accuracy's samples;
sensitivity asks for variant prompts. The runner deduplicates requests across layers, generates
once, scores every sample with reasonkit.answers, and hands each layer the samples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from reasoneval.records import Problem, ScoredSample


@dataclass(frozen=True, slots=True)
class GenRequest:
    id: str  # problem id
    variant: str  # "original" for the unmodified prompt
    prompt: str
    gold: str  # the gold answer for this variant (recomputed for numeric perturbations)


@dataclass(frozen=True, slots=True)
class Metric:
    """A gateable figure. ``lo``/``hi`` bound a 95% interval when one exists.

    ``higher_is_better`` None marks a reference figure with no better direction, such as
    ``traces.auroc.length``, the baseline the flags are measured against.
    """

    value: float
    lo: float | None = None
    hi: float | None = None
    higher_is_better: bool | None = True
    n: int | None = None


@dataclass(frozen=True, slots=True)
class LayerResult:
    name: str
    metrics: Mapping[str, Metric]  # flat names, e.g. "accuracy", "pdr.format"
    details: Mapping[str, Any] = field(default_factory=dict)  # JSON-serialisable extras
    per_sample: Mapping[tuple[str, str, int], Mapping[str, Any]] = field(default_factory=dict)
    html: str = ""  # a self-contained, escaped report section


@dataclass(frozen=True, slots=True)
class RunContext:
    tokenizer: Any | None  # for chat templates; None renders plain ChatML
    seed: int
    samples: int  # k samples per original prompt
    prompt_style: Literal["zero-shot", "few-shot"] = "zero-shot"
    # The run's prompt style (reasoneval.prompt_styles.PromptRenderer); None renders think.
    renderer: Callable[..., str] | None = None
    answer_marker: str = "####"  # the answer line the style asks for (format vs correctness)


class Layer(Protocol):
    name: ClassVar[str]

    def requests(self, problems: Sequence[Problem], ctx: RunContext) -> list[GenRequest]: ...

    def evaluate(
        self, problems: Sequence[Problem], samples: Sequence[ScoredSample], ctx: RunContext
    ) -> LayerResult: ...
