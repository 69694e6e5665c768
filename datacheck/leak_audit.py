"""The leak audit: how many held-out items still have a twin among the rows kept for training.

Decontamination removes train rows; the audit then looks at what is left, from the held-out
side, and counts each held-out item whose twin a model could have memorised:
- ``verbatim``: the same question, up to case, punctuation and spacing;
- ``renamed``: the same givens, answer and calculator steps (``computation_key``), in other
  names, items or words;
- ``same_computation``: the same answer and calculator steps, whatever the question says;
- ``solution_text``: the item's whole gold solution, ``#### n`` line included, ends a kept
  train row's solution.
An item counts once per category it falls in; ``leaked_items`` counts it once in all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from datacheck.computation import computation_key, normalized_solution, solution_key
from datacheck.dedup.minhash import normalize_text
from datacheck.records import Problem

CATEGORIES = ("verbatim", "renamed", "same_computation", "solution_text")
EXAMPLES = 5  # pairs listed per category in the report


@dataclass(frozen=True, slots=True)
class SplitAudit:
    split: str
    items: int
    # category -> (held-out id, train id) for each held-out item with such a twin
    twins: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def leaked_items(self) -> int:
        return len({item for pairs in self.twins.values() for item, _ in pairs})

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "leaked_items": self.leaked_items,
            "leaked_share": self.leaked_items / self.items if self.items else 0.0,
            "by_category": {c: len(self.twins.get(c, [])) for c in CATEGORIES},
            "examples": {c: self.twins[c][:EXAMPLES] for c in CATEGORIES if self.twins.get(c)},
        }


def _solution_suffixes(p: Problem) -> list[str]:
    """Every line-aligned ending of a solution: a held-out solution inside it must be one of
    these, since both end with their only ``####`` line."""
    lines = p.raw_answer.strip().splitlines()
    return [normalized_solution("\n".join(lines[k:])) for k in range(len(lines))]


def audit_split(split: str, held_out: Sequence[Problem], train: Sequence[Problem]) -> SplitAudit:
    indexes: dict[str, dict[Any, str]] = {c: {} for c in CATEGORIES}
    for p in train:
        keys = {
            "verbatim": " ".join(normalize_text(p.question)),
            "renamed": computation_key(p),
            "same_computation": solution_key(p),
        }
        for category, key in keys.items():
            if key is not None:
                indexes[category].setdefault(key, p.id)
        for suffix in _solution_suffixes(p):
            indexes["solution_text"].setdefault(suffix, p.id)
    twins: dict[str, list[tuple[str, str]]] = {c: [] for c in CATEGORIES}
    for p in held_out:
        keys = {
            "verbatim": " ".join(normalize_text(p.question)),
            "renamed": computation_key(p),
            "same_computation": solution_key(p),
            "solution_text": normalized_solution(p.raw_answer),
        }
        for category, key in keys.items():
            match = indexes[category].get(key) if key is not None else None
            if match is not None:
                twins[category].append((p.id, match))
    return SplitAudit(split, len(held_out), {c: pairs for c, pairs in twins.items() if pairs})


def audit(held_out: Mapping[str, Sequence[Problem]], train: Sequence[Problem]) -> dict[str, SplitAudit]:
    """Every held-out split, all its items, against the train rows kept for training."""
    return {split: audit_split(split, rows, train) for split, rows in held_out.items()}
