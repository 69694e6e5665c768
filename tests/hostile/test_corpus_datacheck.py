"""Bad input to `datacheck`: a hostile row is rejected with its reason, never the run lost."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hostile_helpers import GOOD_ROW, invoke, write_lines

from datacheck.cli import main


def _clean(path: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    result = invoke(main, ["clean", str(path), "--out", str(out), *extra], capsys)
    assert result.code == 0, result.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    kept = (out / "kept" / "train.jsonl").read_bytes().count(b"\n")
    rejected = (out / "rejected.jsonl").read_bytes().count(b"\n")
    lines = path.read_bytes().count(b"\n")
    assert report["rows"] == kept + rejected == lines  # row conservation
    return report


def _rejection(out: Path, index: int) -> dict:
    for line in (out / "rejected.jsonl").read_text(encoding="utf-8").split("\n"):
        if line and json.loads(line)["id"].endswith(f"/{index}"):
            return dict(json.loads(line))
    raise AssertionError(f"row {index} not rejected")


HOSTILE_ROWS = {
    # (row at index 1, the check that rejects it, a part of its reason)
    "inf-literal": (GOOD_ROW | {"answer": "Ava has <<1e999=7>>7 apples.\n#### 7"},
                    "calculator", "cannot evaluate safely"),
    "nested-powers": (
        GOOD_ROW | {"answer": "Ava has <<((((1/7)**64)**64)**64)**64=7>>7 apples.\n#### 7"},
        "calculator", "cannot evaluate safely",
    ),
    "lone-surrogate": ('{"question": "a \\ud800 b?", "answer": "#### 1"}', "input", "surrogate"),
    "deep-nesting": ("[" * 100_000, "input", "nested deeper"),
    "huge-integer": ('{"question": ' + "9" * 5000 + "}", "input", "not valid JSON"),
    "bad-utf8": (b'{"question": "\xff"}', "input", "not valid UTF-8"),
    "not-an-object": ("[1, 2]", "input", "expected a JSON object"),
    "number-field": ({"question": 5, "answer": "#### 5"}, "input", "expected a string"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_ROWS))
def test_a_hostile_row_is_rejected_and_the_run_finishes(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row, check, reason = HOSTILE_ROWS[case]
    path = write_lines(tmp_path / "in.jsonl", [GOOD_ROW, row, GOOD_ROW | {"question": "Other?"}])
    started = time.perf_counter()
    report = _clean(path, tmp_path / "out", capsys)
    assert time.perf_counter() - started < 30  # nested powers took 20 s per row, more hung
    rejection = _rejection(tmp_path / "out", 1)
    assert rejection["check"] == check and reason in rejection["reason"]
    assert report["rejected"] >= 1


def test_unicode_line_separators_survive_the_round_trip_to_reasoneval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reasoneval.cli import main as reasoneval_main

    question = "Ava has 3\u2028apples\u2029and\u0085buys 4 more. How many apples does she have?"
    path = write_lines(tmp_path / "in.jsonl", [GOOD_ROW | {"question": question}])
    _clean(path, tmp_path / "out", capsys)
    kept = tmp_path / "out" / "kept" / "train.jsonl"
    assert kept.read_bytes().count(b"\n") == 1
    for raw in ("\u2028", "\u2029", "\u0085"):  # written escaped: any line splitter is safe
        assert raw.encode() not in kept.read_bytes()
    scored = tmp_path / "scored.jsonl"
    result = invoke(reasoneval_main, ["score", str(kept), "--response-field", "reasoning",
                                      "--gold-field", "final_answer", "--out", str(scored)], capsys)
    assert result.code == 0, result.stderr
    assert json.loads(scored.read_text(encoding="utf-8"))["question"] == question


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--outlier-percentile", "150"),
        ("--outlier-percentile", "0"),
        ("--outlier-percentile", "nan"),
        ("--context-length", "-5"),
        ("--contamination-ngram", "0"),
        ("--num-perm", "0"),
        ("--threshold", "1.5"),
        ("--max-ifd", "nan"),
        ("--max-reject-rate", "-1"),
    ],
)
def test_bad_options_exit_2_before_any_work(
    flag: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "in.jsonl", [GOOD_ROW])
    result = invoke(main, ["clean", str(path), "--out", str(tmp_path / "o"), flag, value], capsys)
    assert result.code == 2 and flag in result.line
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("setup", "part"),
    [
        (lambda d: d / "missing.jsonl", "no file"),
        (lambda d: write_lines(d / "empty.jsonl", []), "empty"),
        (lambda d: write_lines(d / "blank.jsonl", ["", "  "]), "empty"),
    ],
)
def test_unusable_sources_exit_2(setup, part: str, tmp_path: Path,  # type: ignore[no-untyped-def]
                                 capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(main, ["clean", str(setup(tmp_path)), "--out", str(tmp_path / "o")], capsys)
    assert result.code == 2 and part in result.line


def test_out_that_is_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_lines(tmp_path / "in.jsonl", [GOOD_ROW])
    (tmp_path / "o").write_text("a file")
    result = invoke(main, ["clean", str(path), "--out", str(tmp_path / "o")], capsys)
    assert result.code == 2 and "datacheck: error:" in result.line


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["frobnicate"], ["clean"], ["dedup", "x.jsonl"]):
        result = invoke(main, argv, capsys)
        assert result.code == 2 and result.line.startswith("datacheck")


def test_gate_failure_is_the_only_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_lines(tmp_path / "in.jsonl", [GOOD_ROW, "not json"])
    result = invoke(main, ["clean", str(path), "--out", str(tmp_path / "o"),
                           "--max-reject-rate", "0.1"], capsys)
    assert result.code == 1
    assert result.stderr.splitlines()[-1].startswith("datacheck: gate failed: reject rate")


def test_a_crash_exits_3_naming_the_exception_and_its_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import datacheck.clean

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(datacheck.clean, "clean", broken)
    path = write_lines(tmp_path / "in.jsonl", [GOOD_ROW])
    result = invoke(main, ["clean", str(path), "--out", str(tmp_path / "o")], capsys)
    assert result.code == 3
    assert "internal error: RuntimeError: simulated bug" in result.line
    logs = list((tmp_path / "crash").glob("datacheck-crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in result.line
    assert "Traceback" in logs[0].read_text() and "simulated bug" in logs[0].read_text()


def test_a_killed_rerun_leaves_an_output_no_reader_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reasoneval.cli import main as reasoneval_main

    out = tmp_path / "o"
    rows = [GOOD_ROW | {"question": f"Ava has {i} apples. How many apples?"} for i in range(6)]
    _clean(write_lines(tmp_path / "in.jsonl", rows), out, capsys)
    assert (out / "manifest.json").is_file()
    # The rerun is killed after writing a new, shorter kept file, before the rest.
    import datacheck.outputs

    real_write = datacheck.outputs.atomic_write
    calls = []

    def killed_after_first(path: Path, text: str) -> None:
        calls.append(path)
        if len(calls) > 1:
            raise KeyboardInterrupt
        real_write(path, text)

    monkeypatch.setattr(datacheck.outputs, "atomic_write", killed_after_first)
    shorter = write_lines(tmp_path / "in.jsonl", rows[:2])
    assert invoke(main, ["clean", str(shorter), "--out", str(out)], capsys).code == 130
    monkeypatch.undo()
    # The old report.json is still there beside the new kept file: no reader may take it.
    kept = out / "kept" / "train.jsonl"
    result = invoke(reasoneval_main, ["run", str(tmp_path), "--dataset", str(kept),
                                      "--answer-field", "final_answer",
                                      "--out", str(tmp_path / "run")], capsys)
    assert result.code == 2 and "interrupted" in result.line
    from train.data import TrainDataError, read_kept_rows

    with pytest.raises(TrainDataError, match="interrupted"):
        read_kept_rows(kept)
    # Without the marker (removed by hand), the missing manifest still gives it away.
    (out / ".writing").unlink()
    with pytest.raises(TrainDataError, match=r"no manifest\.json"):
        read_kept_rows(kept)


def test_stale_temporaries_are_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    stale = out / "kept" / ".train.jsonl.abc123.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_text("half a file")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    _clean(write_lines(tmp_path / "in.jsonl", [GOOD_ROW]), out, capsys)
    assert not stale.exists()


@pytest.mark.parametrize(
    "line", ["[" * 100_000, '{"t": ' + "1" * 5000 + "}", b"\xfe\xff", '{"t": "\\udfff"}']
)
def test_dedup_rejects_hostile_lines(
    line: str | bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "in.jsonl", [{"t": "a b c d e f"}, line])
    result = invoke(main, ["dedup", str(path), "--field", "t", "--out", str(tmp_path / "o")],
                    capsys)
    assert result.code == 0, result.stderr
    rejected = (tmp_path / "o" / "rejected.jsonl").read_text(encoding="utf-8").splitlines()
    kept = (tmp_path / "o" / "kept.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rejected) + len(kept) == 2  # row conservation, the surrogate row written escaped


@pytest.mark.parametrize(
    ("flag", "setup", "part"),
    [
        ("--tokenizer", lambda d: d / "missing", "not a local directory"),
        ("--model", lambda d: d / "missing", "not a local directory"),
        ("--model", lambda d: _model_dir(d, "pytorch_model.bin"), "pickled model weights"),
        ("--model", lambda d: _model_dir(d, "model.safetensors", auto_map=True), "own Python code"),
    ],
)
def test_a_model_that_cannot_or_must_not_load_exits_2(  # type: ignore[no-untyped-def]
    flag: str, setup, part: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "in.jsonl", [GOOD_ROW])
    result = invoke(main, ["clean", str(path), "--out", str(tmp_path / "o"), flag,
                           str(setup(tmp_path))], capsys)
    assert result.code == 2 and part in result.line


def _model_dir(root: Path, weights: str, *, auto_map: bool = False) -> Path:
    model = root / "model"
    model.mkdir()
    config = {"model_type": "qwen2", **({"auto_map": {"AutoModel": "x.Y"}} if auto_map else {})}
    (model / "config.json").write_text(json.dumps(config))
    (model / weights).write_bytes(b"not weights")
    return model


def test_a_file_changed_after_the_run_differs_from_its_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from train.data import TrainDataError, read_kept_rows

    out = tmp_path / "o"
    _clean(write_lines(tmp_path / "in.jsonl", [GOOD_ROW]), out, capsys)
    kept = out / "kept" / "train.jsonl"
    assert read_kept_rows(kept)  # a finished directory reads
    kept.write_text(kept.read_text() + kept.read_text())
    with pytest.raises(TrainDataError, match="differs from"):
        read_kept_rows(kept)
