"""Batched MinHash signatures and LSH banding in numpy, with datasketch's permutation scheme.

The plain datasketch recipe pays Python overhead per shingle (`MinHash.update`) and per band
(`MinHashLSH.insert`). Here a whole batch of documents is hashed at once: word hashes come from
a cache, 3-gram shingle hashes are mixed in numpy, and the 128 permutations are one
(shingles x 128) uint32 multiply-add reduced per document with `np.minimum.reduceat`. The
permutations are datasketch 2.x's default "affine32" scheme (fmix32 pre-mix, then
a*h+b mod 2^32 with datasketch's own a, b for the seed), so a signature here equals
`datasketch.MinHash(num_perm, seed)` fed the same 32-bit shingle hashes; a test pins that.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]

ANNOTATION = re.compile(r"<<[^<>]*>>")
# Batched normalisation joins documents with a NUL word between them; the annotation pattern
# must then stop at the separator too, so an annotation never spans two documents.
_BATCH_ANNOTATION = re.compile(r"<<[^<>\x00]*>>")
SEPARATOR = "\x00"  # never a word: NOT_WORD turns NUL into a space, and the fast path skips it
# str.split()'s ASCII whitespace. A normalised word holds none of these bytes: its non-ASCII
# characters encode to bytes >= 0x80 in UTF-8, and split() already cut at every whitespace.
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_POLY = 0x100000001B3  # FNV-1's 64-bit prime: odd, so invertible mod 2^64
_POLY_INVERSE = pow(_POLY, -1, 1 << 64)
NOT_WORD = re.compile(r"[^\w\s]|_")
DIGITS = re.compile(r"\d+")
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
SIGN_CHUNK = 16384  # shingles per permutation block: 128 x 16384 uint32 = 8 MiB, cache-sized
# ASCII punctuation to spaces via str.translate: ~5x faster than the regex on ASCII text.
_ASCII_PUNCT = str.maketrans({c: " " for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"})


def normalize_text(text: str, *, mask_numbers: bool = False) -> list[str]:
    """NFKC, lowercase, annotations removed, punctuation to spaces, digits kept (or masked)."""
    text = unicodedata.normalize("NFKC", text).lower()
    if "<<" in text:
        text = ANNOTATION.sub(" ", text)
    text = text.translate(_ASCII_PUNCT) if text.isascii() else NOT_WORD.sub(" ", text)
    if mask_numbers:  # decontamination: the same problem with its numbers changed still matches
        text = DIGITS.sub("0", text)
    return text.split()


def normalized_text(texts: Iterable[str], *, mask_numbers: bool = False) -> str:
    """Every document's `normalize_text` words in one string, whitespace between words and a
    SEPARATOR word after each document.

    ASCII documents (NFKC leaves ASCII as it is) are normalised many at a time as one joined
    string: one lower/translate per run instead of one per document, ~3x faster on GSM8K-like
    text. Anything else goes through `normalize_text` on its own. Split, it equals
    `normalize_text` per document; a test pins that."""
    parts: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            text = f" {SEPARATOR} ".join(run).lower()
            if "<<" in text:
                text = _BATCH_ANNOTATION.sub(" ", text)
            text = text.translate(_ASCII_PUNCT)
            parts.append(DIGITS.sub("0", text) if mask_numbers else text)
            run.clear()

    for text in texts:
        if text.isascii() and SEPARATOR not in text:
            run.append(text)
        else:
            flush()
            parts.append(" ".join(normalize_text(text, mask_numbers=mask_numbers)))
    flush()
    return "".join(f"{part} {SEPARATOR} " for part in parts)


def normalized_words(texts: Iterable[str], *, mask_numbers: bool = False) -> list[str]:
    return normalized_text(texts, mask_numbers=mask_numbers).split()


def _fmix64(x: U64) -> U64:
    # MurmurHash3's 64-bit finalizer: spreads the mixed word hashes over all bits.
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


def _fmix32(x: U32) -> U32:
    # MurmurHash3's 32-bit finalizer, exactly as datasketch.minhash._fmix applies it.
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x85EBCA6B)
    x = x ^ (x >> np.uint32(13))
    x = x * np.uint32(0xC2B2AE35)
    return x ^ (x >> np.uint32(16))


@dataclass(frozen=True, slots=True)
class ShingleBatch:
    """Each document's shingle hashes (distinct and sorted, unless made with distinct=False):
    flat array plus [start, end) offsets."""

    hashes: U64
    offsets: npt.NDArray[np.int64]  # len(docs) + 1

    def of(self, i: int) -> U64:
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]


def _powers(base: int, n: int) -> U64:
    out = np.full(n, base, dtype=np.uint64)
    out[0] = 1
    return np.cumprod(out, dtype=np.uint64)  # wraps mod 2^64, as intended


def word_hashes(text: str) -> tuple[U64, npt.NDArray[np.int64]]:
    """A 64-bit hash of every whitespace-separated word of `text`, vectorised over its UTF-8
    bytes, and the word count of each document (documents end at a SEPARATOR word).

    The hash is a polynomial in the word's bytes mod 2^64 (sum of b_i * P^-i over the word,
    from prefix sums, re-based to the word's start), its length mixed in, then MurmurHash3's
    fmix64. No Python-level work per word: a dictionary of word hashes cost a third of the
    signing time."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    if data.size == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    space = _WHITESPACE[data]
    inside = ~space
    starts = np.flatnonzero(inside & np.concatenate(([True], space[:-1])))
    ends = np.flatnonzero(inside & np.concatenate((space[1:], [True]))) + 1
    prefix = np.zeros(data.size + 1, dtype=np.uint64)
    np.cumsum(data.astype(np.uint64) * _powers(_POLY_INVERSE, data.size), out=prefix[1:])
    poly = (prefix[ends] - prefix[starts]) * _powers(_POLY, data.size)[starts]
    lengths = (ends - starts).astype(np.uint64)
    hashes = _fmix64(poly ^ (lengths * _GOLDEN))
    separator = (lengths == 1) & (data[starts] == 0)
    bounds = np.flatnonzero(separator)
    return hashes[~separator], np.diff(bounds, prepend=-1) - 1


class Shingler:
    """Word n-gram shingles as 64-bit hashes."""

    def __init__(self, ngram: int = 3) -> None:
        self.ngram = ngram

    def shingle(self, docs: Sequence[Sequence[str]]) -> ShingleBatch:
        """Distinct shingles of documents already split into words (words hold no whitespace)."""
        words, lengths = word_hashes("".join(f"{' '.join(d)} {SEPARATOR} " for d in docs))
        return self._shingle_hashes(words, lengths, distinct=True)

    def shingle_texts(
        self, texts: Sequence[str], *, mask_numbers: bool = False, distinct: bool = True
    ) -> ShingleBatch:
        """Shingles of raw texts, normalised as `normalize_text` does. `distinct=False` keeps
        repeats within a document (a bag): a MinHash minimum is the same over the bag as over
        the set, and skipping the per-document sort halves the shingling time."""
        words, lengths = word_hashes(normalized_text(texts, mask_numbers=mask_numbers))
        return self._shingle_hashes(words, lengths, distinct)

    def _shingle_hashes(
        self, words: U64, lengths: npt.NDArray[np.int64], distinct: bool
    ) -> ShingleBatch:
        n = self.ngram
        # Pad each document to at least n words so a short document is one shingle, not none.
        short = (lengths > 0) & (lengths < n)
        if short.any():
            words, lengths = _pad_short(words, lengths, n)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        count = np.maximum(lengths - n + 1, 0)
        # Positions i with a full n-gram inside their document.
        doc_of = np.repeat(np.arange(len(lengths)), count)
        pos = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        first = starts[doc_of] + pos
        mixed = np.zeros(first.shape, dtype=np.uint64)
        for k in range(n):
            mixed = (mixed ^ words[first + k]) * _GOLDEN + np.uint64(k + 1)
        mixed = _fmix64(mixed)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        if not distinct:
            np.cumsum(count, out=offsets[1:])
            return ShingleBatch(mixed, offsets)
        # Sets, not bags: sort by (document, hash) and drop repeats within a document.
        order = np.lexsort((mixed, doc_of))
        mixed, doc_of = mixed[order], doc_of[order]
        keep = np.ones(mixed.shape, dtype=bool)
        keep[1:] = (mixed[1:] != mixed[:-1]) | (doc_of[1:] != doc_of[:-1])
        mixed, doc_of = mixed[keep], doc_of[keep]
        np.cumsum(np.bincount(doc_of, minlength=len(lengths)), out=offsets[1:])
        return ShingleBatch(mixed, offsets)


def _pad_short(
    words: U64, lengths: npt.NDArray[np.int64], n: int
) -> tuple[U64, npt.NDArray[np.int64]]:
    pieces, new_lengths, start = [], lengths.copy(), 0
    for i, length in enumerate(lengths.tolist()):
        pieces.append(words[start : start + length])
        if 0 < length < n:
            pieces.append(np.zeros(n - length, dtype=np.uint64))
            new_lengths[i] = n
        start += length
    return np.concatenate(pieces) if pieces else words, new_lengths


def shingle_hash32(hashes: U64) -> U32:
    """The 32-bit value fed to the permutations (datasketch's affine32 width)."""
    return (hashes >> np.uint64(32)).astype(np.uint32)


class Signer:
    """MinHash signatures of shingle batches under datasketch's affine32 permutations."""

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        # The same draw as datasketch.MinHash._init_permutations for scheme "affine32".
        gen = np.random.RandomState(seed)
        self.a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self.b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        self.num_perm = num_perm

    def sign(self, batch: ShingleBatch) -> U32:
        n_docs = len(batch.offsets) - 1
        signatures = np.full((n_docs, self.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
        hv = _fmix32(shingle_hash32(batch.hashes))
        # Permutations x shingles, so each document's minimum is a reduceat over contiguous
        # rows (axis=0 reduceat on the transpose is ~15x slower); chunks keep the buffer in cache.
        start = 0
        while start < n_docs:
            stop = (
                int(np.searchsorted(batch.offsets, batch.offsets[start] + SIGN_CHUNK, "right")) - 1
            )
            stop = min(max(stop, start + 1), n_docs)
            self._sign_range(hv, batch.offsets, start, stop, signatures)
            start = stop
        return signatures

    def _sign_range(
        self, hv: U32, offsets: npt.NDArray[np.int64], start: int, stop: int, out: U32
    ) -> None:
        lo, hi = int(offsets[start]), int(offsets[stop])
        if hi == lo:
            return
        local = offsets[start:stop] - lo
        nonempty = np.flatnonzero(np.diff(offsets[start : stop + 1]) > 0)
        permuted = np.multiply.outer(self.a, hv[lo:hi])
        permuted += self.b[:, None]
        out[start + nonempty] = np.minimum.reduceat(permuted, local[nonempty], axis=1).T


def band_keys(signatures: U32, bands: int, rows: int) -> U64:
    """One 64-bit key per (document, band); equal bands give equal keys."""
    keys = np.zeros((signatures.shape[0], bands), dtype=np.uint64)
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(-1, bands, rows)
    for k in range(rows):
        keys = (keys ^ sig[:, :, k]) * _GOLDEN + np.uint64(k + 1)
    return _fmix64(keys)


def batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))
