"""Resumable stages on disk: one directory per stage, complete once its marker is written.

`_stage.json` is written last and records the hash of the stage's inputs; a rerun reuses a stage
whose marker matches and rebuilds one whose inputs changed or whose run was cut short. The output
is built in a temporary sibling directory and moved into place, so a kill leaves no half stage.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

# Bump when a stage's output changes; old markers stop matching. 2: byte-level word hashes.
STAGE_SCHEMA = 2


@dataclass(frozen=True, slots=True)
class StageRun:
    stage: str
    status: Literal["ran", "reused"]
    seconds: float


def stage_hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps([STAGE_SCHEMA, *parts]).encode()).hexdigest()


def texts_hash(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        data = t.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


class StageStore:
    """One directory per stage; `_stage.json` is written last, so its presence means complete."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs: list[StageRun] = []
        root.mkdir(parents=True, exist_ok=True)

    def path(self, stage: str) -> Path:
        return self.root / stage

    def meta(self, stage: str) -> dict[str, Any]:
        return dict(json.loads((self.path(stage) / "_stage.json").read_text()))

    def run(
        self, stage: str, input_hash: str, build: Callable[[Path], dict[str, Any]]
    ) -> dict[str, Any]:
        started = time.perf_counter()
        marker = self.path(stage) / "_stage.json"
        if marker.is_file() and self.meta(stage).get("input_hash") == input_hash:
            self._log(StageRun(stage, "reused", time.perf_counter() - started))
            return self.meta(stage)
        tmp = self.root / f".{stage}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        meta = {"stage": stage, "input_hash": input_hash, **build(tmp)}
        (tmp / "_stage.json").write_text(json.dumps(meta, indent=1) + "\n")
        shutil.rmtree(self.path(stage), ignore_errors=True)
        os.replace(tmp, self.path(stage))
        self._log(StageRun(stage, "ran", time.perf_counter() - started))
        return meta

    def _log(self, entry: StageRun) -> None:
        self.runs.append(entry)
        line = {"stage": entry.stage, "status": entry.status, "seconds": round(entry.seconds, 3)}
        with (self.root / "stages.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
