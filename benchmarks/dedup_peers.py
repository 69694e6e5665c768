"""One dedup tool on one corpus file, as its own process: `python dedup_peers.py TOOL CORPUS OUT`.

bench_dedup.py --peers starts this once per (tool, round) so that each tool's wall time, CPU
time and peak RSS are those of a whole process: reading the JSONL, deduplicating, writing the
kept rows. Each recipe writes OUT/dropped.json (the dropped line indices); bench_dedup.py scores
them. `datacheck` itself is not here: it runs as `python -m datacheck.cli dedup`.

Every recipe uses word 3-grams, threshold 0.7 and datacheck's banding, 21 bands x 6 rows: the
126 permutations of datacheck's 128 that its bands use (rensa needs bands to divide the
permutations; datatrove computes bands x rows hashes).
- plain: datasketch's documented recipe, MinHash + update() per shingle, MinHashLSH query then
  insert; a document with any candidate is dropped and not inserted.
- rensa: rensa's README recipe through its batch API (from_token_sets, insert_pairs, query_all),
  dropping the later document of a candidate pair whose estimated Jaccard reaches 0.7.
- rensa-dedup: rensa's RMinHashDeduplicator with LSH (add_pairs over (index, shingles) in
  order): a document is dropped when an earlier kept one's estimated Jaccard reaches 0.7.
- rensa-flags: the bulk path rensa's benchmarks/full_benchmark.py times (digest matrix, one-shot
  duplicate flags; that script prefers the experimental Rho sketch when present, this uses the
  R-MinHash matrix the README documents); every flagged row is dropped, both members of a pair
  included, unverified.
- datatrove: its local 4-stage pipeline (signatures, buckets, clusters, filter) as in its
  examples/local_minhash_deduplication.py (one worker), with whitespace words and numbers kept.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from dedup_corpus import read_texts

from datacheck.dedup.minhash import normalize_text

THRESHOLD, NGRAM, BANDS, ROWS = 0.7, 3, 21, 6
NUM_PERM = BANDS * ROWS
PEER_PACKAGES = {"plain": "datasketch", "rensa": "rensa", "rensa-flags": "rensa",
                 "rensa-dedup": "rensa", "datatrove": "datatrove"}  # fmt: skip


def shingles(text: str) -> list[str]:
    words = normalize_text(text)
    return [" ".join(words[k : k + NGRAM]) for k in range(max(1, len(words) - NGRAM + 1))]


def plain(corpus: Path, out: Path) -> list[int]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))
    texts, dropped = read_texts(corpus), []
    for i, text in enumerate(texts):
        m = MinHash(num_perm=NUM_PERM, seed=1)
        for shingle in shingles(text):
            m.update(shingle.encode("utf-8"))
        if lsh.query(m):
            dropped.append(i)
        else:
            lsh.insert(i, m)
    return _write_kept(out, texts, dropped)


def rensa_lsh(corpus: Path, out: Path) -> list[int]:
    from rensa import RMinHash, RMinHashLSH

    texts = read_texts(corpus)
    minhashes = RMinHash.from_token_sets(map(shingles, texts), num_perm=NUM_PERM, seed=42)
    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=BANDS)
    lsh.insert_pairs(enumerate(minhashes))
    drop: set[int] = set()
    for i, candidates in enumerate(lsh.query_all(minhashes)):
        if i in drop:
            continue
        for j in candidates:
            if j != i and j not in drop and minhashes[i].jaccard(minhashes[j]) >= THRESHOLD:
                drop.add(max(i, j))
    return _write_kept(out, texts, sorted(drop))


def rensa_dedup(corpus: Path, out: Path) -> list[int]:
    from rensa import RMinHashDeduplicator

    texts = read_texts(corpus)
    dedup = RMinHashDeduplicator(THRESHOLD, NUM_PERM, True, num_bands=BANDS, seed=42)
    added = dedup.add_pairs((str(i), shingles(text)) for i, text in enumerate(texts))
    return _write_kept(out, texts, [i for i, kept in enumerate(added) if not kept])


def rensa_flags(corpus: Path, out: Path) -> list[int]:
    from rensa import RMinHash, RMinHashLSH

    texts = read_texts(corpus)
    matrix = RMinHash.digest_matrix_from_token_sets(map(shingles, texts), NUM_PERM, 42)
    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=BANDS)
    flags = lsh.query_duplicate_flags_matrix_one_shot(matrix)
    return _write_kept(out, texts, [i for i, flag in enumerate(flags) if flag])


def datatrove(corpus: Path, out: Path) -> list[int]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.text import TextNormConfig
    from datatrove.utils.word_tokenizers import WordTokenizer

    class Whitespace(WordTokenizer):  # its English default needs NLTK data from the network
        def word_tokenize(self, text: str) -> list[str]:
            return text.split()

        def sent_tokenize(self, text: str) -> list[str]:
            return [text]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return [(0, len(text))]

    _encode_strings_for_xxhash4()
    config = MinhashConfig(
        n_grams=NGRAM, num_buckets=BANDS, hashes_per_bucket=ROWS,
        norm_config=TextNormConfig(norm_numbers=False),
    )  # fmt: skip

    def reader() -> JsonlReader:
        return JsonlReader(str(corpus.parent), glob_pattern=corpus.name, add_file_path=False)

    def stage(pipeline: list[object], tasks: int = 1) -> None:
        LocalPipelineExecutor(
            pipeline=pipeline, tasks=tasks, workers=1, logging_dir=str(out / f"logs{id(pipeline)}")
        ).run()

    stage([reader(), MinhashDedupSignature(str(out / "sigs"), config, language=Whitespace())])
    stage([MinhashDedupBuckets(str(out / "sigs"), str(out / "buckets"), config=config)], BANDS)
    stage([MinhashDedupCluster(str(out / "buckets"), str(out / "remove"), config=config)])
    stage([reader(), MinhashDedupFilter(str(out / "remove")), JsonlWriter(str(out / "kept"))])
    removed = (out / "remove" / "000000.remove").read_bytes()
    return [int.from_bytes(removed[k : k + 4], "little") for k in range(0, len(removed), 4)]


def _encode_strings_for_xxhash4() -> None:
    """xxhash 4 refuses str; datatrove 0.10.1 hashes str shingles. xxhash 3 encoded str as UTF-8
    itself, so encoding first costs datatrove what it cost before."""
    import xxhash
    from datatrove.utils.hashes import xxhash as datatrove_xxhash

    try:
        datatrove_xxhash.xxhash64("probe")
    except TypeError:
        datatrove_xxhash.xxhash64 = lambda data: xxhash.xxh64_intdigest(
            data.encode("utf-8") if isinstance(data, str) else data
        )


def _write_kept(out: Path, texts: list[str], dropped: list[int]) -> list[int]:
    gone = set(dropped)
    with (out / "kept.jsonl").open("w", encoding="utf-8") as fh:
        for i, text in enumerate(texts):
            if i not in gone:
                fh.write(json.dumps({"text": text}) + "\n")
    return dropped


RECIPES: dict[str, Callable[[Path, Path], list[int]]] = {
    "plain": plain, "rensa": rensa_lsh, "rensa-flags": rensa_flags, "rensa-dedup": rensa_dedup,
    "datatrove": datatrove,
}  # fmt: skip

if __name__ == "__main__":
    tool, corpus_path, out_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    out_dir.mkdir(parents=True, exist_ok=True)
    dropped = RECIPES[tool](corpus_path, out_dir)
    (out_dir / "dropped.json").write_text(json.dumps(dropped))
