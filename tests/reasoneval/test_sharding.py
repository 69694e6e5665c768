"""HF generation sharded over 2 CPU processes (accelerate launch, gloo) equals one process, in order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from reasoneval.backends.base import SamplingConfig
from reasoneval.records import Completion
from reasoneval.sharding import ShardedBackend, merge, shard, world

PROMPTS = [f"Question {k}: what is {k} plus {k * 3}?" + " Think." * (k % 4) for k in range(7)]
SAMPLING = SamplingConfig(n=2, temperature=0.8, top_p=0.95, max_new_tokens=12, seed=5)

# Runs under `accelerate launch`: every rank builds the HF backend, generates its shard, and
# rank 0 writes the merged result.
WORKER = """
import json, sys
from dataclasses import asdict
import torch
torch.set_num_threads(1)
from reasoneval.backends import load_backend
from reasoneval.backends.base import SamplingConfig
from reasoneval.sharding import is_main_process, shard_backend, world

model, out, prompts, sampling = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
sampling["stop"] = tuple(sampling["stop"])
backend = shard_backend(load_backend("hf", model, seed=0, batch_size=2))
result = backend.generate(prompts, SamplingConfig(**sampling))
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


@pytest.mark.slow
def test_two_cpu_processes_match_one_process_in_item_order(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("accelerate")
    launcher = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    if launcher is None:
        pytest.skip("the accelerate launcher is not installed beside this Python")
    import torch

    from reasoneval.backends import load_backend

    torch.set_num_threads(1)
    single = load_backend("hf", tiny_model_dir, seed=0, batch_size=3)
    expected = single.generate(PROMPTS, SAMPLING)
    single.close()

    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    out = tmp_path / "merged.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    env.pop("WORLD_SIZE", None)
    sampling = json.dumps(asdict(SAMPLING))
    done = subprocess.run(
        # --multi_gpu is accelerate's torchrun launcher; on a machine without CUDA,
        # sharding.world() starts a gloo group (accelerate's own --cpu mode needs MPI).
        [launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
         str(script), str(tiny_model_dir), str(out), json.dumps(PROMPTS), sampling],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    merged = json.loads(out.read_text())
    assert merged["world"] == [0, 2]
    assert merged["result"] == [[asdict(c) for c in row] for row in expected]
    # Not trivially equal: sampled, and different prompts got different text.
    assert len({row[0]["text"] for row in merged["result"]}) > 1
