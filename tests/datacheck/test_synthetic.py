"""``datacheck clean synthetic``'s input: the task's splits with a few planted flaws, all found."""

from __future__ import annotations

import json
import re
from pathlib import Path

from datacheck.synthetic import generate_synthetic
from reasonkit.arith import evaluate
from reasonkit.tasks.split import SplitSizes, draw_rows

ANNOTATION = re.compile(r"<<([^<>]*)=([^<>=]*)>>(\S+)")
SMALL = SplitSizes(train=400, val=20, test=50, test_ood=50)


def test_flaws_appear_as_recorded_and_the_rest_is_the_task(tmp_path: Path) -> None:
    data = generate_synthetic(tmp_path, sizes=SMALL, seed=1, flaws_per_kind=3)
    clean = draw_rows(SMALL, seed=1)
    assert {s: rows for s, rows in data.splits.items() if s != "train"} == {
        s: rows for s, rows in clean.splits.items() if s != "train"}  # fmt: skip
    flawed = {int(f.id.rpartition("/")[2]): f for f in data.flaws}
    kinds = sorted(f.kind for f in data.flaws)
    assert kinds == ["broken_annotation"] * 3 + ["near_duplicate"] * 3 + ["wrong_label"] * 3
    for index, (row, original) in enumerate(zip(data.train, clean.splits["train"], strict=True)):
        flaw = flawed.get(index)
        if flaw is None:
            assert row == original
            continue
        *lines, final = row["answer"].split("\n")
        if flaw.kind == "wrong_label":
            last = ANNOTATION.search(lines[-1])
            assert last is not None and final != f"#### {last.group(2)}"
            assert final.removeprefix("#### ") not in {m.group(2) for m in map(ANNOTATION.search, lines) if m}
        elif flaw.kind == "broken_annotation":
            m = ANNOTATION.search(lines[0])
            assert m is not None and evaluate(m.group(1)) != int(m.group(2))
            assert evaluate(m.group(1)) == int(m.group(3))  # the prose keeps the true result
        else:
            assert flaw.duplicate_of is not None
            source = data.train[int(flaw.duplicate_of.rpartition("/")[2])]
            assert row["question"] != source["question"] and row["question"].startswith(source["question"])
            assert row["answer"] == source["answer"]
            assert int(flaw.duplicate_of.rpartition("/")[2]) not in flawed
    manifest = json.loads((tmp_path / "flaws.json").read_text())
    assert [f["id"] for f in manifest["flaws"]] == [f.id for f in data.flaws]
    for split, rows in data.splits.items():
        written = [json.loads(line) for line in (tmp_path / f"{split}.jsonl").read_text().splitlines()]
        assert written == list(rows)


def test_datacheck_rejects_every_planted_flaw_and_no_clean_row_as_contamination(tmp_path: Path) -> None:
    """`datacheck clean synthetic` finds exactly the planted label and annotation flaws, and (the
    split being held out by computation) rejects no train row as contamination."""
    from datacheck.cli import main

    assert main(["clean", "synthetic", "--out", str(tmp_path), "--seed", "0"]) == 0
    planted = generate_synthetic(None, seed=0).flaws
    rejected = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    by_check: dict[str, set[str]] = {}
    for row in rejected:
        by_check.setdefault(row["check"], set()).add(row["id"])
    assert by_check["calculator"] == {f.id for f in planted if f.kind == "broken_annotation"}
    assert by_check["label_consistency"] == {f.id for f in planted if f.kind == "wrong_label"}
    assert "contamination" not in by_check
    by_id = {row["id"]: row for row in rejected}
    for flaw in planted:
        if flaw.kind == "near_duplicate":
            # The keep policy keeps one member of the copy's cluster (the lowest index among rows
            # that passed every check), so the later of the pair goes, as a near-duplicate.
            later = max(flaw.id, flaw.duplicate_of or "", key=lambda i: int(i.rpartition("/")[2]))
            assert by_id[later]["check"] == "near_duplicate", flaw
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["thresholds"]["contamination_rules"] == ["ngram", "minhash", "computation"]
    assert {s: a["leaked_items"] for s, a in report["leak_audit"].items()} == {"val": 0, "test": 0, "test-ood": 0}
