"""pytest plugin: write evaluation gates as ordinary tests against a `reasoneval run` report.

Options: ``--reasoneval-report=RUN_DIR``, ``--reasoneval-baseline=RUN_DIR`` (with ``=``: see
:func:`pytest_configure`; repeat either for a group of runs, one per training seed), ``--reasoneval-update-baseline`` (copy the report over the
baseline, as syrupy's ``--snapshot-update``). Fixtures: ``reasoneval_report``,
``reasoneval_baseline`` (a :class:`RunReport`, or a :class:`RunGroup` when repeated). Helper:
:func:`assert_no_regression`.
Importing this module must stay cheap and torch-free: pytest loads it in every session.

Bad input (a report that cannot be read, a metric that is no finite number, a misused option or
helper argument) stops the session as a usage error, pytest's status 4, never as a failed gate
(status 1, what CI reads as a regression) nor a pass: a gate on NaN used to pass (issue 29).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any, Literal

import pytest

from reasoneval.report_record import REPORT_FILE
from reasoneval.run_reports import (
    SAMPLES_FILE,
    GateInputError,
    MetricValue,
    RunGroup,
    RunReport,
    Runs,
    group_of,
)
from reasonkit.errors import InputError

__all__ = ["GateInputError", "MetricValue", "RunGroup", "RunReport", "assert_no_regression"]

RUN_FILES = (SAMPLES_FILE, REPORT_FILE, "report.html")  # a run's results, as reasoneval.run writes
PATH_OPTIONS = ("--reasoneval-report", "--reasoneval-baseline")
FIXTURES = ("reasoneval_report", "reasoneval_baseline")


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

    Runs made with different prompt styles are refused (GateInputError: a usage error) unless
    ``allow_style_mismatch``, as `reasoneval compare` refuses them.

    Either side may be one run or a group of runs (one per training seed). For ``accuracy`` with
    every samples file present this is `reasoneval compare` on the groups (a drop inside item and
    seed noise passes, a real one fails; ``test="superiority"`` instead demands a gain); any other
    metric compares the groups' mean point values, one point being 0.01 of a rate.
    """
    for name, value, low in (("margin_points", margin_points, 0.0),
                             ("min_effect_points", min_effect_points, -math.inf)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= low):
            raise GateInputError(f"assert_no_regression: {name} must be a finite number"
                                 f"{'' if low == -math.inf else f' >= {low:g}'}, got {value!r}")
    cands, bases = group_of(report), group_of(baseline)
    from reasoneval.prompt_styles import check_same_style

    try:
        check_same_style([r.dir for r in (*bases, *cands)], allowed=allow_style_mismatch,
                         flag="allow_style_mismatch=True")  # fmt: skip
    except InputError as exc:
        raise GateInputError(str(exc)) from None  # bad input, not a regression
    cand, base = cands.metric(metric), bases.metric(metric)
    samples = [r.samples_path for r in (*cands, *bases)]
    if cand.name == "accuracy.accuracy" and all(samples):
        from reasoneval.compare import compare_groups, load_run_results

        try:
            g = compare_groups(
                [load_run_results(r.dir) for r in bases],
                [load_run_results(r.dir) for r in cands],
                test=test,
                margin_points=margin_points,
                min_effect_points=min_effect_points,
                seed=seed,
            )
        except InputError as exc:
            raise GateInputError(str(exc)) from None
        if not g.passed:
            what = "regression in" if test == "non-inferiority" else "no gain shown in"
            detail = "\n  ".join(g.text().splitlines())
            raise AssertionError(
                f"{what} {cand.name}:\n  candidate {cand.describe()}\n"
                f"  baseline  {base.describe()}\n  {detail}"
            )
        return
    if test != "non-inferiority":
        raise GateInputError(f"test={test!r} needs accuracy with samples files; got {cand.name}")
    if cand.higher_is_better is None:
        raise GateInputError(f"{cand.name} has no better direction; assert a bound on it instead")
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


def _stop_on_bad_input(item: pytest.Item, exc: BaseException) -> None:
    """Bad input to a gate ends the session as a usage error; anything else is left alone."""
    ours = isinstance(exc, GateInputError) or (
        isinstance(exc, pytest.UsageError) and any(f in FIXTURES for f in item.fixturenames)  # type: ignore[attr-defined]
    )
    if ours:
        pytest.exit(f"reasoneval: error: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    try:
        return (yield)
    except BaseException as exc:
        _stop_on_bad_input(item, exc)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    try:
        return (yield)
    except BaseException as exc:
        _stop_on_bad_input(item, exc)
        raise


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
    from reasonkit.artifacts import temporary_prefix
    from reasonkit.manifest import MANIFEST, check_run_files, listed_files, replace_run_files

    if target.suffix == ".json" and not (target.parent / MANIFEST).is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{temporary_prefix(target.name)}copy.tmp")
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
