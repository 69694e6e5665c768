"""The report record (reasoneval.report_record): one writer, one reader, a versioned schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reasoneval.cli import main
from reasoneval.layers.failures import failure_mix
from reasoneval.report_record import SCHEMA_VERSION, read_report, report_from_json
from reasoneval.run_reports import GateInputError, RunReport
from reasonkit.errors import InputError

FIGURES = {"layers": {"accuracy": {"metrics": {"accuracy": {"value": 0.75, "n": 4}}}}}


@pytest.fixture(scope="module")
def real_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "eval"
    assert main(["run", str(tiny_model_dir), "--dataset", "synthetic", "--limit", "3",
                 "--max-new-tokens", "8", "--backend", "hf", "--layers", "accuracy,traces",
                 "--out", str(out), "--gate", "accuracy>=0"]) == 0  # fmt: skip
    return out


def test_a_real_report_reads_and_writes_back_to_the_same_bytes(real_run: Path) -> None:
    written = (real_run / "report.json").read_text(encoding="utf-8")
    record = read_report(real_run)
    assert json.dumps(record.to_json(), indent=2, ensure_ascii=False) == written
    assert record.schema_version == SCHEMA_VERSION
    assert [layer.name for layer in record.layers] == ["accuracy", "traces"]
    assert record.dataset is not None and record.dataset.n_problems == 3
    assert record.prompt_style is not None and record.prompt_style.name == "think"
    assert record.generation is not None and record.generation.unique_prompts == 3
    assert [g.passed for g in record.gates] == [True]
    accuracy = record.metric("accuracy", "accuracy")
    assert accuracy is not None and accuracy.n == 3
    assert record.flat_metrics()["accuracy.accuracy"] == json.loads(written)["layers"]["accuracy"]["metrics"]["accuracy"]["value"]


def test_a_newer_schema_version_is_refused_with_its_number(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text(json.dumps({**FIGURES, "schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(InputError, match=f"report schema version {SCHEMA_VERSION + 1} is newer"):
        read_report(tmp_path)
    with pytest.raises(GateInputError, match="is newer"):  # the pytest plugin's reader
        RunReport(tmp_path)
    with pytest.raises(InputError, match="is newer"):  # and every other reader
        failure_mix(tmp_path)
    for bad in ("1", 0, True):
        with pytest.raises(InputError, match="is not a report version"):
            report_from_json({**FIGURES, "schema_version": bad})


def test_run_refuses_a_baseline_of_a_newer_schema_with_exit_2(
    tiny_model_dir: Path, real_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "base"
    baseline.mkdir()
    (baseline / "samples.jsonl").write_bytes((real_run / "samples.jsonl").read_bytes())
    report = json.loads((real_run / "report.json").read_text())
    (baseline / "report.json").write_text(json.dumps({**report, "schema_version": 7}))
    code = main(["run", str(tiny_model_dir), "--out", str(tmp_path / "o"), "--baseline", str(baseline)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "report schema version 7 is newer than this reasoneval reads (up to 1)" in err[0]


def test_a_report_without_a_version_is_read_as_version_1() -> None:
    record = report_from_json(FIGURES)  # a CI baseline's subset, a hand-written gate input
    assert record.schema_version == 1 and record.dataset is None and record.gates == ()
    assert record.flat_metrics() == {"accuracy.accuracy": 0.75}


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"layers": []}, "'layers' must map each layer to its 'metrics' object"),
        ({"layers": {"a": {"metrics": {"m": {"value": float("nan")}}}}}, "metric a.m is nan, not a finite"),
        ({"layers": {"a": {"metrics": {"m": {"value": True}}}}}, "metric a.m is True"),
        ({**FIGURES, "dataset": [1]}, "'dataset' must be an object, got list"),
        ({**FIGURES, "gates": [{"description": "x"}]}, "'gates' has no 'passed'"),
        ({**FIGURES, "gates": [{"description": "x", "passed": "yes"}]}, "'passed' must be true or false"),
        ({**FIGURES, "prompt_style": {"reason": "r"}}, "'prompt_style' has no 'name'"),
        ({**FIGURES, "dataset": {"n_problems": 2.5}}, "'n_problems' must be an integer"),
    ],
)
def test_a_malformed_report_is_an_input_error(report: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        report_from_json(report)
