"""What a layer is: it asks for generations, then turns scored samples into metrics.

accuracy asks for the original prompts; traces asks for nothing and reads accuracy's samples;
sensitivity asks for variant prompts. The runner deduplicates requests across layers, generates
once, scores every sample with reasonkit.answers, and hands each layer the samples.
"""

from __future__ import annotations

import re
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
class MetricName:
    """A metric name a layer writes into report.json, or a family of them.

    ``{}`` in ``template`` stands for one key: one of ``keys`` when they are known in advance
    (``error_rate.{}`` over the error types), else any text ``key_pattern`` matches (``pass@{}``
    over ``\\d+``). Each layer declares its names, so ``--gate`` is checked against them before
    any model loads, and a test holds them to what the layer writes.
    """

    template: str
    keys: tuple[str, ...] = ()
    key_pattern: str = ""

    def __post_init__(self) -> None:
        if ("{}" in self.template) != bool(self.keys or self.key_pattern):
            raise ValueError(f"metric {self.template!r}: a key needs a '{{}}', and '{{}}' a key")

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this declares, when its keys are known in advance; () otherwise."""
        if self.key_pattern:
            return ()
        return tuple(self.template.format(k) for k in self.keys) if self.keys else (self.template,)

    def matches(self, name: str) -> bool:
        if not self.key_pattern:
            return name in self.names
        head, _, tail = self.template.partition("{}")
        return re.fullmatch(f"{re.escape(head)}(?:{self.key_pattern}){re.escape(tail)}",
                            name) is not None


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
    metrics: ClassVar[tuple[MetricName, ...]]  # what it writes into report.json; gates read it

    def requests(self, problems: Sequence[Problem], ctx: RunContext) -> list[GenRequest]: ...

    def evaluate(
        self, problems: Sequence[Problem], samples: Sequence[ScoredSample], ctx: RunContext
    ) -> LayerResult: ...
