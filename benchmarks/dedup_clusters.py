"""Heavily duplicated dedup corpora: clusters of 2-50 near-copies, shaped like crawled text.

dedup_corpus.py plants one copy per original, so no document has more than one near-duplicate.
Crawled corpora are not like that: the same page or problem turns up in clusters whose sizes
have a long tail, and copies are made from copies. Here:

- a cluster's size k is drawn from a power law P(k) ~ k^-2 on 2..50, a long tail. The
  exponent is our choice, not a measured one: it puts about half of the copies (55%) in clusters of
  10 or more members (cluster_sizes; a test pins the range);
- each copy is made from a random earlier member of its cluster (the original or an earlier
  copy), so a long cluster drifts: its ends may sit below the threshold, joined through the
  middle;
- a copy is exact up to case and punctuation (1 in 5: its band keys equal its source's, the
  largest buckets) or has 1-2 word edits (a word replaced, dropped or inserted);
- `dup_fraction` of all documents are copies (the issue asks for 20-40%), and the order of the
  corpus is shuffled so copies are spread through it.

Planted pairs are (source, copy); they are scored like dedup_corpus's, against exact Jaccard.
"""

from __future__ import annotations

import itertools
import random

from dedup_corpus import corpus, vocabulary

MIN_CLUSTER, MAX_CLUSTER, POWER = 2, 50, 2.0
EXACT_COPY = 0.2  # share of copies equal to their source up to case and punctuation
# name -> share of documents that are copies; "planted" is dedup_corpus's 2% of lone copies.
CORPORA = {"planted": 0.02, "clusters20": 0.2, "clusters40": 0.4}


def cluster_sizes(copies: int, rng: random.Random) -> list[int]:
    """Cluster sizes (members, the original included) whose copies add up to `copies`."""
    sizes = range(MIN_CLUSTER, MAX_CLUSTER + 1)
    weights = [k**-POWER for k in sizes]
    drawn: list[int] = []
    left = copies
    while left > 0:
        k = min(rng.choices(sizes, weights)[0], left + 1)
        drawn.append(k)
        left -= k - 1
    return drawn


def _edited(tokens: list[str], words: list[str], rng: random.Random) -> list[str]:
    tokens = list(tokens)
    if rng.random() < EXACT_COPY:
        # Case and punctuation only: normalisation folds them, so the shingles are the same.
        at = rng.randrange(len(tokens))
        tokens[at] = tokens[at].upper() + rng.choice([",", ".", "!", ""])
        return tokens
    for _ in range(rng.choice([1, 1, 2])):
        at = rng.randrange(len(tokens))
        edit = rng.random()
        if edit < 0.5:
            tokens[at] = rng.choice(words)
        elif edit < 0.75 and len(tokens) > 4:
            del tokens[at]
        else:
            tokens.insert(at, rng.choice(words))
    return tokens


def clustered_corpus(
    n: int, seed: int, dup_fraction: float
) -> tuple[list[str], list[tuple[int, int]]]:
    """`n` documents and the planted (source, copy) index pairs, copies spread at random."""
    rng = random.Random(seed)
    words, weights = vocabulary()
    cumulative = list(itertools.accumulate(weights))
    sizes = cluster_sizes(round(n * dup_fraction), rng)
    n_originals = n - sum(k - 1 for k in sizes)
    docs: list[str] = []
    for chunk in range(0, n_originals, 10000):  # drawn in chunks, as dedup_corpus does
        lengths = [rng.randint(25, 60) for _ in range(min(10000, n_originals - chunk))]
        drawn = rng.choices(words, cum_weights=cumulative, k=sum(lengths))
        at = 0
        for length in lengths:
            docs.append(" ".join(drawn[at : at + length]))
            at += length
    planted: list[tuple[int, int]] = []
    roots = rng.sample(range(n_originals), len(sizes))
    for root, size in zip(roots, sizes, strict=True):
        members = [root]
        for _ in range(size - 1):
            source = rng.choice(members)
            members.append(len(docs))
            docs.append(" ".join(_edited(docs[source].split(), words, rng)))
            planted.append((source, members[-1]))
    order = list(range(n))
    rng.shuffle(order)  # position -> old index
    where = {old: new for new, old in enumerate(order)}
    return [docs[old] for old in order], [(where[a], where[b]) for a, b in planted]


def make_corpus(name: str, n: int, seed: int) -> tuple[list[str], list[tuple[int, int]]]:
    """One of CORPORA at `n` documents: the documents and the planted (source, copy) pairs."""
    if name == "planted":
        return corpus(n, seed, CORPORA[name])
    return clustered_corpus(n, seed, CORPORA[name])
