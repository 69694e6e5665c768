"""What one clean produces, before anything is written: kept rows, rejections, clusters, overlaps."""

from __future__ import annotations

from dataclasses import dataclass, field

from datacheck.leak_audit import SplitAudit
from datacheck.records import Problem, Rejection


@dataclass(frozen=True, slots=True)
class Cluster:
    split: str
    kept: str
    members: tuple[str, ...]
    edges: tuple[tuple[str, str, float], ...]


@dataclass(slots=True)
class CleanResult:
    kept: dict[str, list[Problem]]
    rejected: list[Rejection]
    clusters: list[Cluster]
    overlaps: list[tuple[str, str, str, str]]  # (train id, test id, kind, detail)
    bands_rows: tuple[int, int]
    n_rows: dict[str, int] = field(default_factory=dict)
    leak_audit: dict[str, SplitAudit] = field(default_factory=dict)  # held-out split -> audit
