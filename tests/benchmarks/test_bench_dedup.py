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


def test_peers_each_a_whole_process_or_skipped_with_reason() -> None:
    out = run_bench("--peers", "--sizes", "300", "--rounds", "1")
    assert "round 1: datacheck" in out
    for tool, package in (("rensa", "rensa"), ("datatrove", "datatrove"), ("plain", "datasketch")):
        if importlib.util.find_spec(package) is None:
            assert f"skipped {tool}: `{package}` is not installed" in out
        else:
            line = next(x for x in out.splitlines() if x.startswith(f"round 1: {tool} "))
            assert "false drops" in line
    summary = out.split("summary at 300 docs")[1]
    assert "datacheck" in summary and "peak RSS" in summary


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
