"""benchmarks/trace_validation.py: label agreement and the hand-label file it reads (issue 25)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "benchmarks" / "labels" / "gold_path_labels.jsonl"
KINDS = {"truncated", "answer_line", "extra_step", "missing_step", "arithmetic", "wrong_operation",
         "wrong_quantity", "foreign_quantity", "other", "unknown"}


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(ROOT / "benchmarks"))  # trace_validation imports its sibling response_sets
    try:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


@pytest.fixture(scope="module")
def tv() -> ModuleType:
    return _load("trace_validation")


def _rows(labels: list[str]) -> list[dict[str, str]]:
    return [{"set": "s", "id": str(i), "label": x} for i, x in enumerate(labels)]


def test_kappa_is_one_for_identical_labels_and_zero_at_chance(tv: ModuleType) -> None:
    same = _rows(["a", "b"] * 10)
    assert tv.agreement(same, same).endswith("same label on 100%, Cohen's kappa 1.00")
    # Independent halves: each labeller says "a" half the time, agreeing on half the items.
    left = _rows(["a", "a", "b", "b"] * 5)
    right = _rows(["a", "b", "a", "b"] * 5)
    assert tv.agreement(left, right).endswith("same label on 50%, Cohen's kappa 0.00")
    assert tv.agreement(_rows(["a"] * 19), _rows(["a"] * 19)) is None  # too few shared


def test_labels_group_by_sample_and_labeller(tv: ModuleType) -> None:
    rows = [{"set": "s", "id": "1", "label": "other", "sample": "held-out"},
            {"set": "s", "id": "1", "label": "other", "sample": "held-out", "labeller": "b"}]
    assert list(tv.label_groups(rows)) == ["held-out/a", "held-out/b"]


def test_the_label_file_is_well_formed() -> None:
    """One known label per response and labeller; keys only, never the responses' text (they are
    not ours to commit)."""
    rows = [json.loads(x) for x in LABELS.read_text(encoding="utf-8").splitlines()]
    assert {x["label"] for x in rows} <= KINDS
    assert all(set(x) <= {"set", "id", "label", "sample", "labeller", "note"} for x in rows)
    keys = Counter((x["set"], x["id"], x.get("labeller", "a")) for x in rows)
    assert max(keys.values()) == 1


def test_a_note_written_for_another_item_is_caught(tmp_path: Path) -> None:
    notes = _load("label_notes")
    drawn = [{"set": "s", "id": str(i), "question": f"Ann has {n} pens and buys 7 more.",
              "gold": f"{n} + 7 = <<{n}+7={n + 7}>>{n + 7}\n#### {n + 7}", "response": f"{n} * 7 = {n * 7}"}
             for i, n in enumerate((12, 45))]
    fits = [{"set": "s", "id": "0", "label": "wrong_operation", "note": "Multiplies 12 by 7 where gold adds."},
            {"set": "s", "id": "1", "label": "wrong_operation", "note": "45 * 7 = 315 where gold adds 45 + 7."}]
    drifted = [fits[0], {**fits[1], "note": "Multiplies 12 by 7 = 84 where gold adds to 19."}]
    assert notes.misfits(drawn, fits) == []
    assert notes.misfits(drawn, drifted) == [1]
    assert notes.misfits(drawn, [fits[0], {**fits[1], "id": "0"}]) == [1]  # another item's key
    for name, rows in (("draw", drawn), ("labels", drifted)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert notes.main([str(tmp_path / "draw.jsonl"), str(tmp_path / "labels.jsonl")]) == 1
    assert notes.main([str(tmp_path / "draw.jsonl"), str(tmp_path / "missing.jsonl")]) == 2
