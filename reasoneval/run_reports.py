"""The gates' view of `reasoneval run` outputs: a report's metrics, one run or a group of runs.

The pytest plugin (reasoneval.pytest_plugin) hands these to gate tests. Every metric a gate reads
is a finite number: every comparison with NaN is false, so a gate on NaN passed (issue 29).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reasoneval.report_record import REPORT_FILE
from reasonkit.errors import InputError

__all__ = ["GateInputError", "MetricValue", "RunGroup", "RunReport", "Runs", "group_of"]

SAMPLES_FILE = "samples.jsonl"


class GateInputError(InputError):
    """Bad input to a gate; inside a gate test it ends the session as a usage error."""


@dataclass(frozen=True, slots=True)
class MetricValue:
    """One metric of one report; compares by value so ``assert m >= 0.4`` reads naturally."""

    name: str
    value: float
    lo: float | None = None
    hi: float | None = None
    n: int | None = None
    higher_is_better: bool | None = True  # None: a reference figure, no better direction
    runs: int = 1

    def __float__(self) -> float:
        return self.value

    def _other(self, other: object) -> float:
        if isinstance(other, MetricValue):
            return other.value
        if isinstance(other, int | float):
            return float(other)
        raise TypeError(f"cannot compare a metric with {type(other).__name__}")

    def __lt__(self, other: object) -> bool:
        return self.value < self._other(other)

    def __le__(self, other: object) -> bool:
        return self.value <= self._other(other)

    def __gt__(self, other: object) -> bool:
        return self.value > self._other(other)

    def __ge__(self, other: object) -> bool:
        return self.value >= self._other(other)

    def describe(self) -> str:
        ci = (
            f" [{self.lo:.4f}, {self.hi:.4f}]"
            if self.lo is not None and self.hi is not None
            else ""
        )
        n = f" (n={self.n})" if self.n is not None else ""
        runs = f" (mean of {self.runs} runs)" if self.runs > 1 else ""
        return f"{self.name} = {self.value:.4f}{ci}{n}{runs}"


class RunReport:
    """A run directory's report.json (and samples.jsonl when present)."""

    def __init__(self, path: Path) -> None:
        from reasoneval.report_record import read_report
        from reasonkit.manifest import check_manifest

        path = Path(path)
        self.dir = path.parent if path.is_file() else path
        report_path = path if path.is_file() else path / REPORT_FILE
        if not report_path.is_file():
            raise GateInputError(f"no reasoneval report at {report_path}")
        try:
            check_manifest(report_path)  # not half-written, not edited since its run finished
            self.record = read_report(report_path)  # every metric a finite number
        except GateInputError:
            raise
        except InputError as exc:
            raise GateInputError(f"{report_path}: {exc}") from None
        self.metrics = self.record.flat_metrics()
        samples = self.dir / SAMPLES_FILE
        self.samples_path: Path | None = samples if samples.is_file() else None

    def metric_names(self) -> list[str]:
        return list(self.metrics)

    def metric(self, name: str) -> MetricValue:
        from reasoneval.gates import resolve_metric

        try:
            full = resolve_metric(name, self.metrics)
        except InputError as exc:
            raise GateInputError(str(exc)) from None
        layer, metric = full.split(".", 1)
        m = self.record.metric(layer, metric)
        assert m is not None  # resolve_metric found it among this record's metrics
        return MetricValue(
            full, self.metrics[full], _finite_or_none(m.lo), _finite_or_none(m.hi), m.n,
            m.higher_is_better,
        )

    def __repr__(self) -> str:
        return f"RunReport({str(self.dir)!r})"


def _finite_or_none(value: object) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None  # type: ignore[arg-type]


class RunGroup(tuple[RunReport, ...]):
    """Several runs of one recipe (training seeds); a metric of the group is its mean over runs."""

    def metric(self, name: str) -> MetricValue:
        values = [run.metric(name) for run in self]
        first = values[0]
        mean = sum(v.value for v in values) / len(values)
        return MetricValue(first.name, mean, None, None, first.n, first.higher_is_better, len(self))


Runs = RunReport | Sequence[RunReport]


def group_of(runs: Runs) -> RunGroup:
    return RunGroup((runs,) if isinstance(runs, RunReport) else runs)
