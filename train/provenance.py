"""What produced an adapter, written beside it: ``config.yaml`` and ``train_meta.json``."""

from __future__ import annotations

import dataclasses
import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from reasoneval.artifacts import atomic_write_text

# Bump when a field is renamed or removed; readers check it (nanochat's meta_<step>.json idea).
META_SCHEMA_VERSION = 1
META_FILE = "train_meta.json"
CONFIG_FILE = "config.yaml"


@dataclass(frozen=True, slots=True)
class RunMeta:
    stage: str  # "sft" | "grpo"
    data_file: str
    data_sha256: str
    n_train: int
    n_eval: int
    device: str
    compute_dtype: str
    optim: str
    load_in_4bit: bool
    git_revision: str | None
    git_dirty: bool | None
    started_at: str
    finished_at: str
    global_step: int
    best_checkpoint: str | None
    best_metric: float | None
    final_train_loss: float | None
    # For GRPO from an SFT adapter: where the merged full-precision base was written.
    merged_base: str | None = None
    packages: dict[str, str] = field(default_factory=dict)
    python: str = field(default_factory=platform.python_version)
    schema_version: int = META_SCHEMA_VERSION






def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")




def write_provenance(out_dir: str | Path, config: dict[str, Any], meta: RunMeta) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / CONFIG_FILE, yaml.safe_dump(config, sort_keys=False))
    atomic_write_text(out / META_FILE, json.dumps(dataclasses.asdict(meta), indent=2) + "\n")


def read_meta(out_dir: str | Path) -> RunMeta:
    raw = json.loads((Path(out_dir) / META_FILE).read_text(encoding="utf-8"))
    if raw.get("schema_version") != META_SCHEMA_VERSION:
        raise ValueError(
            f"{out_dir}: train_meta schema {raw.get('schema_version')}, expected {META_SCHEMA_VERSION}"
        )
    return RunMeta(**raw)
