"""An append-only array held in large blocks, for rows that arrive in batches of unknown total.

datacheck's index keeps every document's band keys and shingle hashes. Kept as the batches
came (a few hundred KB each), they sat in glibc's heap, which keeps freed memory: joining them
into one array at the end then held everything twice, and 1M documents peaked near 1.2 GB
(issue 27). A block here is larger than glibc's largest dynamic mmap threshold (32 MiB), so
each is a mapping of its own, returned to the system the moment it is freed; untouched pages
of the last block are never resident.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

BLOCK_BYTES = 64 << 20


class BlockArray:
    def __init__(self, dtype: type[np.generic], row_shape: tuple[int, ...] = ()) -> None:
        self.dtype = np.dtype(dtype)
        self.row_shape = row_shape
        self.block_rows = max(1, BLOCK_BYTES // (self.dtype.itemsize * math.prod(row_shape)))
        self._blocks: list[npt.NDArray[Any]] = []
        self._fill = 0  # rows used in the last block
        self.rows = 0

    def extend(self, values: npt.NDArray[Any]) -> None:
        at = 0
        while at < len(values):
            if not self._blocks or self._fill == self.block_rows:
                self._blocks.append(np.empty((self.block_rows, *self.row_shape), self.dtype))
                self._fill = 0
            take = min(len(values) - at, self.block_rows - self._fill)
            self._blocks[-1][self._fill : self._fill + take] = values[at : at + take]
            self._fill += take
            at += take
        self.rows += len(values)

    def take(self) -> npt.NDArray[Any]:
        """Every row as one array, each block freed once copied (peak: the rows plus a block)."""
        rows, self.rows, self._fill = self.rows, 0, 0
        if len(self._blocks) <= 1:  # a view of the one block: nothing to copy
            block = self._blocks.pop() if self._blocks else np.empty((0, *self.row_shape))
            return block[:rows].astype(self.dtype, copy=False)
        out = np.empty((rows, *self.row_shape), self.dtype)
        self._blocks.reverse()
        at = 0
        while self._blocks:
            block = self._blocks.pop()
            n = min(self.block_rows, rows - at)
            out[at : at + n] = block[:n]
            at += n
            del block
        return out
