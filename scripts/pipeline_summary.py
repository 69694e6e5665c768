"""The pipeline's closing evidence: each model's figures, and the paired comparisons between stages.

For base -> SFT and SFT -> GRPO it reports what ``reasoneval.compare`` computes: the Δ with its
95% CI (a paired bootstrap with one seed a side; items x seeds with a t interval with several),
the McNemar p, the discordant counts and a superiority verdict. GRPO's effect on format (the
share of answers in the requested ``#### n`` form) is reported apart from its effect on
correctness, since much of the RL gain reported for small models is format compliance.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reasoneval.layers.failures import TYPES, failure_mix
from reasoneval.report_record import read_report
from reasonkit.artifacts import atomic_write_text, read_jsonl
from scripts.recipe import PipelineConfig, eval_name, eval_splits

SCHEMA_VERSION = 2
# (label, layer, metric): what the model table shows, when the layer reported it.
COLUMNS = (
    ("accuracy", "accuracy", "accuracy"),
    ("truncated (any)", "accuracy", "truncation_rate"),
    ("traces: clean", "traces", "clean_rate"),
    ("traces: arithmetic error", "traces", "error_rate.arithmetic"),
    ("sensitivity: PSS", "sensitivity", "pss"),
)
TARGETS = {"base -> SFT": 15.0, "SFT -> GRPO": 5.0}  # points, issue #12
MAX_SEED_SPREAD = 4.0  # points


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _metric_cell(metric: Mapping[str, Any] | None) -> str:
    if not metric:
        return "-"
    text = _pct(metric.get("value"))
    if metric.get("lo") is not None and metric.get("hi") is not None:
        text += f" [{_pct(metric['lo'])}, {_pct(metric['hi'])}]"
    return text


def format_shares(run_dir: Path) -> dict[str, float]:
    """Shares of original-prompt answers in `#### n` form, right, and right among those."""
    rows = [r for r in read_jsonl(run_dir / "samples.jsonl") if r.get("variant") == "original"]
    formatted = [r for r in rows if r.get("marker") == "####"]
    return {
        "formatted": len(formatted) / len(rows),
        "correct": sum(bool(r["correct"]) for r in rows) / len(rows),
        "correct_if_formatted": (sum(bool(r["correct"]) for r in formatted) / len(formatted))
        if formatted else 0.0,
    }  # fmt: skip


_LAST_RESULT = re.compile(r"=\s*(-?\d+(?:\.\d+)?)\s*$", re.MULTILINE)


def error_mix(run_dir: Path) -> dict[str, float]:
    """Shares of original-prompt answers that are wrong on the answer line alone (the reasoning's
    last equation reaches the gold value, the extracted answer does not) and wrong in the
    reasoning. Their changes between two stages decompose the accuracy change (issue 23: is
    RL repairing the answer line, or the reasoning?)."""
    rows = [r for r in read_jsonl(run_dir / "samples.jsonl") if r.get("variant") == "original"]
    answer_line = reasoning = 0
    for r in rows:
        if r["correct"]:
            continue
        thinking = str(r.get("response", "")).split("</think>")[0]
        results = _LAST_RESULT.findall(thinking)
        if results and results[-1] == str(r["gold"]):
            answer_line += 1
        else:
            reasoning += 1
    return {"answer_line": answer_line / len(rows), "reasoning": reasoning / len(rows)}


def model_row(run_dir: Path) -> dict[str, Any]:
    report = read_report(run_dir)
    metrics = {label: None if (m := report.metric(layer, name)) is None else m.to_json()
               for label, layer, name in COLUMNS}  # fmt: skip
    return {"n_problems": report.dataset.n_problems if report.dataset else None, "metrics": metrics,
            "format": format_shares(run_dir), "errors": error_mix(run_dir),
            "failures": failure_mix(run_dir)}  # fmt: skip


def compare_stages(before: Sequence[Path], after: Sequence[Path], target: float) -> dict[str, Any]:
    from reasoneval.compare import compare_groups, load_run_results

    result = compare_groups([load_run_results(p) for p in before], [load_run_results(p) for p in after],
                            test="superiority", seed=0)  # fmt: skip
    figures = result.to_dict()
    # The accuracy change split by where errors were repaired (or made): mean over runs a side.
    mix_before = [error_mix(p) for p in before]
    mix_after = [error_mix(p) for p in after]
    figures["from_errors"] = {
        kind: sum(m[kind] for m in mix_before) / len(before) - sum(m[kind] for m in mix_after) / len(after)
        for kind in ("answer_line", "reasoning")
    }
    figures["target_points"] = target
    figures["target_met"] = bool(100 * result.delta >= target and result.ci_low > 0)
    return figures


def _split_of(name: str) -> str:
    """The held-out split of an evaluation's name (recipe.eval_name): ``test`` unless prefixed."""
    head = name.split("/")[0]
    return head if head not in ("base", "sft", "grpo") else "test"


def _seed_spread(rows: Mapping[str, Mapping[str, Any]], kind: str) -> float | None:
    """Max - min accuracy over the seeds of ``kind``, on the first split evaluated."""
    first = _split_of(next(iter(rows)))
    values = [r["metrics"]["accuracy"]["value"] for n, r in rows.items()
              if _split_of(n) == first and n.removeprefix(f"{first}/").startswith(f"{kind}/")]  # fmt: skip
    return round(100 * (max(values) - min(values)), 1) if len(values) > 1 else None


def summarize(out: Path, cfg: PipelineConfig, evals: Mapping[str, Path], timings: Mapping[str, float]) -> str:
    """Write summary.json and summary.md under ``out``; return the markdown."""
    rows = {name: model_row(path) for name, path in evals.items()}
    comparisons = {}
    for split in eval_splits(cfg):
        sft = [evals[eval_name("sft", s, split)] for s in cfg.seeds]
        grpo = [evals[eval_name("grpo", s, split)] for s in cfg.seeds]
        suffix = "" if split == "test" else f" ({split})"
        comparisons[f"base -> SFT{suffix}"] = compare_stages(
            [evals[eval_name("base", None, split)]], sft, TARGETS["base -> SFT"])
        comparisons[f"SFT -> GRPO{suffix}"] = compare_stages(sft, grpo, TARGETS["SFT -> GRPO"])
    spread = {"sft": _seed_spread(rows, "sft"), "grpo": _seed_spread(rows, "grpo")}
    payload = {"schema_version": SCHEMA_VERSION, "seeds": cfg.seeds, "models": rows,
               "comparisons": comparisons, "seed_spread_points": spread, "timings_s": dict(timings)}  # fmt: skip
    atomic_write_text(out / "summary.json", json.dumps(payload, indent=2, default=str) + "\n")
    markdown = render(rows, comparisons, spread, timings)
    atomic_write_text(out / "summary.md", markdown)
    return markdown


def render(rows: Mapping[str, Any], comparisons: Mapping[str, Any], spread: Mapping[str, float | None],
           timings: Mapping[str, float]) -> str:  # fmt: skip
    labels = [c[0] for c in COLUMNS]
    lines = ["| model | " + " | ".join(labels) + " | `####` form |", "|---" * (len(labels) + 2) + "|"]
    for name, row in rows.items():
        cells = [_metric_cell(row["metrics"][label]) for label in labels]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {_pct(row['format']['formatted'])} |")
    n = next(iter(rows.values()))["n_problems"]
    lines += ["", f"Percent, [95% interval] (Wilson for rates, bootstrap for PSS); n = {n} held-out "
              "problems per split, greedy; rows named `test-ood/...` are the same computations in "
              "held-out wordings. `truncated (any)`: responses cut at the token limit, whatever "
              "else went wrong; traces give each response one primary error type.", ""]  # fmt: skip
    lines += ["| comparison | Δ points | 95% CI | McNemar p | lost / gained items | seeds | target | met |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, c in comparisons.items():
        lines.append(
            f"| {name} | {100 * c['delta']:+.1f} | [{100 * c['ci_low']:+.1f}, {100 * c['ci_high']:+.1f}] "
            f"| {c['mcnemar_p']:.3g} | {c['baseline_only']} / {c['candidate_only']} "
            f"| {c['n_baseline_runs']} -> {c['n_candidate_runs']} | ≥ +{c['target_points']:g}, CI > 0 "
            f"| {'yes' if c['target_met'] else '**no**'} |"
        )
    lines += ["", "Where each change came from (points; errors repaired minus errors made, mean over seeds):",
              "", "| comparison | answer line | reasoning |", "|---|---|---|"]  # fmt: skip
    for name, c in comparisons.items():
        parts = c["from_errors"]
        lines.append(f"| {name} | {100 * parts['answer_line']:+.1f} | {100 * parts['reasoning']:+.1f} |")
    lines += ["", "Format vs correctness (original prompts, first split; mean over seeds):", "",
              "| model | `####` form | correct | correct when in `####` form |", "|---|---|---|---|"]  # fmt: skip
    first_split = _split_of(next(iter(rows)))
    for kind in ("base", "sft", "grpo"):
        group = [r["format"] for name, r in rows.items() if _split_of(name) == first_split
                 and name.removeprefix(f"{first_split}/").split("/")[0] == kind]  # fmt: skip
        mean = {k: sum(g[k] for g in group) / len(group) for k in group[0]}
        lines.append(f"| {kind} | {_pct(mean['formatted'])} | {_pct(mean['correct'])} "
                     f"| {_pct(mean['correct_if_formatted'])} |")  # fmt: skip
    for kind, value in spread.items():
        if value is not None:
            verdict = "within" if value <= MAX_SEED_SPREAD else "**over**"
            lines.append(f"\nSeed spread of {kind.upper()} accuracy (max - min): {value:.1f} points "
                         f"({verdict} the {MAX_SEED_SPREAD:g}-point target)")  # fmt: skip
    lines += failure_mix_lines(rows)
    lines += ["", "| stage | seconds |", "|---|---|"]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in timings.items()]
    return "\n".join(lines) + "\n"


def failure_mix_lines(rows: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Where each model's wrong answers left the gold path (the traces layer's gold-path check,
    docs/layers.md): did a stage repair answer lines, or reasoning? Empty without that check."""
    mixes = {name: row.get("failures") for name, row in rows.items()}
    if not any(mixes.values()):
        return []
    lines = ["", "Failure mix: share of each model's wrong answers by failure type (traces layer, "
             "gold-path check; precision per type in docs/layers.md):", "",
             "| model | " + " | ".join(TYPES) + " |", "|---" * (len(TYPES) + 1) + "|"]
    for name, mix in mixes.items():
        cells = [_pct(mix.get(t)) if mix else "-" for t in TYPES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines
