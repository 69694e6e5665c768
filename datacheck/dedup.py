"""Near-duplicate clusters and train/test overlap, built on the batched MinHash in minhash.py."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

# The config and result live apart so ray_engine can import them without importing this module,
# which imports ray_engine (a cycle, issue 14).
from datacheck.dedup_config import DedupConfig as DedupConfig
from datacheck.dedup_config import DedupResult as DedupResult
from datacheck.lsh import Edge, candidate_pairs, connected_components, verified_edges
from datacheck.minhash import (
    U64,
    Shingler,
    Signer,
    band_keys,
    batches,
)


@dataclass(frozen=True, slots=True)
class Index:
    keys: U64  # (documents, bands)
    nonempty: npt.NDArray[np.bool_]  # documents with at least one shingle


def build_index(
    texts: Sequence[str], config: DedupConfig, *, mask_numbers: bool = False, desc: str = "minhash"
) -> Index:
    """Band keys only: shingle sets are not kept (at 1M documents they would double the peak
    memory); the few documents in candidate pairs are re-shingled for verification."""
    bands, rows = config.banding()
    shingler, signer = Shingler(config.ngram), Signer(config.num_perm, config.seed)
    keys = np.zeros((len(texts), bands), dtype=np.uint64)
    nonempty = np.zeros(len(texts), dtype=bool)
    with tqdm(total=len(texts), desc=desc, unit="doc", disable=None) as bar:
        for part in batches(len(texts), config.batch_size):
            # Bags, not sets: the signature is the same and the per-document sort is skipped.
            batch = shingler.shingle_texts(texts[part], mask_numbers=mask_numbers, distinct=False)
            keys[part] = band_keys(signer.sign(batch), bands, rows)
            nonempty[part] = np.diff(batch.offsets) > 0
            bar.update(part.stop - part.start)
    return Index(keys, nonempty)


def shingle_sets(
    texts: Sequence[str], indices: Iterable[int], config: DedupConfig, *, mask_numbers: bool = False
) -> dict[int, U64]:
    wanted = sorted(set(indices))
    batch = Shingler(config.ngram).shingle_texts(
        [texts[i] for i in wanted], mask_numbers=mask_numbers
    )
    return {i: batch.of(k) for k, i in enumerate(wanted)}


def _verified(
    texts: Sequence[str], pairs: npt.NDArray[np.int64], config: DedupConfig, mask_numbers: bool
) -> list[Edge]:
    sets = shingle_sets(texts, pairs.ravel().tolist(), config, mask_numbers=mask_numbers)
    return verified_edges(pairs, sets, config.threshold)


def near_duplicate_clusters(texts: Sequence[str], config: DedupConfig) -> DedupResult:
    if config.engine == "ray":
        from datacheck.ray_engine import ray_near_duplicate_clusters

        return ray_near_duplicate_clusters(texts, config)
    bands, rows = config.banding()
    index = build_index(texts, config)
    pairs = candidate_pairs(index.keys, index.nonempty)
    edges = _verified(texts, pairs, config, mask_numbers=False)
    return DedupResult(bands, rows, len(pairs), edges, connected_components(len(texts), edges))


@dataclass(frozen=True, slots=True)
class Overlap:
    train: int
    test: int
    kind: str  # the rule: "13-gram", "minhash", "computation" or "template"
    detail: str


def minhash_overlaps(
    train: Sequence[str], test: Sequence[str], config: DedupConfig, *, mask_numbers: bool = True
) -> dict[int, Overlap]:
    """Train rows whose text (numbers masked, by default) is a verified near-duplicate of a test row."""
    texts = [*train, *test]
    index = build_index(texts, config, mask_numbers=mask_numbers, desc="decontaminate")
    pairs = candidate_pairs(index.keys, index.nonempty)
    n_train = len(train)
    cross = pairs[(pairs[:, 0] < n_train) & (pairs[:, 1] >= n_train)]
    found: dict[int, Overlap] = {}
    for edge in sorted(
        _verified(texts, cross, config, mask_numbers=mask_numbers), key=lambda e: -e.jaccard
    ):
        if edge.left not in found:
            found[edge.left] = Overlap(
                edge.left,
                edge.right - n_train,
                "template" if mask_numbers else "minhash",
                f"Jaccard {edge.jaccard:.2f}" + (", numbers masked" if mask_numbers else ""),
            )
    return found
