"""The ci profile's regression gate, and the committed baseline it compares against.

Two checks, both against ``baselines/ci``:
- accuracy: the final (GRPO) model's per-problem results, over every training seed of the run,
  must be non-inferior to the baseline's within ``margin`` points (``reasoneval.compare``;
  with several seeds, its two-level interval counts seed noise too);
- reward: GRPO's own mean accuracy reward must stay within ``reward_tolerance`` of the baseline
  run's. The accuracy check alone can miss a broken reward when GRPO changes few answers.
- training: GRPO must have moved its adapter by at least ``min_rl_update`` of the baseline run's
  relative weight change (train.rl_health). A run whose RL never steps (a learning rate near 0,
  a reward with no variance in any group) keeps the SFT model's reward and accuracy, and passes
  the two checks above.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from reasonkit.artifacts import atomic_write_text
from scripts.recipe import PipelineConfig, eval_name, grpo_reward_mean, train_dir

REWARD_FILE = "grpo_reward.json"
# report.json fields a baseline keeps: the figures and how they were made, not this machine's paths.
BASELINE_REPORT_FIELDS = ("schema_version", "backend", "packages", "seed", "sampling", "prompt_style",
                          "dataset", "layers")  # fmt: skip


def _final(evals: Mapping[str, Path], seeds: list[int]) -> list[Path]:
    return [evals[eval_name("grpo", s)] for s in seeds]


def write_baseline(cfg: PipelineConfig, out: Path, evals: Mapping[str, Path], baseline: Path) -> None:
    """The first seed's final evaluation becomes the baseline: samples, and a path-free report."""
    run_dir = _final(evals, cfg.seeds)[0]
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    baseline.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / "samples.jsonl", baseline / "samples.jsonl")
    kept = {k: report[k] for k in BASELINE_REPORT_FIELDS if k in report}
    atomic_write_text(baseline / "report.json", json.dumps(kept, indent=2) + "\n")
    grpo_dir = train_dir(out, cfg.seeds[0], "grpo")
    reward = {"accuracy_reward": grpo_reward_mean(grpo_dir), "relative_weight_change": rl_update(grpo_dir)}
    atomic_write_text(baseline / REWARD_FILE, json.dumps(reward, indent=2) + "\n")


def ci_gate(cfg: PipelineConfig, out: Path, evals: Mapping[str, Path], baseline: Path) -> bool:
    from reasoneval.compare import compare_groups, load_run_results

    result = compare_groups(
        [load_run_results(baseline)], [load_run_results(p) for p in _final(evals, cfg.seeds)],
        test="non-inferiority", margin_points=cfg.margin,
    )  # fmt: skip
    observed = [grpo_reward_mean(train_dir(out, s, "grpo")) for s in cfg.seeds]
    expected = float(json.loads((baseline / REWARD_FILE).read_text(encoding="utf-8"))["accuracy_reward"])
    reward_ok = all(abs(o - expected) <= cfg.reward_tolerance for o in observed)
    recorded = json.loads((baseline / REWARD_FILE).read_text(encoding="utf-8"))
    updates = [rl_update(train_dir(out, s, "grpo")) for s in cfg.seeds]
    floor = cfg.min_rl_update * float(recorded["relative_weight_change"])
    trained_ok = all(u >= floor for u in updates)
    verdicts = {
        "accuracy": {"passed": result.passed, **result.to_dict()},
        "reward": {"passed": reward_ok, "observed": observed, "baseline": expected,
                   "tolerance": cfg.reward_tolerance},
        "training": {"passed": trained_ok, "relative_weight_change": updates, "floor": floor,
                     "baseline": recorded["relative_weight_change"]},
    }  # fmt: skip
    atomic_write_text(out / "gate.json", json.dumps(verdicts, indent=2, default=str) + "\n")
    print(f"pipeline: accuracy gate {'PASS' if result.passed else 'FAIL'}: "
          f"{100 * result.candidate_accuracy:.1f}% vs baseline {100 * result.baseline_accuracy:.1f}%, "
          f"delta {100 * result.delta:+.1f} points, 95% CI [{100 * result.ci_low:+.1f}, "
          f"{100 * result.ci_high:+.1f}], margin {cfg.margin:g}", file=sys.stderr)  # fmt: skip
    shown = ", ".join(f"{o:.3f}" for o in observed)
    print(f"pipeline: reward gate {'PASS' if reward_ok else 'FAIL'}: GRPO mean accuracy reward "
          f"{shown} vs baseline {expected:.3f} (tolerance {cfg.reward_tolerance})", file=sys.stderr)  # fmt: skip
    shown = ", ".join(f"{u:.2%}" for u in updates)
    print(f"pipeline: training gate {'PASS' if trained_ok else 'FAIL'}: GRPO moved its adapter by "
          f"{shown} of the weights (floor {floor:.2%}, {cfg.min_rl_update:g} of the baseline's)",
          file=sys.stderr)  # fmt: skip
    return bool(result.passed and reward_ok and trained_ok)


def rl_update(grpo_dir: Path) -> float:
    """The adapter's final relative weight change, from the run's provenance (train.rl_health)."""
    from train.provenance import META_FILE

    health = json.loads((grpo_dir / META_FILE).read_text(encoding="utf-8")).get("rl_health")
    if not health:
        raise RuntimeError(f"{grpo_dir}: train_meta.json records no RL health")
    return float(health["relative_weight_change"])
