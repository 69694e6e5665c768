"""The compiled dedup (issue 27) finds what the numpy/Python code before it found, exactly.

The corpus below is heavily duplicated (half of it copies of copies, with 0-2 words changed and
punctuation added) over a 66-word vocabulary, so random documents share many shingles and most
candidate pairs fail verification. Its clusters, verified edges (with their exact Jaccard) and
candidate count were recorded with the code of commit c7c0c35, before the compiled kernels.
"""

from __future__ import annotations

import hashlib
import json
import random

from datacheck.dedup.clusters import DedupConfig, near_duplicate_clusters
from datacheck.dedup.lsh import jaccard
from datacheck.dedup.minhash import Shingler, normalize_text

# Recorded with c7c0c35's datacheck.dedup.near_duplicate_clusters(heavy_corpus(), DedupConfig()).
BEFORE = {
    "clusters": 457,
    "members": 1178,
    "edges": 993,
    "candidates": 1395,
    "sha256": "0d039257a825a4f3d61f5b14f929669c24a4669d7f81dca210897e696af152da",
}


def heavy_corpus(n: int = 2400, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    vocab = [f"w{k}" for k in range(60)] + ["How", "many", "apples?", "<<3*4=12>>12", "Café", "½"]
    docs = [" ".join(rng.choices(vocab, k=rng.randint(2, 40))) for _ in range(n // 2)]
    while len(docs) < n:
        words = rng.choice(docs).split()
        for _ in range(rng.choice([0, 1, 1, 2])):
            words[rng.randrange(len(words))] = rng.choice(vocab)
        docs.append(" ".join(words) + rng.choice(["", "!", " .", "  "]))
    rng.shuffle(docs)
    return [*docs, "", "!!!", "one", "one two"]


def test_same_clusters_edges_and_candidates_as_before_the_compiled_kernels() -> None:
    docs = heavy_corpus()
    result = near_duplicate_clusters(docs, DedupConfig())
    edges = [(e.left, e.right, e.jaccard) for e in result.edges]
    found = {
        "clusters": len(result.clusters),
        "members": sum(map(len, result.clusters)),
        "edges": len(edges),
        "candidates": result.n_candidates,
        "sha256": hashlib.sha256(json.dumps([result.clusters, edges]).encode()).hexdigest(),
    }
    assert found == BEFORE
    # And every edge is a true one, by Python's own sets of the normalised words' 3-grams.
    grams = [
        {tuple(w[k : k + 3]) for k in range(max(1, len(w) - 2))}
        for w in (normalize_text(d) for d in docs)
    ]
    for left, right, similarity in edges:
        a, b = grams[left], grams[right]
        assert similarity == len(a & b) / len(a | b) >= 0.7


def test_verification_is_exact_at_the_threshold_boundary() -> None:
    # With 1 row per band the pair is a candidate; it is an edge at a threshold equal to its
    # exact Jaccard (32/44), and not at one a hair above.
    words = [f"w{k}" for k in range(40)]
    a = " ".join(words)
    b = " ".join(words[:-6] + [f"x{k}" for k in range(6)])
    batch = Shingler(3).shingle([normalize_text(a), normalize_text(b)])
    exact = jaccard(batch.of(0), batch.of(1))
    for threshold, linked in ((exact, True), (exact + 1e-9, False)):
        result = near_duplicate_clusters([a, b], DedupConfig(threshold=threshold, bands_rows=(128, 1)))
        assert result.n_candidates == 1
        assert (result.clusters == [[0, 1]]) is linked


def test_a_bucket_of_seventy_copies_pairs_each_with_its_next_64() -> None:
    # MAX_BUCKET_NEIGHBOURS: 70 copies share every band; pairs further than 64 apart in index
    # order are not candidates (15 of the 2,415), and the copies still form one cluster.
    copy = "every morning the baker sells twelve loaves of bread at the market"
    result = near_duplicate_clusters([copy] * 70, DedupConfig())
    assert result.n_candidates == 70 * 69 // 2 - 15 == len(result.edges)
    assert result.clusters == [list(range(70))]
