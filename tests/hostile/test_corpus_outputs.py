"""Outputs that cannot be written, or are written by two runs at once (issue 29).

An --out the process cannot write (root may "access" /proc, yet create nothing there) is exit 2
before any work; a full disk is exit 2 with one line, no traceback and no half-written file; a
second run on a busy --out exits 2 naming the holder; temporaries of dead writers go at once.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_helpers import invoke, write_lines

from reasoneval.cli import main

SCORED = {"response": "3+4=7. The answer is 7.", "gold": "7"}
UNWRITABLE = "/proc/reasonkit-no-such-dir"  # root passes os.access here; nothing can be created


def _score_argv(src: Path, out: Path | str) -> list[str]:
    return ["score", str(src), "--response-field", "response", "--gold-field", "gold",
            "--out", str(out)]


def _fake_model(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    (path / "model.safetensors").write_bytes(b"not weights")
    return path


def test_run_into_an_unwritable_out_exits_2_before_loading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_lines(tmp_path / "d.jsonl", [{"question": "1+1?", "answer": "2"}])
    started = time.perf_counter()
    result = invoke(main, ["run", str(_fake_model(tmp_path / "m")), "--dataset", str(data),
                           "--backend", "hf", "--out", f"{UNWRITABLE}/run"], capsys)
    assert result.code == 2 and "--out" in result.line and "not a writable" in result.line
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("command", ["score", "tiny-model"])
def test_other_reasoneval_outputs_into_proc_exit_2(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_lines(tmp_path / "gen.jsonl", [SCORED])
    argv = (_score_argv(src, f"{UNWRITABLE}/o.jsonl") if command == "score"
            else ["tiny-model", f"{UNWRITABLE}/t"])
    result = invoke(main, argv, capsys)
    assert result.code == 2 and "not a writable directory" in result.line


@pytest.mark.parametrize("stage", ["sft", "grpo"])
def test_training_into_an_unwritable_output_dir_exits_2_before_loading(
    stage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from train import grpo, sft

    kept = write_lines(tmp_path / "kept.jsonl", [{"question": "q?", "reasoning": "3+4=7",
                                                 "final_answer": "7", "id": "t/0"}])
    cli = sft.cli if stage == "sft" else grpo.cli
    result = invoke(cli, ["--model_name_or_path", str(_fake_model(tmp_path / "m")),
                          "--train_file", str(kept), "--output_dir", f"{UNWRITABLE}/x"], capsys)
    assert result.code == 2 and "output_dir" in result.line


def _disk_full_after(limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file the atomic writer opens takes ``limit`` bytes, then fails as a full disk does."""
    import reasonkit.artifacts as artifacts

    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fh: object) -> None:
            self.fh, self.written = fh, 0

        def write(self, text: str) -> int:
            self.written += len(text)
            if self.written > limit:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.fh.write(text)  # type: ignore[attr-defined, no-any-return]

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()  # type: ignore[attr-defined]

    monkeypatch.setattr(artifacts.os, "fdopen", lambda *a, **k: Full(real_fdopen(*a, **k)))


def test_a_full_disk_while_scoring_is_exit_2_and_keeps_the_old_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write_lines(tmp_path / "gen.jsonl", [SCORED] * 200)
    out = tmp_path / "out" / "scored.jsonl"
    assert invoke(main, _score_argv(src, out), capsys).code == 0
    before = out.read_bytes()
    _disk_full_after(1000, monkeypatch)
    result = invoke(main, _score_argv(src, out), capsys)
    assert result.code == 2 and "No space left on device" in result.line
    assert out.read_bytes() == before  # the earlier output is whole
    assert [p.name for p in out.parent.iterdir()] == ["scored.jsonl"]  # no temporary left
    assert not (tmp_path / "crash").exists()  # not reported as a crash


def test_a_full_disk_inside_a_library_writer_is_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # safetensors and torch report ENOSPC as their own exception, keeping only the OS's text.
    from reasonkit.errors import guarded

    def body() -> int:
        raise RuntimeError("Error while serializing: IoError(Os { code: 28, kind: StorageFull, "
                           'message: "No space left on device" })')

    capsys.readouterr()
    assert guarded("train.sft", body) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("train.sft: error: the output could not be written") and "\n" not in err


def _tmpfs_available() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k t /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _tmpfs_available(), reason="needs unprivileged user and mount namespaces "
                    "(unshare -rm) to mount a small tmpfs")
def test_a_really_full_disk_while_scoring_is_exit_2(tmp_path: Path) -> None:
    """The real thing: a 64 KiB tmpfs in a private mount namespace, a 300 KB output."""
    src = write_lines(tmp_path / "gen.jsonl", [SCORED | {"pad": "x" * 3000}] * 100)
    mnt = tmp_path / "small"
    mnt.mkdir()
    script = (f"mount -t tmpfs -o size=64k small {mnt} && exec {sys.executable} -m reasoneval.cli "
              + " ".join(_score_argv(src, mnt / "scored.jsonl")) + f"; ls -A {mnt}")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script + f"; ls -A {mnt}"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "REASONKIT_CRASH_DIR": str(tmp_path / "crash")})
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and "No space left on device" in lines[0]


def test_two_runs_on_one_out_the_second_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from reasonkit.outlock import output_lock\n"
        f"with output_lock(Path({str(out)!r})):\n    print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        data = write_lines(tmp_path / "d.jsonl", [{"question": "1+1?", "answer": "2"}])
        result = invoke(main, ["run", str(_fake_model(tmp_path / "m")), "--dataset", str(data),
                               "--backend", "hf", "--out", str(out)], capsys)
        assert result.code == 2 and f"in use by another run (pid {holder.pid})" in result.line
    finally:
        holder.kill()
        holder.wait()
    # The kernel dropped the dead holder's lock: nothing to clean by hand.
    from reasonkit.outlock import output_lock

    with output_lock(out):
        pass


def test_temporaries_of_dead_writers_go_at_once_live_ones_stay(tmp_path: Path) -> None:
    from reasonkit.artifacts import temporary_prefix
    from reasonkit.manifest import begin_output

    out = tmp_path / "o"
    (out / "kept").mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    mine = temporary_prefix("train.jsonl")  # ".train.jsonl.PID-HOST."
    pid = str(os.getpid())
    dead_tmp = out / "kept" / (mine.replace(f".{pid}-", f".{dead.pid}-") + "abc.tmp")
    parent_tmp = out / "kept" / (mine.replace(f".{pid}-", f".{os.getppid()}-") + "def.tmp")
    foreign = out / "kept" / ".train.jsonl.99999-0123abcd.ghi.tmp"  # another host's writer
    untagged = out / "kept" / ".train.jsonl.jkl.tmp"  # a writer of an older version
    for tmp in (dead_tmp, parent_tmp, foreign, untagged):
        tmp.write_text("half a file")
    begin_output(out)
    assert not dead_tmp.exists()
    assert parent_tmp.exists() and foreign.exists() and untagged.exists()
