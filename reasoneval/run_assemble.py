"""`reasoneval run`'s results: the samples.jsonl rows, the report record, and the gates' verdicts.

Each stage returns a new record (reasoneval.report_record); nothing fills in a shared dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reasoneval import provenance
from reasoneval.datasets import dataset_hash
from reasoneval.gates import Gate, GateOutcome, baseline_gate, check_gate
from reasoneval.layers.base import LayerResult
from reasoneval.prompt_styles import SPECS
from reasoneval.records import Problem, ScoredSample
from reasoneval.report import layer_record
from reasoneval.report_record import (
    SCHEMA_VERSION,
    DatasetRecord,
    GateRecord,
    PromptStyleRecord,
    RunReportRecord,
    as_written,
)
from reasoneval.run_config import RunConfig
from reasonkit.artifacts import git_revision, package_versions

if TYPE_CHECKING:
    from reasonkit.answers import Extraction


def sample_rows(
    samples: Sequence[ScoredSample],
    extractions: Sequence[Extraction | None],
    whole_text: Sequence[bool],
    results: Sequence[LayerResult],
    style: str,
) -> list[dict[str, Any]]:
    rows = []
    for s, ext, whole in zip(samples, extractions, whole_text, strict=True):
        g, c = s.generation, s.generation.completion
        row: dict[str, Any] = {
            "id": g.id,
            "variant": g.variant,
            "sample_index": g.sample_index,
            "prompt_hash": g.prompt_hash,
            "prompt": g.prompt,
            "response": c.text,
            "finish_reason": c.finish_reason,
            "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens,
            "gold": s.gold,
            "extracted": s.extracted,
            "strategy": s.strategy,
            "marker": ext.marker if ext else None,
            "correct": s.correct,
            "prompt_style": style,
            "scored_whole_text": whole,
        }
        for result in results:  # a layer's per-sample object, e.g. traces' {"trace": {...}}
            extra = result.per_sample.get((g.id, g.variant, g.sample_index), {})
            clash = set(extra) & set(row)
            if clash:
                raise RuntimeError(f"layer {result.name} overwrites sample fields {sorted(clash)}")
            row.update(extra)
        rows.append(row)
    return rows


def build_report(
    cfg: RunConfig,
    problems: Sequence[Problem],
    model: dict[str, Any],
    tokenizer: Any,
    backend_name: str,
    results: Sequence[LayerResult],
) -> RunReportRecord:
    """The run's report before its prompt style, generation figures and gates are added."""
    ds = cfg.dataset
    config = provenance.config_record(replace(cfg, backend=backend_name))  # type: ignore[arg-type]
    return RunReportRecord(
        schema_version=SCHEMA_VERSION,
        config=as_written(config),  # the resolved settings; the command is derived from them
        command=tuple(provenance.command_line(config)),
        model=as_written(model),
        tokenizer=as_written(provenance.describe_tokenizer(tokenizer)),
        backend=backend_name,
        packages=package_versions(),
        git_revision=git_revision(),
        seed=cfg.sampling.seed,
        sampling=as_written(asdict(cfg.sampling)),
        layer_options=as_written(provenance.layer_options(cfg)),
        dataset=DatasetRecord(ds.name, ds.split, ds.limit, len(problems), dataset_hash(problems)),
        layers=tuple(layer_record(r) for r in results),
    )


def prompt_style_record(cfg: RunConfig, reason: str, whole_text: Sequence[bool]) -> PromptStyleRecord:
    style = cfg.prompt_style
    return PromptStyleRecord(
        name=style, reason=reason, few_shot=cfg.few_shot, answer_marker=SPECS[style].marker,
        source=SPECS[style].source, stop=tuple(cfg.sampling.stop),
        scored_whole_text=sum(whole_text),  # think responses that never closed the block
    )  # fmt: skip


def run_gates(
    report: RunReportRecord,
    gates: Sequence[Gate],
    baseline: tuple[dict[str, Any], Path] | None,
    *,
    samples: Path,
    margin_points: float,
    seed: int,
) -> RunReportRecord:
    """The report with the paired baseline comparison of ``samples`` (with a baseline) and every
    gate's outcome; `reasoneval run` and reasoneval.api.gate both decide gates here."""
    outcomes: list[GateOutcome] = []
    comparison = None
    if baseline is not None:
        outcome, comparison = baseline_gate(
            baseline[1], samples, margin_points=margin_points, seed=seed
        )
        outcomes.append(outcome)
    current = report.to_json()
    outcomes += [check_gate(g, current, baseline[0] if baseline else None) for g in gates]
    return replace(report, comparison=comparison,
                   gates=tuple(GateRecord(o.description, o.passed) for o in outcomes))  # fmt: skip
