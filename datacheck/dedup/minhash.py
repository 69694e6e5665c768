"""Batched MinHash signatures and LSH band keys, with datasketch's permutation scheme.

The plain datasketch recipe pays Python overhead per shingle (`MinHash.update`) and per band
(`MinHashLSH.insert`). Here a whole batch of documents is normalised as one string, its words
hashed from their UTF-8 bytes, word 3-grams mixed into 64-bit shingle hashes, and each
document's band keys computed from its shingles, by the compiled loops in kernels.py. The
permutations are datasketch 2.x's default "affine32" scheme (fmix32 pre-mix, then a*h+b mod
2^32 with datasketch's own a, b for the seed), so a signature here equals
`datasketch.MinHash(num_perm, seed)` fed the same 32-bit shingle hashes; a test pins that.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from datacheck.dedup import kernels

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]

ANNOTATION = re.compile(r"<<[^<>]*>>")
SEPARATOR = "\x00"  # a word of one NUL ends a document; NUL in text is doubled (_hashable)
# str.split()'s ASCII whitespace. A normalised word holds none of these bytes: its non-ASCII
# characters encode to bytes >= 0x80 in UTF-8, and split() already cut at every whitespace.
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_BREAKS = _WHITESPACE.copy()  # normalize_text's ASCII path turns punctuation into spaces
_BREAKS[[ord(c) for c in _ASCII_PUNCTUATION]] = True
_POLY = 0x100000001B3  # FNV-1's 64-bit prime: odd, so invertible mod 2^64
_POWERS = np.array([pow(_POLY, -i, 1 << 64) for i in range(64)], dtype=np.uint64)  # P^-i
_SAME = np.arange(256, dtype=np.uint8)
_LOWER = _SAME.copy()
_LOWER[65:91] += 32  # A-Z to a-z: what str.lower does to ASCII
NOT_WORD = re.compile(r"[^\w\s]|_")
DIGITS = re.compile(r"\d+")
# ASCII punctuation to spaces via str.translate: ~5x faster than the regex on ASCII text.
_ASCII_PUNCT = str.maketrans({c: " " for c in _ASCII_PUNCTUATION})


def normalize_text(text: str, *, mask_numbers: bool = False) -> list[str]:
    """NFKC, lowercase, annotations removed, punctuation to spaces, digits kept (or masked)."""
    return _normalized(text, mask_numbers).split()


def _normalized(text: str, mask_numbers: bool) -> str:
    """normalize_text's words, before the split."""
    text = unicodedata.normalize("NFKC", text).lower()
    if "<<" in text:
        text = ANNOTATION.sub(" ", text)
    text = text.translate(_ASCII_PUNCT) if text.isascii() else NOT_WORD.sub(" ", text)
    if mask_numbers:  # decontamination: the same problem with its numbers changed still matches
        text = DIGITS.sub("0", text)
    return text


def joined_for_hashing(texts: Iterable[str], *, mask_numbers: bool = False) -> bytes:
    """Every document's bytes, a SEPARATOR word after each, for `text_word_hashes`.

    ASCII documents (NFKC leaves ASCII as it is) go in raw: the compiled word hasher applies
    normalize_text's ASCII rules as it reads them, ~3x faster than str.lower/translate/split on
    GSM8K-like text. Anything else is normalised here first; those rules leave normalised text
    as it is. A test pins that the words hashed equal `normalize_text`'s."""
    parts = [
        text if text.isascii() and SEPARATOR not in text else _hashable(text, mask_numbers)
        for text in texts
    ]
    parts.append("")  # a separator after the last document too
    return f" {SEPARATOR} ".join(parts).encode("utf-8")


def _hashable(text: str, mask_numbers: bool) -> str:
    """normalize_text's words as one string for the word hasher. NUL is doubled: normalize_text
    keeps it inside ASCII text, and a word that is one NUL would read as a document's end,
    shifting every later document (a text "a \\x00 b" made `datacheck dedup` fail with a shape
    error). Doubling is one-to-one, so equal words still hash equal."""
    text = _normalized(text, mask_numbers)
    if not text.isascii():  # split at Unicode whitespace, which the hasher does not know
        text = " ".join(text.split())
    return text.replace(SEPARATOR, SEPARATOR * 2) if SEPARATOR in text else text


def text_word_hashes(
    texts: Iterable[str], *, mask_numbers: bool = False
) -> tuple[U64, npt.NDArray[np.int64]]:
    """The hash of every `normalize_text` word of every document, and each document's word
    count (the word hashes of `word_hashes`)."""
    data = np.frombuffer(joined_for_hashing(texts, mask_numbers=mask_numbers), dtype=np.uint8)
    hashes, lengths = kernels.word_hashes(data, _BREAKS, _LOWER, _POWERS, True, mask_numbers)
    return hashes, lengths


@dataclass(frozen=True, slots=True)
class ShingleBatch:
    """Each document's shingle hashes (distinct and sorted, unless made with distinct=False):
    flat array plus [start, end) offsets."""

    hashes: U64
    offsets: npt.NDArray[np.int64]  # len(docs) + 1

    def of(self, i: int) -> U64:
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]


def word_hashes(text: str) -> tuple[U64, npt.NDArray[np.int64]]:
    """A 64-bit hash of every whitespace-separated word of `text`, from its UTF-8 bytes, and
    the word count of each document (documents end at a SEPARATOR word).

    The hash is a polynomial in the word's bytes mod 2^64 (sum of b_i * P^-i over the word),
    its length mixed in, then MurmurHash3's fmix64 (kernels.word_hashes). No Python-level work
    per word: a dictionary of word hashes cost a third of the signing time."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    hashes, lengths = kernels.word_hashes(data, _WHITESPACE, _SAME, _POWERS, False, False)
    return hashes, lengths


class Shingler:
    """Word n-gram shingles as 64-bit hashes."""

    def __init__(self, ngram: int = 3) -> None:
        self.ngram = ngram

    def shingle(self, docs: Sequence[Sequence[str]]) -> ShingleBatch:
        """Distinct shingles of documents already split into words (words hold no whitespace)."""
        words, lengths = word_hashes(
            "".join(f"{' '.join(d).replace(SEPARATOR, SEPARATOR * 2)} {SEPARATOR} " for d in docs)
        )
        return self._shingle_hashes(words, lengths, distinct=True)

    def shingle_texts(
        self, texts: Sequence[str], *, mask_numbers: bool = False, distinct: bool = True
    ) -> ShingleBatch:
        """Shingles of raw texts, normalised as `normalize_text` does. `distinct=False` keeps
        repeats within a document (a bag): a MinHash minimum is the same over the bag as over
        the set, and the per-document sort is left to the few documents verified."""
        words, lengths = text_word_hashes(texts, mask_numbers=mask_numbers)
        return self._shingle_hashes(words, lengths, distinct)

    def _shingle_hashes(
        self, words: U64, lengths: npt.NDArray[np.int64], distinct: bool
    ) -> ShingleBatch:
        # A document shorter than n words is padded with zero words to one shingle, not none.
        hashes, offsets = kernels.shingle_bags(words, lengths, self.ngram)
        if distinct:
            hashes, offsets = kernels.sorted_sets(hashes, offsets)
        return ShingleBatch(hashes, offsets)


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
        """(documents, num_perm) signatures; an empty document's are all 2^32 - 1."""
        signatures: U32 = kernels.signatures(batch.hashes, batch.offsets, self.a, self.b)
        return signatures

    def band_keys(self, batch: ShingleBatch, bands: int, rows: int) -> U64:
        """(documents, bands) band keys straight from the shingles: band_keys(sign(batch)),
        without the signature matrix."""
        keys: U64 = kernels.bag_band_keys(batch.hashes, batch.offsets, self.a, self.b, bands, rows)
        return keys


def band_keys(signatures: U32, bands: int, rows: int) -> U64:
    """One 64-bit key per (document, band); equal bands give equal keys."""
    keys: U64 = kernels.band_keys(np.ascontiguousarray(signatures), bands, rows)
    return keys


def batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))
