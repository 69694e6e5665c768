"""The cleaning study's data: a flawed train split per flaw level, its cleaned versions, one test.

At each level the synthetic task's train split gets the default mix of flaws (``datacheck.flaws``)
rescaled to that share of rows. Each level then yields the training files of its arms:
- ``raw``: every row, as a training script without datacheck reads it (``naive_row``);
- ``clean``: the rows ``datacheck clean`` keeps with every check on;
- ``without <check>``: kept with every check but that one, for each check that rejected rows.
All arms are scored on the same held-out test split, as datacheck keeps it (its train-side
decontamination never touches test rows, so every level keeps the same test rows).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from datacheck.flaws import FlawRates, PlantedFlaw, inject_flaws
from reasonkit.artifacts import atomic_write_text, read_jsonl
from reasonkit.jsonl import jsonl_text
from scripts.study_records import Detection

PREFIX = "study"  # row ids: study/train/12, study/test/7 at every level
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class LevelData:
    level: float  # share of train rows flawed
    rates: FlawRates
    train_files: dict[str, Path]  # arm variant ("raw", "clean", "without format") -> training rows
    rejected: dict[str, int]  # check -> train rows the full clean rejected
    planted: tuple[PlantedFlaw, ...]
    detection: tuple[Detection, ...] = ()
    unflawed_rejected: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return level_label(self.level)


def level_label(level: float) -> str:
    return f"{100 * level:.4g}%"


def naive_row(row_id: str, row: dict[str, str]) -> dict[str, str]:
    """What a training script with no datacheck makes of a row: reasoning before the last `####`
    and the label after it; with no marker, or nothing before it, the whole answer is the
    reasoning and its last number the label (lm-eval's flexible GSM8K extraction does the same).
    Calculator annotations are stripped, as for kept rows, so the arms differ in rows only."""
    from datacheck.records import strip_annotations
    from reasonkit.answers import normalize

    answer = row["answer"]
    head, marker, tail = answer.rpartition("####")
    if marker and head.strip():
        reasoning, final = head, tail.strip()
    else:
        numbers = NUMBER.findall(answer)
        if not numbers:
            raise ValueError(f"{row_id}: no number to take as the label")
        reasoning, final = answer, numbers[-1]
    return {"id": row_id, "question": row["question"],
            "reasoning": strip_annotations(reasoning).strip() or answer.strip(),
            "final_answer": normalize(final) or final}  # fmt: skip


def _clean(rows: dict[str, list[dict[str, str]]], out: Path, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    from datacheck.clean import clean_to_dir
    from datacheck.config import CleanConfig
    from datacheck.loading import SourceSpec, rows_source

    spec = SourceSpec(PREFIX)
    from datacheck.contamination import TEMPLATED_RULES

    config = CleanConfig(skip=skip, contamination_rules=TEMPLATED_RULES)
    return clean_to_dir(spec, config, out, source=rows_source(rows, PREFIX, spec))


def prepare_level(level: float, train: list[dict[str, str]], test: list[dict[str, str]], seed: int,
                  out: Path) -> LevelData:  # fmt: skip
    rates = FlawRates().scaled_to(level)
    rows, planted = inject_flaws(train, test, rates, seed)
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    atomic_write_text(raw / "train.jsonl", jsonl_text(rows))
    atomic_write_text(raw / "test.jsonl", jsonl_text(test))
    atomic_write_text(raw / "flaws.json", json.dumps(
        {"rates": rates.to_dict(), "flaws": [asdict(f) for f in planted]}, indent=2) + "\n")  # fmt: skip
    atomic_write_text(raw / "train_rows.jsonl", jsonl_text(
        [naive_row(f"{PREFIX}/train/{i}", r) for i, r in enumerate(rows)]))  # fmt: skip
    splits = {"train": rows, "test": test}
    report = _clean(splits, out / "clean")
    rejected = dict(report["splits"]["train"]["rejected_by_check"])
    files = {"raw": raw / "train_rows.jsonl", "clean": out / "clean" / "kept" / "train.jsonl"}
    for check, n in sorted(rejected.items()):
        if n and check != "input":
            _clean(splits, out / f"without-{check}", frozenset({check}))
            files[f"without {check}"] = out / f"without-{check}" / "kept" / "train.jsonl"
    detection, unflawed = detection_table(planted, out / "clean" / "rejected.jsonl")
    return LevelData(level, rates, files, rejected, tuple(planted), detection, unflawed)


def detection_table(planted: tuple[PlantedFlaw, ...] | list[PlantedFlaw], rejected_file: Path
                    ) -> tuple[tuple[Detection, ...], dict[str, int]]:  # fmt: skip
    """Per (flaw, variant): how many planted rows each check caught. A copy counts as caught by
    dedup when its original was the one dropped as its near-duplicate: the pair is resolved."""
    rejected = {r["id"]: r for r in read_jsonl(rejected_file)}
    counts: dict[tuple[str, str], Counter[str]] = {}
    planted_ids = set()
    for flaw in planted:
        row_id = f"{PREFIX}/train/{flaw.row}"
        planted_ids.add(row_id)
        hit = rejected.get(row_id)
        source = rejected.get(f"{PREFIX}/{flaw.source}") if flaw.source else None
        if hit is not None:
            caught = hit["check"]
        elif source is not None and source.get("matched_id") == row_id and source["check"] == "near_duplicate":
            caught = "near_duplicate (original dropped)"
        else:
            caught = "kept"
        counts.setdefault((flaw.kind, flaw.variant), Counter())[caught] += 1
    table = tuple(Detection(kind, variant, sum(c.values()), dict(c)) for (kind, variant), c in sorted(counts.items()))
    unflawed = Counter(r["check"] for rid, r in rejected.items() if rid.startswith(f"{PREFIX}/train/")
                       and rid not in planted_ids)  # fmt: skip
    return table, dict(unflawed)


def prepare(levels: list[float], n_train: int, n_test: int, seed: int, out: Path) -> tuple[list[LevelData], Path]:
    """Every level's data, and the held-out test file all arms are scored on."""
    from reasonkit.tasks.split import SplitSizes, draw_rows

    data = draw_rows(SplitSizes(train=n_train, val=0, test=n_test, test_ood=0), seed=seed).splits
    train, test = list(data["train"]), list(data["test"])
    prepared = [prepare_level(level, train, test, seed, out / "data" / level_label(level)) for level in levels]
    kept_tests = {(out / "data" / d.label / "clean" / "kept" / "test.jsonl").read_bytes() for d in prepared}
    if len(kept_tests) != 1:
        raise RuntimeError("datacheck kept different test rows at different flaw levels")
    test_file = out / "data" / "test.jsonl"
    atomic_write_text(test_file, next(iter(kept_tests)).decode("utf-8"))
    return prepared, test_file
