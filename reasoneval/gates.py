"""Regression gates: the paired baseline comparison, and typed metric thresholds.

A metric gate is one of exactly four shapes, nothing more::

    METRIC<=VALUE    METRIC>=VALUE    METRIC<=baseline[+|-DELTA]    METRIC>=baseline[+|-DELTA]

METRIC is ``layer.metric`` (``traces.arithmetic_error_rate``, ``sensitivity.pdr.format``) or a bare
metric name that only one layer reports (``accuracy``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from reasoneval.layers import LAYERS, layer_metrics
from reasonkit.errors import InputError

N_BOOT = 10_000  # bootstrap resamples for the baseline gate, as `reasoneval compare` defaults

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_GATE_RE = re.compile(
    rf"^\s*(?P<metric>[A-Za-z_][\w.@\-]*)\s*(?P<op><=|>=)\s*"
    rf"(?:(?P<baseline>baseline)\s*(?P<delta>[-+]\s*(?:\d+(?:\.\d*)?|\.\d+))?|(?P<value>{_NUMBER}))\s*$"
)


@dataclass(frozen=True, slots=True)
class Gate:
    metric: str
    op: Literal["<=", ">="]
    value: float | None  # an absolute threshold, or None when relative to the baseline
    baseline_delta: float = 0.0

    @property
    def relative(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        if self.value is not None:
            return f"{self.metric}{self.op}{self.value:g}"
        delta = f"{self.baseline_delta:+g}" if self.baseline_delta else ""
        return f"{self.metric}{self.op}baseline{delta}"


@dataclass(frozen=True, slots=True)
class GateOutcome:
    description: str
    passed: bool

    def json(self) -> dict[str, Any]:
        return {"description": self.description, "passed": self.passed}


def parse_gate(text: str) -> Gate:
    m = _GATE_RE.match(text)
    if m is None:
        raise InputError(
            f"bad --gate {text!r}: expected METRIC<=VALUE, METRIC>=VALUE or METRIC<=baseline+DELTA"
        )
    op: Literal["<=", ">="] = "<=" if m["op"] == "<=" else ">="
    if m["baseline"]:
        delta = float(m["delta"].replace(" ", "")) if m["delta"] else 0.0
        return Gate(m["metric"], op, None, delta)
    return Gate(m["metric"], op, float(m["value"]))


def _declared(layer: str, metric: str) -> bool:
    return any(m.matches(metric) for m in layer_metrics(layer))


def check_gates_up_front(gates: Sequence[Gate], layers: Sequence[str], has_baseline: bool) -> None:
    """Every gate names a metric one of ``layers`` declares (reasoneval.layers' registry), and has
    the baseline it needs: a mistyped --gate fails before any model loads, not after every prompt
    is generated."""
    for gate in gates:
        if gate.relative and not has_baseline:
            raise InputError(f"gate {gate} refers to the baseline; pass --baseline DIR")
        layer, _, rest = gate.metric.partition(".")
        if layer in LAYERS and rest:
            if layer not in layers:
                raise InputError(f"gate {gate}: layer {layer!r} is not in --layers")
            if _declared(layer, rest):
                continue
        elif any(_declared(name, gate.metric) for name in layers if name in LAYERS):
            continue
        raise InputError(f"unknown gate metric {gate.metric!r} for layers {', '.join(layers)} "
                         "(docs/layers.md lists each layer's metrics)")


def flat_metrics(report: Mapping[str, Any]) -> dict[str, float]:
    """report.json's layers -> {"layer.metric": value}; InputError on a value that is no finite
    number, since every comparison with NaN is false and a gate on it would pass (issue 29).
    The layers are read by the report record's reader (reasoneval.report_record)."""
    from reasoneval.report_record import RunReportRecord, layers_from_json

    return RunReportRecord(layers_from_json(report)).flat_metrics()


def resolve_metric(name: str, known: Mapping[str, float]) -> str:
    if name in known:
        return name
    matches = [k for k in known if k.split(".", 1)[1] == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InputError(f"gate metric {name!r} is ambiguous: {', '.join(sorted(matches))}")
    raise InputError(f"unknown gate metric {name!r}; known: {', '.join(sorted(known))}")


def check_gate(
    gate: Gate, report: Mapping[str, Any], baseline: Mapping[str, Any] | None
) -> GateOutcome:
    current = flat_metrics(report)
    name = resolve_metric(gate.metric, current)
    value = current[name]
    if gate.value is not None:
        limit = gate.value
    else:
        if baseline is None:
            raise InputError(f"gate {gate} refers to the baseline; pass --baseline DIR")
        base = flat_metrics(baseline)
        if name not in base:
            raise InputError(f"gate {gate}: the baseline report has no metric {name!r}")
        limit = base[name] + gate.baseline_delta
    passed = value <= limit if gate.op == "<=" else value >= limit
    return GateOutcome(f"{gate}: {name} = {value:.4f}, limit {limit:.4f}", passed)


def load_run_dir(path: Path) -> tuple[dict[str, Any], Path]:
    """A run directory's (report.json contents, samples.jsonl path); InputError if incomplete."""
    from reasonkit.manifest import check_manifest, check_run_files

    path = Path(path)
    check_run_files(path)
    report_path, samples_path = path / "report.json", path / "samples.jsonl"
    for p in (report_path, samples_path):
        if not p.is_file():
            raise InputError(f"baseline {path} has no {p.name}")
        check_manifest(p)  # a file edited after its run finished is no baseline
    report = read_report(report_path)
    flat_metrics(report)  # a NaN in the baseline fails here, before any generation
    return report, samples_path


def read_report(report_path: Path) -> dict[str, Any]:
    """A report.json's object, checked by the report record's reader (its schema version too);
    InputError (one line) for anything unreadable."""
    from reasoneval.report_record import read_report_json, report_from_json

    report = read_report_json(report_path)
    report_from_json(report, str(report_path))
    return report


def original_results(samples_path: Path, *, verify: bool = True) -> dict[str, list[bool]]:
    """id -> correctness of its original-prompt samples in sample order (variants are excluded)."""
    from reasoneval.compare import load_run_results

    return load_run_results(samples_path, verify=verify)


def baseline_gate(
    baseline_samples: Path, candidate_samples: Path, *, margin_points: float, seed: int
) -> tuple[GateOutcome, dict[str, Any]]:
    """Paired non-inferiority of this run's samples against the baseline's (reasoneval.compare)."""
    from dataclasses import asdict

    from reasoneval.compare import compare_results

    c = compare_results(
        original_results(baseline_samples),
        original_results(candidate_samples, verify=False),  # this run's, its manifest unwritten
        margin_points=margin_points,
        seed=seed,
        n_boot=N_BOOT,
    )
    desc = (
        f"accuracy non-inferior to baseline within {margin_points:g} points: "
        f"{100 * c.candidate_accuracy:.2f}% vs {100 * c.baseline_accuracy:.2f}%, "
        f"delta {100 * c.delta:+.2f}, 95% CI [{100 * c.ci_low:+.2f}, {100 * c.ci_high:+.2f}], "
        f"McNemar p={c.mcnemar_p:.3g}, n={c.n_items}"
    )
    return GateOutcome(desc, bool(c.passed)), asdict(c)
