"""Generation across several processes (``accelerate launch``/``torchrun``): each process runs
its own engine on a strided shard of the prompts, the shards are gathered, and every process gets
the full result back in prompt order. Only the main process writes files.

- HF backend: one model replica per process, on GPU ``LOCAL_RANK`` (or the CPU).
- vLLM: ``tensor_parallel_size`` goes to ``vllm.LLM`` as is; it splits one replica over GPUs from
  one process. ``data_parallel_size`` N means N replicas, one process each: vLLM itself refuses
  ``LLM(data_parallel_size>1)`` in one process and calls offline data parallelism for dense models
  "not supported/useful" (vllm/config/parallel.py), so the replicas run under a launcher, each
  seeing its own ``tensor_parallel_size`` GPUs through CUDA_VISIBLE_DEVICES.

The gather is gloo over the CPU (a few KB of text per prompt). Outside a launcher (WORLD_SIZE
unset or 1) nothing here imports accelerate or torch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from reasoneval.backends.base import Backend, SamplingConfig
from reasoneval.cache import GenerationCache
from reasoneval.records import Completion
from reasonkit.errors import InputError

T = TypeVar("T")
R = TypeVar("R")
Gather = Callable[[list[Any]], list[Any]]


def world() -> tuple[int, int]:
    """(this process's rank, number of processes)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    from accelerate import PartialState

    # cpu=True: a gloo group whatever the hardware. Only the gather uses it, and it leaves CUDA
    # untouched in this process, so each engine picks its own GPUs (see device_kwargs).
    state = PartialState(cpu=True)
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


@dataclass(frozen=True, slots=True)
class ParallelConfig:
    data_parallel_size: int = 1  # replicas = processes launched; 1 also means "whatever launched"
    tensor_parallel_size: int = 1  # GPUs per vLLM replica

    def check(self, backend: str, processes: int) -> None:
        for flag, value in (
            ("--data-parallel-size", self.data_parallel_size),
            ("--tensor-parallel-size", self.tensor_parallel_size),
        ):
            if value < 1:
                raise InputError(f"{flag} must be at least 1, got {value}")
        if self.tensor_parallel_size > 1 and backend != "vllm":
            raise InputError("--tensor-parallel-size needs --backend vllm")
        if self.data_parallel_size > 1 and processes != self.data_parallel_size:
            raise InputError(
                f"--data-parallel-size {self.data_parallel_size} runs one process per replica; "
                f"{processes} launched. Use: accelerate launch --multi_gpu --num_processes "
                f"{self.data_parallel_size} -m reasoneval run ..."
            )


def device_kwargs(
    backend: str, parallel: ParallelConfig, rank: int, processes: int
) -> dict[str, Any]:
    """Engine keywords placing this process's replica, and the GPUs it may see."""
    if processes == 1:
        tp = parallel.tensor_parallel_size
        return {"tensor_parallel_size": tp} if backend == "vllm" and tp > 1 else {}
    import torch

    if not torch.cuda.is_available():
        return device_kwargs(backend, parallel, rank, 1)
    local = int(os.environ.get("LOCAL_RANK", rank))
    if backend != "vllm":
        return {"device": f"cuda:{local}"}
    # vLLM starts its own workers, which see only this replica's slice of this node's GPUs.
    tp = parallel.tensor_parallel_size
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpus = visible.split(",") if visible else [str(k) for k in range(torch.cuda.device_count())]
    mine = gpus[local * tp : (local + 1) * tp]
    if len(mine) < tp:
        raise InputError(
            f"replica {local} needs GPUs {local * tp}..{local * tp + tp - 1}; this node has {len(gpus)}"
        )
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(mine)
    return device_kwargs(backend, parallel, rank, 1)


def load_sharded(backend: str, parallel: ParallelConfig, load: Callable[..., Backend]) -> Backend:
    """``load(**engine_kwargs)``, split across the launched processes when there are several."""
    rank, processes = world()
    parallel.check(backend, processes)
    loaded = load(**device_kwargs(backend, parallel, rank, processes))
    return loaded if processes == 1 else ShardedBackend(loaded, rank, processes)


class _MemoryOnlyCache(GenerationCache):
    """What a non-main process sees: the cache as it was on disk, plus what it generated, with
    nothing written (two processes appending to one file would interleave lines)."""

    def put_many(self, entries: Any) -> None:
        self._entries.update({key: list(comps) for key, comps in entries.items()})


def open_cache(path: Path) -> GenerationCache:
    return GenerationCache(path) if is_main_process() else _MemoryOnlyCache(path)
