"""Decontamination: which train rows hold a held-out (test) problem, and by which rule.

Four named rules, each a different way a test problem reaches a training set:
The two text rules, ``ngram`` and ``minhash``, count a match only when the train question holds
every number of the test question: the same words with other numbers is a different problem
(on natural data the ``template`` rule's business, on a templated task the intended split).

- ``ngram``: the row holds the test question's words: shared word 13-grams (GPT-3's
  contamination n-gram, Brown et al. 2020, appendix C) cover at least 80% of the test
  question's words. Coverage, not "any shared 13-gram", follows Llama 2's contamination
  analysis (Touvron et al. 2023, appendix A.6: a sample is "dirty" above 80% of its tokens in
  shared n-grams). One shared 13-gram alone flags templated problems that share a sentence
  pair but not their numbers (docs/study.md measured 30% of the synthetic train rows).
- ``minhash``: a verified near-duplicate of a test question (word-3-gram Jaccard >= 0.7,
  numbers kept): the test problem lightly edited.
- ``computation``: the same computation key (``datacheck.computation``): the same givens, the
  same answer and the same calculator steps, in other names, items or words (a renamed or
  reworded leak, which the text rules cannot see).
- ``template``: a verified near-duplicate once numbers are masked: the test problem's template
  with other numbers. On natural data (GSM8K) that is how a test problem reappears with its
  numbers changed; on a templated task whose ``test`` split is *meant* to share templates with
  train, it flags every row, so ``datacheck clean synthetic`` leaves it out by default.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from datacheck.computation import computation_key, question_numbers
from datacheck.dedup.clusters import DedupConfig, Overlap, minhash_overlaps
from datacheck.dedup.minhash import normalize_text
from datacheck.records import Problem

RULES = ("ngram", "minhash", "computation", "template")
DEFAULT_RULES = frozenset(RULES)
# A templated task's test split shares templates with train by design (reasonkit.tasks.split).
TEMPLATED_RULES = frozenset({"ngram", "minhash", "computation"})
TEXT_RULES = frozenset({"ngram", "minhash"})  # they see words; the givens must match too
NGRAM_COVERAGE = 0.8  # Touvron et al. 2023 (Llama 2), appendix A.6: "dirty" above 80%


def parse_rules(text: str) -> frozenset[str]:
    """``ngram,computation`` -> the rule names; unknown names are a ValueError."""
    names = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(names - set(RULES))
    if unknown or not names:
        raise ValueError(f"contamination rules are {', '.join(RULES)}; got {text!r}")
    return names


def ngram_coverage_overlaps(
    train: Sequence[str], test: Sequence[str], n: int = 13, min_coverage: float = NGRAM_COVERAGE
) -> dict[int, Overlap]:
    """Train rows whose shared word n-grams cover ``min_coverage`` of some test question's words.
    A test question shorter than ``n`` words is covered only by a train row holding all of it."""
    grams: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
    test_words = [normalize_text(text) for text in test]
    for j, words in enumerate(test_words):
        size = min(n, len(words))
        for k in range(len(words) - size + 1):
            grams[tuple(words[k : k + size])].append((j, k))
    sizes = {min(n, len(w)) for w in test_words if w}
    found: dict[int, Overlap] = {}
    for i, text in enumerate(train):
        words = normalize_text(text)
        covered: dict[int, set[int]] = defaultdict(set)
        for size in sizes:
            for k in range(len(words) - size + 1):
                for j, start in grams.get(tuple(words[k : k + size]), ()):
                    if min(n, len(test_words[j])) == size:
                        covered[j].update(range(start, start + size))
        best = max(covered, key=lambda j: (len(covered[j]) / len(test_words[j]), -j), default=None)
        if best is not None:
            share = len(covered[best]) / len(test_words[best])
            if share >= min_coverage:
                found[i] = Overlap(i, best, f"{n}-gram", f"{share:.0%} of the test question's words in shared {n}-grams")
    return found


def computation_overlaps(train: Sequence[Problem], test: Sequence[Problem]) -> dict[int, Overlap]:
    """Train rows with a test row's computation key: the same problem in other words."""
    index: dict[object, int] = {}
    for j, p in enumerate(test):
        key = computation_key(p)
        if key is not None:
            index.setdefault(key, j)
    found: dict[int, Overlap] = {}
    for i, p in enumerate(train):
        key = computation_key(p)
        j = index.get(key, -1) if key is not None else -1
        if j >= 0:
            found[i] = Overlap(i, j, "computation", "same givens, answer and calculator steps")
    return found


def find_overlaps(
    train: Sequence[Problem], test: Sequence[Problem], rules: frozenset[str], *,
    ngram: int = 13, dedup: DedupConfig | None = None,
) -> dict[int, Overlap]:
    """Train index -> the first rule (in ``RULES`` order) that ties it to a test row."""
    dedup = dedup or DedupConfig()
    train_q, test_q = [p.question for p in train], [p.question for p in test]
    found: dict[int, Overlap] = {}
    finders = {
        "ngram": lambda: ngram_coverage_overlaps(train_q, test_q, ngram),
        "minhash": lambda: minhash_overlaps(train_q, test_q, dedup, mask_numbers=False),
        "computation": lambda: computation_overlaps(train, test),
        "template": lambda: minhash_overlaps(train_q, test_q, dedup, mask_numbers=True),
    }
    givens: dict[tuple[str, int], Counter[str]] = {}

    def holds_givens(overlap: Overlap) -> bool:
        for side, k, problems in (("train", overlap.train, train), ("test", overlap.test, test)):
            if (side, k) not in givens:
                givens[side, k] = Counter(question_numbers(problems[k].question))
        return not givens["test", overlap.test] - givens["train", overlap.train]

    for rule in RULES:
        if rule in rules:
            for i, overlap in finders[rule]().items():
                if rule in TEXT_RULES and not holds_givens(overlap):
                    continue
                found.setdefault(i, overlap)
    return found
