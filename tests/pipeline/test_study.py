"""Both studies at toy size (one seed, a few steps): their arms, their resume, and a report whose
figures are the per-arm ``reasoneval run`` outputs. The measured studies are in docs/study.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reasoneval.compare import load_run_results
from scripts.study import cli, load_config
from scripts.study_runner import accuracy

REPO_ROOT = Path(__file__).resolve().parents[2]


def _study(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scripts.study", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=900, check=False)  # fmt: skip


def _evals(out: Path) -> dict[str, float]:
    """Every evaluation the study ran: its directory (relative) -> reasoneval's own accuracy."""
    return {str(p.parent.relative_to(out)): accuracy(p.parent) for p in sorted(out.glob("runs/*/*/eval-*/report.json"))}


def _stage_stamps(out: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in out.glob("runs/**/stage.json")}


@pytest.fixture(scope="module")
def cleaning(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    pytest.importorskip("trl")
    pytest.importorskip("bitsandbytes")
    out = tmp_path_factory.mktemp("study") / "cleaning"
    return out, _study("cleaning", "--profile", "toy", "--out", str(out))


@pytest.mark.slow
def test_cleaning_study_arms_and_report(cleaning: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = cleaning
    assert proc.returncode == 0, proc.stderr[-2000:]
    study = json.loads((out / "study.json").read_text())
    # Levels: the toy's 20% plus the default rates' own total.
    assert set(study["figures"]) == {"11.5%", "20%"}
    for label, level in study["figures"].items():
        arms = {f"{label} raw", f"{label} clean"} | {f"{label} without {c}" for c in level["checks"]}
        assert {"label_consistency", "format", "calculator", "contamination"} <= set(level["checks"])
        assert sum(f"] cleaning: {arm}, seed 0:" in proc.stderr for arm in arms) == len(arms)
        # The report's figures are reasoneval's: each arm's accuracy is its run's report.json.
        raw = out / "data" / label / "raw" / "train_rows.jsonl"
        assert raw.is_file() and len(raw.read_text().splitlines()) == 600
        c = level["clean_vs_raw"]
        assert c["delta"] == pytest.approx(c["candidate_accuracy"] - c["baseline_accuracy"])
    evals = set(_evals(out).values())
    for level in study["figures"].values():
        for c in [level["clean_vs_raw"], *level["checks"].values()]:
            assert set(c["baseline_runs"]) | set(c["candidate_runs"]) <= evals
    # Arms whose cleaning kept the same rows share one training.
    same = [c for level in study["figures"].values() for c in level["checks"].values() if c["same_rows_as_clean"]]
    assert all(c["delta"] == 0 and c["effect"].startswith("same rows") for c in same)
    planted = study["figures"]["20%"]["detection"]
    assert {d["flaw"] for d in planted} == {"wrong_label", "broken_annotation", "format_drift",
                                             "near_duplicate", "over_represented", "leak"}  # fmt: skip
    html = (out / "study.html").read_text()
    assert "<svg" in html and "Dose-response" in html and "<script" not in html
    assert (out / "study.md").read_text().count("| 20%: clean vs raw |") == 1


@pytest.mark.slow
def test_cleaning_study_rerun_trains_nothing_and_redoes_an_interrupted_arm(
    cleaning: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, first = cleaning
    assert first.returncode == 0, first.stderr[-2000:]
    before, evals = _stage_stamps(out), _evals(out)
    rerun = _study("cleaning", "--profile", "toy", "--out", str(out))
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    progress = [line for line in rerun.stderr.splitlines() if "] cleaning: " in line]
    assert progress and all("(kept from an earlier run;" in line for line in progress)
    assert _stage_stamps(out) == before and _evals(out) == evals
    # An arm killed mid-training leaves no stage.json: the rerun redoes that one arm only.
    victim = next(out.glob("runs/sft-*/seed0/sft/stage.json"))
    victim.unlink()
    again = _study("cleaning", "--profile", "toy", "--out", str(out))
    assert again.returncode == 0, again.stderr[-2000:]
    redone = {p for p, t in _stage_stamps(out).items() if before.get(p) != t}
    assert str(victim) in redone
    assert {Path(p).parent.parent for p in redone} == {victim.parent.parent}  # its eval follows it
    assert _evals(out) == evals  # same seed, same data, same threads: the same model again


@pytest.mark.slow
def test_recipes_study_arms_and_report(tmp_path: Path) -> None:
    pytest.importorskip("trl")
    out = tmp_path / "recipes"
    proc = _study("recipes", "--profile", "toy", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    study = json.loads((out / "study.json").read_text())
    accuracy_by_arm = study["figures"]["accuracy"]
    assert set(accuracy_by_arm) == {"base", "base -> GRPO", "base -> SFT", "base -> SFT -> GRPO"}
    # base -> GRPO trained GRPO on the base itself (no adapter), and SFT -> GRPO on the SFT adapter.
    grpo_only = next(out.glob("runs/demo-*-grpo/seed0/grpo/adapter_config.json"))
    assert grpo_only.is_file()
    evals = _evals(out)
    for figures in accuracy_by_arm.values():
        assert len(figures["runs"]) == 1 and figures["runs"][0] in evals.values()
    pair = study["figures"]["comparisons"]["base -> SFT -> GRPO vs base -> SFT"]
    sft = next(p for p in out.glob("runs/*-sft-grpo/seed0/eval-sft"))
    assert pair["baseline_accuracy"] == pytest.approx(accuracy(sft))
    assert set(load_run_results(sft)) == set(load_run_results(next(out.glob("runs/base/seed0/eval-base"))))


def test_profiles_and_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = load_config("cleaning", "full")
    assert cfg.seeds == [0, 1, 2] and len(cfg.all_levels()) == 4  # 0, 5, 11.5 (defaults), 20%
    assert load_config("recipes", "full", ["seeds=0,1,2,3"]).seeds == [0, 1, 2, 3]
    for argv, message in [
        (["cleaning", "--out", str(tmp_path / "a"), "--profile", "huge"], "no 'huge' profile"),
        (["cleaning", "--out", str(tmp_path / "b"), "--jobs", "0"], "jobs must be at least 1"),
        (["recipes", "--out", str(tmp_path / "c"), "--seeds", "1,1"], "distinct"),
        (["cleaning", "--out", str(tmp_path / "d"), "--set", "sft_stepz=3"], "unknown config keys"),
    ]:
        assert cli(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0]
