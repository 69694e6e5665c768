"""bench_dedup.py --peers: datacheck against rensa, datatrove and plain datasketch, interleaved.

Corpora (dedup_clusters.CORPORA): "planted" (2% lone copies, dedup_corpus.py) and the heavily
duplicated "clusters20" / "clusters40" (20% / 40% of documents in clusters of 2-50 near-copies).

Each (round, tool) is one process on the same corpus file; rounds rotate the order, so a burst of
load from other jobs lands on different tools in different rounds. Wall and CPU time and peak RSS
are the child's own (process_usage.py), so they are whole-process figures: interpreter start, imports,
reading the JSONL, deduplicating and writing the kept rows. The ratios are per round (peer wall /
datacheck wall, from the same round), then their median.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dedup_clusters import CORPORA, make_corpus
from dedup_corpus import DropScore, Scorer, write_corpus
from dedup_peers import PEER_PACKAGES, THRESHOLD
from process_usage import measured

HERE = Path(__file__).resolve().parent
TOOLS = ("datacheck", "rensa", "rensa-flags", "rensa-dedup", "datatrove", "plain")
RENSA = ("rensa", "rensa-flags", "rensa-dedup")


@dataclass(frozen=True, slots=True)
class Run:
    tool: str
    corpus: str
    docs: int
    wall: float
    cpu: float
    rss_mb: float
    load: float  # 1-minute load average when the run started
    score: DropScore


def add_peer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--peers", action="store_true", help="datacheck vs rensa/datatrove/plain")
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000], help="with --peers")
    parser.add_argument(
        "--corpora", nargs="+", default=list(CORPORA), choices=list(CORPORA), help="with --peers"
    )
    parser.add_argument("--rounds", type=int, default=3, help="with --peers: interleaved rounds")
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument(
        "--plain-max", type=int, default=200000,
        help="skip the plain recipe above this size (~500 docs/s: 1M docs is over half an hour)",
    )  # fmt: skip


def available(tools: list[str], n: int, plain_max: int) -> list[str]:
    chosen = []
    for tool in tools:
        package = PEER_PACKAGES.get(tool)
        if package and importlib.util.find_spec(package) is None:
            print(f"skipped {tool}: `{package}` is not installed (pip install -e .[bench])")
        elif tool == "plain" and n > plain_max:
            print(f"skipped plain at {n:,} docs: above --plain-max {plain_max:,}")
        else:
            chosen.append(tool)
    return chosen


def run_tool(tool: str, corpus_path: Path, out: Path) -> tuple[float, float, float, list[int]]:
    out.mkdir(parents=True)
    if tool == "datacheck":
        command = [sys.executable, "-m", "datacheck.cli", "dedup", str(corpus_path)]
        command += ["--field", "text", "--out", str(out)]
    else:
        command = [sys.executable, str(HERE / "dedup_peers.py"), tool, str(corpus_path), str(out)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), str(HERE),
                                                      env.get("PYTHONPATH")]))  # fmt: skip
    usage = measured(command, out / "log.txt", env)
    if tool == "datacheck":
        with (out / "duplicates.jsonl").open() as fh:
            dropped = [json.loads(line)["line"] for line in fh]
    else:
        dropped = json.loads((out / "dropped.json").read_text())
    return usage["wall_s"], usage["cpu_s"], usage["peak_rss_mb"], dropped


def describe(run: Run) -> str:
    s = run.score
    return (
        f"{run.tool:<12} {run.wall:8.2f} s wall {run.cpu:8.2f} s CPU {run.docs / run.wall:9,.0f} "
        f"docs/s  peak RSS {run.rss_mb:6.0f} MB  recall {s.found}/{s.due} = {s.recall:.2%}  "
        f"dropped {s.dropped}  false drops {s.false_drops}  (load {run.load:.2f})"
    )


def summarise(runs: list[Run], rounds: int) -> None:
    by_tool: dict[str, list[Run]] = {}
    for run in runs:
        by_tool.setdefault(run.tool, []).append(run)
    base = by_tool.get("datacheck", [])
    loads = [r.load for r in runs]
    print(f"summary at {runs[0].docs:,} docs, corpus {runs[0].corpus} (median over {rounds} "
          f"rounds, load {min(loads):.1f}-{max(loads):.1f}; ratio = peer wall / datacheck wall "
          "in the same round, > 1 means datacheck is faster):")  # fmt: skip
    for tool, mine in by_tool.items():
        wall = statistics.median(r.wall for r in mine)
        cpu = statistics.median(r.cpu for r in mine)
        line = (f"  {tool:<12} {wall:8.2f} s wall {cpu:8.2f} s CPU "
                f"{mine[0].docs / wall:9,.0f} docs/s  peak RSS {max(r.rss_mb for r in mine):6.0f} MB")  # fmt: skip
        if tool != "datacheck" and len(base) == len(mine):
            line += "  ratio " + _ratios([p.wall for p in mine], [p.cpu for p in mine], base)
        print(line)
    rensa = [by_tool[t] for t in RENSA if t in by_tool and len(by_tool[t]) == len(base)]
    if base and rensa:
        # Per round, the fastest rensa recipe of that round: the target's "rensa's best recipe".
        best = [min(runs_[k].wall for runs_ in rensa) for k in range(len(base))]
        best_cpu = [min(runs_[k].cpu for runs_ in rensa) for k in range(len(base))]
        print(f"  vs rensa's best recipe in each round: {_ratios(best, best_cpu, base)}")


def _ratios(walls: list[float], cpus: list[float], base: list[Run]) -> str:
    ratios = [w / d.wall for w, d in zip(walls, base, strict=True)]
    cpu_ratios = [c / d.cpu for c, d in zip(cpus, base, strict=True)]
    return (f"{statistics.median(ratios):.2f}x wall [{', '.join(f'{r:.2f}' for r in ratios)}], "
            f"{statistics.median(cpu_ratios):.2f}x CPU")  # fmt: skip


def run_peers(args: argparse.Namespace) -> list[Run]:
    runs: list[Run] = []
    if "datacheck" in args.tools:
        _warm_up()
    for name in args.corpora:
        for n in args.sizes:
            runs += _run_corpus(args, name, n)
    return runs


def _warm_up() -> None:
    """One untimed datacheck run on 100 documents. numba compiles datacheck's kernels on a
    machine's first run and caches them beside their module (like .pyc files); that one-time
    cost is printed here, and kept out of round 1."""
    docs, _ = make_corpus("clusters40", 100, 0)
    with tempfile.TemporaryDirectory(prefix="bench_dedup_warm_") as work:
        path = Path(work) / "warm.jsonl"
        write_corpus(path, docs)
        wall, cpu, _, _ = run_tool("datacheck", path, Path(work) / "out")
    print(f"warm-up: datacheck on 100 docs, {wall:.2f} s wall, {cpu:.2f} s CPU (a compile when "
          "the kernel cache is cold; about 0.6 s CPU of fixed start-up when warm)")  # fmt: skip


def _run_corpus(args: argparse.Namespace, name: str, n: int) -> list[Run]:
    tools = available(args.tools, n, args.plain_max)
    docs, planted = make_corpus(name, n, args.seed)
    scorer = Scorer(docs, planted, THRESHOLD)
    print(f"corpus {name}: {n:,} docs, {len(planted):,} planted pairs, {len(scorer.due):,} at "
          f"or above Jaccard {THRESHOLD}; load {os.getloadavg()[0]:.2f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench_dedup_") as work:
        corpus_path = Path(work) / "corpus.jsonl"
        write_corpus(corpus_path, docs)
        del docs
        size_runs = []
        for round_ in range(args.rounds):
            for tool in tools[round_ % len(tools) :] + tools[: round_ % len(tools)]:
                out = Path(work) / f"{tool}-{round_}"
                load = os.getloadavg()[0]
                wall, cpu, rss, dropped = run_tool(tool, corpus_path, out)
                run = Run(tool, name, n, wall, cpu, rss, load, scorer.score(set(dropped)))
                print(f"round {round_ + 1}: {describe(run)}", flush=True)
                size_runs.append(run)
                shutil.rmtree(out)
        size_runs.sort(key=lambda r: tools.index(r.tool))  # stable: rounds stay in order
        summarise(size_runs, args.rounds)
    return size_runs
