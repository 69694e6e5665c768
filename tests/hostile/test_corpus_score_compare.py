"""`reasoneval score`, `compare` and `run --baseline` against the third probe (issue 29)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from hostile_helpers import invoke, write_lines

from reasoneval.cli import main

CAP = 250_000  # reasoneval.score.MAX_RESPONSE_CHARS, as docs/answers.md states it


def _score(src: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str):  # type: ignore[no-untyped-def]
    return invoke(main, ["score", str(src), "--response-field", "response", "--gold-field",
                         "gold", "--out", str(out), *extra], capsys)


def _score_stdout(src: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    capsys.readouterr()
    code = main(["score", str(src), "--response-field", "response", "--gold-field", "gold",
                 "--out", str(out), *extra])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.err, captured.err[-2000:]
    return captured.out


def test_a_huge_response_costs_seconds_and_counts_as_no_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 4 MB of what made the traces layer quadratic; one 50 MB line once took 141 s and 4.8 GB.
    huge = "\\frac{" * (4_000_000 // 6) + " The answer is 7."
    at_cap = "1+1=2. " * ((CAP - 20) // 7) + "The answer is 7."
    src = write_lines(tmp_path / "gen.jsonl", [{"response": huge, "gold": "7"},
                                               {"response": at_cap, "gold": "7"}])
    from reasoneval.score import MAX_RESPONSE_CHARS

    assert MAX_RESPONSE_CHARS == CAP
    out = tmp_path / "o.jsonl"
    started = time.perf_counter()
    summary = json.loads(_score_stdout(src, out, capsys, "--json"))
    assert time.perf_counter() - started < 20
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["correct"] is False and rows[0]["extracted"] is None
    assert "over the 250,000 cap" in rows[0]["too_long"]
    assert rows[0]["response"] == huge  # kept whole in the output: nothing dropped
    assert rows[1]["correct"] is True and "too_long" not in rows[1]  # at the cap: scored
    assert (summary["n"], summary["correct"], summary["invalid"], summary["too_long"]) == (2, 1, 1, 1)


def test_a_huge_response_is_not_traced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    huge = "\\frac{" * (1_200_000 // 6) + " The answer is 7."
    src = write_lines(tmp_path / "gen.jsonl", [{"response": huge, "gold": "7"},
                                               {"response": "3+4=7. The answer is 7.", "gold": "7"}])
    out = tmp_path / "o.jsonl"
    started = time.perf_counter()
    text = _score_stdout(src, out, capsys, "--layers", "accuracy,traces")
    assert time.perf_counter() - started < 20  # 75 s on the traces layer of issue 29 for 1 MB
    assert "responses over 250,000 characters 1" in text
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert "trace" not in rows[0] and "trace" in rows[1]


def _samples(path: Path, correct: list[bool]) -> Path:
    return write_lines(path, [{"id": str(i), "correct": c} for i, c in enumerate(correct)])


def test_compare_refuses_one_run_twice_in_a_group(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [_samples(tmp_path / f"b{s}.jsonl", [(i + s) % 3 > 0 for i in range(60)]) for s in (0, 1)]
    cand = _samples(tmp_path / "c0.jsonl", [i % 4 > 0 for i in range(60)])
    copy = tmp_path / "copy" / "samples.jsonl"  # the same file under another name, as a run dir
    copy.parent.mkdir()
    shutil.copyfile(cand, copy)
    for twin in (cand, copy.parent):
        result = invoke(main, ["compare", "--baseline", *map(str, base),
                               "--candidate", str(cand), str(twin)], capsys)
        assert result.code == 2 and "--candidate" in result.line and "same samples" in result.line
    # baseline == candidate across the two sides stays a legal (null) comparison
    result = invoke(main, ["compare", str(cand), str(cand), "--n-boot", "200"], capsys)
    assert result.code == 0, result.stderr


@pytest.mark.parametrize("n_boot", ["100000000", "1000001", "99", "1e6"])
def test_compare_n_boot_is_bounded(
    n_boot: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _samples(tmp_path / "r.jsonl", [True, False] * 10)
    started = time.perf_counter()
    result = invoke(main, ["compare", str(f), str(f), "--n-boot", n_boot], capsys)
    assert result.code == 2 and "--n-boot" in result.line
    assert time.perf_counter() - started < 5


def test_compare_at_the_n_boot_cap_is_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _samples(tmp_path / "r.jsonl", [True, False, True] * 100)
    g = _samples(tmp_path / "s.jsonl", [True, True, False] * 100)
    started = time.perf_counter()
    result = invoke(main, ["compare", str(f), str(g), "--n-boot", "1000000"], capsys)
    assert result.code in (0, 1), result.stderr
    assert time.perf_counter() - started < 30


def test_bootstrap_in_chunks_draws_the_same_stream() -> None:
    import numpy as np

    from reasoneval.stats import paired_bootstrap_ci

    rng = np.random.default_rng(3)
    base, cand = rng.random(200) < 0.6, rng.random(200) < 0.7
    # 250,000 resamples cross the 100,000 chunk; the interval equals one draw of that size
    diffs = cand.astype(float) - base
    values, counts = np.unique(diffs, return_counts=True)
    whole = np.random.default_rng(5).multinomial(200, counts / 200, size=250_000) @ values / 200
    assert paired_bootstrap_ci(base, cand, seed=5, n_boot=250_000) == tuple(
        float(q) for q in np.quantile(whole, [0.025, 0.975]))


@pytest.mark.parametrize("value", ["NaN", "Infinity", '"high"'])
def test_run_refuses_a_baseline_with_a_non_finite_metric_up_front(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "base"
    write_lines(baseline / "samples.jsonl", [{"id": "0", "correct": True}])
    report = '{"layers": {"accuracy": {"metrics": {"accuracy": {"value": VALUE}}}}}'
    (baseline / "report.json").write_text(report.replace("VALUE", value))
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "qwen2"}')
    (model / "model.safetensors").write_bytes(b"loading this would crash")
    result = invoke(main, ["run", str(model), "--out", str(tmp_path / "o"), "--baseline",
                           str(baseline), "--gate", "accuracy>=baseline"], capsys)
    assert result.code == 2 and "accuracy.accuracy" in result.line and "finite" in result.line


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
@pytest.mark.parametrize("command", ["compare", "score", "run", "train.sft"])
def test_a_seed_numpy_refuses_is_exit_2(
    command: str, seed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --seed -1 reached numpy (default_rng, np.random.seed) and exited 3.
    from train import sft

    rows = write_lines(tmp_path / "r.jsonl", [{"id": "0", "correct": True, "response": "7",
                                               "gold": "7", "question": "q?", "reasoning": "7",
                                               "final_answer": "7"}])
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "qwen2"}')
    (model / "model.safetensors").write_bytes(b"loading this would crash")
    main_, argv = {
        "compare": (main, ["compare", str(rows), str(rows), "--seed", seed]),
        "score": (main, ["score", str(rows), "--response-field", "response", "--gold-field",
                         "gold", "--out", str(tmp_path / "o.jsonl"), "--layers", "traces",
                         "--seed", seed]),
        "run": (main, ["run", str(model), "--out", str(tmp_path / "o"), "--seed", seed]),
        "train.sft": (sft.cli, ["--model_name_or_path", str(model), "--train_file", str(rows),
                                "--output_dir", str(tmp_path / "o"), "--seed", seed]),
    }[command]
    result = invoke(main_, argv, capsys)
    assert result.code == 2 and "seed" in result.line
