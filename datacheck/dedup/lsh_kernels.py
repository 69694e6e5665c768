"""Compiled loops of the LSH side (numba): bucket pairs, exact Jaccard, union-find.

Each equals what lsh.py did with numpy and Python before issue 27 (a test pins the clusters,
edges and candidate count of a heavily duplicated corpus against the earlier code); they run
one pass over their input instead of one Python call per pair or per bucket gap.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _emit_bucket(members, max_neighbours, n, out, at):
    """Pairs of one bucket's members (ascending), each with its next `max_neighbours`; counted
    only while `out` is empty."""
    for p in range(members.size):
        for q in range(p + 1, min(members.size, p + 1 + max_neighbours)):
            if out.size:
                out[at] = members[p] * n + members[q]
            at += 1
    return at


@njit(cache=True)
def _emit_run(packed, start, stop, keys, index_bits, n, max_neighbours, out, at):
    """The pairs of one run of equal packed high bits: one bucket, unless two full keys met
    by chance in their high bits, when the run is split by full key (stably)."""
    mask = np.uint64((1 << index_bits) - 1)
    first_key = keys[np.int64(packed[start] & mask)]
    same = True
    for k in range(start + 1, stop):
        if keys[np.int64(packed[k] & mask)] != first_key:
            same = False
            break
    if same:  # the common case: no allocation, pairs straight from the packed values
        for p in range(start, stop):
            i = np.int64(packed[p] & mask)
            for q in range(p + 1, min(stop, p + 1 + max_neighbours)):
                if out.size:
                    out[at] = i * n + np.int64(packed[q] & mask)
                at += 1
        return at
    members = (packed[start:stop] & mask).astype(np.int64)
    members = members[np.argsort(keys[members], kind="mergesort")]
    bucket_keys = keys[members]
    first = 0
    for k in range(1, members.size + 1):
        if k == members.size or bucket_keys[k] != bucket_keys[first]:
            at = _emit_bucket(members[first:k], max_neighbours, n, out, at)
            first = k
    return at


@njit(cache=True)
def bucket_pair_codes(packed, keys, index_bits, n, max_neighbours):
    """One band's candidate pairs as codes i * n + j (i < j), distinct within the band.

    `packed` is sorted, each value a band key's high bits over the document index (low
    `index_bits` bits), so equal keys sit together in index order. Two different keys sharing
    their high bits (a chance 2^-(64 - index_bits) per pair) are split apart again by full key:
    the buckets are exactly those of the full keys."""
    shift = np.uint64(index_bits)
    out = np.empty(0, np.int64)
    for rep in range(2):  # count, then fill
        at, start = 0, 0
        while start < packed.size:
            stop = start + 1
            high = packed[start] >> shift
            while stop < packed.size and packed[stop] >> shift == high:
                stop += 1
            if stop - start > 1:
                at = _emit_run(packed, start, stop, keys, index_bits, n, max_neighbours, out, at)
            start = stop
        if rep == 0:
            out = np.empty(at, np.int64)
    return out


@njit(cache=True)
def merge_unique(a, b):
    """The sorted union of two sorted arrays, each value once (b may repeat values)."""
    out = np.empty(a.size + b.size, a.dtype)
    i = j = k = 0
    while i < a.size or j < b.size:
        if j == b.size or (i < a.size and a[i] <= b[j]):
            value = a[i]
            i += 1
        else:
            value = b[j]
            j += 1
        if k == 0 or out[k - 1] != value:
            out[k] = value
            k += 1
    return out[:k]


@njit(cache=True)
def sort_sets_in_place(hashes, offsets, needed):
    """Turn each needed document's bag of shingle hashes into its sorted set, in place; returns
    every document's set size (a bag's length where not needed)."""
    sizes = offsets[1:] - offsets[:-1]
    for d in range(sizes.size):
        if not needed[d] or sizes[d] == 0:
            continue
        segment = hashes[offsets[d] : offsets[d + 1]]
        if segment.size <= 64:  # insertion sort: a question's ~40 shingles sort ~2x faster
            for s in range(1, segment.size):
                value, k = segment[s], s
                while k > 0 and segment[k - 1] > value:
                    segment[k] = segment[k - 1]
                    k -= 1
                segment[k] = value
        else:
            segment.sort()
        k = 1
        for s in range(1, segment.size):
            if segment[s] != segment[k - 1]:
                segment[k] = segment[s]
                k += 1
        sizes[d] = k
    return sizes


@njit(cache=True)
def pair_jaccards(lefts, rights, hashes, offsets, sizes):
    """Exact Jaccard of each pair's shingle sets (sorted, distinct), by a merge of the two."""
    out = np.empty(lefts.size, np.float64)
    for p in range(lefts.size):
        a, b = lefts[p], rights[p]
        na, nb = sizes[a], sizes[b]
        if na == 0 and nb == 0:
            out[p] = 1.0
            continue
        i, j, stop_i, stop_j = offsets[a], offsets[b], offsets[a] + na, offsets[b] + nb
        shared = 0
        while i < stop_i and j < stop_j:  # branch-free steps: the outcome is a coin toss
            x, y = hashes[i], hashes[j]
            shared += x == y
            i += x <= y
            j += y <= x
        out[p] = shared / (na + nb - shared)
    return out


@njit(cache=True)
def _root(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True)
def components(n, lefts, rights):
    """Union-find over edges: the members of each group of two or more, ascending, groups in
    order of their lowest member, as flat members plus [start, end) offsets."""
    parent = np.arange(n)
    for e in range(lefts.size):
        a, b = _root(parent, lefts[e]), _root(parent, rights[e])
        if a != b:
            parent[max(a, b)] = min(a, b)  # the root is always the lowest member
    size = np.zeros(n, np.int64)
    for x in range(n):
        size[_root(parent, x)] += 1
    group = np.full(n, -1, np.int64)
    n_groups = 0
    for x in range(n):  # ascending, so a group is numbered at its lowest member: its root
        if parent[x] == x and size[x] > 1:
            group[x] = n_groups
            n_groups += 1
    offsets = np.zeros(n_groups + 1, np.int64)
    for x in range(n):
        if size[x] > 1 and parent[x] == x:
            offsets[group[x] + 1] = size[x]
    offsets = np.cumsum(offsets)
    members = np.empty(offsets[-1], np.int64)
    fill = offsets[:-1].copy()
    for x in range(n):
        r = _root(parent, x)
        if size[r] > 1:
            members[fill[group[r]]] = x
            fill[group[r]] += 1
    return members, offsets
