"""Dedup on Ray vs the local engine, side by side on the same GSM8K-like corpus.

    python benchmarks/bench_dedup_ray.py --docs 100000            # both engines, prints the ratio
    python benchmarks/bench_dedup_ray.py --docs 1000000 --cpus 2  # the issue's 1M-document corpus

The corpus is bench_dedup.py's (question-length documents from GSM8K's word frequencies, 2%
planted near-duplicates). Local = dedup.near_duplicate_clusters in this process. Ray = the five
ray_engine stages on a fresh local Ray of --cpus CPUs, from empty stage directories; Ray start-up
is timed apart. Memory: the local engine's peak RSS (this process, corpus included); for Ray, each
worker process's peak RSS (VmHWM), and the largest RSS and USS of any worker during each stage,
sampled every 0.2 s. RSS counts the shared-memory object-store pages a worker has touched, so it
overstates what the worker holds; USS counts private pages only.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_dedup import corpus  # the sibling benchmark's generator

from datacheck.dedup.clusters import DedupConfig, near_duplicate_clusters
from datacheck.dedup.ray_engine import STAGES, RayEngineConfig, ray_dedup


class WorkerPeaks:
    """Ray worker memory, polled in a thread: each worker's lifetime peak (VmHWM), and the largest
    resident set (VmRSS) and private memory (USS) any worker had during each stage. Workers are reused across stages, so
    only the second attributes memory to a stage; the stage is read from the stage log."""

    def __init__(self, stage_log: Path, interval: float = 0.2) -> None:
        self.lifetime: dict[int, int] = {}  # pid -> KiB
        self.by_stage: dict[str, int] = {}  # stage -> KiB
        self.private_by_stage: dict[str, int] = {}  # stage -> KiB of USS (no shared pages)
        self.stage_log, self.interval = stage_log, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> WorkerPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _stage(self) -> str:
        done = len(self.stage_log.read_text().splitlines()) if self.stage_log.exists() else 0
        return STAGES[min(done, len(STAGES) - 1)]

    def _poll(self) -> None:
        while not self._stop.is_set():
            stage = self._stage()
            for proc in psutil.process_iter(["pid", "name"]):
                if not (proc.info["name"] or "").startswith("ray::"):
                    continue
                try:
                    status = Path(f"/proc/{proc.info['pid']}/status").read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                hwm, rss = (int(fields.get(k, "0 kB").split()[0]) for k in ("VmHWM", "VmRSS"))
                try:
                    uss = proc.memory_full_info().uss // 1024
                except psutil.Error:
                    uss = 0
                pid = proc.info["pid"]
                self.lifetime[pid] = max(self.lifetime.get(pid, 0), hwm)
                self.by_stage[stage] = max(self.by_stage.get(stage, 0), rss)
                self.private_by_stage[stage] = max(self.private_by_stage.get(stage, 0), uss)
            self._stop.wait(self.interval)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config = DedupConfig()
    docs, planted = corpus(args.docs, args.seed)
    n = len(docs)
    print(f"corpus: {n} docs, {len(planted)} planted near-duplicates", flush=True)

    start = time.perf_counter()
    local = near_duplicate_clusters(docs, config)
    local_s = time.perf_counter() - start
    local_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"local: {local_s:.1f} s, {n / local_s:,.0f} docs/s, peak RSS {local_peak:.0f} MB",
        flush=True,
    )

    import ray

    start = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, logging_level=logging.WARNING)
    init_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp) / "stages"
        with WorkerPeaks(workdir / "stages.jsonl") as peaks:
            start = time.perf_counter()
            out = ray_dedup(docs, config, workdir, RayEngineConfig())
            ray_s = time.perf_counter() - start
    same = out.result.clusters == local.clusters and out.result.edges == local.edges
    worker_mb = sorted((kib / 1024 for kib in peaks.lifetime.values()), reverse=True)
    figures = {
        "docs": n,
        "cpus": args.cpus,
        "local_seconds": round(local_s, 2),
        "local_docs_per_s": round(n / local_s),
        "local_peak_rss_mb": round(local_peak),
        "ray_init_seconds": round(init_s, 2),
        "ray_seconds": round(ray_s, 2),
        "ray_docs_per_s": round(n / ray_s),
        "ray_stage_seconds": {s.stage: round(s.seconds, 2) for s in out.stages},
        "ray_workers_seen": len(worker_mb),
        "ray_worker_peak_rss_mb_max": round(worker_mb[0]) if worker_mb else None,
        "ray_worker_peak_rss_mb_median": round(worker_mb[len(worker_mb) // 2])
        if worker_mb
        else None,
        "ray_worker_max_rss_mb_by_stage": {k: round(v / 1024) for k, v in peaks.by_stage.items()},
        "ray_worker_max_private_uss_mb_by_stage": {
            k: round(v / 1024) for k, v in peaks.private_by_stage.items()
        },
        "ray_over_local_speed": round(local_s / ray_s, 3),
        "same_clusters_and_edges": same,
        "clusters": len(local.clusters),
        "candidates": local.n_candidates,
    }
    print(json.dumps(figures, indent=1))
    ray.shutdown()
    if not same:
        sys.exit("Ray and local engines disagree")


if __name__ == "__main__":
    main()
