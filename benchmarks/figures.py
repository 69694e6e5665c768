"""The non-timing figures the README and docs quote, regenerated from the artifacts that hold them.

    python benchmarks/figures.py demo runs/demo            # docs/pipeline.md "Measured", README
    python benchmarks/figures.py demo runs/seeds           # the same for --seeds 0,1,2, per seed
    python benchmarks/figures.py study runs/study-cleaning # docs/study.md, from the study's record
    python benchmarks/figures.py statistics                # docs/statistics.md's two tables
    python benchmarks/figures.py lsh                       # docs/datacheck.md's banding table
    make figures                                           # each of these whose input is here

``demo`` reads a pipeline run directory (`python -m scripts.pipeline --out DIR`) and recomputes
every table from the evaluations' samples and reports, as the pipeline's summary does, plus the
figures the prose quotes: how the base states its answers, how many wrong answers reached the
gold in an earlier equation, GRPO's logged rewards. ``statistics`` prints the simulation tables
from their stored output (docs/figures/compare_seeds.json); ``--recompute`` reruns the
simulation, which is exact for its seed (about 20 minutes on 2 cores). Timings are not here: each
doc gives them with their command and the load at the time.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file: the scripts package lives beside benchmarks/

STATISTICS_JSON = ROOT / "docs" / "figures" / "compare_seeds.json"
NULL_COLUMNS = [("n", "items", "d"), ("runs", "runs/side", "d"), ("tau", "seed SD (logit)", ".2f"),
                ("seed_sd_points", "seed SD (points)", ".2f"), ("seed_share", "seed share", ".2f"),
                ("alarm_two_level", "two-level", ".3f"),
                ("alarm_one_checkpoint", "one checkpoint", ".3f"),
                ("alarm_two_level_bootstrap", "two-level bootstrap", ".3f")]  # fmt: skip
POWER_RUNS = {1: "1 run a side (paired, one checkpoint)", 3: "3 runs a side", 5: "5 runs a side"}


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]], align: str = "---") -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join([align] * len(columns)) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def statistics_tables(record: Mapping[str, Any]) -> str:
    """docs/statistics.md's calibration table and its power table (runs as columns)."""
    null = [[("—" if row[k] is None else format(row[k], fmt)) for k, _, fmt in NULL_COLUMNS]
            for row in record["null"]]  # fmt: skip
    power: dict[float, dict[int, float]] = {}
    for row in record["power"]:
        power.setdefault(row["effect_points"], {})[row["runs"]] = row["power"]
    power_rows = [[f"{points:g}", *(f"{by_runs[r]:.3f}" for r in POWER_RUNS)]
                  for points, by_runs in power.items()]  # fmt: skip
    return (_table([c for _, c, _ in NULL_COLUMNS], null, "---:") + "\n\n"
            + _table(["true gain (points)", *POWER_RUNS.values()], power_rows, "---:"))  # fmt: skip


def lsh_table(threshold: float = 0.7, num_perm: int = 128) -> str:
    """docs/datacheck.md's detection probabilities: datacheck's banding against datasketch's
    default (its _optimal_param, which weighs false positives and negatives alike: 14 x 9)."""
    from datasketch.lsh import _optimal_param

    from datacheck.dedup.lsh import choose_bands, detection_probability

    ours, theirs = choose_bands(threshold, num_perm), _optimal_param(threshold, num_perm, 0.5, 0.5)
    rows = []
    for s in (0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9):
        cells = [f"{s:.2f}", *(f"{detection_probability(s, b, r):.3f}" for b, r in (ours, theirs))]
        rows.append([f"**{c}**" for c in cells] if s == threshold else cells)
    times = "\u00d7"  # the doc's multiplication sign
    return _table(["Jaccard s", f"chosen {ours[0]}{times}{ours[1]}",
                   f"datasketch default {theirs[0]}{times}{theirs[1]}"], rows)  # fmt: skip


def _original_rows(run_dir: Path) -> list[dict[str, Any]]:
    from reasonkit.artifacts import read_jsonl

    return [r for r in read_jsonl(run_dir / "samples.jsonl") if r.get("variant") == "original"]


def answer_forms(run_dir: Path) -> str:
    """How the answers are stated: the marker the scorer found (None: no answer at all)."""
    counts = Counter(str(r.get("marker")) for r in _original_rows(run_dir))
    return ", ".join(f"{marker} {n}" for marker, n in counts.most_common())


def gold_reached_early(run_dir: Path) -> dict[str, int]:
    """Wrong answers whose trace had the gold value as the result of an equation.

    Three readings, each printed, since the count depends on it (issue 26: 60 or 87 for one run):
    ``earlier``: an equation before the last one equals the gold; ``one_step_past``: the
    second-to-last equation equals it (the last one is a step too many); ``anywhere``: any equation
    does. Equations are the traces layer's (reasoneval.layers.arithmetic), in reading order.
    """
    from reasoneval.layers.arithmetic import check_arithmetic
    from reasonkit.answers import is_equivalent

    counts = {"wrong": 0, "earlier": 0, "one_step_past": 0, "anywhere": 0}
    for row in _original_rows(run_dir):
        if row["correct"]:
            continue
        counts["wrong"] += 1
        values = [f"{e.value:g}" for e in check_arithmetic(str(row["response"] or ""))]
        hits = [is_equivalent(v, str(row["gold"])) for v in values]
        counts["earlier"] += any(hits[:-1])
        counts["one_step_past"] += len(hits) >= 2 and hits[-2]
        counts["anywhere"] += any(hits)
    return counts


def reward_range(grpo_dir: Path, name: str) -> str:
    lines = (grpo_dir / "completion_samples.jsonl").read_text(encoding="utf-8").splitlines()
    values = [json.loads(x)["reward_mean"][name] for x in lines if x.strip()]
    return (f"{name} per logged step: {min(values):.3f}-{max(values):.3f}, "
            f"mean {sum(values) / len(values):.3f} over {len(values)} steps")  # fmt: skip


def demo(run_dir: Path) -> str:
    """Every non-timing figure docs/pipeline.md and the README quote for a pipeline run."""
    from scripts.pipeline_summary import compare_stages, model_row, render
    from scripts.recipe import eval_name, train_dir

    seeds = json.loads((run_dir / "pipeline_config.json").read_text(encoding="utf-8"))["seeds"]
    evals = {eval_name("base"): run_dir / "eval" / "base"}
    for seed in seeds:
        for kind in ("sft", "grpo"):
            evals[eval_name(kind, seed)] = run_dir / "eval" / eval_name(kind, seed)
    rows = {name: model_row(path) for name, path in evals.items()}
    sft = [evals[eval_name("sft", s)] for s in seeds]
    grpo = [evals[eval_name("grpo", s)] for s in seeds]
    comparisons = {"base -> SFT": compare_stages([evals["base"]], sft, 15.0),
                   "SFT -> GRPO": compare_stages(sft, grpo, 5.0)}  # fmt: skip
    spread = {kind: round(100 * (max(v) - min(v)), 1) if len(v := [
        rows[eval_name(kind, s)]["metrics"]["accuracy"]["value"] for s in seeds]) > 1 else None
        for kind in ("sft", "grpo")}  # fmt: skip
    out = [f"# Figures of {run_dir} (python benchmarks/figures.py demo {run_dir})", "",
           render(rows, comparisons, spread, {}).split("\n| stage | seconds |")[0]]  # fmt: skip
    if len(seeds) > 1:
        per_seed = []
        for s in seeds:
            one = compare_stages([evals[eval_name("sft", s)]], [evals[eval_name("grpo", s)]], 5.0)
            per_seed.append([str(s), f"{100 * one['baseline_accuracy']:.1f}",
                             f"{100 * one['candidate_accuracy']:.1f}",
                             f"{100 * one['delta']:+.1f} [{100 * one['ci_low']:+.1f}, "
                             f"{100 * one['ci_high']:+.1f}]"])  # fmt: skip
        out += ["", _table(["seed", "SFT", "GRPO", "GRPO - SFT (paired)"], per_seed)]
    base = evals["base"]
    reached = gold_reached_early(base)
    out += ["", "Figures the prose quotes:",
            f"- base answers by marker (original prompts): {answer_forms(base)}",
            f"- base wrong answers: {reached['wrong']}; the gold was the result of an equation "
            f"before the last in {reached['earlier']}, of the second-to-last (one step too many) "
            f"in {reached['one_step_past']}, of any equation in {reached['anywhere']}"]  # fmt: skip
    for s in seeds:
        sft_to_grpo = compare_stages([evals[eval_name("sft", s)]], [evals[eval_name("grpo", s)]], 5.0)
        out.append(f"- seed {s}: SFT -> GRPO changed {sft_to_grpo['baseline_only']} answers for "
                   f"the worse and {sft_to_grpo['candidate_only']} for the better")  # fmt: skip
        for name in ("accuracy_reward", "format_reward"):
            out.append(f"- seed {s}: GRPO {reward_range(train_dir(run_dir, s, 'grpo'), name)}")
    return "\n".join(out) + "\n"


def study(study_dir: Path) -> str:
    """A study's tables as its run recorded them in study.json. Rerunning the study's command on
    the finished directory resumes every arm and recomputes the figures from their samples."""
    from scripts.study_records import Page
    from scripts.study_report import render_markdown

    record = json.loads((study_dir / "study.json").read_text(encoding="utf-8"))
    return f"<!-- python benchmarks/figures.py study {study_dir} -->\n" + render_markdown(Page.from_json(record))


def statistics(recompute: bool) -> str:
    if not recompute:
        record = json.loads(STATISTICS_JSON.read_text(encoding="utf-8"))
        return statistics_tables(record) + "\n"
    import subprocess

    record = {}
    for part, extra in (("null", ["--experiments", "2000", "--bootstrap-experiments", "500"]),
                        ("power", ["--power-experiments", "500"])):  # fmt: skip
        out = STATISTICS_JSON.with_name(f".{part}.json")
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_compare_seeds.py"),
                        "--part", part, *extra, "--seed", "0", "--json", str(out)], check=True)  # fmt: skip
        record[part] = json.loads(out.read_text(encoding="utf-8"))[part]
        out.unlink()
    return statistics_tables(record) + "\n"


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("demo", allow_abbrev=False).add_argument("run_dir", type=Path)
    sub.add_parser("study", allow_abbrev=False).add_argument("study_dir", type=Path)
    stats = sub.add_parser("statistics", allow_abbrev=False)
    stats.add_argument("--recompute", action="store_true", help="rerun the simulation (~20 min)")
    sub.add_parser("lsh", allow_abbrev=False)
    sub.add_parser("all", allow_abbrev=False, help="each of the above whose input is under runs/")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if args.what == "demo":
        print(demo(args.run_dir))
    elif args.what == "study":
        print(study(args.study_dir))
    elif args.what == "statistics":
        print(statistics(args.recompute))
    elif args.what == "lsh":
        print(lsh_table())
    else:
        print("## docs/statistics.md\n\n" + statistics(False))
        print("## docs/datacheck.md\n\n" + lsh_table() + "\n")
        for name in ("demo", "seeds", "study-cleaning", "study-recipes"):
            path = ROOT / "runs" / name
            if (path / "pipeline_config.json").is_file():
                print(demo(path))
            elif (path / "study.json").is_file():
                print(study(path))
            else:
                print(f"(runs/{name} is not here: see docs/figures.md for the command that makes it)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
