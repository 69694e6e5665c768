"""Dedup speed: datacheck's batched MinHash vs the plain datasketch recipe, side by side.

    python benchmarks/bench_dedup.py                 # both on the same 20,000 docs, prints the ratio
    python benchmarks/bench_dedup.py --scale 1000000 # datacheck alone at scale: time and peak RSS
    python benchmarks/bench_dedup.py --peers --sizes 20000 200000 --rounds 3
        # `datacheck dedup` against rensa, datatrove and plain datasketch, each a whole process,
        # interleaved (dedup_peer_runs.py; recipes in dedup_peers.py; peers: pip install .[bench]),
        # on each corpus of --corpora: planted (below) and the heavily duplicated clusters20 and
        # clusters40 (dedup_clusters.py: 20% / 40% of documents in clusters of 2-50 near-copies)

The plain recipe is the one datasketch's docs teach: a new MinHash per document, update() per
shingle, then MinHashLSH query + insert, with the same normalisation, shingles, permutations and
(bands, rows). Ours also verifies every candidate by exact Jaccard and clusters, so the
comparison is conservative. The corpus is GSM8K-like: question-length documents drawn from
GSM8K's word frequencies (when a copy is found) with 2% planted near-duplicates, whose recall
is printed as a sanity check that the speed does not come from missing pairs (dedup_corpus.py).
"""

from __future__ import annotations

import argparse
import resource
import time

from dedup_corpus import corpus
from dedup_peer_runs import add_peer_options, run_peers

from datacheck.dedup.clusters import DedupConfig, near_duplicate_clusters
from datacheck.dedup.lsh import jaccard
from datacheck.dedup.minhash import Shingler, normalize_text


def plain_datasketch(docs: list[str], config: DedupConfig) -> tuple[float, float, int]:
    from datasketch import MinHash, MinHashLSH

    bands, rows = config.banding()
    start, cpu = time.perf_counter(), time.process_time()
    lsh = MinHashLSH(num_perm=config.num_perm, params=(bands, rows))
    candidates = 0
    for i, text in enumerate(docs):
        words = normalize_text(text)
        m = MinHash(num_perm=config.num_perm, seed=config.seed)
        for k in range(max(1, len(words) - config.ngram + 1)):
            m.update(" ".join(words[k : k + config.ngram]).encode("utf-8"))
        candidates += len(lsh.query(m))
        lsh.insert(i, m)
    return time.perf_counter() - start, time.process_time() - cpu, candidates


def batched(docs: list[str], config: DedupConfig) -> tuple[float, float, int, list[list[int]]]:
    start, cpu = time.perf_counter(), time.process_time()
    result = near_duplicate_clusters(docs, config)
    return (
        time.perf_counter() - start,
        time.process_time() - cpu,
        result.n_candidates,
        result.clusters,
    )


def planted_recall(
    docs: list[str], planted: list[tuple[int, int]], clusters: list[list[int]], threshold: float
) -> str:
    where = {i: c for c, members in enumerate(clusters) for i in members}
    shingler = Shingler()
    due = found = 0
    for a, b in planted:
        batch = shingler.shingle([normalize_text(docs[a]), normalize_text(docs[b])])
        if jaccard(batch.of(0), batch.of(1)) >= threshold:
            due += 1
            found += a in where and where.get(a) == where.get(b)
    return f"{found}/{due} planted pairs at or above the threshold clustered"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--docs", type=int, default=20000, help="side-by-side corpus size")
    parser.add_argument("--scale", type=int, help="run datacheck alone on this many docs")
    parser.add_argument("--seed", type=int, default=0)
    add_peer_options(parser)
    args = parser.parse_args()
    if args.peers:
        run_peers(args)
        return
    config = DedupConfig()
    bands, rows = config.banding()
    n = args.scale or args.docs
    docs, planted = corpus(n, args.seed)
    print(f"corpus: {n} docs, {len(planted)} planted near-duplicates; {bands} bands x {rows} rows")
    print(f"peak RSS after corpus generation: {peak_rss_mb():.0f} MB")
    # Wall time is what a user waits; CPU time shows the work when the machine is shared.
    seconds, cpu, cands, clusters = batched(docs, config)
    print(
        f"datacheck batched: {seconds:.2f} s wall ({cpu:.2f} s CPU), {n / seconds:,.0f} docs/s, "
        f"{cands} candidates, {len(clusters)} clusters; "
        f"{planted_recall(docs, planted, clusters, config.threshold)}"
    )
    if args.scale:
        print(f"peak RSS: {peak_rss_mb():.0f} MB (whole process, corpus included)")
        return
    base_seconds, base_cpu, base_cands = plain_datasketch(docs, config)
    print(
        f"plain datasketch:  {base_seconds:.2f} s wall ({base_cpu:.2f} s CPU), "
        f"{n / base_seconds:,.0f} docs/s, {base_cands} candidates"
    )
    print(f"speed-up: {base_seconds / seconds:.1f}x wall, {base_cpu / cpu:.1f}x CPU")


if __name__ == "__main__":
    main()
