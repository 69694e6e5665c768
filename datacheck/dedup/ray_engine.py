"""`--engine ray`: clusters.py's MinHash near-duplicate search as five resumable Ray Data stages.

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
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from datacheck.dedup.config import DedupConfig, DedupResult
from datacheck.dedup.lsh import MAX_BUCKET_NEIGHBOURS, Edge, connected_components
from datacheck.dedup.ray_blocks import (
    EDGE_SCHEMA,
    band_block,
    bucket_pairs,
    drop_block,
    route_block,
    sign_block,
    verify_group,
)
from datacheck.dedup.ray_stages import StageRun, StageStore, stage_hash, texts_hash
from reasonkit.errors import InputError

STAGES = ("1_signatures", "2_band_keys", "3_edges", "4_components", "5_kept")


@dataclass(frozen=True, slots=True)
class RayEngineConfig:
    address: str | None = None  # None: start a local Ray; "auto" or "ray://host:10001": join one
    num_cpus: int | None = None  # local Ray only
    block_docs: int = 20_000  # documents per block in stage 1 (one task each)
    bucket_rows: int = 1_000_000  # (document, band) rows per stage-3 group and reduce task
    verify_groups: int | None = None  # stage-3 verification groups; None: from CPUs and pairs
    progress: bool = False  # Ray Data progress bars
    # Sort-based shuffles run as plain tasks; the default hash shuffle first starts a pool of
    # aggregator actors, which costs more than the work on a small cluster. "shuffle_v2" (hash)
    # is the better choice on a large one.
    shuffle: str = "sort_shuffle_pull_based"


@dataclass(frozen=True, slots=True)
class RayDedupOutput:
    result: DedupResult
    kept: tuple[int, ...]  # document indices that survive stage 5, ascending
    stages: tuple[StageRun, ...]


def ensure_ray(engine: RayEngineConfig) -> None:
    try:
        import ray
    except ImportError as err:
        raise InputError(f"--engine ray needs Ray Data: pip install -e '.[scale]' ({err})") from err

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

    h1 = stage_hash(texts_hash(texts), config.ngram, config.num_perm, config.seed, False)

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
    h2 = stage_hash(h1, bands, rows)

    def keys(out: Path) -> dict[str, Any]:
        band = partial(band_block, bands=bands, rows=rows, num_perm=config.num_perm)
        ray.data.read_parquet(_parquet(store.path(STAGES[0]))).map_batches(
            band, batch_format="pyarrow", batch_size=None
        ).write_parquet(_parquet(out))
        return {"bands": bands, "rows": rows}

    store.run(STAGES[1], h2, keys)
    h3 = stage_hash(h2, config.threshold, MAX_BUCKET_NEIGHBOURS)

    def edges(out: Path) -> dict[str, Any]:
        pairs = _candidate_pairs(store.path(STAGES[1]), n * bands, bands, engine)
        _write_table(_verify(pairs, store.path(STAGES[0]), config.threshold, engine), out)
        return {"candidates": len(pairs)}

    n_candidates = int(store.run(STAGES[2], h3, edges)["candidates"])
    h4 = stage_hash(h3)

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

    store.run(STAGES[4], stage_hash(h4, hashlib.sha256(bytes(drop)).hexdigest()), kept)
    survivors = pq.read_table(_parquet(store.path(STAGES[4])), columns=["i"])["i"].to_numpy()
    result = DedupResult(bands, rows, n_candidates, verified, clusters)
    return RayDedupOutput(result, tuple(sorted(survivors.tolist())), tuple(store.runs))


def ray_near_duplicate_clusters(
    texts: Sequence[str], config: DedupConfig, workdir: Path | None = None
) -> DedupResult:
    """Drop-in for dedup.near_duplicate_clusters, which calls it for DedupConfig(engine="ray").
    Each corpus gets its own stage directory, named by its hash, so `clean`'s train and test
    splits keep separate resume points under one --out."""
    if workdir is None:
        if config.ray_workdir is None:
            raise InputError("--engine ray needs a stage directory (DedupConfig.ray_workdir)")
        workdir = Path(config.ray_workdir) / f"corpus-{texts_hash(texts)[:12]}"
    # Ray Data's progress bars when someone is watching; in logs they become periodic lines.
    engine = RayEngineConfig(address=config.ray_address, progress=sys.stderr.isatty())
    return ray_dedup(texts, config, workdir, engine).result


def _candidate_pairs(
    band_keys_dir: Path, n_rows: int, bands: int, engine: RayEngineConfig
) -> npt.NDArray[np.int64]:
    import ray.data

    # Group = (band, key mod parts): a bucket never straddles two groups, and each group stays
    # near engine.bucket_rows rows however large the corpus.
    parts = max(1, math.ceil(n_rows / bands / engine.bucket_rows))
    # One reduce task per ~bucket_rows rows: fewer would each hold several bands in memory.
    reducers = min(bands * parts, max(2, math.ceil(n_rows / engine.bucket_rows)))

    def with_group(batch: pa.Table) -> pa.Table:
        key = batch["key"].to_numpy()
        group = batch["band"].to_numpy().astype(np.int64) * parts + (key % np.uint64(parts)).astype(
            np.int64
        )
        return batch.append_column("group", pa.array(group))

    grouped = (
        ray.data.read_parquet(_parquet(band_keys_dir))
        .map_batches(with_group, batch_format="pyarrow", batch_size=None)
        .groupby("group", num_partitions=reducers)
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
    groups = engine.verify_groups or max(2, cpus, math.ceil(len(pairs) / 200_000))
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
