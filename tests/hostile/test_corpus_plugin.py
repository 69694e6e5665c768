"""Bad input to the pytest plugin: a usage error (pytest's status 4), never a passed or failed gate.

A gate on NaN passed (every comparison with NaN is false), and an unreadable report was a test
error, status 1: the code a CI job reads as "the model got worse" (issue 29 items 1 and 5).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import scipy.stats
from hostile_helpers import write_lines

import reasoneval.compare
import reasoneval.layers

# What the inner sessions import, imported here first: pytester drops the modules an in-process
# run imported, and a numpy imported again beside the first one breaks every later scipy import.
PRELOADED = (scipy.stats, reasoneval.compare, reasoneval.layers)

pytest_plugins = ["pytester"]

GATE = """
from reasoneval.pytest_plugin import assert_no_regression

def test_gate(reasoneval_report, reasoneval_baseline):
    assert_no_regression(reasoneval_report, reasoneval_baseline, "accuracy", margin_points=2)

def test_floor(reasoneval_report):
    assert reasoneval_report.metric("accuracy") >= 0.4
"""


def _report(value: object) -> str:
    return json.dumps({"layers": {"accuracy": {"metrics": {"accuracy": {"value": value, "n": 10}}}}})


def _run_dir(path: Path, report: str | bytes, samples: list[dict] | None = None) -> Path:
    write_lines(path / "report.json", [report])
    if samples is not None:
        write_lines(path / "samples.jsonl", samples)
    return path


def _gate(pytester: pytest.Pytester, report: Path, baseline: Path, *extra: str,
          tests: str = GATE) -> pytest.RunResult:
    pytester.makepyfile(test_model_gates=tests)
    return pytester.runpytest(f"--reasoneval-report={report}", f"--reasoneval-baseline={baseline}",
                              "-p", "no:cacheprovider", *extra)


def _assert_usage_error(result: pytest.RunResult, part: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-2000:]
    out = result.stdout.str() + result.stderr.str()
    assert part in out and "passed" not in out.splitlines()[-1]
    assert "Traceback" not in out


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", '"0.9"', "null", "[1]"])
def test_a_non_finite_metric_is_a_usage_error_not_a_pass(
    value: str, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    base = _run_dir(tmp_path / "base", _report(0.5))
    cand = _run_dir(tmp_path / "cand", _report(0.5).replace("0.5", value))
    _assert_usage_error(_gate(pytester, cand, base), "accuracy.accuracy")


def test_a_nan_baseline_is_a_usage_error_too(pytester: pytest.Pytester, tmp_path: Path) -> None:
    base = _run_dir(tmp_path / "base", _report(0.5).replace("0.5", "NaN"))
    cand = _run_dir(tmp_path / "cand", _report(0.9))
    _assert_usage_error(_gate(pytester, cand, base, "-k", "test_gate"), "finite")


@pytest.mark.parametrize(
    ("report", "part"),
    [
        (None, "no reasoneval report"),
        ('{"layers": ', "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ("[" * 100_000, "not readable JSON"),
        (b"\xff\xfe", "not readable JSON"),
        ('{"layers": []}', "layers"),
    ],
)
def test_an_unreadable_report_is_a_usage_error(
    report: str | bytes | None, part: str, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    base = _run_dir(tmp_path / "base", _report(0.5))
    cand = tmp_path / "cand"
    if report is not None:
        _run_dir(cand, report)
    _assert_usage_error(_gate(pytester, cand, base), part)


def test_an_interrupted_or_tampered_run_is_no_report(pytester: pytest.Pytester, tmp_path: Path) -> None:
    from reasonkit.manifest import WRITING, finish_output

    base = _run_dir(tmp_path / "base", _report(0.5))
    cand = _run_dir(tmp_path / "cand", _report(0.5))
    (cand / WRITING).write_text("")
    _assert_usage_error(_gate(pytester, cand, base), "interrupted")
    finish_output(cand, ["report.json"], writer="test")  # finished, then edited by hand
    (cand / "report.json").write_text(_report(0.99))
    _assert_usage_error(_gate(pytester, cand, base), "differs from")


def test_bad_gate_arguments_are_usage_errors(pytester: pytest.Pytester, tmp_path: Path) -> None:
    base = _run_dir(tmp_path / "base", _report(0.5))
    cand = _run_dir(tmp_path / "cand", _report(0.1))
    for call in ('reasoneval_report.metric("acuracy")',
                 'assert_no_regression(reasoneval_report, reasoneval_baseline, margin_points=float("nan"))',
                 'assert_no_regression(reasoneval_report, reasoneval_baseline, margin_points=-1)'):
        tests = ("from reasoneval.pytest_plugin import assert_no_regression\n"
                 f"def test_it(reasoneval_report, reasoneval_baseline):\n    {call}\n")
        _assert_usage_error(_gate(pytester, cand, base, tests=tests), "reasoneval")


def test_samples_that_cannot_be_compared_are_a_usage_error(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    base = _run_dir(tmp_path / "base", _report(0.5), [{"id": "0", "correct": True}])
    cand = _run_dir(tmp_path / "cand", _report(0.5), [{"id": "0", "correct": "yes"}])
    _assert_usage_error(_gate(pytester, cand, base, "-k", "test_gate"), "'correct'")


def test_update_baseline_misused_is_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    run = _run_dir(tmp_path / "run", _report(0.5))
    pytester.makepyfile(test_model_gates=GATE)
    result = pytester.runpytest(f"--reasoneval-report={run}", f"--reasoneval-report={run}",
                                f"--reasoneval-baseline={tmp_path / 'b'}",
                                "--reasoneval-update-baseline", "-p", "no:cacheprovider")
    _assert_usage_error(result, "--reasoneval-update-baseline")


def test_a_real_regression_still_fails_with_status_1(pytester: pytest.Pytester, tmp_path: Path) -> None:
    # The control: the conversion to usage errors must not swallow a genuine gate failure.
    base = _run_dir(tmp_path / "base", _report(0.9))
    cand = _run_dir(tmp_path / "cand", _report(0.1))
    result = _gate(pytester, cand, base)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=2)


def test_an_unrelated_test_raising_input_error_is_an_ordinary_failure(
    pytester: pytest.Pytester,
) -> None:
    # The plugin loads in every session: only the gates' own bad input stops a session.
    pytester.makepyfile(test_other="""
        from reasonkit.errors import InputError
        def test_it():
            raise InputError("some library's own error")
        def test_next():
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=1)
