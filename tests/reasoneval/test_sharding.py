"""Generation sharded over 2 CPU processes (accelerate launch, gloo) equals one process, in order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from reasoneval.backends.base import SamplingConfig
from reasoneval.records import Completion
from reasoneval.sharding import ParallelConfig, ShardedBackend, load_sharded, merge, shard, world
from reasonkit.errors import InputError

PROMPTS = [f"Question {k}: what is {k} plus {k * 3}?" + " Think." * (k % 4) for k in range(7)]

# Runs under `accelerate launch`: every rank builds the HF backend, generates its shard, and
# rank 0 writes the merged result.
WORKER = """
import json, sys
from dataclasses import asdict
import torch
torch.set_num_threads(1)
from reasoneval.backends import load_backend
from reasoneval.backends.base import SamplingConfig
from reasoneval.sharding import ParallelConfig, is_main_process, load_sharded, world

if __name__ == "__main__":  # vLLM starts worker processes
    name, model, out, prompts, sampling = sys.argv[1:6]
    sampling = json.loads(sampling)
    sampling["stop"] = tuple(sampling["stop"])
    engine = {"batch_size": 2} if name == "hf" else {"max_model_len": 512, "enforce_eager": True, "use_tqdm": False}
    parallel = ParallelConfig(data_parallel_size=int(sys.argv[6]))
    backend = load_sharded(name, parallel, lambda **kw: load_backend(name, model, seed=0, **engine, **kw))
    result = backend.generate(json.loads(prompts), SamplingConfig(**sampling))
    backend.close()
    if is_main_process():
        json.dump({"world": world(), "result": [[asdict(c) for c in row] for row in result]}, open(out, "w"))
"""


def test_shards_are_strided_and_merge_restores_order() -> None:
    items = list("abcdefg")
    pieces = [shard(items, rank, 3) for rank in range(3)]
    assert [[i for i, _ in p] for p in pieces] == [[0, 3, 6], [1, 4], [2, 5]]
    assert merge([x for p in reversed(pieces) for x in p], len(items)) == items


def test_merge_rejects_a_missing_or_duplicated_item() -> None:
    with pytest.raises(RuntimeError, match=r"items \[1\]"):
        merge([(0, "a"), (2, "c")], 3)
    with pytest.raises(RuntimeError, match="duplicated"):
        merge([(0, "a"), (0, "a"), (1, "b")], 2)


def test_one_process_needs_no_accelerate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert world() == (0, 1)


class _Echo:
    name = "echo"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def generate(self, prompts: list[str], sampling: SamplingConfig) -> list[list[Completion]]:
        self.seen += prompts
        return [[Completion(p.upper(), "stop", 1, 1)] for p in prompts]

    def close(self) -> None:
        pass


def test_sharded_backend_generates_only_its_shard() -> None:
    # The gather is the identity here (one process plays rank 1 of 2 and the other shard is
    # supplied), so this checks the bookkeeping; the real collective is the test below.
    other = [(0, [Completion("A", "stop", 1, 1)]), (2, [Completion("C", "stop", 1, 1)])]
    inner = _Echo()
    backend = ShardedBackend(inner, 1, 2, gather=lambda mine: other + mine)
    out = backend.generate(["a", "b", "c", "d"], SamplingConfig())
    assert inner.seen == ["b", "d"]
    assert [row[0].text for row in out] == ["A", "B", "C", "D"]


def launch_two(name: str, model: Path, tmp_path: Path, sampling: SamplingConfig) -> dict[str, Any]:
    """The worker under `accelerate launch` with 2 processes; rank 0's merged result."""
    launcher = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    if launcher is None:
        pytest.skip("the accelerate launcher is not installed beside this Python")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    out = tmp_path / "merged.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    env |= {"VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CPU_OMP_THREADS_BIND": "nobind"}
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        env.pop(var, None)
    done = subprocess.run(
        # --multi_gpu is accelerate's torchrun launcher; sharding.world() forms a gloo group
        # whatever the hardware (accelerate's own --cpu mode would need MPI).
        [launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
         str(script), name, str(model), str(out), json.dumps(PROMPTS),
         json.dumps(asdict(sampling)), "2"],
        env=env, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    merged: dict[str, Any] = json.loads(out.read_text())
    assert merged["world"] == [0, 2]
    return merged


@pytest.mark.slow
@pytest.mark.vllm
def test_vllm_data_parallel_replicas_match_one_engine_in_item_order(
    vllm_tiny_backend: Any, tiny_model_dir: Path, tmp_path: Path
) -> None:
    greedy = SamplingConfig(max_new_tokens=12)
    expected = vllm_tiny_backend.generate(PROMPTS, greedy)
    merged = launch_two("vllm", tiny_model_dir, tmp_path, greedy)
    assert merged["result"] == [[asdict(c) for c in row] for row in expected]
    assert len({row[0]["text"] for row in merged["result"]}) > 1


@pytest.mark.slow
@pytest.mark.vllm
def test_vllm_tensor_parallel_size_reaches_the_engine(
    vllm_tiny_backend: Any, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reasoneval.backends import load_backend

    # vllm-cpu binds each TP worker to a NUMA node; this box has one, so no binding.
    monkeypatch.setenv("VLLM_CPU_OMP_THREADS_BIND", "nobind")
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    greedy = SamplingConfig(max_new_tokens=12)
    expected = vllm_tiny_backend.generate(PROMPTS, greedy)
    backend = load_sharded(
        "vllm",
        ParallelConfig(tensor_parallel_size=2),
        lambda **kw: load_backend(
            "vllm", tiny_model_dir, seed=0, max_model_len=512, enforce_eager=True,
            use_tqdm=False, **kw,
        ),
    )  # fmt: skip
    try:
        assert backend.llm.llm_engine.vllm_config.parallel_config.tensor_parallel_size == 2  # type: ignore[attr-defined]
        assert backend.generate(PROMPTS, greedy) == expected
    finally:
        backend.close()


def test_parallel_settings_fail_fast_with_the_command_to_run() -> None:
    with pytest.raises(InputError, match="accelerate launch --multi_gpu --num_processes 4"):
        ParallelConfig(data_parallel_size=4).check("vllm", 1)
    with pytest.raises(InputError, match="needs --backend vllm"):
        ParallelConfig(tensor_parallel_size=2).check("hf", 1)
    with pytest.raises(InputError, match="at least 1"):
        ParallelConfig(tensor_parallel_size=0).check("vllm", 1)
    ParallelConfig(data_parallel_size=2).check("hf", 2)  # launched as asked: fine


@pytest.mark.slow
def test_reasoneval_run_under_accelerate_writes_what_one_process_writes(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    launcher = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    if launcher is None:
        pytest.skip("the accelerate launcher is not installed beside this Python")
    data = tmp_path / "problems.jsonl"
    data.write_text(
        "".join(
            json.dumps(
                {
                    "question": f"Ava has {k} apples and buys {k + 2}. How many now?",
                    "answer": f"{k}+{k + 2}={2 * k + 2}\n#### {2 * k + 2}",
                }
            )
            + "\n"
            for k in range(5)
        )
    )
    run = ["run", str(tiny_model_dir), "--dataset", str(data), "--backend", "hf",
           "--max-new-tokens", "8", "--samples", "2", "--temperature", "0.7"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        env.pop(var, None)
    one, two = tmp_path / "one", tmp_path / "two"
    single = subprocess.run(
        [sys.executable, "-m", "reasoneval", *run, "--out", str(one)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert single.returncode == 0, single.stderr[-3000:]
    launched = subprocess.run(
        [launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
         "-m", "reasoneval", *run, "--data-parallel-size", "2", "--out", str(two)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert (two / "samples.jsonl").read_text() == (one / "samples.jsonl").read_text()
    # Rank 0 alone wrote the cache: one line per prompt, none doubled by rank 1.
    assert len((two / "cache/generations.jsonl").read_text().splitlines()) == 5
    report_one = json.loads((one / "report.json").read_text())
    report_two = json.loads((two / "report.json").read_text())
    assert report_two["layers"] == report_one["layers"]


def test_each_replica_gets_its_own_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    # GPU placement on an 8-GPU node, with the CUDA probe answered here: this box has no GPU.
    import torch

    from reasoneval.sharding import device_kwargs

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 8)
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    two_by_four = ParallelConfig(data_parallel_size=2, tensor_parallel_size=4)
    assert device_kwargs("vllm", two_by_four, 1, 2) == {"tensor_parallel_size": 4}
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "4,5,6,7"
    monkeypatch.setenv(
        "CUDA_VISIBLE_DEVICES", "2,3,5,7"
    )  # a user's own mask is sliced, not ignored
    assert device_kwargs("vllm", ParallelConfig(2, 2), 1, 2) == {"tensor_parallel_size": 2}
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "5,7"
    assert device_kwargs("hf", ParallelConfig(2), 1, 2) == {"device": "cuda:1"}
    with pytest.raises(InputError, match="this node has 2"):
        device_kwargs("vllm", ParallelConfig(2, 4), 1, 2)
