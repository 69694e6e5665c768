"""pytest plugin: write evaluation gates as ordinary tests against a `reasoneval run` report.

Options: ``--reasoneval-report=RUN_DIR``, ``--reasoneval-baseline=RUN_DIR`` (with ``=``: see
:func:`pytest_configure`; repeat either for a group of runs, one per training seed), ``--reasoneval-update-baseline`` (copy the report over the
baseline, as syrupy's ``--snapshot-update``). Fixtures: ``reasoneval_report``,
``reasoneval_baseline`` (a :class:`RunReport`, or a :class:`RunGroup` when repeated). Helper:
:func:`assert_no_regression`.
Importing this module must stay cheap and torch-free: pytest loads it in every session.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

REPORT_FILE = "report.json"
SAMPLES_FILE = "samples.jsonl"
RUN_FILES = (SAMPLES_FILE, REPORT_FILE, "report.html")  # a run's results, as reasoneval.run writes
PATH_OPTIONS = ("--reasoneval-report", "--reasoneval-baseline")


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
        path = Path(path)
        self.dir = path.parent if path.is_file() else path
        report_path = path if path.is_file() else path / REPORT_FILE
        if not report_path.is_file():
            raise FileNotFoundError(f"no reasoneval report at {report_path}")
        self.data: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
        samples = self.dir / SAMPLES_FILE
        self.samples_path: Path | None = samples if samples.is_file() else None

    def metric_names(self) -> list[str]:
        return [
            f"{layer}.{name}"
            for layer, body in self.data.get("layers", {}).items()
            for name in body.get("metrics", {})
        ]

    def metric(self, name: str) -> MetricValue:
        from reasoneval.gates import flat_metrics, resolve_metric

        full = resolve_metric(name, flat_metrics(self.data))
        layer, metric = full.split(".", 1)
        m = self.data["layers"][layer]["metrics"][metric]
        return MetricValue(
            full,
            float(m["value"]),
            m.get("lo"),
            m.get("hi"),
            m.get("n"),
            m.get("higher_is_better", True),
        )

    def __repr__(self) -> str:
        return f"RunReport({str(self.dir)!r})"


class RunGroup(tuple[RunReport, ...]):
    """Several runs of one recipe (training seeds); a metric of the group is its mean over runs."""

    def metric(self, name: str) -> MetricValue:
        values = [run.metric(name) for run in self]
        first = values[0]
        mean = sum(v.value for v in values) / len(values)
        return MetricValue(first.name, mean, None, None, first.n, first.higher_is_better, len(self))


Runs = RunReport | Sequence[RunReport]


def _group(runs: Runs) -> RunGroup:
    return RunGroup((runs,) if isinstance(runs, RunReport) else runs)


def assert_no_regression(
    report: Runs,
    baseline: Runs,
    metric: str = "accuracy",
    margin_points: float = 2.0,
    *,
    seed: int = 0,
    test: Literal["non-inferiority", "superiority"] = "non-inferiority",
    min_effect_points: float = 0.0,
    allow_style_mismatch: bool = False,
) -> None:
    """Fail when ``metric`` got worse than the baseline by more than ``margin_points`` points.

    Runs made with different prompt styles are refused (InputError, one line) unless
    ``allow_style_mismatch``, as `reasoneval compare` refuses them.

    Either side may be one run or a group of runs (one per training seed). For ``accuracy`` with
    every samples file present this is `reasoneval compare` on the groups (a drop inside item and
    seed noise passes, a real one fails; ``test="superiority"`` instead demands a gain); any other
    metric compares the groups' mean point values, one point being 0.01 of a rate.
    """
    cands, bases = _group(report), _group(baseline)
    from reasoneval.prompt_styles import check_same_style

    check_same_style([r.dir for r in (*bases, *cands)], allowed=allow_style_mismatch,
                     flag="allow_style_mismatch=True")  # fmt: skip
    cand, base = cands.metric(metric), bases.metric(metric)
    samples = [r.samples_path for r in (*cands, *bases)]
    if cand.name == "accuracy.accuracy" and all(samples):
        from reasoneval.compare import compare_groups, load_run_results

        g = compare_groups(
            [load_run_results(r.dir) for r in bases],
            [load_run_results(r.dir) for r in cands],
            test=test,
            margin_points=margin_points,
            min_effect_points=min_effect_points,
            seed=seed,
        )
        if not g.passed:
            what = "regression in" if test == "non-inferiority" else "no gain shown in"
            detail = "\n  ".join(g.text().splitlines())
            raise AssertionError(
                f"{what} {cand.name}:\n  candidate {cand.describe()}\n"
                f"  baseline  {base.describe()}\n  {detail}"
            )
        return
    if test != "non-inferiority":
        raise ValueError(f"test={test!r} needs accuracy with samples files; got {cand.name}")
    if cand.higher_is_better is None:
        raise TypeError(f"{cand.name} has no better direction; assert a bound on it instead")
    drop = (base.value - cand.value) if cand.higher_is_better else (cand.value - base.value)
    if drop * 100 > margin_points:
        direction = "fell" if cand.higher_is_better else "rose"
        raise AssertionError(
            f"regression in {cand.name}: {direction} by {abs(drop) * 100:.2f} points "
            f"(margin {margin_points:g})\n  candidate {cand.describe()}\n  baseline  {base.describe()}"
        )


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("reasoneval", "reasoneval evaluation gates")
    group.addoption(
        "--reasoneval-report",
        action="append",
        metavar="RUN_DIR",
        help="the `reasoneval run` output directory (or its report.json) to gate; repeat for a "
        "group of runs (training seeds)",
    )
    group.addoption(
        "--reasoneval-baseline",
        action="append",
        metavar="RUN_DIR",
        help="the baseline run directory (or report.json) to compare against; repeat for a group",
    )
    group.addoption(
        "--reasoneval-update-baseline",
        action="store_true",
        default=False,
        help="overwrite the baseline with the current report instead of comparing",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Refuse ``--reasoneval-report RUN_DIR`` written with a space.

    pytest picks its rootdir and config file from the command line before it loads plugins, so a
    separate RUN_DIR is read as a test path then: the rootdir became a common ancestor of the
    tests and the run (nodeids like ``../main/test_model_gates.py``), and the project's own
    pytest settings could be missed (issue 16). With ``=`` the value stays with its option.
    """
    spaced = [a for a in config.invocation_params.args if a in PATH_OPTIONS]
    if spaced:
        raise pytest.UsageError(
            f"write {spaced[0]}=RUN_DIR, with '=': pytest chooses its rootdir before plugins "
            f"load, so a separate RUN_DIR is taken for a test path (rootdir: {config.rootpath})"
        )


def _load(paths: list[str]) -> RunReport | RunGroup:
    runs = [RunReport(Path(p)) for p in paths]
    return runs[0] if len(runs) == 1 else RunGroup(runs)


@pytest.fixture
def reasoneval_report(request: pytest.FixtureRequest) -> RunReport | RunGroup:
    paths = request.config.getoption("--reasoneval-report")
    if not paths:
        pytest.skip("no report to gate: pass --reasoneval-report=RUN_DIR")
    return _load(paths)


def _write_baseline(report: RunReport, target: Path) -> None:
    """Make the baseline the report's run, as one consistent set of files (issue 26).

    A directory target (or a .json inside a directory with a manifest) gets every result file of
    the run (samples.jsonl, report.json, report.html: the ones its manifest lists) and a new
    manifest; replacing only report.json and samples.jsonl left the old manifest and the old
    model's report.html beside them. A lone .json target gets the report.json alone.
    """
    from reasoneval.errors import InputError
    from reasoneval.manifest import MANIFEST, check_run_files, listed_files, replace_run_files

    if target.suffix == ".json" and not (target.parent / MANIFEST).is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(report.dir / REPORT_FILE, tmp)
        tmp.replace(target)
        return
    target_dir = target.parent if target.suffix == ".json" else target
    try:
        check_run_files(report.dir)  # never spread a half-written or mixed run
    except InputError as exc:
        raise pytest.UsageError(f"--reasoneval-update-baseline: {exc}") from None
    names = listed_files(report.dir) or [
        name for name in RUN_FILES if (report.dir / name).is_file()
    ]
    replace_run_files(report.dir, target_dir, names, writer="reasoneval-update-baseline")


@pytest.fixture
def reasoneval_baseline(
    request: pytest.FixtureRequest, reasoneval_report: RunReport | RunGroup
) -> RunReport | RunGroup:
    paths = request.config.getoption("--reasoneval-baseline")
    if not paths:
        pytest.skip("no baseline: pass --reasoneval-baseline=RUN_DIR")
    if request.config.getoption("--reasoneval-update-baseline"):
        if not isinstance(reasoneval_report, RunReport) or len(paths) != 1:
            raise pytest.UsageError(
                "--reasoneval-update-baseline takes one report and one baseline"
            )
        _write_baseline(reasoneval_report, Path(paths[0]))
    return _load(paths)


def pytest_assertrepr_compare(
    config: pytest.Config, op: str, left: object, right: object
) -> list[str] | None:
    if not isinstance(left, MetricValue) and not isinstance(right, MetricValue):
        return None
    metric = left if isinstance(left, MetricValue) else right
    assert isinstance(metric, MetricValue)
    lv, rv = float(left), float(right)  # type: ignore[arg-type]
    lines = [f"{metric.name}: {lv:.4f} {op} {rv:.4f} does not hold"]
    for side, value in (("left", left), ("right", right)):
        if isinstance(value, MetricValue):
            lines.append(f"  {side}: {value.describe()}")
    lines.append(
        f"  difference: {(lv - rv) * 100:+.2f} points "
        f"({_direction(metric.higher_is_better)})"
    )
    return lines


def _direction(higher_is_better: bool | None) -> str:
    if higher_is_better is None:
        return "no better direction"
    return "higher is better" if higher_is_better else "lower is better"
