"""Near-duplicate clusters and train/test overlap, built on the batched MinHash in minhash.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from datacheck.lsh import Edge, candidate_pairs, choose_bands, connected_components, verified_edges
from datacheck.minhash import ShingleBatch, Shingler, Signer, U64, band_keys, batches, normalize_text


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

    def banding(self) -> tuple[int, int]:
        return self.bands_rows or choose_bands(self.threshold, self.num_perm, self.min_detection)


@dataclass(frozen=True, slots=True)
class Index:
    shingles: ShingleBatch
    keys: U64  # (documents, bands)

    @property
    def nonempty(self) -> np.ndarray:
        return np.diff(self.shingles.offsets) > 0


@dataclass(frozen=True, slots=True)
class DedupResult:
    bands: int
    rows: int
    n_candidates: int
    edges: list[Edge]
    clusters: list[list[int]] = field(default_factory=list)


def build_index(
    texts: Sequence[str], config: DedupConfig, *, mask_numbers: bool = False, desc: str = "minhash"
) -> Index:
    bands, rows = config.banding()
    shingler, signer = Shingler(config.ngram), Signer(config.num_perm, config.seed)
    hashes, sizes, keys = [], [], []
    with tqdm(total=len(texts), desc=desc, unit="doc", disable=None) as bar:
        for part in batches(len(texts), config.batch_size):
            docs = [normalize_text(t, mask_numbers=mask_numbers) for t in texts[part]]
            batch = shingler.shingle(docs)
            hashes.append(batch.hashes)
            sizes.append(np.diff(batch.offsets))
            keys.append(band_keys(signer.sign(batch), bands, rows))
            bar.update(len(docs))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    if sizes:
        np.cumsum(np.concatenate(sizes), out=offsets[1:])
    flat = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    all_keys = np.concatenate(keys) if keys else np.zeros((0, bands), dtype=np.uint64)
    return Index(ShingleBatch(flat, offsets), all_keys)


def near_duplicate_clusters(texts: Sequence[str], config: DedupConfig) -> DedupResult:
    bands, rows = config.banding()
    index = build_index(texts, config)
    pairs = candidate_pairs(index.keys, index.nonempty)
    edges = verified_edges(pairs, index.shingles, config.threshold)
    return DedupResult(bands, rows, len(pairs), edges, connected_components(len(texts), edges))


@dataclass(frozen=True, slots=True)
class Overlap:
    train: int
    test: int
    kind: str  # "13-gram" or "minhash"
    detail: str


def exact_ngram_overlaps(train: Sequence[str], test: Sequence[str], n: int = 13) -> dict[int, Overlap]:
    """Train rows sharing any word n-gram with a test row. 13 is GPT-3's contamination n-gram
    (Brown et al. 2020, appendix C)."""
    seen: dict[tuple[str, ...], int] = {}
    for j, text in enumerate(test):
        words = normalize_text(text)
        for k in range(len(words) - n + 1):
            seen.setdefault(tuple(words[k : k + n]), j)
    found: dict[int, Overlap] = {}
    for i, text in enumerate(train):
        words = normalize_text(text)
        for k in range(len(words) - n + 1):
            gram = tuple(words[k : k + n])
            if gram in seen:
                found[i] = Overlap(i, seen[gram], f"{n}-gram", " ".join(gram))
                break
    return found


def minhash_overlaps(train: Sequence[str], test: Sequence[str], config: DedupConfig) -> dict[int, Overlap]:
    """Train rows whose number-masked text is a verified near-duplicate of a test row."""
    index = build_index([*train, *test], config, mask_numbers=True, desc="decontaminate")
    pairs = candidate_pairs(index.keys, index.nonempty)
    n_train = len(train)
    cross = pairs[(pairs[:, 0] < n_train) & (pairs[:, 1] >= n_train)]
    found: dict[int, Overlap] = {}
    for edge in sorted(verified_edges(cross, index.shingles, config.threshold), key=lambda e: -e.jaccard):
        if edge.left not in found:
            found[edge.left] = Overlap(
                edge.left, edge.right - n_train, "minhash", f"Jaccard {edge.jaccard:.2f}, numbers masked"
            )
    return found
