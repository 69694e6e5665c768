"""The check registry is the one list: it drives the pipeline's order, the CLI's flags and --help."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

import pytest

from datacheck.checks.base import KEEP, Verdict
from datacheck.checks.registry import CHECKS, register
from datacheck.clean import planned_checks
from datacheck.cli import clean_config, main, make_parser
from datacheck.config import CleanConfig
from datacheck.records import Problem

WriteRows = Callable[[Path, Sequence[dict[str, str]]], Path]
GOOD = {"question": "Natalia sold clips to 48 of her friends in April, and half as many in May. How many?",
        "answer": "Natalia sold 48/2 = <<48/2=24>>24 in May.\nShe sold 48+24 = <<48+24=72>>72.\n#### 72"}  # fmt: skip
REAL = ["format", "calculator", "label_consistency", "round_trip", "learnability", "model_score"]


@dataclass(frozen=True, slots=True)
class NoSevensCheck:
    """A throwaway check: rejects any question that mentions the number 7."""

    name: ClassVar[str] = "no_sevens"

    def __call__(self, problem: Problem) -> Verdict | None:
        return Verdict(self.name, "the question mentions 7") if "7" in problem.question else KEEP


@pytest.fixture
def no_sevens() -> Iterator[None]:
    register(NoSevensCheck, "questions that mention the number 7")
    try:
        yield
    finally:
        del CHECKS[NoSevensCheck.name]


def _help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        main(["clean", "--help"])
    return capsys.readouterr().out


def test_the_pipeline_runs_the_registered_checks_in_their_order() -> None:
    assert list(CHECKS) == REAL
    # model_score runs only with a model; building it loads nothing.
    assert [c.name for c, _ in planned_checks(CleanConfig())] == REAL[:-1]
    with_model = planned_checks(CleanConfig(model_path="some/model", skip=frozenset({"calculator"})))
    assert [(c.name, train_only) for c, train_only in with_model] == [
        ("format", False), ("label_consistency", False), ("round_trip", False),
        ("learnability", True), ("model_score", True),
    ]  # fmt: skip


def test_help_shows_every_check_in_order_with_its_flags(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys)
    positions = [text.index(f"\ncheck {name}") for name in REAL]
    assert positions == sorted(positions)
    learnability = text[positions[4] : positions[5]]
    assert "(train rows only)" in learnability and "--context-length" in learnability
    assert "--tokenizer TOKENIZER" in learnability and "--max-ifd" in text[positions[5] :]


def test_registered_flags_set_the_config_and_default_to_it() -> None:
    parser = make_parser()
    default = clean_config(parser.parse_args(["clean", "gsm8k", "--out", "o"]))
    assert default == CleanConfig(dedup=default.dedup)
    options = [o for entry in CHECKS.values() for o in entry.options]
    assert {o.field for o in options} <= {f.name for f in fields(CleanConfig)}
    args = ["clean", "gsm8k", "--out", "o", "--context-length", "512", "--outlier-percentile", "95",
            "--tokenizer", "tok", "--model", "m", "--max-ifd", "2"]  # fmt: skip
    config = clean_config(parser.parse_args(args))
    assert (config.context_length, config.outlier_percentile, config.tokenizer_path,
            config.model_path, config.max_ifd) == (512, 95.0, "tok", "m", 2.0)  # fmt: skip


def test_a_registered_check_is_in_help_runs_and_rejects_with_its_reason(
    no_sevens: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], write_rows: WriteRows
) -> None:
    assert "check no_sevens:\n  rejects questions that mention the number 7" in _help(capsys)
    sevens = {"question": "Sam has 7 apples and buys 5 more. How many apples does he have?",
              "answer": "Sam has 7+5 = <<7+5=12>>12 apples.\n#### 12"}  # fmt: skip
    # Fails format and mentions 7: it carries format, the check that runs first.
    broken = {"question": "Ann reads 7 pages a day for 3 days. How many pages?",
              "answer": "She reads 7*3 = <<7*3=21>>21 pages.\n#### 21\n#### 21"}  # fmt: skip
    source = write_rows(tmp_path / "rows.jsonl", [GOOD, sevens, broken])
    out = tmp_path / "out"
    assert main(["clean", str(source), "--out", str(out)]) == 0
    rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text().splitlines()]
    assert {r["id"]: (r["check"], r["reason"]) for r in rejected} == {
        "rows/train/1": ("no_sevens", "the question mentions 7"),
        "rows/train/2": ("format", "expected exactly one '####' final-answer marker, found 2"),
    }
    kept = [json.loads(line)["id"] for line in (out / "kept" / "train.jsonl").read_text().splitlines()]
    assert kept == ["rows/train/0"]
    report = json.loads((out / "report.json").read_text())
    assert report["splits"]["train"]["rejected_by_check"] == {"format": 1, "no_sevens": 1}
    assert "## no_sevens (1)" in (out / "report.md").read_text()
    # Skipped by name like any other check: the row it rejected is kept.
    assert NoSevensCheck.name in [c.name for c, _ in planned_checks(CleanConfig())]
    assert NoSevensCheck.name not in [c.name for c, _ in planned_checks(CleanConfig(skip=frozenset({"no_sevens"})))]


def test_a_name_registers_once(no_sevens: None) -> None:
    with pytest.raises(ValueError, match="no_sevens is registered already"):
        register(NoSevensCheck, "again")
    assert list(CHECKS) == [*REAL, "no_sevens"]
