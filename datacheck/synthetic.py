"""``datacheck clean synthetic``'s input: the embedded task's splits, with a few planted flaws.

The task itself (templates, computations, the held-out split) lives on the ground floor in
``reasonkit.tasks``, where reasoneval reads it too. This module adds what datacheck needs: a few
known flaws planted in train (recorded in a manifest, so tests can check that each is rejected
by the right check) and the files ``datacheck clean`` reads and writes.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from datacheck.flaws import broken_annotation, wrong_label
from reasonkit.artifacts import atomic_write_text
from reasonkit.tasks.arithmetic import NEAR_DUPLICATE_SUFFIX
from reasonkit.tasks.split import DEFAULT_HELD_OUT, DEFAULT_SIZES, HeldOut, SplitSizes, draw_rows

SCHEMA_VERSION = 2  # 2: held-out splits cut by computation; val and test-ood added
FlawKind = Literal["near_duplicate", "wrong_label", "broken_annotation"]


@dataclass(frozen=True, slots=True)
class Flaw:
    id: str
    kind: FlawKind
    duplicate_of: str | None = None  # near_duplicate: the id of the row it copies


@dataclass(frozen=True, slots=True)
class SyntheticSet:
    splits: dict[str, tuple[dict[str, str], ...]]  # train (flawed), val, test, test-ood
    flaws: tuple[Flaw, ...]
    held_out: HeldOut

    @property
    def train(self) -> tuple[dict[str, str], ...]:
        return self.splits["train"]

    @property
    def test(self) -> tuple[dict[str, str], ...]:
        return self.splits["test"]


def _plant_flaws(rows: list[dict[str, str]], per_kind: int, rng: random.Random) -> tuple[Flaw, ...]:
    """Overwrite a few train rows with known defects; the rest stay clean."""
    if per_kind == 0:
        return ()
    if len(rows) < 4 * per_kind:
        raise ValueError(f"need at least {4 * per_kind} train rows to plant {per_kind} flaws/kind")
    chosen = rng.sample(range(len(rows)), 4 * per_kind)
    flaws = []
    for k, index in enumerate(chosen[: 3 * per_kind]):
        row, row_id = rows[index], f"synthetic/train/{index}"
        kind: FlawKind = ("near_duplicate", "wrong_label", "broken_annotation")[k % 3]
        if kind == "near_duplicate":
            source = chosen[3 * per_kind + k // 3]
            rows[index] = {
                "question": rows[source]["question"] + NEAR_DUPLICATE_SUFFIX,
                "answer": rows[source]["answer"],
            }
            flaws.append(Flaw(row_id, kind, f"synthetic/train/{source}"))
        elif kind == "wrong_label":
            rows[index] = {**row, "answer": wrong_label(row["answer"], rng)}
            flaws.append(Flaw(row_id, kind))
        else:  # the annotation claims a wrong result; the prose after it agrees with the truth
            rows[index] = {**row, "answer": broken_annotation(row["answer"], rng, slip=False)}
            flaws.append(Flaw(row_id, kind))
    return tuple(sorted(flaws, key=lambda f: int(f.id.rpartition("/")[2])))


def generate_synthetic(
    out_dir: str | os.PathLike[str] | None,
    *,
    sizes: SplitSizes = DEFAULT_SIZES,
    seed: int = 0,
    held_out: HeldOut = DEFAULT_HELD_OUT,
    flaws_per_kind: int = 3,
) -> SyntheticSet:
    """Draw every split (``reasonkit.tasks.split``) and plant train flaws.

    With ``out_dir``, writes one ``SPLIT.jsonl`` per split (GSM8K layout), ``flaws.json`` (the
    planted-flaw manifest) and ``synthetic.json`` (the generator's settings).
    """
    drawn = draw_rows(sizes, seed=seed, held_out=held_out)
    train = [dict(r) for r in drawn.splits["train"]]
    flaws = _plant_flaws(train, flaws_per_kind, random.Random(f"flaws:{seed}"))
    result = SyntheticSet({**drawn.splits, "train": tuple(train)}, flaws, held_out)
    if out_dir is not None:
        settings = {
            "schema_version": SCHEMA_VERSION, "seed": seed, "sizes": asdict(sizes),
            "flaws_per_kind": flaws_per_kind, "held_out": asdict(held_out),
        }  # fmt: skip
        write_synthetic(Path(out_dir), result, settings)
    return result


def write_synthetic(out: Path, data: SyntheticSet, settings: Mapping[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for split, rows in data.splits.items():
        atomic_write_text(out / f"{split}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    manifest = {"schema_version": SCHEMA_VERSION, "flaws": [asdict(f) for f in data.flaws]}
    atomic_write_text(out / "flaws.json", json.dumps(manifest, indent=2) + "\n")
    atomic_write_text(out / "synthetic.json", json.dumps(settings, indent=2) + "\n")
