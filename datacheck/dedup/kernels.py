"""The compiled inner loops of near-duplicate search (numba), one pass each, no temporaries.

numpy did each step as whole-array passes: a (shingles x 128) uint32 matrix per signature
block, prefix sums of powers for word hashes, a sort per band with a loop per bucket gap, and
one `intersect1d` per candidate pair from Python. On a heavily duplicated corpus (issue 27) the
per-pair verification alone took longer than everything rensa does. These loops compute the
same values (tests pin them against datasketch and the earlier numpy code), in one pass each.
Compiled once per machine: `cache=True` keeps the machine code beside this module.

numba types mixed integer arithmetic by widening, and uint64 with a signed integer becomes
float64, so every constant and counter that meets a uint64 is made a uint64 first.
"""

from __future__ import annotations

import numpy as np
from numba import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio: the shingle and band-key mixer
_M1, _M2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)  # MurmurHash3 fmix64
_C1, _C2 = np.uint64(0x85EBCA6B), np.uint64(0xC2B2AE35)  # MurmurHash3 fmix32
_LOW32 = np.uint64(0xFFFFFFFF)
_S13, _S16, _S32, _S33 = np.uint64(13), np.uint64(16), np.uint64(32), np.uint64(33)
_ONE, _ZERO = np.uint64(1), np.uint64(0)


@njit(cache=True, inline="always")
def fmix64(x):
    x ^= x >> _S33
    x *= _M1
    x ^= x >> _S33
    x *= _M2
    return x ^ (x >> _S33)


@njit(cache=True, inline="always")
def fmix32(x):
    """MurmurHash3's 32-bit finalizer on a value below 2^32, computed in 64-bit lanes."""
    x ^= x >> _S16
    x = (x * _C1) & _LOW32
    x ^= x >> _S13
    x = (x * _C2) & _LOW32
    return x ^ (x >> _S16)


@njit(cache=True)
def _annotation_end(data, at):
    """Where the calculator annotation `<<...>>` starting at `at` ends, or -1: the first "<",
    ">" or NUL after "<<" must open ">>". This is the leftmost match of `<<[^<>\x00]*>>`, the
    pattern minhash.normalize_text removes (NUL bounds a document here)."""
    if at + 1 >= data.size or data[at] != 60 or data[at + 1] != 60:  # "<<"
        return -1
    q = at + 2
    while q < data.size and data[q] != 60 and data[q] != 62 and data[q] != 0:
        q += 1
    if q + 1 < data.size and data[q] == 62 and data[q + 1] == 62:  # ">>"
        return q + 2
    return -1


@njit(cache=True)
def word_hashes(data, breaks, fold, powers, ascii_rules, mask_numbers):
    """Each word's hash (sum of byte_i * P^-i over the word, its length mixed in, fmix64) and
    the word count of each document; a word that is one NUL byte ends a document.

    Words end at bytes where `breaks` is set; each byte is read through `fold` (A-Z lowered, for
    normalize_text's ASCII rules). With `ascii_rules`, annotations are dropped too, and with
    `mask_numbers` each run of digits is one "0". `powers` holds P^-i for the first bytes of a
    word, so the sum has no multiply chain. Bytes >= 0x80 are left alone: text that is not
    ASCII comes normalised already, and these rules leave normalised text as it is."""
    hashes = np.empty(data.size // 2 + 1, np.uint64)
    lengths = np.empty(data.size // 2 + 1, np.int64)
    n_words = n_docs = current = 0
    i = 0
    while i < data.size:
        if breaks[data[i]]:
            end = _annotation_end(data, i) if ascii_rules and data[i] == 60 else -1
            i = end if end > 0 else i + 1
            continue
        length, acc, digits, far = 0, _ZERO, False, _ZERO
        while i < data.size and not breaks[data[i]]:
            byte = fold[data[i]]
            i += 1
            if mask_numbers:
                digit = 48 <= byte <= 57
                if digit and digits:
                    continue
                digits = digit
                if digit:
                    byte = 48
            if length < powers.size:
                acc += np.uint64(byte) * powers[length]
            else:  # a word longer than the table: carry the power on
                far = (powers[-1] if length == powers.size else far) * powers[1]
                acc += np.uint64(byte) * far
            length += 1
        if length == 1 and acc == _ZERO:
            lengths[n_docs] = current
            n_docs += 1
            current = 0
        else:
            hashes[n_words] = fmix64(acc ^ (np.uint64(length) * GOLDEN))
            n_words += 1
            current += 1
    return hashes[:n_words], lengths[:n_docs]


@njit(cache=True)
def shingle_bags(words, lengths, ngram):
    """Word n-gram hashes of each document, repeats kept, and [start, end) offsets. A document
    shorter than n words is padded with zero words to one shingle; an empty one has none."""
    offsets = np.zeros(lengths.size + 1, np.int64)
    for d in range(lengths.size):
        count = lengths[d] - ngram + 1 if lengths[d] >= ngram else min(lengths[d], 1)
        offsets[d + 1] = offsets[d] + count
    out = np.empty(offsets[-1], np.uint64)
    start = 0
    for d in range(lengths.size):
        for s in range(offsets[d + 1] - offsets[d]):
            mixed = _ZERO
            for k in range(ngram):
                word = words[start + s + k] if s + k < lengths[d] else _ZERO
                mixed = (mixed ^ word) * GOLDEN + np.uint64(k + 1)
            out[offsets[d] + s] = fmix64(mixed)
        start += lengths[d]
    return out, offsets


@njit(cache=True)
def sorted_sets(hashes, offsets):
    """Each document's distinct hashes in ascending order, and their offsets."""
    out = np.empty(hashes.size, np.uint64)
    new_offsets = np.zeros(offsets.size, np.int64)
    for d in range(offsets.size - 1):
        at = new_offsets[d]
        segment = np.sort(hashes[offsets[d] : offsets[d + 1]])
        for k in range(segment.size):
            if k == 0 or segment[k] != segment[k - 1]:
                out[at] = segment[k]
                at += 1
        new_offsets[d + 1] = at
    return out[: new_offsets[-1]], new_offsets


@njit(cache=True, inline="always")
def _signature(hashes, lo, hi, a, b, mins):
    """datasketch's affine32 MinHash of one document: min over its shingles of
    a * fmix32(high 32 bits) + b mod 2^32, per permutation."""
    mins[:] = np.uint32(0xFFFFFFFF)
    for s in range(lo, hi):
        h = fmix32(hashes[s] >> _S32)
        for p in range(a.size):
            value = np.uint32((np.uint64(a[p]) * h + np.uint64(b[p])) & _LOW32)
            if value < mins[p]:
                mins[p] = value


@njit(cache=True)
def signatures(hashes, offsets, a, b):
    out = np.empty((offsets.size - 1, a.size), np.uint32)
    for d in range(offsets.size - 1):
        _signature(hashes, offsets[d], offsets[d + 1], a, b, out[d])
    return out


@njit(cache=True, inline="always")
def _band_key(signature, band, rows):
    key = _ZERO
    for k in range(rows):
        key = (key ^ np.uint64(signature[band * rows + k])) * GOLDEN + np.uint64(k + 1)
    return fmix64(key)


@njit(cache=True)
def band_keys(signature_rows, bands, rows):
    keys = np.empty((signature_rows.shape[0], bands), np.uint64)
    for d in range(signature_rows.shape[0]):
        for band in range(bands):
            keys[d, band] = _band_key(signature_rows[d], band, rows)
    return keys


@njit(cache=True)
def bag_band_keys(hashes, offsets, a, b, bands, rows):
    """(documents, bands) band keys straight from each document's shingles: no signature
    matrix is kept, only one signature at a time."""
    keys = np.empty((offsets.size - 1, bands), np.uint64)
    mins = np.empty(a.size, np.uint32)
    for d in range(offsets.size - 1):
        _signature(hashes, offsets[d], offsets[d + 1], a, b, mins)
        for band in range(bands):
            keys[d, band] = _band_key(mins, band, rows)
    return keys
