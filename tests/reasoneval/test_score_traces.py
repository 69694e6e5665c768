"""`reasoneval score --layers accuracy,traces`: the traces layer over saved generations."""

import json
from pathlib import Path

from reasoneval.cli import main

ROWS = [
    # wrong arithmetic, answer follows it
    {"id": "a", "resp": "<think>\n5 + 3 = 9\n</think>\n#### 9", "gold": "5+3=<<5+3=8>>8\n#### 8"},
    # clean and correct
    {"id": "b", "resp": "<think>\n2 * 4 = 8\n</think>\n#### 8", "gold": "8"},
    # cut off before any answer
    {"id": "c", "resp": "I think it is", "gold": "4", "finish_reason": "length"},
]


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "gens.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


def test_traces_layer_flags_each_saved_row(tmp_path: Path, capsys) -> None:
    out = tmp_path / "scored.jsonl"
    code = main(["score", str(_write(tmp_path)), "--response-field", "resp", "--gold-field",
                 "gold", "--id-field", "id", "--out", str(out), "--layers", "accuracy,traces",
                 "--json"])
    assert code == 0
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["trace"]["error_type"] for r in scored] == ["arithmetic", "none", "extraction"]
    assert scored[0]["trace"]["bad_equations"] == ["5 + 3 = 9"]
    summary = json.loads(capsys.readouterr().out)
    assert summary["traces"]["error_rate.arithmetic"]["value"] == 1 / 3
    assert summary["traces"]["error_rate.extraction"]["value"] == 1 / 3


def test_a_layer_that_needs_generation_is_refused(tmp_path: Path, capsys) -> None:
    code = main(["score", str(_write(tmp_path)), "--response-field", "resp", "--gold-field",
                 "gold", "--out", str(tmp_path / "o.jsonl"), "--layers", "traces,sensitivity"])
    assert code == 2
    assert "sensitivity cannot run on saved generations" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()
