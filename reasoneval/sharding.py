"""The HF backend across several processes (``accelerate launch``): each process generates a
strided shard of the prompts, the shards are gathered, and every process gets the full result
back in prompt order. Only the main process writes files.

vLLM is not sharded here: it runs its own data and tensor parallelism
(``data_parallel_size``/``tensor_parallel_size``) from one process.

Outside ``accelerate launch`` (WORLD_SIZE unset or 1) nothing here imports accelerate or torch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from reasoneval.backends.base import Backend, SamplingConfig
from reasoneval.cache import GenerationCache
from reasoneval.errors import InputError
from reasoneval.records import Completion

T = TypeVar("T")
R = TypeVar("R")
Gather = Callable[[list[Any]], list[Any]]


def world() -> tuple[int, int]:
    """(this process's rank, number of processes)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    import torch
    from accelerate import PartialState

    # PartialState starts the process group (gloo on CPU, nccl on GPU) and, on GPUs, binds this
    # process to its own device, so a backend that asks for "cuda" lands on the right one.
    # Without cpu=True it reads a CPU-only launch as "not distributed".
    state = PartialState(cpu=not torch.cuda.is_available())
    return state.process_index, state.num_processes


def is_main_process() -> bool:
    return world()[0] == 0


def shard(items: Sequence[T], rank: int, size: int) -> list[tuple[int, T]]:
    """Every size-th item from rank on, with its index: strided, so long and short prompts
    spread evenly when the input is ordered by length."""
    if not 0 <= rank < size:
        raise ValueError(f"rank {rank} outside a world of {size}")
    return [(i, items[i]) for i in range(rank, len(items), size)]


def merge(pieces: Sequence[tuple[int, R]], n: int) -> list[R]:
    """Back into item order; every index in 0..n-1 exactly once, or an error naming the gap."""
    out: dict[int, R] = {}
    for index, value in pieces:
        if index in out or not 0 <= index < n:
            raise RuntimeError(f"shard result for item {index} duplicated or out of range")
        out[index] = value
    missing = sorted(set(range(n)) - set(out))
    if missing:
        raise RuntimeError(f"no shard returned items {missing[:10]}")
    return [out[i] for i in range(n)]


def _gather_object(pieces: list[Any]) -> list[Any]:
    from accelerate.utils import gather_object

    return list(gather_object(pieces))


class ShardedBackend:
    """A Backend whose ``generate`` is collective: every process calls it with the same prompts."""

    def __init__(
        self, inner: Backend, rank: int, size: int, gather: Gather = _gather_object
    ) -> None:
        self.inner, self.rank, self.size, self.gather = inner, rank, size, gather
        self.name = inner.name

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        mine = shard(prompts, self.rank, self.size)
        outputs = self.inner.generate([p for _, p in mine], sampling) if mine else []
        pieces = [(i, out) for (i, _), out in zip(mine, outputs, strict=True)]
        return merge(self.gather(pieces), len(prompts))

    def close(self) -> None:
        self.inner.close()


def shard_backend(backend: Backend) -> Backend:
    """``backend`` split across the launched processes; itself when there is one process."""
    rank, size = world()
    if size == 1:
        return backend
    if backend.name != "hf":
        backend.close()
        raise InputError(
            f"{size} processes launched for the {backend.name} backend: launch one process and "
            "pass --data-parallel-size/--tensor-parallel-size, or use --backend hf"
        )
    return ShardedBackend(backend, rank, size)


class _MemoryOnlyCache(GenerationCache):
    """What a non-main process sees: the cache as it was on disk, plus what it generated, with
    nothing written (two processes appending to one file would interleave lines)."""

    def put_many(self, entries: Any) -> None:
        self._entries.update({key: list(comps) for key, comps in entries.items()})


def open_cache(path: Path) -> GenerationCache:
    return GenerationCache(path) if is_main_process() else _MemoryOnlyCache(path)
