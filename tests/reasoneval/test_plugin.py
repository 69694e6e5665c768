"""The pytest plugin, run inside pytest (pytester) against real `reasoneval run` outputs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from reasoneval import backends
from reasoneval.backends.base import SamplingConfig
from reasoneval.cli import main
from reasoneval.records import Completion

pytest_plugins = ["pytester"]

N_ITEMS = 20
QUESTIONS = [f"Ann has {i} pens and gets {i + 2} more. How many pens?" for i in range(N_ITEMS)]

GATE_TESTS = """
from reasoneval.pytest_plugin import assert_no_regression

def test_accuracy_gate(reasoneval_report, reasoneval_baseline):
    assert_no_regression(reasoneval_report, reasoneval_baseline, "accuracy", margin_points=2)

def test_missing_answers_gate(reasoneval_report, reasoneval_baseline):
    assert_no_regression(reasoneval_report, reasoneval_baseline, "missing_answer_rate",
                         margin_points=5)
"""


class _Scripted:
    name = "hf"

    def __init__(self, lost: set[int], silent: set[int]) -> None:
        self.lost, self.silent = lost, silent

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        out = []
        for prompt in prompts:
            i = next(i for i, q in enumerate(QUESTIONS) if q in prompt)
            text = (
                "I am not sure."
                if i in self.silent
                else (f"</think>\n#### {2 * i + 2 + (1 if i in self.lost else 0)}")
            )
            out.append([Completion(text, "stop", 40, 8)] * sampling.n)
        return out

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def runs(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real run directories: a baseline, an identical rerun, and one that lost 8 of 20 items."""
    root = tmp_path_factory.mktemp("runs")
    data = root / "problems.jsonl"
    data.write_text(
        "".join(
            json.dumps({"question": q, "answer": f"#### {2 * i + 2}"}) + "\n"
            for i, q in enumerate(QUESTIONS)
        )
    )
    mp = pytest.MonkeyPatch()
    out = {}
    try:
        for name, lost, silent in (
            ("base", set(), set()),
            ("same", set(), set()),
            ("worse", set(range(8)), set()),
            ("silent", set(), set(range(4))),
        ):
            mp.setattr(
                backends, "load_backend", lambda *a, _l=lost, _s=silent, **k: _Scripted(_l, _s)
            )
            out[name] = root / name
            assert (
                main(
                    [
                        "run",
                        str(tiny_model_dir),
                        "--dataset",
                        str(data),
                        "--backend",
                        "hf",
                        "--out",
                        str(out[name]),
                    ]
                )
                == 0
            )
    finally:
        mp.undo()
    return out


def test_gates_pass_when_the_candidate_matches_the_baseline(
    pytester: pytest.Pytester, runs: dict[str, Path]
) -> None:
    pytester.makepyfile(test_model_gates=GATE_TESTS)
    result = pytester.runpytest(
        f"--reasoneval-report={runs['same']}", f"--reasoneval-baseline={runs['base']}"
    )
    result.assert_outcomes(passed=2)


def test_accuracy_gate_fails_on_a_real_regression_with_a_readable_message(
    pytester: pytest.Pytester, runs: dict[str, Path]
) -> None:
    pytester.makepyfile(test_model_gates=GATE_TESTS)
    result = pytester.runpytest(
        f"--reasoneval-report={runs['worse']}", f"--reasoneval-baseline={runs['base']}"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*regression in accuracy.accuracy*",
            "*candidate accuracy.accuracy = 0.6000*(n=20)*",
            "*baseline  accuracy.accuracy = 1.0000*",
            "*delta -40.00*",
        ]
    )


def test_a_lower_is_better_metric_gate_fails_when_it_rises(
    pytester: pytest.Pytester, runs: dict[str, Path]
) -> None:
    pytester.makepyfile(test_model_gates=GATE_TESTS)
    result = pytester.runpytest(
        f"--reasoneval-report={runs['silent']}",
        f"--reasoneval-baseline={runs['base']}",
        "-k",
        "missing",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*missing_answer_rate: rose by 20.00 points (margin 5)*"])


def test_metric_comparisons_get_a_readable_diff(
    pytester: pytest.Pytester, runs: dict[str, Path]
) -> None:
    pytester.makepyfile(
        test_threshold="""
        def test_floor(reasoneval_report):
            assert reasoneval_report.metric("accuracy") >= 0.9
        def test_ceiling(reasoneval_report):
            assert reasoneval_report.metric("missing_answer_rate") <= 0.01
    """
    )
    result = pytester.runpytest(f"--reasoneval-report={runs['worse']}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*accuracy.accuracy: 0.6000 >= 0.9000 does not hold*",
            "*left: accuracy.accuracy = 0.6000 [[]0.38*, 0.78*[]] (n=20)*",
            "*difference: -30.00 points (higher is better)*",
        ]
    )


def _update_baseline(pytester: pytest.Pytester, report: Path, target: Path) -> None:
    pytester.makepyfile(test_model_gates=GATE_TESTS)
    result = pytester.runpytest(f"--reasoneval-report={report}",
                                f"--reasoneval-baseline={target}", "--reasoneval-update-baseline")
    result.assert_outcomes(passed=2)


def test_update_baseline_writes_the_report_and_the_samples(
    pytester: pytest.Pytester, runs: dict[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "baseline"
    _update_baseline(pytester, runs["worse"], target)
    for name in ("report.json", "samples.jsonl"):
        assert (target / name).read_bytes() == (runs["worse"] / name).read_bytes()
    # the updated baseline now gates: the good run passes against it, and vice versa fails
    again = pytester.runpytest(
        f"--reasoneval-report={runs['base']}", f"--reasoneval-baseline={target}", "-k", "accuracy"
    )
    again.assert_outcomes(passed=1)


def test_update_baseline_leaves_the_directory_consistent(
    pytester: pytest.Pytester, runs: dict[str, Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Over an existing run directory, every result file and the manifest are replaced (issue 26):
    the old manifest (sha256 of the old files) and the old model's report.html stayed before."""
    from reasonkit.manifest import check_run_files, listed_files

    target = tmp_path / "baseline"
    shutil.copytree(runs["base"], target)
    _update_baseline(pytester, runs["worse"], target)
    assert listed_files(target) == ["report.html", "report.json", "samples.jsonl"]
    for name in ("report.json", "samples.jsonl", "report.html"):
        assert (target / name).read_bytes() == (runs["worse"] / name).read_bytes(), name
    check_run_files(target)  # raises if the manifest and the files disagree
    capsys.readouterr()
    assert main(["compare", str(target), str(runs["worse"])]) == 0
    assert "delta +0.00 points" in capsys.readouterr().out


def test_compare_refuses_a_directory_whose_files_come_from_two_runs(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mixed = tmp_path / "mixed"
    shutil.copytree(runs["base"], mixed)
    for name in ("report.json", "samples.jsonl"):  # what the update used to replace
        shutil.copyfile(runs["worse"] / name, mixed / name)
    for target in (mixed, mixed / "samples.jsonl"):
        assert main(["compare", str(target), str(runs["same"])]) == 2
        err = capsys.readouterr().err
        assert "inconsistent with its manifest.json (changed report.json, samples.jsonl)" in err
    (mixed / "report.html").unlink()
    assert main(["run", "x", "--out", str(tmp_path / "o"), "--baseline", str(mixed)]) == 2
    assert "missing report.html; changed report.json, samples.jsonl" in capsys.readouterr().err


def test_without_a_report_the_gates_skip_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_model_gates=GATE_TESTS)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*no report to gate: pass --reasoneval-report=RUN_DIR*"])


def test_a_path_option_written_with_a_space_is_a_usage_error(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(test_model_gates=GATE_TESTS)
    run_dir = tmp_path / "elsewhere" / "run"
    result = pytester.runpytest("--reasoneval-report", str(run_dir))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*write --reasoneval-report=RUN_DIR, with '='*"])
    # the documented form keeps the rootdir where the tests are
    result = pytester.runpytest(f"--reasoneval-report={run_dir}", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["test_model_gates.py::test_accuracy_gate"])


def test_gates_take_groups_of_runs(pytester: pytest.Pytester, runs: dict[str, Path]) -> None:
    """Repeated options make groups: identical seeds pass, a group that lost 8 items fails."""
    pytester.makepyfile(test_model_gates=GATE_TESTS)
    base = [f"--reasoneval-baseline={runs['base']}", f"--reasoneval-baseline={runs['same']}"]
    same = [f"--reasoneval-report={runs['same']}", f"--reasoneval-report={runs['base']}"]
    pytester.runpytest(*same, *base).assert_outcomes(passed=2)
    worse = [f"--reasoneval-report={runs['worse']}", f"--reasoneval-report={runs['base']}"]
    result = pytester.runpytest(*worse, *base, "-k", "accuracy")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*regression in accuracy.accuracy*",
            "*candidate accuracy.accuracy = 0.8000*(mean of 2 runs)*",
            "*runs: baseline 2, candidate 2; items 20*",
            "*delta -20.00 points*",
            "*verdict: FAIL: regression beyond the margin*",
        ]
    )


def test_a_group_metric_is_the_mean_of_its_runs(
    pytester: pytest.Pytester, runs: dict[str, Path]
) -> None:
    pytester.makepyfile(
        test_group="""
        from reasoneval.pytest_plugin import RunGroup, assert_no_regression

        def test_floor(reasoneval_report):
            assert isinstance(reasoneval_report, RunGroup) and len(reasoneval_report) == 2
            assert reasoneval_report.metric("accuracy") >= 0.9

        def test_superiority_needs_a_gain(reasoneval_report):
            assert_no_regression(reasoneval_report, reasoneval_report[1], test="superiority")
        """
    )
    result = pytester.runpytest(
        f"--reasoneval-report={runs['worse']}", f"--reasoneval-report={runs['base']}"
    )
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*accuracy.accuracy: 0.8000 >= 0.9000 does not hold*",
            "*no gain shown in accuracy.accuracy*",
            "*verdict: FAIL: not shown superior*",
        ]
    )
