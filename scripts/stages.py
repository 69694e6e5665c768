"""Resumable pipeline stages: each is identified by its resolved config and its inputs' identities.

A stage writes into its own directory and, last of all, a ``stage.json`` holding its fingerprint.
On a rerun, a stage whose ``stage.json`` matches the fingerprint it would have now is skipped.
Any other directory is a stage that was interrupted (Ctrl-C, kill -9) or whose config or inputs
changed, and it is removed and redone. Evaluation directories are the exception: they keep their
generation cache, since ``reasoneval run`` resumes from it and keys it by model and prompt.
``stage.json`` also holds the sha256 of every file the stage wrote: a stage whose files differ
(an adapter or report edited by hand, or one a killed clear left half-deleted) is redone too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasonkit.artifacts import atomic_write_text
from reasonkit.manifest import sha256_file

DONE_FILE = "stage.json"
SCHEMA_VERSION = 2  # 2: the sha256 of every file; a stage.json of schema 1 is redone once
NOT_OUTPUT = (DONE_FILE, ".lock")  # neither is the stage's work


@dataclass(frozen=True)
class Stage:
    name: str  # "sft/seed1"
    out: Path
    config: Mapping[str, Any]  # the resolved settings, JSON-serialisable
    inputs: Sequence[Path] = ()  # upstream stage directories (their fingerprints) or files (sha256)
    keep_partial: tuple[str, ...] = field(default=())  # entries kept on a redo (a resume cache)


def _plain(value: Any, out: Path) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), out) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v, out) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v, out) for v in value)
    if isinstance(value, tuple | list):
        return [_plain(v, out) for v in value]
    if callable(value):  # a hook such as a variant generator: its name is its identity
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"
    if isinstance(value, Path) or (isinstance(value, str) and value.startswith("/")):
        path = Path(value).resolve()
        # The stage's own directory is named relative to itself; any other path is something the
        # stage reads, whose identity its inputs carry (a file's sha256, a stage's fingerprint).
        return f"$out/{path.relative_to(out).as_posix()}" if path.is_relative_to(out) else "$input"
    return value


def typed_config(*configs: Any, out: Path, **extra: Any) -> dict[str, Any]:
    """A stage's fingerprint config: every field of the typed configs the stage hands to the
    package doing the work (``SFTRunConfig``, ``GRPORunConfig``, ``RunConfig``...), read off the
    objects themselves, plus ``extra`` settings applied outside them (the torch thread count).

    Hand-kept lists of fields once left settings out, and a changed setting kept a stale adapter
    (issue 26). Paths are not settings: the stage's own directory ``out`` is written relative to
    itself (a moved run directory keeps its stages), and the files it reads are identified by
    content through the stage's inputs (two study arms whose cleaning kept the same rows, in two
    files, share one training).
    """
    out = Path(out).resolve()
    return {**{type(c).__name__: _plain(c, out) for c in configs}, **extra}


def _identity(path: Path) -> str:
    done = path / DONE_FILE
    if done.is_file():
        try:
            return str(json.loads(done.read_text(encoding="utf-8"))["fingerprint"])
        except (ValueError, KeyError, TypeError):
            raise FileNotFoundError(f"stage input {path} has an unreadable {DONE_FILE}") from None
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    raise FileNotFoundError(f"stage input {path} is neither a finished stage nor a file")


def fingerprint(stage: Stage) -> str:
    payload = {
        "name": stage.name,
        "config": stage.config,
        "inputs": [_identity(p) for p in stage.inputs],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _finished_record(stage: Stage, fp: str) -> dict[str, Any] | None:
    """The stage's ``stage.json`` when it records fingerprint ``fp``; None otherwise."""
    done = stage.out / DONE_FILE
    if not done.is_file():
        return None
    try:
        record = json.loads(done.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return None
    if not isinstance(record, dict) or record.get("fingerprint") != fp:
        return None
    seconds, files = record.get("seconds"), record.get("files")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not isinstance(files, dict):
        return None  # edited by hand, or written before the files were recorded
    return record


def output_files(stage: Stage) -> dict[str, str]:
    """Every file the stage wrote (its resume cache and stage.json aside) -> its sha256."""
    found = {}
    for path in sorted(stage.out.rglob("*")):
        rel = path.relative_to(stage.out)
        if path.is_file() and rel.parts[0] not in stage.keep_partial and str(rel) not in NOT_OUTPUT:
            found[rel.as_posix()] = sha256_file(path)
    return found


def _changed(stage: Stage, record: Mapping[str, Any]) -> str | None:
    """Why the stage's files are not the ones its stage.json lists; None when they are."""
    now, then = output_files(stage), record["files"]
    differ = sorted(set(now) ^ set(then)) or [n for n in sorted(now) if now[n] != then[n]]
    return f"{differ[0]} differs from {DONE_FILE}" if differ else None


def is_done(stage: Stage) -> bool:
    record = _finished_record(stage, fingerprint(stage))
    return record is not None and _changed(stage, record) is None


def _clear(stage: Stage) -> None:
    if not stage.out.exists():
        return
    (stage.out / DONE_FILE).unlink(missing_ok=True)  # first: a clear cut short is no finished stage
    for entry in stage.out.iterdir():
        if entry.name in stage.keep_partial:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def run_stage(
    stage: Stage, work: Callable[[], object], on_start: Callable[[], object] = lambda: None
) -> tuple[float, bool]:
    """Run ``work`` into ``stage.out`` unless a finished run with the same fingerprint is there
    (``on_start`` is called first when it is not). Returns (seconds, resumed): the seconds
    recorded now or by the earlier run.
    """
    fp = fingerprint(stage)  # of the config and inputs this run starts from
    recorded = _finished_record(stage, fp)
    if recorded is not None:
        changed = _changed(stage, recorded)
        if changed is None:
            return float(recorded["seconds"]), True
        print(f"{stage.name}: {changed} (edited, or left half-written); redoing it",
              file=sys.stderr, flush=True)
    on_start()
    _clear(stage)
    stage.out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    work()
    seconds = round(time.monotonic() - t0, 1)
    record = {"schema_version": SCHEMA_VERSION, "stage": stage.name, "fingerprint": fp,
              "seconds": seconds, "config": stage.config, "files": output_files(stage)}  # fmt: skip
    atomic_write_text(stage.out / DONE_FILE, json.dumps(record, indent=2, default=str) + "\n")
    return seconds, False


@dataclass
class StageRunner:
    """Runs stages in order with a numbered progress line each; records every stage's seconds."""

    total: int
    done: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    resumed: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def run(self, stage: Stage, work: Callable[[], object]) -> Path:
        self.done += 1
        label = f"[{self.done}/{self.total}] {stage.name}"
        seconds, resumed = run_stage(
            stage, work, lambda: print(f"\n=== {label} ===", file=sys.stderr, flush=True))
        self.seconds[stage.name] = seconds
        if resumed:
            self.resumed.append(stage.name)
            print(f"=== {label}: done earlier, same config and inputs; kept ===", file=sys.stderr)
            return stage.out
        total = time.monotonic() - self.started
        print(f"=== {label}: {seconds:.1f}s (total {total:.1f}s) ===", file=sys.stderr, flush=True)
        return stage.out
