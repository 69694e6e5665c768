"""Bad input to `reasoneval`: exit 2 with one line before any model loads; a crash is 3, never 1."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hostile_helpers import invoke, write_lines

from reasoneval.cli import main

SCORED = {"response": "3+4=7. The answer is 7.", "gold": "7"}


def _score(src: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str):  # type: ignore[no-untyped-def]
    return invoke(main, ["score", str(src), "--response-field", "response", "--gold-field",
                         "gold", "--out", str(out), *extra], capsys)


@pytest.mark.parametrize(
    ("line", "part"),
    [
        ("[" * 100_000, "JSON nested deeper"),
        ('{"response": ' + "7" * 5000 + ', "gold": "7"}', "not valid JSON"),
        (b'{"response": "\xc3\x28", "gold": "7"}', "not valid UTF-8"),
        ("[1]", "expected a JSON object"),
    ],
)
def test_score_refuses_an_unreadable_line_with_one_line(
    line: str | bytes, part: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_lines(tmp_path / "gen.jsonl", [SCORED, line])
    result = _score(src, tmp_path / "out.jsonl", capsys)
    assert result.code == 2 and f"gen.jsonl:2: {part}" in result.line


@pytest.mark.parametrize("text", ["\u2028", "\u2029", "\u0085", "\ud800", "\udfff x \ud83d"])
def test_score_writes_what_every_reader_reads(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = json.dumps({"id": 0, "response": f"3+4=7{text}The answer is 7.", "gold": "7"})
    src = write_lines(tmp_path / "gen.jsonl", [raw, {"id": 1, **SCORED}])
    out = tmp_path / "out.jsonl"
    assert _score(src, out, capsys, "--id-field", "id").code == 0
    out.read_bytes().decode("utf-8")  # strict UTF-8: no lone surrogate was written raw
    assert len(out.read_bytes().splitlines()) == 2  # bytes.splitlines: only \n and \r break
    assert json.loads(out.read_text(encoding="utf-8").split("\n")[0])["response"].startswith("3+4=7")
    result = invoke(main, ["compare", str(out), str(out), "--n-boot", "200"], capsys)
    assert result.code == 0, result.stderr


def test_score_traces_on_a_hostile_calculation_is_fast(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One 3-line response once cost 45 s in the traces layer.
    response = "x = ((((1/7)**64)**64)**64)**64 = 0\n(((1/3)**60)**60)**60 = 0\nThe answer is 7."
    src = write_lines(tmp_path / "gen.jsonl", [{"response": response, "gold": "7"}])
    started = time.perf_counter()
    assert _score(src, tmp_path / "o.jsonl", capsys, "--layers", "traces").code == 0
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(
    ("setup", "part"),
    [
        (lambda d: d, "is a directory"),
        (lambda d: (d / "f").write_text("x") and d / "f" / "out.jsonl", "not a writable directory"),
    ],
)
def test_score_out_that_cannot_be_written_exits_2(  # type: ignore[no-untyped-def]
    setup, part: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_lines(tmp_path / "gen.jsonl", [SCORED])
    result = _score(src, setup(tmp_path), capsys)
    assert result.code == 2 and part in result.line


@pytest.mark.parametrize("source", ["missing", "directory"])
def test_score_source_that_is_not_a_file_exits_2(
    source: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "missing.jsonl" if source == "missing" else tmp_path
    result = _score(src, tmp_path / "o.jsonl", capsys)
    assert result.code == 2 and result.line.startswith("reasoneval score: error:")


@pytest.mark.parametrize(
    ("argv", "part"),
    [
        (["--margin", "nan"], "--margin"),
        (["--margin", "inf"], "--margin"),
        (["--margin", "-5"], "--margin"),
        (["--n-boot", "0"], "--n-boot"),
    ],
)
def test_compare_bad_options_exit_2(
    argv: list[str], part: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write_lines(tmp_path / "r.jsonl", [{"id": 0, "correct": True}])
    result = invoke(main, ["compare", str(f), str(f), *argv], capsys)
    assert result.code == 2 and part in result.line


def test_compare_refuses_ids_spelled_two_ways(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # run calls 0 and "0" duplicates; compare used to merge them into one item.
    mixed = write_lines(tmp_path / "a.jsonl", [{"id": 0, "correct": True},
                                               {"id": "0", "correct": False}])
    result = invoke(main, ["compare", str(mixed), str(mixed)], capsys)
    assert result.code == 2 and "same id as text" in result.line


def _fake_model(path: Path, *, weights: str | None = "model.safetensors",
                config: dict | None = None) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(config or {"model_type": "qwen2"}))
    if weights:
        (path / weights).write_bytes(b"not really weights")
    return path


RUN_OPTION_CASES = [
    (["--temperature", "-1"], "--temperature"),
    (["--top-p", "5"], "--top-p"),
    (["--top-p", "0"], "--top-p"),
    (["--limit", "0"], "--limit"),
    (["--gate", "no_such_metric<=1"], "unknown gate metric"),
    (["--gate", "traces.clean_rate>=0.5"], "not in --layers"),
    (["--gate", "accuracy>=baseline"], "pass --baseline"),
    (["--layers", "accuracy,nonsense"], "nonsense"),
    (["--samples", "4"], "--temperature"),
]


@pytest.mark.parametrize(("argv", "part"), RUN_OPTION_CASES)
def test_run_checks_options_before_any_model_loads(
    argv: list[str], part: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _fake_model(tmp_path / "m")  # loading it would crash: the check must come first
    data = write_lines(tmp_path / "d.jsonl", [{"question": "1+1?", "answer": "2"}])
    result = invoke(main, ["run", str(model), "--dataset", str(data), "--backend", "hf",
                           "--out", str(tmp_path / "o"), *argv], capsys)
    assert result.code == 2 and part in result.line
    assert not (tmp_path / "o" / "samples.jsonl").exists()


def test_run_margin_below_zero_with_a_baseline_exits_2_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "base"
    write_lines(baseline / "samples.jsonl", [{"id": "0", "correct": True}])
    (baseline / "report.json").write_text("{}")
    result = invoke(main, ["run", str(_fake_model(tmp_path / "m")), "--out", str(tmp_path / "o"),
                           "--baseline", str(baseline), "--margin", "-5"], capsys)
    assert result.code == 2 and "--margin" in result.line


CHECKPOINT_CASES = {
    "no-weights": (dict(weights=None), "holds no model weights"),
    "pickle-only": (dict(weights="pytorch_model.bin"), "pickled model weights"),
    "remote-code": (dict(config={"model_type": "x", "auto_map": {"AutoModel": "m.M"}}),
                    "needs its own Python code"),
}


@pytest.mark.parametrize("case", sorted(CHECKPOINT_CASES))
def test_run_refuses_a_checkpoint_it_must_not_load(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kwargs, part = CHECKPOINT_CASES[case]
    model = _fake_model(tmp_path / "m", **kwargs)
    data = write_lines(tmp_path / "d.jsonl", [{"question": "1+1?", "answer": "2"}])
    result = invoke(main, ["run", str(model), "--dataset", str(data), "--backend", "hf",
                           "--out", str(tmp_path / "o")], capsys)
    assert result.code == 2 and part in result.line


def test_run_refuses_a_pickled_adapter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _fake_model(tmp_path / "base")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(base)}))
    (adapter / "adapter_model.bin").write_bytes(b"pickle")
    data = write_lines(tmp_path / "d.jsonl", [{"question": "1+1?", "answer": "2"}])
    result = invoke(main, ["run", str(adapter), "--dataset", str(data), "--backend", "hf",
                           "--out", str(tmp_path / "o")], capsys)
    assert result.code == 2 and "pickled adapter weights" in result.line


@pytest.mark.parametrize("out", ["file", "under-a-file"])
def test_run_out_that_cannot_be_written_exits_2(
    out: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "f").write_text("x")
    target = tmp_path / "f" if out == "file" else tmp_path / "f" / "run"
    result = invoke(main, ["run", str(_fake_model(tmp_path / "m")), "--out", str(target)], capsys)
    assert result.code == 2 and "--out" in result.line


def test_run_dataset_with_a_lone_surrogate_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_lines(tmp_path / "d.jsonl", ['{"question": "1+1\\ud800?", "answer": "2"}'])
    result = invoke(main, ["run", str(_fake_model(tmp_path / "m")), "--dataset", str(data),
                           "--backend", "hf", "--out", str(tmp_path / "o")], capsys)
    assert result.code == 2 and "lone surrogate" in result.line


@pytest.mark.parametrize("command", ["score", "compare", "run"])
def test_every_subcommand_crash_exits_3(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    from reasoneval.cli import SUBCOMMANDS

    module = importlib.import_module(SUBCOMMANDS[command][0])  # what the CLI dispatches to

    def broken(_args: object) -> int:
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(module, "run", broken)
    f = write_lines(tmp_path / "r.jsonl", [{"id": 0, "correct": True, **SCORED}])
    argv = {"score": ["score", str(f), "--response-field", "response", "--gold-field", "gold",
                      "--out", str(tmp_path / "o.jsonl")],
            "compare": ["compare", str(f), str(f)],
            "run": ["run", str(tmp_path), "--out", str(tmp_path / "o")]}[command]
    result = invoke(main, argv, capsys)
    assert result.code == 3
    assert f"reasoneval {command}: internal error: ZeroDivisionError: simulated bug" in result.line
    assert list((tmp_path / "crash").glob("*.log"))


def test_debug_prints_the_traceback_instead(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import reasoneval.compare

    monkeypatch.setattr(reasoneval.compare, "run", lambda _a: 1 // 0)
    f = write_lines(tmp_path / "r.jsonl", [{"id": 0, "correct": True}])
    capsys.readouterr()
    assert main(["--debug", "compare", str(f), str(f)]) == 3
    assert "Traceback" in capsys.readouterr().err


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["frobnicate"], ["score"], ["compare", "a"], ["run", "x", "--samples", "two"]):
        result = invoke(main, argv, capsys)
        assert result.code == 2 and result.line.startswith("reasoneval")


@pytest.mark.parametrize("raw", ["\u2028", "\u2029", "\u0085"])
def test_a_raw_line_separator_inside_a_string_is_part_of_the_row(
    raw: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Earlier writers (and other tools) put these raw into JSON strings; str.splitlines broke
    # the row in two, so `score` and `compare` refused the project's own files.
    line = json.dumps({"id": 0, "response": f"7{raw}The answer is 7.", "gold": "7",
                       "correct": True}, ensure_ascii=False)
    src = write_lines(tmp_path / "samples.jsonl", [line])
    assert _score(src, tmp_path / "o.jsonl", capsys).code == 0
    result = invoke(main, ["compare", str(src), str(src), "--n-boot", "200"], capsys)
    assert result.code == 0, result.stderr


def test_a_damaged_line_in_the_middle_of_the_resume_cache_is_regenerated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reasoneval.cache import GenerationCache

    good = {"key": "k1", "completions": [{"text": "7", "finish_reason": "stop",
                                          "prompt_tokens": 1, "completion_tokens": 1}]}
    path = write_lines(tmp_path / "generations.jsonl",
                       [good, '{"key": "k2", "compl', good | {"key": "k3"}])
    cache = GenerationCache(path)
    assert "k1" in cache and "k3" in cache and "k2" not in cache
    assert "1 damaged cache line" in capsys.readouterr().err


@pytest.mark.parametrize("report", ["[" * 100_000, "9" * 5000, "[1, 2]", b"\xff"])
def test_run_refuses_an_unreadable_baseline_report(
    report: str | bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "base"
    write_lines(baseline / "samples.jsonl", [{"id": "0", "correct": True}])
    write_lines(baseline / "report.json", [report])
    result = invoke(main, ["run", str(_fake_model(tmp_path / "m")), "--out", str(tmp_path / "o"),
                           "--baseline", str(baseline)], capsys)
    assert result.code == 2 and "report.json" in result.line


@pytest.mark.parametrize(
    ("argv", "part"),
    [(["--kv-heads", "0"], "--kv-heads"), (["--hidden-size", "-64"], "--hidden-size")],
)
def test_tiny_model_bad_sizes_exit_2(
    argv: list[str], part: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = invoke(main, ["tiny-model", str(tmp_path / "t"), *argv], capsys)
    assert result.code == 2 and part in result.line


def test_tiny_model_into_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t").write_text("x")
    result = invoke(main, ["tiny-model", str(tmp_path / "t")], capsys)
    assert result.code == 2 and "not a directory" in result.line


def test_an_interrupted_run_directory_is_no_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A rerun killed between samples.jsonl and report.json leaves the marker its writer set.
    run_dir = tmp_path / "run"
    write_lines(run_dir / "samples.jsonl", [{"id": "0", "correct": True}])
    (run_dir / "report.json").write_text("{}")
    (run_dir / ".writing").write_text("")
    result = invoke(main, ["compare", str(run_dir), str(run_dir)], capsys)
    assert result.code == 2 and "interrupted" in result.line
    result = invoke(main, ["run", str(_fake_model(tmp_path / "m")), "--out", str(tmp_path / "o"),
                           "--baseline", str(run_dir)], capsys)
    assert result.code == 2 and "interrupted" in result.line
