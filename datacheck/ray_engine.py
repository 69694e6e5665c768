"""`--engine ray`: dedup.py's MinHash near-duplicate search as five resumable Ray Data stages.

    1_signatures   normalise, shingle, MinHash     (Ray Data map over blocks of documents)
    2_band_keys    one row per (document, band)    (Ray Data map)
    3_edges        band buckets -> candidate pairs (Ray Data groupby), then exact Jaccard on each
                   pair (a second groupby brings both documents' shingles to the pair)
    4_components   union-find over verified edges  (on the driver; see the limit below)
    5_kept         the corpus minus the non-survivors of each cluster (Ray Data filter)

Every per-document function is datacheck's own (normalize_text, Shingler, Signer, band_keys,
jaccard, connected_components), and bucket pairing follows lsh.candidate_pairs exactly (members
in index order, at most MAX_BUCKET_NEIGHBOURS ahead), so clusters and kept rows equal the local
engine's. Each stage writes parquet/JSON under `workdir/<stage>/` with a `_stage.json` marker that
records the hash of its inputs; a rerun reuses every stage whose marker matches, so a killed job
resumes at the first unfinished stage. `workdir/stages.jsonl` logs each stage as ran or reused.

Scale limits, honestly: candidate pairs are de-duplicated on the driver (one int64 pair per
candidate) and stage 4 holds the verified edges there (~40 bytes each): tens of millions of pairs
fit in a few GB. The input texts also start on the driver (`texts` is a Python sequence).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from datacheck.dedup import DedupConfig, DedupResult
from datacheck.lsh import MAX_BUCKET_NEIGHBOURS, Edge, connected_components, jaccard
from datacheck.minhash import Shingler, Signer, band_keys, normalize_text

STAGES = ("1_signatures", "2_band_keys", "3_edges", "4_components", "5_kept")
EDGE_SCHEMA = pa.schema([("left", pa.int64()), ("right", pa.int64()), ("jaccard", pa.float64())])
STAGE_SCHEMA = 1  # bump when a stage's output format changes: old markers stop matching


@dataclass(frozen=True, slots=True)
class RayEngineConfig:
    address: str | None = None  # None: start a local Ray; "auto" or "ray://host:10001": join one
    num_cpus: int | None = None  # local Ray only
    block_docs: int = 20_000  # documents per block in stage 1 (one task each)
    bucket_rows: int = 4_000_000  # (document, band) rows per stage-3 group, at most
    join_partitions: int | None = None  # None: the cluster's CPU count, at least 2
    progress: bool = False  # Ray Data progress bars
    # Sort-based shuffles run as plain tasks; the default hash shuffle first starts a pool of
    # aggregator actors, which costs more than the work on a small cluster. "shuffle_v2" (hash)
    # is the better choice on a large one.
    shuffle: str = "sort_shuffle_pull_based"


@dataclass(frozen=True, slots=True)
class StageRun:
    stage: str
    status: Literal["ran", "reused"]
    seconds: float


@dataclass(frozen=True, slots=True)
class RayDedupOutput:
    result: DedupResult
    kept: tuple[int, ...]  # document indices that survive stage 5, ascending
    stages: tuple[StageRun, ...]


def ensure_ray(engine: RayEngineConfig) -> None:
    import ray

    if not ray.is_initialized():  # else: the caller's ray.init(...) stands
        ray.init(
            address=engine.address,
            num_cpus=engine.num_cpus if engine.address is None else None,
            include_dashboard=False,
            logging_level=logging.WARNING,
        )
    import ray.data

    ray.data.DataContext.get_current().enable_progress_bars = engine.progress
    if not engine.progress:  # Ray Data logs every operator's progress at INFO otherwise
        logging.getLogger("ray.data").setLevel(logging.WARNING)


def _hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps([STAGE_SCHEMA, *parts]).encode()).hexdigest()


def texts_hash(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        data = t.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


class StageStore:
    """One directory per stage; `_stage.json` is written last, so its presence means complete."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs: list[StageRun] = []
        root.mkdir(parents=True, exist_ok=True)

    def path(self, stage: str) -> Path:
        return self.root / stage

    def meta(self, stage: str) -> dict[str, Any]:
        return dict(json.loads((self.path(stage) / "_stage.json").read_text()))

    def run(
        self, stage: str, input_hash: str, build: Callable[[Path], dict[str, Any]]
    ) -> dict[str, Any]:
        started = time.perf_counter()
        marker = self.path(stage) / "_stage.json"
        if marker.is_file() and self.meta(stage).get("input_hash") == input_hash:
            self._log(StageRun(stage, "reused", time.perf_counter() - started))
            return self.meta(stage)
        tmp = self.root / f".{stage}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        meta = {"stage": stage, "input_hash": input_hash, **build(tmp)}
        (tmp / "_stage.json").write_text(json.dumps(meta, indent=1) + "\n")
        shutil.rmtree(self.path(stage), ignore_errors=True)
        os.replace(tmp, self.path(stage))
        self._log(StageRun(stage, "ran", time.perf_counter() - started))
        return meta

    def _log(self, entry: StageRun) -> None:
        self.runs.append(entry)
        line = {"stage": entry.stage, "status": entry.status, "seconds": round(entry.seconds, 3)}
        with (self.root / "stages.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")


# --- per-block functions; they run inside Ray workers -------------------------------------------


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


# --- the pipeline --------------------------------------------------------------------------------


def _parquet(stage_dir: Path) -> str:
    return str(stage_dir / "data")


def _write_table(table: pa.Table, out: Path) -> None:
    (out / "data").mkdir()
    pq.write_table(table, out / "data" / "part-0.parquet")


def ray_dedup(
    texts: Sequence[str],
    config: DedupConfig,
    workdir: Path,
    engine: RayEngineConfig | None = None,
    *,
    prefer_drop: Sequence[bool] | None = None,
) -> RayDedupOutput:
    """Clusters as dedup.near_duplicate_clusters, and the survivors of the keep policy: per
    cluster the first member by (prefer_drop[i], i), i.e. passes-so-far first, then lowest index."""
    import ray.data
    from ray.data.context import ShuffleStrategy

    engine = engine or RayEngineConfig()
    ensure_ray(engine)
    ray.data.DataContext.get_current().shuffle_strategy = ShuffleStrategy(engine.shuffle)
    store = StageStore(Path(workdir))
    bands, rows = config.banding()
    n = len(texts)
    blocks = max(1, math.ceil(n / engine.block_docs))
    source = pa.table(
        {"i": np.arange(n, dtype=np.int64), "text": pa.array(list(texts), pa.string())}
    )

    def documents() -> ray.data.Dataset:
        return ray.data.from_arrow(source, override_num_blocks=blocks)

    h1 = _hash(texts_hash(texts), config.ngram, config.num_perm, config.seed, False)

    def signatures(out: Path) -> dict[str, Any]:
        sign = partial(
            sign_block, ngram=config.ngram, num_perm=config.num_perm, seed=config.seed,
            mask_numbers=False,
        )  # fmt: skip
        documents().map_batches(sign, batch_format="pyarrow", batch_size=None).write_parquet(
            _parquet(out)
        )
        return {"documents": n}

    store.run(STAGES[0], h1, signatures)
    h2 = _hash(h1, bands, rows)

    def keys(out: Path) -> dict[str, Any]:
        band = partial(band_block, bands=bands, rows=rows, num_perm=config.num_perm)
        ray.data.read_parquet(_parquet(store.path(STAGES[0]))).map_batches(
            band, batch_format="pyarrow", batch_size=None
        ).write_parquet(_parquet(out))
        return {"bands": bands, "rows": rows}

    store.run(STAGES[1], h2, keys)
    h3 = _hash(h2, config.threshold, MAX_BUCKET_NEIGHBOURS)

    def edges(out: Path) -> dict[str, Any]:
        pairs = _candidate_pairs(store.path(STAGES[1]), n * bands, bands, engine)
        _write_table(_verify(pairs, store.path(STAGES[0]), config.threshold, engine), out)
        return {"candidates": len(pairs)}

    n_candidates = int(store.run(STAGES[2], h3, edges)["candidates"])
    h4 = _hash(h3)

    def components(out: Path) -> dict[str, Any]:
        found = _read_edges(store.path(STAGES[2]))
        clusters = connected_components(n, found)
        (out / "clusters.jsonl").write_text("".join(json.dumps(c) + "\n" for c in clusters))
        return {"clusters": len(clusters), "edges": len(found)}

    store.run(STAGES[3], h4, components)
    verified = _read_edges(store.path(STAGES[2]))
    clusters = [
        json.loads(line)
        for line in (store.path(STAGES[3]) / "clusters.jsonl").read_text().splitlines()
    ]
    drop = [False] * n if prefer_drop is None else list(prefer_drop)
    if len(drop) != n:
        raise ValueError(f"prefer_drop has {len(drop)} entries for {n} documents")
    removed = np.array(
        sorted(i for c in clusters for i in c if i != min(c, key=lambda j: (drop[j], j))),
        dtype=np.int64,
    )

    def kept(out: Path) -> dict[str, Any]:
        documents().map_batches(
            partial(drop_block, removed=removed), batch_format="pyarrow", batch_size=None
        ).write_parquet(_parquet(out))
        return {"kept": n - len(removed)}

    store.run(STAGES[4], _hash(h4, hashlib.sha256(bytes(drop)).hexdigest()), kept)
    survivors = pq.read_table(_parquet(store.path(STAGES[4])), columns=["i"])["i"].to_numpy()
    result = DedupResult(bands, rows, n_candidates, verified, clusters)
    return RayDedupOutput(result, tuple(sorted(survivors.tolist())), tuple(store.runs))


def ray_near_duplicate_clusters(
    texts: Sequence[str], config: DedupConfig, workdir: Path, engine: RayEngineConfig | None = None
) -> DedupResult:
    """Drop-in for dedup.near_duplicate_clusters."""
    return ray_dedup(texts, config, workdir, engine).result


def _candidate_pairs(
    band_keys_dir: Path, n_rows: int, bands: int, engine: RayEngineConfig
) -> npt.NDArray[np.int64]:
    import ray.data

    # Group = (band, key mod parts): a bucket never straddles two groups, and each group stays
    # near engine.bucket_rows rows however large the corpus.
    parts = max(1, math.ceil(n_rows / bands / engine.bucket_rows))

    def with_group(batch: pa.Table) -> pa.Table:
        key = batch["key"].to_numpy()
        group = batch["band"].to_numpy().astype(np.int64) * parts + (key % np.uint64(parts)).astype(
            np.int64
        )
        return batch.append_column("group", pa.array(group))

    grouped = (
        ray.data.read_parquet(_parquet(band_keys_dir))
        .map_batches(with_group, batch_format="pyarrow", batch_size=None)
        .groupby("group")
        .map_groups(bucket_pairs, batch_format="numpy")
    )
    found = [
        np.stack([b["left"], b["right"]], axis=1)
        for b in grouped.iter_batches(batch_format="numpy", batch_size=None)
        if len(b["left"])
    ]
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found).astype(np.int64), axis=0)  # a pair in several bands


def _verify(
    pairs: npt.NDArray[np.int64], signatures_dir: Path, threshold: float, engine: RayEngineConfig
) -> pa.Table:
    """Exact Jaccard of every candidate, in parallel. The driver already holds the pairs, so it
    assigns each to a group and each document's shingles are sent to every group that needs them:
    one shuffle (a groupby), where a join per side would take two."""
    import ray
    import ray.data

    if len(pairs) == 0:
        return EDGE_SCHEMA.empty_table()
    cpus = int(ray.cluster_resources().get("CPU", 2))  # type: ignore[no-untyped-call]
    groups = engine.join_partitions or max(2, cpus, math.ceil(len(pairs) / 200_000))
    pairs = pairs[np.argsort(pairs[:, 0] % groups, kind="stable")]
    pair_group = pairs[:, 0] % groups
    needs = np.unique(
        np.concatenate(
            [np.stack([pairs[:, 0], pair_group], 1), np.stack([pairs[:, 1], pair_group], 1)]
        ),
        axis=0,
    )
    bounds = np.searchsorted(pair_group, np.arange(groups + 1))
    return pa.concat_tables(
        [EDGE_SCHEMA.empty_table()]
        + [
            pa.table(t).cast(EDGE_SCHEMA)
            for t in ray.data.read_parquet(_parquet(signatures_dir))
            .select_columns(["i", "shingles"])
            .map_batches(partial(route_block, needs=needs), batch_format="pyarrow", batch_size=None)
            .groupby("group")
            .map_groups(
                partial(verify_group, pairs=pairs, bounds=bounds, threshold=threshold),
                batch_format="pyarrow",
            )
            .iter_batches(batch_format="pyarrow", batch_size=None)
        ]
    ).sort_by([("left", "ascending"), ("right", "ascending")])


def _read_edges(edges_dir: Path) -> list[Edge]:
    table = pq.read_table(_parquet(edges_dir))
    return [
        Edge(int(a), int(b), float(s))
        for a, b, s in zip(
            table["left"].to_pylist(),
            table["right"].to_pylist(),
            table["jaccard"].to_pylist(),
            strict=True,
        )
    ]
