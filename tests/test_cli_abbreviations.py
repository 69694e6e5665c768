"""No command line here accepts an abbreviated option (issue 26, item 5).

argparse's default takes any unique prefix: `datacheck clean --max-reject-rat 0.02` ran as
`--max-reject-rate 0.02`, and an option added later that shares the prefix would change what an
old command means. `--hel` is the probe: with abbreviations on it prints the help and exits 0;
with them off it is an unknown option, exit 2. The last test makes sure no parser is missed.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Every command line, with the file that builds its parser.
CLIS: list[tuple[list[str], str]] = [
    ([PY, "-m", "datacheck.cli"], "datacheck/cli.py"),
    ([PY, "-m", "datacheck.cli", "clean"], "datacheck/cli.py"),
    ([PY, "-m", "datacheck.cli", "dedup"], "datacheck/cli.py"),
    ([PY, "-m", "reasoneval"], "reasoneval/cli.py"),
    *[([PY, "-m", "reasoneval", name], "reasoneval/cli.py")
      for name in ("run", "score", "compare", "tiny-model", "convert-gguf")],
    ([PY, "-m", "train.sft"], "train/config.py"),
    ([PY, "-m", "train.grpo"], "train/config.py"),
    ([PY, "-m", "scripts.pipeline"], "scripts/pipeline.py"),
    ([PY, "-m", "scripts.study"], "scripts/study.py"),
    ([PY, "-m", "scripts.build_base"], "scripts/build_base.py"),
    ([PY, "-m", "scripts.memorisation_gap"], "scripts/memorisation_gap.py"),
    ([PY, "-m", "scripts.gate_breakages"], "scripts/gate_breakages.py"),
    *[([PY, f"benchmarks/{name}.py"], f"benchmarks/{name}.py")
      for name in ("agreement_real", "bench_answers", "bench_compare_seeds", "bench_dedup",
                   "bench_dedup_ray", "bench_eval_peers", "bench_generate", "bench_sft", "figures",
                   "label_notes", "trace_validation")],
]  # fmt: skip
PARSER_CLASSES = {"ArgumentParser", "OneLineParser", "TrlParser"}


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("argv", [c for c, _ in CLIS], ids=lambda a: " ".join(a[2:]))
def test_an_abbreviated_option_is_refused(argv: list[str]) -> None:
    done = _run([*argv, "--hel"])
    assert done.returncode == 2, (done.returncode, done.stdout[-500:], done.stderr[-500:])
    assert "show this help message" not in done.stdout


def test_the_reported_case_names_the_unknown_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datacheck.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["clean", "synthetic", "--out", str(tmp_path / "o"), "--max-reject-rat", "0.02"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --max-reject-rat 0.02" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # refused before any work


def test_the_full_option_still_works() -> None:
    from datacheck.cli import make_parser

    args = make_parser().parse_args(["clean", "synthetic", "--out", "o", "--max-reject-rate", "0.02"])
    assert args.max_reject_rate == 0.02


def _parser_files() -> set[str]:
    """Files under the project's packages that construct an argparse parser."""
    found = set()
    for folder in ("reasonkit", "datacheck", "reasoneval", "train", "scripts", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    if name in PARSER_CLASSES:
                        found.add(path.relative_to(ROOT).as_posix())
    return found


def test_every_parser_in_the_project_is_probed_above() -> None:
    probed = {source for _, source in CLIS}
    # errors.py defines OneLineParser itself; every other file builds a parser someone runs.
    missing = _parser_files() - probed - {"reasonkit/errors.py"}
    assert not missing, f"command lines not probed for abbreviations: {sorted(missing)}"
