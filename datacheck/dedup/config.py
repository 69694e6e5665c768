"""What a near-duplicate search is asked (DedupConfig) and what it returns (DedupResult).

Shared by the local engine (clusters.py) and the Ray engine (ray_engine.py), which clusters.py
imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from datacheck.dedup.lsh import Edge, choose_bands


@dataclass(frozen=True, slots=True)
class DedupConfig:
    # 0.7 word-3-gram Jaccard: the near-duplicate threshold of Lee et al. 2022, "Deduplicating
    # Training Data Makes Language Models Better" (they used 5-grams at 0.8 on web text; short
    # GSM8K questions need a lower bar to catch the same problem re-worded in a clause).
    threshold: float = 0.7
    num_perm: int = 128
    ngram: int = 3
    seed: int = 1
    min_detection: float = 0.9  # P(candidate) for a pair exactly at the threshold
    batch_size: int = 2048
    bands_rows: tuple[int, int] | None = None  # None: choose_bands(threshold, num_perm, ...)
    engine: str = "local"  # "ray": datacheck.dedup.ray_engine's resumable Ray Data stages
    ray_workdir: str | None = None  # engine="ray": where the stages write (the resume point)
    ray_address: str | None = None  # None: a local Ray; "auto" / "ray://host:10001": a cluster

    def banding(self) -> tuple[int, int]:
        return self.bands_rows or choose_bands(self.threshold, self.num_perm, self.min_detection)



@dataclass(frozen=True, slots=True)
class DedupResult:
    bands: int
    rows: int
    n_candidates: int
    edges: Sequence[Edge]
    clusters: list[list[int]] = field(default_factory=list)
