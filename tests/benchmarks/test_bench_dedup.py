"""The dedup benchmarks at toy size, so they cannot rot; CI times nothing here."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_dedup.py"), *args],
        capture_output=True, text=True, env=env, cwd=ROOT, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_side_by_side_with_plain_recipe() -> None:
    out = run_bench("--docs", "300")
    assert "speed-up:" in out and "planted pairs at or above the threshold clustered" in out


PEERS = (("rensa", "rensa"), ("rensa-dedup", "rensa"), ("datatrove", "datatrove"),
         ("plain", "datasketch"))  # fmt: skip


def test_peers_each_a_whole_process_or_skipped_with_reason() -> None:
    out = run_bench("--peers", "--sizes", "300", "--rounds", "1", "--corpora", "planted")
    assert "round 1: datacheck" in out
    for tool, package in PEERS:
        if importlib.util.find_spec(package) is None:
            assert f"skipped {tool}: `{package}` is not installed" in out
        else:
            line = next(x for x in out.splitlines() if x.startswith(f"round 1: {tool} "))
            assert "false drops" in line
    summary = out.split("summary at 300 docs, corpus planted")[1]
    assert "datacheck" in summary and "peak RSS" in summary


def test_heavily_duplicated_corpora_are_scored_against_rensas_best_recipe() -> None:
    out = run_bench(
        "--peers", "--sizes", "400", "--rounds", "1", "--corpora", "clusters40",
        "--tools", "datacheck", "rensa-flags",
    )  # fmt: skip
    head = next(x for x in out.splitlines() if x.startswith("corpus clusters40: 400 docs"))
    assert "160 planted pairs" in head  # one pair per copy, 40% of the documents
    (datacheck,) = [x for x in out.splitlines() if x.startswith("round 1: datacheck ")]
    assert "false drops 0" in datacheck and "dropped 0 " not in datacheck
    if importlib.util.find_spec("rensa") is not None:
        assert "vs rensa's best recipe in each round:" in out.split("summary at 400 docs")[1]


def test_a_missing_peer_is_skipped_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from dedup_peer_runs import available

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert available(["datacheck", "rensa", "plain"], 1000, 200000) == ["datacheck"]
    out = capsys.readouterr().out
    assert "skipped rensa: `rensa` is not installed (pip install -e .[bench])" in out
    assert "skipped plain: `datasketch` is not installed" in out


def test_clustered_corpus_has_the_asked_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from dedup_clusters import MAX_CLUSTER, clustered_corpus

    docs, planted = clustered_corpus(5000, seed=3, dup_fraction=0.3)
    assert len(docs) == 5000 and len(planted) == 1500  # 30% of the documents are copies
    parent = {copy: source for source, copy in planted}
    assert len(parent) == len(planted)  # each copy has one source

    def root(i: int) -> int:
        while i in parent:
            i = parent[i]
        return i

    sizes: dict[int, int] = {}
    for i in range(len(docs)):
        sizes[root(i)] = sizes.get(root(i), 0) + 1
    clusters = [k for k in sizes.values() if k > 1]
    assert max(clusters) <= MAX_CLUSTER
    assert max(clusters) >= 20  # the long tail is there
    assert any(root(c) != s for s, c in planted)  # some copies are copies of copies
