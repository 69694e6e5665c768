"""The dedup benchmarks' corpus and how a tool's drops are scored against it.

Documents are question-length word draws from GSM8K's word frequencies (when a copy is found,
else a small fallback list), with 2% planted near-duplicates: one word of an original changed.
Each original is copied at most once and no copy is copied again, so copies of a document stay
far apart and the corpus does not collapse into clusters whose members are not each other's
neighbours. A drop is scored against exact word-3-gram Jaccard, never against a sketch.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datacheck.dedup.lsh import jaccard
from datacheck.dedup.minhash import ShingleBatch, Shingler

FALLBACK_WORDS = [
    "she",
    "he",
    "they",
    "has",
    "have",
    "had",
    "bought",
    "sold",
    "each",
    "every",
    "more",
    "than",
    "half",
    "twice",
    "how",
    "many",
    "much",
    "does",
    "did",
    "will",
    "apples",
    "dollars",
    "hours",
    "minutes",
    "pages",
    "cookies",
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "for",
    "per",
    "week",
    "day",
    "total",
    "left",
    "after",
    "before",
    "cost",
    "costs",
    "spent",
    "earned",
    "friends",
    "store",
    "box",
    "boxes",
    "bag",
    "bags",
    "times",
]


def vocabulary() -> tuple[list[str], list[int]]:
    gsm8k = Path(os.environ.get("GSM8K_DIR", "../shared/data/gsm8k")) / "train.jsonl"
    if not gsm8k.is_file():
        return FALLBACK_WORDS, [1] * len(FALLBACK_WORDS)
    counts: Counter[str] = Counter()
    for line in gsm8k.read_text(encoding="utf-8").splitlines():
        counts.update(json.loads(line)["question"].split())
    words, weights = zip(*counts.most_common(20000), strict=True)
    return list(words), list(weights)


def corpus(n: int, seed: int, dup_rate: float = 0.02) -> tuple[list[str], list[tuple[int, int]]]:
    """`n` documents and the planted (original, copy) index pairs."""
    rng = random.Random(seed)
    words, weights = vocabulary()
    cumulative = list(itertools.accumulate(weights))
    docs: list[str] = []
    planted: list[tuple[int, int]] = []
    originals: list[int] = []  # not yet copied, never a copy themselves
    for chunk in range(0, n, 10000):  # drawn in chunks so generation does not dominate memory
        lengths = [rng.randint(25, 60) for _ in range(min(10000, n - chunk))]
        drawn = rng.choices(words, cum_weights=cumulative, k=sum(lengths))
        at = 0
        for length in lengths:
            i = len(docs)
            if len(originals) > 10 and rng.random() < dup_rate:
                pick = rng.randrange(len(originals))
                source = originals[pick]
                originals[pick] = originals[-1]
                originals.pop()
                tokens = docs[source].split()
                tokens[rng.randrange(len(tokens))] = rng.choice(words)  # one word changed
                docs.append(" ".join(tokens))
                planted.append((source, i))
            else:
                docs.append(" ".join(drawn[at : at + length]))
                originals.append(i)
            at += length
    return docs, planted


def write_corpus(path: Path, docs: list[str]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for text in docs:
            fh.write(json.dumps({"text": text}) + "\n")


def read_texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


@dataclass(frozen=True, slots=True)
class DropScore:
    due: int  # planted pairs whose exact Jaccard reaches the threshold
    found: int  # of those, pairs with at least one member dropped
    dropped: int
    false_drops: int  # dropped, yet no document anywhere at or above the threshold

    @property
    def recall(self) -> float:
        return self.found / self.due if self.due else 1.0


def _shingle_sets(docs: list[str], chunk: int = 50000) -> ShingleBatch:
    """Every document's exact shingle set (as Shingler().shingle of normalize_text's words),
    a chunk at a time so that 1M documents do not make one 250 MB string."""
    parts = [Shingler().shingle_texts(docs[k : k + chunk]) for k in range(0, len(docs), chunk)]
    sizes = np.concatenate([np.diff(p.offsets) for p in parts])
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return ShingleBatch(np.concatenate([p.hashes for p in parts]), offsets)


class Scorer:
    """Exact-Jaccard judge of a set of dropped document indices."""

    def __init__(self, docs: list[str], planted: list[tuple[int, int]], threshold: float) -> None:
        self.threshold = threshold
        self.sets = _shingle_sets(docs)
        self.due = [(a, b) for a, b in planted if self._jaccard(a, b) >= threshold]
        self.has_partner = {i for pair in self.due for i in pair}
        self._postings: tuple[np.ndarray, np.ndarray] | None = None

    def _jaccard(self, a: int, b: int) -> float:
        return jaccard(self.sets.of(a), self.sets.of(b))

    def score(self, dropped: set[int]) -> DropScore:
        found = sum(1 for a, b in self.due if a in dropped or b in dropped)
        suspects = sorted(dropped - self.has_partner)
        false_drops = sum(1 for i in suspects if not self._has_neighbour(i))
        return DropScore(len(self.due), found, len(dropped), false_drops)

    def _has_neighbour(self, doc: int) -> bool:
        """Any other document at or above the threshold, by an inverted index over shingles."""
        if self._postings is None:
            owner = np.repeat(np.arange(len(self.sets.offsets) - 1), np.diff(self.sets.offsets))
            order = np.argsort(self.sets.hashes, kind="stable")
            self._postings = (self.sets.hashes[order], owner[order])
        hashes, owners = self._postings
        mine = self.sets.of(doc)
        left, right = np.searchsorted(hashes, mine, "left"), np.searchsorted(hashes, mine, "right")
        sharing = np.concatenate([owners[a:b] for a, b in zip(left, right, strict=True)])
        counts = np.bincount(sharing)
        for other in np.flatnonzero(counts):
            if other == doc:
                continue
            size = self.sets.of(int(other)).size
            if counts[other] / (mine.size + size - counts[other]) >= self.threshold:
                return True
        return False
