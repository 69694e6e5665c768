"""Exit codes: 0 ok, 1 a gate failed, 2 bad input; always one line on stderr, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from datacheck.cli import main


def _stderr_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and "Traceback" not in "\n".join(err)
    return err[-1]


def test_clean_ok_writes_every_output(gsm8k_like_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["clean", "gsm8k", "--data-dir", str(gsm8k_like_dir), "--out", str(out)]) == 0
    for name in (
        "kept/train.jsonl",
        "kept/test.jsonl",
        "rejected.jsonl",
        "clusters.jsonl",
        "report.json",
        "report.md",
    ):
        assert (out / name).is_file(), name
    assert not list(out.glob("**/.*.tmp"))  # atomic writes leave no temporaries behind


def test_data_dir_from_environment(
    gsm8k_like_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GSM8K_DIR", str(gsm8k_like_dir))
    assert main(["clean", "gsm8k", "--out", str(tmp_path / "o")]) == 0
    assert json.loads((tmp_path / "o" / "report.json").read_text())["rows"] == 8


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        (["--max-reject-rate", "0.1"], "reject rate 0.6250 > --max-reject-rate 0.1"),
        (["--max-contamination", "0"], "1 contaminated train rows > --max-contamination 0"),
    ],
)
def test_gate_failure_exits_1_with_reason(
    gsm8k_like_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    gate: list[str],
    message: str,
) -> None:
    code = main(
        ["clean", "gsm8k", "--data-dir", str(gsm8k_like_dir), "--out", str(tmp_path / "o"), *gate]
    )
    assert code == 1
    assert _stderr_line(capsys) == f"datacheck: gate failed: {message}"


def test_gate_passes_when_within_limit(gsm8k_like_dir: Path, tmp_path: Path) -> None:
    args = ["clean", "gsm8k", "--data-dir", str(gsm8k_like_dir), "--out", str(tmp_path / "o")]
    assert main([*args, "--max-reject-rate", "0.7", "--max-contamination", "1"]) == 0


def test_bad_inputs_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write_rows
) -> None:  # type: ignore[no-untyped-def]
    out = ["--out", str(tmp_path / "o")]
    assert main(["clean", "gsm8k", "--data-dir", str(tmp_path / "nope"), *out]) == 2
    assert "is not a directory" in _stderr_line(capsys)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "train.jsonl").write_text("")
    write_rows(tmp_path / "empty" / "test.jsonl", [{"question": "q", "answer": "1\n#### 1"}])
    assert main(["clean", "gsm8k", "--data-dir", str(tmp_path / "empty"), *out]) == 2
    assert _stderr_line(capsys).endswith("train.jsonl is empty")
    assert main(["clean", str(tmp_path / "missing.jsonl"), *out]) == 2
    assert "no file at" in _stderr_line(capsys)
    assert main(["dedup", str(tmp_path / "empty" / "train.jsonl"), "--field", "q", *out]) == 2
    assert _stderr_line(capsys).endswith("is empty")


def test_hub_unreachable_suggests_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GSM8K_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # fail fast: same error path as an unreachable hub
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no cached copy to fall back on
    assert main(["clean", "gsm8k", "--out", str(tmp_path / "o")]) == 2
    line = _stderr_line(capsys)
    assert line.startswith("datacheck: error: cannot load openai/gsm8k") and "--data-dir" in line


def test_malformed_lines_become_rejections_not_errors(tmp_path: Path, write_rows) -> None:  # type: ignore[no-untyped-def]
    path = write_rows(
        tmp_path / "mixed.jsonl",
        [
            {
                "q": "Sam has 9 marbles and loses 4 of them. How many remain?",
                "a": "9-4 = <<9-4=5>>5\n#### 5",
            },
            "{not json",
            b"\xff\xfe\x00",
            {"q": 7, "a": "1\n#### 1"},
            {"q": "only a question here"},
            "",
        ],
    )
    out = tmp_path / "o"
    assert (
        main(
            ["clean", str(path), "--question-field", "q", "--answer-field", "a", "--out", str(out)]
        )
        == 0
    )
    rejected = {
        r["id"]: r["reason"]
        for r in map(json.loads, (out / "rejected.jsonl").read_text().splitlines())
    }
    assert rejected == {
        "mixed/train/1": "not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        "mixed/train/2": "not valid UTF-8 (byte 0xff at offset 0)",
        "mixed/train/3": "field 'q' is int, expected a string",
        "mixed/train/4": "missing field 'a'",
        "mixed/train/5": "blank line",
    }
    assert (out / "kept" / "train.jsonl").read_text().count("\n") == 1


def test_dedup_subcommand_clusters_one_field(tmp_path: Path, write_rows) -> None:  # type: ignore[no-untyped-def]
    base = (
        "the baker makes twelve loaves of bread every morning and sells them at the market by noon"
    )
    path = write_rows(
        tmp_path / "c.jsonl",
        [
            {"text": base},
            {"text": "trains cross the desert at night with no lights on at all"},
            {"text": base.replace("noon", "ten")},
            {"other": 1},
        ],
    )
    out = tmp_path / "d"
    assert main(["dedup", str(path), "--field", "text", "--out", str(out)]) == 0
    clusters = [json.loads(x) for x in (out / "clusters.jsonl").read_text().splitlines()]
    assert clusters == [{"kept": 0, "members": [0, 2]}]
    assert [json.loads(x)["line"] for x in (out / "rejected.jsonl").read_text().splitlines()] == [3]
    assert (out / "kept.jsonl").read_text().count("\n") == 2
    source = path.read_text().splitlines(keepends=True)
    assert (out / "kept.jsonl").read_text() == source[0] + source[1]  # verbatim
    duplicate = json.loads((out / "duplicates.jsonl").read_text())
    assert duplicate["line"] == 2 and duplicate["record"] == json.loads(source[2])


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("datacheck")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "datacheck.cli"]
    proc = subprocess.run(
        [*cmd, "clean", "gsm8k", "--data-dir", str(tmp_path / "x"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr


def test_a_field_missing_from_every_row_exits_2_for_dedup_and_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write_rows
) -> None:  # type: ignore[no-untyped-def]
    path = write_rows(tmp_path / "c.jsonl", [{"text": "a b c d"}, {"text": "e f g h"}, "{bad"])
    out = ["--out", str(tmp_path / "o")]
    assert main(["dedup", str(path), "--field", "txt", *out]) == 2
    assert _stderr_line(capsys) == (
        f"datacheck: error: --field 'txt' is a string in none of the 2 rows of {path}; "
        "fields there: 'text'"
    )
    assert main(["clean", str(path), "--question-field", "text", "--answer-field", "ans", *out]) == 2
    assert _stderr_line(capsys) == (
        f"datacheck: error: --answer-field 'ans' is in none of the 2 rows of {path}; "
        "fields there: 'text'"
    )


def test_dedup_prints_a_one_line_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write_rows
) -> None:  # type: ignore[no-untyped-def]
    text = "the baker makes twelve loaves of bread every morning and sells them by noon"
    path = write_rows(tmp_path / "c.jsonl", [{"text": text}, {"text": text}, {"other": 1}])
    out = tmp_path / "d"
    assert main(["dedup", str(path), "--field", "text", "--out", str(out)]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"3 rows: 1 kept, 1 near-duplicates in 1 clusters, 1 rejected; report at {out / 'report.json'}"
    ]
