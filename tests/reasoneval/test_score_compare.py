"""`reasoneval score` and `reasoneval compare` through the CLI entry point, plus the library call."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from reasoneval.cli import main
from reasoneval.compare import compare_results
from reasoneval.score import score_rows
from reasonkit.errors import InputError


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _results(path: Path, correct: list[bool], k: int = 1) -> Path:
    return _write(
        path, [{"id": f"q{i}", "correct": c} for i, c in enumerate(correct) for _ in range(k)]
    )


GENERATIONS = [
    {"qid": "a", "out": "9*2 = 18.\n#### 18", "gold": "She makes 9 * 2 = $<<9*2=18>>18.\n#### 18"},
    {"qid": "b", "out": "The answer is $1,072.", "gold": "1072"},
    {"qid": "c", "out": "So **73** marbles.", "gold": "#### 74"},
    {"qid": "d", "out": "I am not sure.", "gold": "#### 5"},
]


def test_score_writes_rows_and_prints_json_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path / "gen.jsonl", GENERATIONS)
    out = tmp_path / "sub" / "scored.jsonl"
    args = ["score", str(src), "--response-field", "out", "--gold-field", "gold"]
    code = main([*args, "--id-field", "qid", "--out", str(out), "--json"])
    assert code == 0
    rows = _read(out)
    assert [r["correct"] for r in rows] == [True, True, False, False]
    assert [r["extracted"] for r in rows] == ["18", "1072", "73", None]
    assert [r["strategy"] for r in rows] == ["strict", "strict", "flexible", None]
    assert [r["id"] for r in rows] == ["a", "b", "c", "d"]
    assert rows[0]["out"] == GENERATIONS[0]["out"]  # input fields kept
    summary = json.loads(capsys.readouterr().out)
    assert summary["n"] == 4 and summary["correct"] == 2
    assert summary["accuracy"] == 0.5
    assert summary["ci_low"] == pytest.approx(0.150, abs=1e-3)  # Wilson 2/4
    assert summary["ci_high"] == pytest.approx(0.850, abs=1e-3)
    assert summary["invalid_rate"] == 0.25
    assert list(tmp_path.joinpath("sub").iterdir()) == [out]  # no temporary file left behind


def test_score_text_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path / "gen.jsonl", GENERATIONS)
    argv = ["score", str(src), "--response-field", "out", "--gold-field", "gold"]
    assert main([*argv, "--out", str(tmp_path / "o.jsonl")]) == 0
    text = capsys.readouterr().out
    assert "accuracy 50.00% (2/4)" in text and "invalid answers 25.00% (1/4)" in text


def test_score_counts_a_null_response_as_invalid(tmp_path: Path) -> None:
    src = _write(tmp_path / "gen.jsonl", [{"out": None, "gold": "5"}, {"out": "5", "gold": "5"}])
    rows, summary = score_rows(_read(src), response_field="out", gold_field="gold")
    assert [r["correct"] for r in rows] == [False, True]
    assert (summary.n, summary.invalid, summary.correct) == (2, 1, 1)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        ('{"out": "1", "gold": "1"}\n{bad json\n', "2: not valid JSON"),
        ('{"out": "1"}\n', "missing field 'gold'"),
        ('{"out": "1", "gold": "no number"}\n', "has no numeric answer"),
        ("[1, 2]\n", "expected a JSON object"),
    ],
)
def test_score_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, reason: str
) -> None:
    src = tmp_path / "gen.jsonl"
    if content is not None:
        src.write_text(content, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    argv = ["score", str(src), "--response-field", "out", "--gold-field", "gold"]
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1
    assert not out.exists()


def _regression_pair(tmp_path: Path) -> tuple[Path, Path]:
    rng = random.Random(0)
    base = [rng.random() < 0.7 for _ in range(200)]
    cand = list(base)
    flipped = 0
    for i, ok in enumerate(cand):  # the candidate loses 20 of the baseline's correct items
        if ok and flipped < 20:
            cand[i], flipped = False, flipped + 1
    return _results(tmp_path / "base.jsonl", base), _results(tmp_path / "cand.jsonl", cand)


def test_compare_fails_on_a_real_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = _regression_pair(tmp_path)
    assert main(["compare", str(base), str(cand), "--margin", "2", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["delta"] == pytest.approx(-0.10)
    assert report["ci_high"] < 0 and report["ci_low"] < -0.02
    assert (report["baseline_only"], report["candidate_only"]) == (20, 0)
    assert report["mcnemar_p"] == pytest.approx(2 * 0.5**20)
    assert report["passed"] is False


def test_compare_passes_identical_files_and_candidate_improvements(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = _regression_pair(tmp_path)
    assert main(["compare", str(base), str(base)]) == 0
    assert "verdict: PASS" in capsys.readouterr().out
    assert main(["compare", str(cand), str(base), "--margin", "0"]) == 0  # improvement


def test_compare_is_seeded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, cand = _regression_pair(tmp_path)
    reports = []
    for _ in range(2):
        main(["compare", str(base), str(cand), "--json", "--seed", "5"])
        reports.append(json.loads(capsys.readouterr().out))
    assert reports[0] == reports[1]


def test_compare_averages_k_samples_per_item(tmp_path: Path) -> None:
    base = {f"q{i}": [True, True, False, False] for i in range(50)}  # 50% per item
    cand = {f"q{i}": [True, True, True, False] for i in range(50)}  # 75% per item
    result = compare_results(base, cand, margin_points=1, seed=0, n_boot=1000)
    assert result.baseline_accuracy == 0.5 and result.candidate_accuracy == 0.75
    assert result.delta == pytest.approx(0.25)
    assert result.ci_low == pytest.approx(0.25) and result.passed
    assert result.baseline_samples == result.candidate_samples == (4, 4)
    # The same through files: several rows per id are that item's samples.
    b = _write(tmp_path / "b.jsonl", [{"id": i, "correct": c} for i, s in base.items() for c in s])
    c = _write(tmp_path / "c.jsonl", [{"id": i, "correct": c} for i, s in cand.items() for c in s])
    assert main(["compare", str(b), str(c)]) == 0


@pytest.mark.parametrize(
    ("base_rows", "cand_rows", "reason"),
    [
        ([{"id": "a", "correct": True}], [{"id": "b", "correct": True}], "item sets differ"),
        ([{"id": "a", "correct": True}], [{"correct": True}], "missing field 'id'"),
        ([{"id": "a", "correct": True}], [{"id": "a", "correct": "yes"}], "must be true or false"),
        ([], [{"id": "a", "correct": True}], "no rows"),
    ],
)
def test_compare_bad_input_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    base_rows: list[dict[str, Any]],
    cand_rows: list[dict[str, Any]],
    reason: str,
) -> None:
    base = _write(tmp_path / "b.jsonl", base_rows)
    cand = _write(tmp_path / "c.jsonl", cand_rows)
    assert main(["compare", str(base), str(cand)]) == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1


def test_compare_results_rejects_negative_margin() -> None:
    with pytest.raises(InputError):
        compare_results({"a": [True]}, {"a": [True]}, margin_points=-1)
