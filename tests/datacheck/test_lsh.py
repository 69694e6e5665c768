from __future__ import annotations

import numpy as np
from datasketch import MinHashLSH

from datacheck.dedup.clusters import DedupConfig, near_duplicate_clusters
from datacheck.dedup.lsh import (
    choose_bands,
    connected_components,
    detection_probability,
    verified_edges,
)
from datacheck.dedup.minhash import Shingler, normalize_text

BASE = "the baker makes twelve loaves of bread every morning and sells them at the market near the old bridge by noon"


def test_band_choice_catches_pairs_at_the_threshold_where_datasketch_default_does_not() -> None:
    bands, rows = choose_bands(0.7, 128, min_detection=0.9)
    assert bands * rows <= 128
    assert detection_probability(0.7, bands, rows) >= 0.9
    # One more row per band would drop below 0.9: the choice is the tightest that qualifies.
    assert detection_probability(0.7, 128 // (rows + 1), rows + 1) < 0.9
    default = MinHashLSH(threshold=0.7, num_perm=128)
    assert detection_probability(0.7, default.b, default.r) < 0.5


def test_unverified_band_hits_do_not_chain_clusters() -> None:
    words = BASE.split()
    a = " ".join(words)
    b = " ".join([*words[:-1], "today"])  # A~B: one word changed
    c = " ".join(
        [
            *words[:8],
            "while",
            "her",
            "brother",
            "paints",
            "small",
            "boats",
            "down",
            "by",
            "the",
            "river",
        ]
    )  # B~C weakly
    batch = Shingler(3).shingle([normalize_text(t) for t in (a, b, c)])
    # Force every pair to be a candidate, as a chance band collision would.
    sets = {i: batch.of(i) for i in range(3)}
    edges = verified_edges(np.array([[0, 1], [1, 2], [0, 2]]), sets, threshold=0.7)
    assert [(e.left, e.right) for e in edges] == [(0, 1)]
    assert connected_components(3, edges) == [[0, 1]]


def test_end_to_end_candidates_are_verified_before_clustering() -> None:
    words = BASE.split()
    a = " ".join(words)
    b = " ".join([*words[:-1], "today"])
    c = " ".join(
        [
            *words[:10],
            "and",
            "then",
            "rides",
            "home",
            "on",
            "a",
            "red",
            "bicycle",
            "before",
            "the",
            "rain",
        ]
    )
    # One row per band: almost any shared shingle makes a candidate, so B-C and A-C are
    # band hits; only the verified A-B pair may cluster.
    result = near_duplicate_clusters([a, b, c], DedupConfig(bands_rows=(128, 1)))
    assert result.n_candidates == 3
    assert result.clusters == [[0, 1]]


def test_finds_near_duplicates_and_leaves_distinct_text_alone() -> None:
    words = BASE.split()
    docs = [
        " ".join(words),
        "A completely different story about trains crossing the desert at night with no lights on",
        " ".join([*words[:-1], "today"]),
        "",
        "Short",
    ]
    result = near_duplicate_clusters(docs, DedupConfig())
    assert result.clusters == [[0, 2]]
    assert all(e.jaccard >= 0.7 for e in result.edges)
