"""bench_dedup.py --peers: datacheck against rensa, datatrove and plain datasketch, interleaved.

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

from dedup_corpus import DropScore, Scorer, corpus, write_corpus
from dedup_peers import PEER_PACKAGES, THRESHOLD
from process_usage import measured

HERE = Path(__file__).resolve().parent
TOOLS = ("datacheck", "rensa", "rensa-flags", "datatrove", "plain")


@dataclass(frozen=True, slots=True)
class Run:
    tool: str
    docs: int
    wall: float
    cpu: float
    rss_mb: float
    load: float  # 1-minute load average when the run started
    score: DropScore


def add_peer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--peers", action="store_true", help="datacheck vs rensa/datatrove/plain")
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000], help="with --peers")
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
    print(f"summary at {runs[0].docs:,} docs (median over {rounds} rounds; ratio = peer wall / "
          "datacheck wall in the same round, > 1 means datacheck is faster):")  # fmt: skip
    for tool, mine in by_tool.items():
        wall = statistics.median(r.wall for r in mine)
        cpu = statistics.median(r.cpu for r in mine)
        line = (f"  {tool:<12} {wall:8.2f} s wall {cpu:8.2f} s CPU "
                f"{mine[0].docs / wall:9,.0f} docs/s  peak RSS {max(r.rss_mb for r in mine):6.0f} MB")  # fmt: skip
        if tool != "datacheck" and len(base) == len(mine):
            ratios = [p.wall / d.wall for p, d in zip(mine, base, strict=True)]
            cpu_ratios = [p.cpu / d.cpu for p, d in zip(mine, base, strict=True)]
            line += (f"  ratio {statistics.median(ratios):.2f}x wall "
                     f"[{', '.join(f'{r:.2f}' for r in ratios)}], "
                     f"{statistics.median(cpu_ratios):.2f}x CPU")  # fmt: skip
        print(line)


def run_peers(args: argparse.Namespace) -> list[Run]:
    runs: list[Run] = []
    for n in args.sizes:
        tools = available(args.tools, n, args.plain_max)
        docs, planted = corpus(n, args.seed)
        scorer = Scorer(docs, planted, THRESHOLD)
        print(f"corpus: {n:,} docs, {len(planted):,} planted pairs, {len(scorer.due):,} at or "
              f"above Jaccard {THRESHOLD}; load {os.getloadavg()[0]:.2f}")  # fmt: skip
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
                    run = Run(tool, n, wall, cpu, rss, load, scorer.score(set(dropped)))
                    print(f"round {round_ + 1}: {describe(run)}", flush=True)
                    size_runs.append(run)
                    shutil.rmtree(out)
            size_runs.sort(key=lambda r: tools.index(r.tool))  # stable: rounds stay in order
            summarise(size_runs, args.rounds)
            runs += size_runs
    return runs
