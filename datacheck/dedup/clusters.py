"""Near-duplicate clusters and train/test overlap, built on the batched MinHash in minhash.py."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

# The config and result live apart so ray_engine can import them without importing this module,
# which imports ray_engine (a cycle, issue 14).
from datacheck.dedup.blocks import BlockArray
from datacheck.dedup.config import DedupConfig as DedupConfig
from datacheck.dedup.config import DedupResult as DedupResult
from datacheck.dedup.lsh import Edge, candidate_pairs, connected_components, verify_pairs
from datacheck.dedup.minhash import U64, ShingleBatch, Shingler, Signer, batches


@dataclass(frozen=True, slots=True)
class Index:
    keys: U64  # (documents, bands)
    nonempty: npt.NDArray[np.bool_]  # documents with at least one shingle
    shingles: ShingleBatch  # each document's bag of shingle hashes, for verification


class IndexBuilder:
    """Band keys and shingle hashes of documents added batch by batch; the texts are not kept.

    The shingles are hashed once, here, and kept as integers (a bag per document, ~8 bytes a
    word): verification reads them instead of normalising and hashing candidates' texts a
    second time, which on a corpus with 40% near-copies was 5 of datacheck's 16 seconds."""

    def __init__(
        self, config: DedupConfig, *, mask_numbers: bool = False, desc: str = "minhash"
    ) -> None:
        self.bands, self.rows = config.banding()
        self.mask_numbers = mask_numbers
        self._shingler, self._signer = Shingler(config.ngram), Signer(config.num_perm, config.seed)
        self._keys = BlockArray(np.uint64, (self.bands,))
        self._hashes = BlockArray(np.uint64)
        self._sizes = BlockArray(np.int64)
        self._bar = tqdm(desc=desc, unit="doc", disable=None)

    def add(self, texts: Sequence[str]) -> None:
        # Bags, not sets: the signature is the same and the per-document sort is skipped.
        batch = self._shingler.shingle_texts(texts, mask_numbers=self.mask_numbers, distinct=False)
        self._keys.extend(self._signer.band_keys(batch, self.bands, self.rows))
        self._hashes.extend(batch.hashes)
        self._sizes.extend(np.diff(batch.offsets))
        self._bar.update(len(texts))

    def finish(self) -> Index:
        self._bar.close()
        sizes = self._sizes.take()
        offsets = np.zeros(sizes.size + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        keys, hashes = self._keys.take(), self._hashes.take()
        return Index(keys, sizes > 0, ShingleBatch(hashes, offsets))


def build_index(
    texts: Sequence[str], config: DedupConfig, *, mask_numbers: bool = False, desc: str = "minhash"
) -> Index:
    builder = IndexBuilder(config, mask_numbers=mask_numbers, desc=desc)
    for part in batches(len(texts), config.batch_size):
        builder.add(texts[part])
    return builder.finish()


def _verified(
    texts: Sequence[str], pairs: npt.NDArray[np.int64], config: DedupConfig, mask_numbers: bool
) -> list[Edge]:
    """Verified edges among `pairs`, shingling only the documents in them."""
    wanted = np.unique(pairs)
    batch = Shingler(config.ngram).shingle_texts(
        [texts[i] for i in wanted.tolist()], mask_numbers=mask_numbers, distinct=False
    )
    edges = verify_pairs(
        np.searchsorted(wanted, pairs).reshape(-1, 2), batch.hashes, batch.offsets, config.threshold
    )
    return [Edge(int(wanted[e.left]), int(wanted[e.right]), e.jaccard) for e in edges]


def near_duplicate_clusters(texts: Sequence[str], config: DedupConfig) -> DedupResult:
    if config.engine == "ray":
        from datacheck.dedup.ray_engine import ray_near_duplicate_clusters

        return ray_near_duplicate_clusters(texts, config)
    return streamed_near_duplicate_clusters(
        (texts[part] for part in batches(len(texts), config.batch_size)), config
    )


def streamed_near_duplicate_clusters(
    text_batches: Iterable[Sequence[str]], config: DedupConfig
) -> DedupResult:
    """near_duplicate_clusters over texts that arrive in batches (the local engine): no text is
    held past its batch, so a reader can stream a file through it."""
    builder = IndexBuilder(config)
    for texts in text_batches:
        builder.add(texts)
    index = builder.finish()
    n, shingles = len(index.nonempty), index.shingles
    pairs = candidate_pairs(index.keys, index.nonempty)
    del index  # the band keys (~170 MB at 1M documents) are not needed past the candidates
    edges = verify_pairs(pairs, shingles.hashes, shingles.offsets, config.threshold)
    return DedupResult(
        builder.bands, builder.rows, len(pairs), edges, connected_components(n, edges)
    )


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
