"""The settings of one `reasoneval run`, apart from run.py so provenance.py can name them without
importing run.py, which imports provenance.py (a cycle, issue 14)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reasoneval.backends.base import BackendName, SamplingConfig
from reasoneval.datasets import DatasetSpec
from reasoneval.gates import Gate
from reasoneval.sharding import ParallelConfig

if TYPE_CHECKING:
    from reasoneval.layers.sensitivity import SensitivityConfig


@dataclass(frozen=True, slots=True)
class RunConfig:
    checkpoint: Path
    out: Path
    layers: tuple[str, ...]
    dataset: DatasetSpec
    backend: BackendName = "auto"
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    # Programmatic callers (scripts/pipeline) keep the think format their models are trained on;
    # `reasoneval run` defaults to auto (reasoneval/prompt_styles.py).
    prompt_style: str = "think"
    few_shot: int | None = None  # None: the style's own count (fewshot-cot 8, fewshot-gsm8k 5)
    allow_style_mismatch: bool = False  # let --baseline be a run of another prompt style
    baseline: Path | None = None
    margin_points: float = 2.0
    gates: tuple[Gate, ...] = ()
    trust_remote_code: bool = False
    allow_pickle: bool = False
    # Prompts per generate call, the unit of progress the cache saves. None: 512 for vLLM, whose
    # scheduler wants large batches, 64 for HF, which pads each batch to its longest prompt.
    chunk_size: int | None = None
    sensitivity_config: SensitivityConfig | None = None  # None: the layer's defaults
    parallel: ParallelConfig = field(default_factory=ParallelConfig)
    base: Path | None = None  # overrides an adapter's recorded base_model_name_or_path
