"""The per-block work of datacheck's Ray engine. These functions run inside Ray workers; each
wraps datacheck's own MinHash/LSH code, so the Ray engine computes what the local engine does."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from datacheck.dedup.lsh import MAX_BUCKET_NEIGHBOURS, jaccard
from datacheck.dedup.minhash import Shingler, Signer, band_keys, normalize_text

EDGE_SCHEMA = pa.schema([("left", pa.int64()), ("right", pa.int64()), ("jaccard", pa.float64())])


def sign_block(
    batch: pa.Table, *, ngram: int, num_perm: int, seed: int, mask_numbers: bool
) -> pa.Table:
    docs = [normalize_text(t, mask_numbers=mask_numbers) for t in batch["text"].to_pylist()]
    shingles = Shingler(ngram).shingle(docs)
    signatures = Signer(num_perm, seed).sign(shingles)
    return pa.table(
        {
            "i": batch["i"],
            "shingles": pa.LargeListArray.from_arrays(
                pa.array(shingles.offsets), pa.array(shingles.hashes)
            ),
            "signature": pa.FixedSizeListArray.from_arrays(pa.array(signatures.ravel()), num_perm),
        }
    )


def band_block(batch: pa.Table, *, bands: int, rows: int, num_perm: int) -> pa.Table:
    # Documents with no shingles join no bucket, as in lsh.candidate_pairs(active=nonempty).
    active = pc.list_value_length(batch["shingles"]).to_numpy() > 0
    flat = batch["signature"].combine_chunks().flatten().to_numpy(zero_copy_only=False)
    keys = band_keys(flat.reshape(-1, num_perm).astype(np.uint32)[active], bands, rows)
    index = batch["i"].to_numpy()[active]
    return pa.table(
        {
            "i": np.repeat(index, bands),
            "band": np.tile(np.arange(bands, dtype=np.int32), len(index)),
            "key": keys.ravel(),
        }
    )


def bucket_pairs(group: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[np.int64]]:
    """lsh.candidate_pairs for the buckets of one group: every bucket lies wholly in one group."""
    order = np.lexsort((group["i"], group["key"], group["band"]))
    band, key, index = group["band"][order], group["key"][order], group["i"][order]
    new_bucket = (band[1:] != band[:-1]) | (key[1:] != key[:-1])
    run = np.concatenate(([0], np.cumsum(new_bucket)))
    lefts, rights = [], []
    for gap in range(1, MAX_BUCKET_NEIGHBOURS + 1):
        same = run[gap:] == run[:-gap]
        if not same.any():
            break
        lefts.append(index[:-gap][same])
        rights.append(index[gap:][same])
    empty = np.zeros(0, dtype=np.int64)
    return {
        "left": np.concatenate(lefts).astype(np.int64) if lefts else empty,
        "right": np.concatenate(rights).astype(np.int64) if rights else empty,
    }


def route_block(batch: pa.Table, *, needs: npt.NDArray[np.int64]) -> pa.Table:
    """One row per (document, pair group that needs its shingles); `needs` is sorted by node."""
    index = batch["i"].to_numpy()
    lo = np.searchsorted(needs[:, 0], index, "left")
    hi = np.searchsorted(needs[:, 0], index, "right")
    counts = hi - lo
    rows = np.repeat(np.arange(len(index)), counts)
    at = (
        np.repeat(lo, counts) + np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    return pa.table(
        {
            "group": needs[at, 1],
            "i": index[rows],
            "shingles": batch["shingles"].take(pa.array(rows)),
        }
    )


def verify_group(
    group: pa.Table,
    *,
    pairs: npt.NDArray[np.int64],
    bounds: npt.NDArray[np.int64],
    threshold: float,
) -> pa.Table:
    g = int(group["group"][0].as_py())
    mine = pairs[bounds[g] : bounds[g + 1]]
    shingles = dict(zip(group["i"].to_pylist(), group["shingles"].to_pylist(), strict=True))
    similarity = np.array(
        [
            jaccard(np.asarray(shingles[a], np.uint64), np.asarray(shingles[b], np.uint64))
            for a, b in mine.tolist()
        ],
        dtype=np.float64,
    )
    keep = similarity >= threshold
    return pa.table({"left": mine[keep, 0], "right": mine[keep, 1], "jaccard": similarity[keep]})


def drop_block(batch: pa.Table, *, removed: npt.NDArray[np.int64]) -> pa.Table:
    return batch.filter(pa.array(~np.isin(batch["i"].to_numpy(), removed)))
