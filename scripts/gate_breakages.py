"""Break the recipe on purpose, in scratch copies, and show that the CI gate fails each time.

    python -m scripts.gate_breakages --out DIR [--only NAME ...]

Each breakage runs the ci profile (``python -m scripts.pipeline --profile ci``) in a scratch copy
of the repository's tracked files with one change applied, and records the pipeline's exit
status and ``gate.json``. A control run at another training seed must pass. The working tree is
never modified. Breakages that change only GRPO start from a copy of the control run's data and
SFT stages, which the pipeline then keeps (same fingerprint); the others train from scratch.
docs/pipeline.md reports the figures this printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reasonkit.errors import EXIT_CODES_HELP, InputError, OneLineParser, guarded
from scripts.recipe import REPO_ROOT


def _patch(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        if old not in text:
            raise InputError(f"{relative}: the text to break is not there (the code moved?)")
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


@dataclass(frozen=True)
class Breakage:
    name: str
    what: str
    apply: Callable[[Path], None] | None = None
    settings: tuple[str, ...] = ()
    reuse_sft: bool = False  # the change is in GRPO only: start from the control's SFT


_ACCURACY = "1.0 if score_response(text, gold, think=True)[1] else 0.0"
_SFT_TARGET = '"completion": [format_completion(r.reasoning, r.final_answer) + eos for r in rows],'
BREAKAGES = (
    Breakage("control", "another training seed, nothing broken", settings=("seeds=1",)),
    Breakage("loss-mask", "SFT loss on the end token only: the answer moved into the prompt",
             _patch("train/data.py", _SFT_TARGET, '"completion": [eos for r in rows],')),
    Breakage("inverted-reward", "GRPO's accuracy reward pays wrong answers",
             _patch("train/rewards.py", _ACCURACY, _ACCURACY.replace("1.0 if", "0.0 if").replace("else 0.0", "else 1.0")),
             reuse_sft=True),
    Breakage("constant-reward", "GRPO's accuracy reward is 1 for every completion",
             _patch("train/rewards.py", _ACCURACY, "1.0"), reuse_sft=True),
    Breakage("no-rl-step", "GRPO at a learning rate of 1e-9: it runs, but does not train",
             settings=("grpo_lr=1e-9",), reuse_sft=True),
    Breakage("short-sft", "SFT cut to a third of its steps", settings=("sft_steps=167", "sft_eval_every=167")),
)


def _scratch_copy(dest: Path) -> None:
    """The repository's tracked files (and the committed base), without runs or the venv."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)


def run_one(b: Breakage, out: Path, control_run: Path | None) -> dict[str, object]:
    root = out / b.name / "repo"
    shutil.rmtree(out / b.name, ignore_errors=True)
    _scratch_copy(root)
    if b.apply is not None:
        b.apply(root)
    run = out / b.name / "run"
    if b.reuse_sft and control_run is not None:
        for part in ("data", "seed0/sft"):
            if (control_run / part).is_dir():
                shutil.copytree(control_run / part, run / part)
    argv = [sys.executable, "-m", "scripts.pipeline", "--profile", "ci", "--out", str(run)]
    for setting in b.settings:
        argv += ["--set", setting]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False)
    gate = json.loads((run / "gate.json").read_text()) if (run / "gate.json").is_file() else {}
    result = {"breakage": b.name, "what": b.what, "exit": proc.returncode,
              "seconds": round(time.monotonic() - started, 1),
              "checks": {k: v.get("passed") for k, v in gate.items()},
              "stderr_tail": proc.stderr.strip().splitlines()[-4:]}  # fmt: skip
    (out / b.name / "result.json").write_text(json.dumps({**result, "gate": gate}, indent=2, default=str))
    shutil.rmtree(root)  # the scratch copy; the run directory stays for inspection
    return result


def make_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m scripts.gate_breakages", description=__doc__.splitlines()[0],
                           epilog=EXIT_CODES_HELP, allow_abbrev=False)  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="scratch directory (created)")
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BREAKAGES], help="a subset, in order")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)

    def body() -> int:
        chosen = [b for b in BREAKAGES if not args.only or b.name in args.only]
        control = args.out / "control" / "run"
        results = []
        for b in chosen:
            results.append(run_one(b, args.out, control if control.is_dir() else None))
            r = results[-1]
            print(f"{r['breakage']}: exit {r['exit']} checks {r['checks']} ({r['seconds']}s)", flush=True)
        (args.out / "breakages.json").write_text(json.dumps(results, indent=2, default=str))
        wrong = [r["breakage"] for r in results if (r["exit"] == 0) != (r["breakage"] == "control")]
        if wrong:
            print(f"gate_breakages: the gate did not behave for {', '.join(wrong)}", file=sys.stderr)
        return 1 if wrong else 0

    return guarded("gate_breakages", body)


if __name__ == "__main__":
    sys.exit(main())
