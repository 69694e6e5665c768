"""report.json as one typed, versioned record: the writer `reasoneval run` uses and the reader
every consumer of a run's report uses, in place of hand-indexed dicts (issue 28).

Key order and values are kept exactly as the run has always written them, so a report read and
written again is the same bytes. Only ``layers`` is required on reading: a CI baseline keeps a
subset of the fields (scripts/pipeline_gate.py), and a hand-written gate input may hold only its
figures. Such a file carries no ``schema_version`` and is read as version 1, the only version a
report has had; a version newer than this reader knows is refused with exit 2.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any

from reasonkit.artifacts import atomic_write_text
from reasonkit.errors import InputError

__all__ = ["REPORT_FILE", "SCHEMA_VERSION", "DatasetRecord", "GateRecord", "GenerationRecord",
           "LayerRecord", "MetricRecord", "PromptStyleRecord", "RunReportRecord", "as_written",
           "layers_from_json", "read_report", "read_report_json", "report_from_json",
           "write_report_json"]  # fmt: skip

SCHEMA_VERSION = 1
REPORT_FILE = "report.json"
# A provenance section (config, model, tokenizer, sampling, ...) as reasoneval.provenance writes
# it: kept whole, since nothing downstream reads it field by field.
JsonObject = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class MetricRecord:
    """One gateable figure; ``value`` is always a finite number (a gate on NaN passed, issue 29)."""

    value: float
    lo: float | None = None
    hi: float | None = None
    n: int | None = None
    higher_is_better: bool | None = True  # None: a reference figure, no better direction

    def to_json(self) -> dict[str, Any]:
        return _flat(self)


@dataclass(frozen=True, slots=True)
class LayerRecord:
    name: str
    metrics: Mapping[str, MetricRecord]
    details: JsonObject = field(default_factory=dict)  # the layer's own summary (docs/layers.md)

    def to_json(self) -> dict[str, Any]:
        return {"metrics": {k: m.to_json() for k, m in self.metrics.items()},
                "details": dict(self.details)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DatasetRecord:
    name: str | None = None
    split: str | None = None
    limit: int | None = None
    n_problems: int | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class PromptStyleRecord:
    name: str
    reason: str | None = None
    few_shot: int | None = None
    answer_marker: str | None = None
    source: str | None = None
    stop: tuple[str, ...] = ()
    scored_whole_text: int | None = None  # think responses that never closed the block


@dataclass(frozen=True, slots=True)
class GenerationRecord:
    unique_prompts: int
    from_cache: int
    generated_this_run: int
    seconds: float
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class GateRecord:
    description: str
    passed: bool


@dataclass(frozen=True, slots=True)
class RunReportRecord:
    """A `reasoneval run` report. Sections a partial report lacks are None (or empty)."""

    layers: tuple[LayerRecord, ...]
    schema_version: int = SCHEMA_VERSION
    config: JsonObject | None = None  # the resolved settings; ``command`` is derived from them
    command: tuple[str, ...] | None = None
    model: JsonObject | None = None
    tokenizer: JsonObject | None = None
    backend: str | None = None
    packages: JsonObject | None = None
    git_revision: str | None = None
    seed: int | None = None
    sampling: JsonObject | None = None
    layer_options: JsonObject | None = None
    dataset: DatasetRecord | None = None
    prompt_style: PromptStyleRecord | None = None
    generation: GenerationRecord | None = None
    comparison: JsonObject | None = None  # the baseline gate's figures (reasoneval.compare)
    gates: tuple[GateRecord, ...] = ()
    started: float | None = None  # wall clock, as ``timing``
    seconds: float | None = None

    def layer(self, name: str) -> LayerRecord | None:
        return next((layer for layer in self.layers if layer.name == name), None)

    def metric(self, layer: str, name: str) -> MetricRecord | None:
        return None if (found := self.layer(layer)) is None else found.metrics.get(name)

    def flat_metrics(self) -> dict[str, float]:
        """{"layer.metric": value}, the names gates and the pytest plugin use."""
        return {f"{lr.name}.{k}": float(m.value) for lr in self.layers for k, m in lr.metrics.items()}

    def to_json(self) -> dict[str, Any]:
        """The report.json object, keys in the order runs have always written them."""
        out: dict[str, Any] = {"schema_version": self.schema_version, "config": self.config,
                               "command": None if self.command is None else list(self.command)}
        out.update(model=self.model, tokenizer=self.tokenizer, backend=self.backend,
                   packages=self.packages, git_revision=self.git_revision, seed=self.seed,
                   sampling=self.sampling, layer_options=self.layer_options,
                   dataset=None if self.dataset is None else _flat(self.dataset),
                   layers={layer.name: layer.to_json() for layer in self.layers})
        if self.prompt_style is not None:
            out["prompt_style"] = {**_flat(self.prompt_style), "stop": list(self.prompt_style.stop)}
        if self.generation is not None:
            out["generation"] = _flat(self.generation)
        if self.comparison is not None:  # only with --baseline
            out["comparison"] = dict(self.comparison)
        out["gates"] = [_flat(g) for g in self.gates]
        if self.started is not None:
            out["timing"] = {"started": self.started, "seconds": self.seconds}
        return out


def _flat(record: Any) -> dict[str, Any]:
    """A flat record's JSON object: its fields in declaration order, the order runs write."""
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def as_written(value: Any) -> Any:
    """``value`` as report.json holds it (tuples as lists, keys as text), so a record built by a
    run equals the record read back from its file."""
    return json.loads(json.dumps(value, ensure_ascii=False))


def write_report_json(out_dir: Path, record: RunReportRecord) -> None:
    atomic_write_text(out_dir / REPORT_FILE,
                      json.dumps(record.to_json(), indent=2, ensure_ascii=False))  # fmt: skip


def read_report_json(report_path: Path) -> dict[str, Any]:
    """A report.json's object; InputError (one line) for anything unreadable."""
    try:
        report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{report_path}: not valid JSON ({exc.msg})") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # bytes, huge ints, nesting
        raise InputError(f"{report_path}: not readable JSON ({type(exc).__name__})") from None
    except OSError as exc:
        raise InputError(f"{report_path}: cannot read ({exc.strerror})") from None
    if not isinstance(report, dict):
        raise InputError(f"{report_path}: expected a JSON object")
    return report


def read_report(path: Path) -> RunReportRecord:
    """The record of a run directory's report.json (or of that file named directly)."""
    path = Path(path)
    report_path = path / REPORT_FILE if path.is_dir() else path
    return report_from_json(read_report_json(report_path), str(report_path))


def report_from_json(report: Mapping[str, Any], source: str = REPORT_FILE) -> RunReportRecord:
    """Validate a report object into its record; InputError naming ``source`` on a bad field."""
    version = report.get("schema_version", 1)  # absent: a hand-written or pre-record file
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"{source}: schema_version {version!r} is not a report version")
    if version > SCHEMA_VERSION:
        raise InputError(f"{source}: report schema version {version} is newer than this "
                         f"reasoneval reads (up to {SCHEMA_VERSION}); upgrade reasoneval")
    layers = layers_from_json(report)

    def get(key: str, kind: type, obj: Mapping[str, Any] = report) -> Any:
        return _get(obj, key, kind, source)

    def section(key: str, record: type) -> Any:
        value = get(key, dict)
        return None if value is None else record(**_fields(value, record, key, source))

    command, timing = get("command", list), get("timing", dict) or {}
    return RunReportRecord(
        layers=layers, schema_version=version, config=get("config", dict),
        command=None if command is None else tuple(str(c) for c in command),
        model=get("model", dict), tokenizer=get("tokenizer", dict), backend=get("backend", str),
        packages=get("packages", dict), git_revision=get("git_revision", str),
        seed=get("seed", int), sampling=get("sampling", dict),
        layer_options=get("layer_options", dict), dataset=section("dataset", DatasetRecord),
        prompt_style=_prompt_style(get("prompt_style", dict), source),
        generation=section("generation", GenerationRecord), comparison=get("comparison", dict),
        gates=tuple(GateRecord(**_fields(g, GateRecord, "gates", source))
                    for g in get("gates", list) or ()),
        started=get("started", float, timing), seconds=get("seconds", float, timing),
    )


def layers_from_json(report: Mapping[str, Any]) -> tuple[LayerRecord, ...]:
    """report.json's ``layers``, each metric value a finite number: every comparison with NaN is
    false, so a gate on it would pass (issue 29). The messages are the ones gates have given."""
    layers = report.get("layers", {})
    if not isinstance(layers, Mapping) or not all(
        isinstance(body, Mapping) and isinstance(body.get("metrics", {}), Mapping)
        for body in layers.values()
    ):
        raise InputError("report.json: 'layers' must map each layer to its 'metrics' object")
    out = []
    for layer, body in layers.items():
        metrics = {}
        for name, m in body.get("metrics", {}).items():
            value = m.get("value") if isinstance(m, Mapping) else None
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InputError(f"report.json: metric {layer}.{name} is {value!r}, not a finite number")
            metrics[name] = MetricRecord(value, _number(m.get("lo")), _number(m.get("hi")),
                                         _count(m.get("n")), _direction(m.get("higher_is_better", True)))  # fmt: skip
        details = body.get("details", {})
        out.append(LayerRecord(str(layer), metrics, details if isinstance(details, Mapping) else {}))
    return tuple(out)


def _number(value: object) -> float | None:
    """An interval bound as written (NaN included: readers check finiteness where they gate)."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _direction(value: object) -> bool | None:
    return value if value is None or isinstance(value, bool) else True


_KINDS = {dict: "an object", list: "a list", str: "a string", int: "an integer",
          float: "a number", bool: "true or false"}  # fmt: skip
_TYPES: dict[str, type] = {"name": str, "split": str, "limit": int, "n_problems": int,
                           "sha256": str, "reason": str, "few_shot": int, "answer_marker": str,
                           "source": str, "scored_whole_text": int, "unique_prompts": int,
                           "from_cache": int, "generated_this_run": int, "seconds": float,
                           "completion_tokens": int, "description": str, "passed": bool}  # fmt: skip


def _get(obj: Mapping[str, Any], key: str, kind: type, source: str) -> Any:
    """``obj[key]`` if it has JSON type ``kind`` (None when absent or null), else InputError."""
    value = obj.get(key)
    if value is None:
        return None
    if kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    if not ok:
        raise InputError(f"{source}: {key!r} must be {_KINDS[kind]}, got {type(value).__name__}")
    return value


def _fields(obj: object, record: type, section: str, source: str) -> dict[str, Any]:
    """The fields of ``record`` found in ``obj``, each of its JSON type; a required one missing
    is an InputError, as is an ``obj`` that is no object."""
    if not isinstance(obj, Mapping):
        raise InputError(f"{source}: {section!r} must hold objects, got {type(obj).__name__}")
    found = {}
    for name, spec in record.__dataclass_fields__.items():  # type: ignore[attr-defined]
        value = _get(obj, name, _TYPES.get(name, list), source)
        if value is not None:
            found[name] = value
        elif spec.default is MISSING and spec.default_factory is MISSING:
            raise InputError(f"{source}: {section!r} has no {name!r}")
    return found


def _prompt_style(style: Mapping[str, Any] | None, source: str) -> PromptStyleRecord | None:
    if style is None:
        return None
    fields = _fields(style, PromptStyleRecord, "prompt_style", source)
    return PromptStyleRecord(**{**fields, "stop": tuple(str(s) for s in fields.get("stop", ()))})
