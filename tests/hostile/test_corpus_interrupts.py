"""Runs cut short, run twice at once, or edited afterwards (issue 29).

SIGTERM, SIGINT and SIGKILL in the middle of a pipeline stage and of a study arm, each followed by
a rerun that keeps the finished stages and trusts no half-written one; a second run on a busy
--out; a stage.json, report or adapter edited after its stage finished. Real runs at toy size.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hostile_helpers import invoke

REPO_ROOT = Path(__file__).resolve().parents[2]
# The demo's stages at their smallest: seconds each, the same code paths.
TOY = {"sft_steps": 2, "sft_eval_every": 1, "sft_eval_fraction": 0, "grpo_steps": 1,
       "grpo_prompts_per_step": 2, "grpo_generations": 2, "grpo_max_completion_length": 16,
       "eval_limit": 4, "layers": "accuracy", "max_new_tokens": 8}
PIPELINE_TOY = [arg for k, v in TOY.items() for arg in ("--set", f"{k}={v}")]


@pytest.fixture(autouse=True)
def _sigint_not_ignored() -> Iterator[None]:
    """A suite started as a background job (``make test &``, ``nohup``) has SIGINT ignored, and
    every run started here would inherit that and never see the SIGINT these tests send: such a
    run went on to the end and exited 0. The tests' own runs get Python's default handler."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _needs_training() -> None:
    pytest.importorskip("trl")
    pytest.importorskip("bitsandbytes")


class Run:
    """One CLI run in its own process, its stderr in a file (a pipe could fill and block it)."""

    def __init__(self, log: Path, *argv: str) -> None:
        self.log = log
        with log.open("w") as err:
            self.proc = subprocess.Popen([sys.executable, *argv], cwd=REPO_ROOT, stderr=err,
                                         stdout=subprocess.DEVNULL,
                                         env={**os.environ, "REASONKIT_CRASH_DIR": str(log.parent)})

    def wait_until(self, ready: Callable[[], bool], what: str, limit: float = 600) -> None:
        deadline = time.monotonic() + limit
        while not ready():
            assert self.proc.poll() is None, f"ended before {what}: {self.stderr()[-2000:]}"
            assert time.monotonic() < deadline, f"no {what} in {limit:.0f} s"
            time.sleep(0.1)

    def stop(self, sig: int) -> tuple[int, str]:
        self.proc.send_signal(sig)
        return self.finish()

    def finish(self, limit: float = 900) -> tuple[int, str]:
        code = self.proc.wait(limit)
        return code, self.stderr()

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _writing(folder: Path) -> Callable[[], bool]:
    return lambda: folder.is_dir() and any(folder.iterdir())


def _done(folder: Path) -> Callable[[], bool]:
    return lambda: (folder / "stage.json").is_file()


def _last_line(err: str) -> str:
    return [ln for ln in err.splitlines() if ln.strip()][-1]


def _left_behind(out: Path) -> list[Path]:
    """What no finished run may leave: temporaries and writer markers."""
    return [*out.rglob(".*.tmp"), *out.rglob(".writing")]


@pytest.mark.slow
def test_pipeline_signals_in_each_stage_then_reruns_and_edits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _needs_training()
    from scripts import pipeline

    out = tmp_path / "run"
    argv = ["-m", "scripts.pipeline", "--out", str(out), *PIPELINE_TOY, "--seeds", "0"]
    data, sft, grpo = out / "data", out / "seed0" / "sft", out / "seed0" / "grpo"
    # Each model on the test split, then on test-ood (scripts.recipe.eval_plan): 10 stages in all,
    # the data and its SFT | GRPO split first.
    evals = [out / "eval" / split / name for split in ("", "test-ood")
             for name in ("base", "sft/seed0", "grpo/seed0")]

    # 1. SIGKILL mid-data: nothing can clean up, the next run must not trust what is left.
    run = Run(tmp_path / "1.log", *argv)
    run.wait_until(data.is_dir, "the data stage started")
    code, _ = run.stop(signal.SIGKILL)
    assert code == -signal.SIGKILL and not _done(data)()

    # 2. The rerun redoes the data; SIGTERM mid-SFT, while a second run on this --out is refused.
    run = Run(tmp_path / "2.log", *argv)
    run.wait_until(sft.is_dir, "SFT started")
    second = invoke(pipeline.cli, ["--out", str(out), *PIPELINE_TOY], capsys)
    assert second.code == 2 and f"in use by another run (pid {run.proc.pid})" in second.line
    code, err = run.stop(signal.SIGTERM)
    assert code == -signal.SIGTERM and _last_line(err) == "pipeline: terminated", err[-2000:]
    assert "Traceback" not in err and _done(data)() and not _done(sft)()
    kept_data = (data / "stage.json").read_bytes()

    # 3. The rerun keeps the data and redoes SFT; SIGINT mid-GRPO.
    run = Run(tmp_path / "3.log", *argv)
    run.wait_until(grpo.is_dir, "GRPO started")
    code, err = run.stop(signal.SIGINT)
    assert code == 130 and _last_line(err) == "pipeline: interrupted", err[-2000:]
    assert "datacheck clean synthetic: done earlier" in err and "Traceback" not in err
    assert (data / "stage.json").read_bytes() == kept_data and _done(sft)() and not _done(grpo)()

    # 4. To the end: every finished stage kept, the interrupted one redone, nothing left behind.
    code, err = Run(tmp_path / "4.log", *argv).finish()
    assert code == 0 and "Traceback" not in err, err[-3000:]
    assert err.count("done earlier") == 3 and all(_done(e)() for e in evals)  # data, its split, SFT
    assert not _left_behind(out), _left_behind(out)
    report, adapter = evals[0] / "report.json", grpo / "adapter_model.safetensors"

    def accuracy() -> float:
        return float(json.loads(report.read_text())["layers"]["accuracy"]["metrics"]["accuracy"]["value"])

    measured, size = accuracy(), adapter.stat().st_size

    # 5. Edited after the fact: an adapter, a report, a stage.json. Each stage is redone.
    with adapter.open("ab") as fh:
        fh.write(b"\0")
    body = json.loads(report.read_text())
    body["layers"]["accuracy"]["metrics"]["accuracy"]["value"] = 0.987654
    report.write_text(json.dumps(body))
    record = json.loads((evals[2] / "stage.json").read_text())
    (evals[2] / "stage.json").write_text(json.dumps({**record, "seconds": "soon"}))
    code, err = Run(tmp_path / "5.log", *argv).finish()
    assert code == 0 and "Traceback" not in err, err[-3000:]
    assert "QLoRA GRPO (seed 0): adapter_model.safetensors differs from stage.json" in err
    assert "reasoneval run: base: report.json differs from stage.json" in err
    assert "=== [7/10] reasoneval run: grpo/seed0: done earlier" not in err  # redone
    # Kept: the data, its split, SFT, SFT's test evaluation and the three test-ood ones (GRPO's
    # inputs are its config and the SFT stage, unchanged, and its redone adapter is the same).
    assert err.count("done earlier") == 7
    assert adapter.stat().st_size == size and accuracy() == measured  # rewritten, not edited
    assert not _left_behind(out)


@pytest.mark.slow
def test_study_arm_signals_then_reruns_keep_what_finished(tmp_path: Path) -> None:
    _needs_training()
    out = tmp_path / "study"
    # GRPO writes its first file at its first logged step (every 5th) and finishes the stage in
    # milliseconds after its last: 10 steps leave seconds between the two for the signals to land
    # mid-stage (with 1 step, a loaded machine saw the arm finish between poll and SIGKILL).
    study_toy = {**TOY, "grpo_steps": 10}
    overrides = "[" + ", ".join(f"{k}={v}" for k, v in study_toy.items() if k != "layers") + "]"
    argv = ["-m", "scripts.study", "recipes", "--profile", "toy", "--out", str(out),
            "--set", f"overrides={overrides}"]

    def stage(chain: str, step: str) -> Path:
        """``chain``: "sft-grpo" (base -> SFT -> GRPO, trained first) or "grpo" (base -> GRPO)."""
        names = [p for p in (out / "runs").glob("*") if p.name.endswith(f"-{chain}")
                 and (chain == "sft-grpo" or not p.name.endswith("-sft-grpo"))]
        return (names[0] if names else out / "runs" / "none") / "seed0" / step

    # 1. SIGINT mid-arm: the SFT -> GRPO chain's SFT model is evaluated, its GRPO is training.
    run = Run(tmp_path / "1.log", *argv)
    run.wait_until(lambda: _writing(stage("sft-grpo", "grpo"))(), "the first GRPO writing")
    code, err = run.stop(signal.SIGINT)
    assert code == 130 and _last_line(err) == "study: interrupted", err[-2000:]
    sft, eval_sft = stage("sft-grpo", "sft"), stage("sft-grpo", "eval-sft")
    assert _done(sft)() and _done(eval_sft)() and not _done(stage("sft-grpo", "grpo"))()
    kept = {p: (p / "stage.json").read_bytes() for p in (sft, eval_sft)}

    # 2. The rerun keeps both and redoes that GRPO; SIGKILL mid-arm in the base -> GRPO chain.
    run = Run(tmp_path / "2.log", *argv)
    run.wait_until(lambda: _writing(stage("grpo", "grpo"))(), "the base -> GRPO arm writing")
    run.stop(signal.SIGKILL)
    assert all((p / "stage.json").read_bytes() == b for p, b in kept.items())
    assert _done(stage("sft-grpo", "grpo"))() and not _done(stage("grpo", "grpo"))()

    # 3. SIGTERM once the rerun has planned its arms; then the study finishes.
    run = Run(tmp_path / "3.log", *argv)
    run.wait_until(lambda: "to train or resume" in run.stderr(), "the arms planned")
    code, err = run.stop(signal.SIGTERM)
    assert code == -signal.SIGTERM and _last_line(err) == "study: terminated", err[-2000:]
    code, err = Run(tmp_path / "4.log", *argv).finish()
    assert code == 0 and "Traceback" not in err, err[-3000:]
    assert all((p / "stage.json").read_bytes() == b for p, b in kept.items())
    assert _done(stage("grpo", "grpo"))() and (out / "study.json").is_file()
    assert not _left_behind(out), _left_behind(out)


def test_sigterm_mid_write_cleans_up_then_ends_by_the_signal(tmp_path: Path) -> None:
    # The signal lands inside the atomic writer: its temporary must go, the old file stay whole.
    target = tmp_path / "report.json"
    target.write_text("the finished report")
    script = f"""
import os, signal
import reasonkit.artifacts as artifacts
from reasonkit.errors import guarded

real = os.fdopen
class Killed:
    def __init__(self, fh): self.fh = fh
    def write(self, text):
        self.fh.write(text[:10]); os.kill(os.getpid(), signal.SIGTERM); self.fh.write(text[10:])
    def __enter__(self): return self
    def __exit__(self, *exc): self.fh.close()
artifacts.os.fdopen = lambda *a, **k: Killed(real(*a, **k))
guarded("tool", lambda: artifacts.atomic_write_text({str(target)!r}, "x" * 100_000) or 0)
print("still running after SIGTERM", flush=True)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGTERM and proc.stderr.strip() == "tool: terminated"
    assert "still running" not in proc.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    assert target.read_text() == "the finished report"


def test_a_stage_whose_files_or_record_changed_is_redone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts.stages import DONE_FILE, Stage, StageRunner

    stage = Stage("train", tmp_path / "train", {"lr": 1})
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        (stage.out / "adapter.bin").write_bytes(b"weights")
        (stage.out / "sub").mkdir(exist_ok=True)
        (stage.out / "sub" / "log.txt").write_text("loss 1.0")

    def rerun() -> str:
        capsys.readouterr()
        StageRunner(total=1).run(stage, work)
        return capsys.readouterr().err

    rerun()
    assert "done earlier" in rerun() and len(calls) == 1  # untouched: kept
    record = json.loads((stage.out / DONE_FILE).read_text())
    edits: list[tuple[str, Callable[[], object]]] = [
        ("adapter.bin differs", lambda: (stage.out / "adapter.bin").write_bytes(b"weightz")),
        ("sub/log.txt differs", lambda: (stage.out / "sub" / "log.txt").unlink()),  # half-cleared
        ("extra.txt differs", lambda: (stage.out / "extra.txt").write_text("planted")),
        ("", lambda: (stage.out / DONE_FILE).write_text(json.dumps({**record, "seconds": "x"}))),
        ("", lambda: (stage.out / DONE_FILE).write_text(json.dumps(  # before files were recorded
            {k: v for k, v in record.items() if k != "files"}))),
        ("", lambda: (stage.out / DONE_FILE).write_text("[1, 2]")),
    ]
    for why, edit in edits:
        edit()
        err = rerun()
        assert "done earlier" not in err and "Traceback" not in err, why
        assert why in err
        assert "done earlier" in rerun()  # the redone stage is trusted again
    assert len(calls) == 1 + len(edits)


def test_ctrl_c_in_a_parallel_study_stops_its_workers_at_once() -> None:
    # With --jobs 2 the pool's own shutdown trained every queued chain before the study exited
    # (37.8 s after SIGINT on the toy recipes study).
    from scripts.study_runner import run_in_pool

    started: list[float] = []

    def interrupted(_item: object, _result: object) -> None:
        started.append(time.monotonic())
        raise KeyboardInterrupt  # Ctrl-C, arriving while the other workers are busy

    with pytest.raises(KeyboardInterrupt):
        run_in_pool(2, 1, time.sleep, [0.1, 120, 120, 120], interrupted)
    assert started and time.monotonic() - started[0] < 15
