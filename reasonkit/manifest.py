"""A finished output directory is one whose manifest, written last, matches every file it lists.

Each file is written atomically, but a set of files is not: killing a rerun of `datacheck clean`
into an existing --out once left the old report.json beside a new, shorter kept/train.jsonl, and
every file looked complete. So a writer removes the manifest and leaves a ``.writing`` marker
first, writes its files, then writes ``manifest.json`` (each file's sha256 and size) and removes
the marker; a reader of one of those files checks both. A directory written before manifests
existed has neither, and is read as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from reasonkit.artifacts import atomic_write_text, remove_stale_temporaries, temporary_prefix
from reasonkit.errors import InputError

__all__ = ["MANIFEST", "WRITING", "begin_output", "check_manifest", "check_run_dir",
           "check_run_files", "finish_output", "listed_files", "replace_run_files", "sha256_file"]

MANIFEST = "manifest.json"
WRITING = ".writing"  # present from begin_output until finish_output: a writer is (or was) busy
MANIFEST_SCHEMA = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def begin_output(out: Path) -> None:
    """Mark ``out`` unfinished (remove its manifest) and delete stale temporaries of killed runs."""
    (out / MANIFEST).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / WRITING).write_text("a writer started here and has not finished\n")
    remove_stale_temporaries(out)


def finish_output(out: Path, files: Iterable[str], writer: str) -> None:
    """Write the manifest for ``files`` (paths relative to ``out``); call after every file exists."""
    listed = {
        name: {"sha256": sha256_file(out / name), "bytes": (out / name).stat().st_size}
        for name in sorted(files)
    }
    body = {"schema_version": MANIFEST_SCHEMA, "writer": writer, "files": listed}
    atomic_write_text(out / MANIFEST, json.dumps(body, indent=2) + "\n")
    (out / WRITING).unlink(missing_ok=True)


def check_run_dir(out: Path) -> None:
    """InputError when a writer started in ``out`` and did not finish (a killed rerun)."""
    if (Path(out) / WRITING).exists():
        raise InputError(f"{out} is unfinished: its last run was interrupted (rerun it)")


def listed_files(out: Path) -> list[str] | None:
    """The file names ``out``'s manifest lists; None without a (readable) manifest."""
    try:
        listed = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return sorted(listed) if isinstance(listed, dict) else None


def check_run_files(out: Path) -> None:
    """InputError unless run directory ``out`` is finished and each file its manifest lists is the
    one the manifest describes.

    A reader of one file (check_manifest) sees only that file; this sees the set. A baseline whose
    report.json and samples.jsonl were replaced beside the old manifest and report.html (the
    plugin's --reasoneval-update-baseline before issue 26) was read by `compare` without a word.
    A directory with no manifest (written before manifests, or by hand) is read as before.
    """
    out = Path(out)
    check_run_dir(out)
    manifest = out / MANIFEST
    if not manifest.is_file():
        return
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        expected = {name: entry["sha256"] for name, entry in listed.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise InputError(f"{manifest} is not a readable manifest (rerun the run)") from None
    missing = [name for name in expected if not (out / name).is_file()]
    changed = [n for n in expected if n not in missing and sha256_file(out / n) != expected[n]]
    if missing or changed:
        what = "; ".join(x for x in (f"missing {', '.join(missing)}" if missing else "",
                                      f"changed {', '.join(changed)}" if changed else "") if x)
        raise InputError(f"{out} is inconsistent with its {MANIFEST} ({what}): its files come "
                         "from different runs (rerun it, or rewrite the whole directory)")


def replace_run_files(src: Path, dst: Path, names: Sequence[str], writer: str) -> None:
    """Make ``dst`` hold ``names`` copied from ``src``, as one set with its own manifest.

    The manifest goes first (begin_output) and comes back last, each file is copied atomically,
    and a file the old set listed that the new one lacks is removed, so a reader never takes the
    old report.html, or an old manifest, for the new run's.
    """
    src, dst = Path(src), Path(dst)
    old = set(listed_files(dst) or ())
    begin_output(dst)
    for name in names:
        target = dst / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{temporary_prefix(target.name)}copy.tmp")
        shutil.copyfile(src / name, tmp)
        tmp.replace(target)
    for name in old - set(names):
        (dst / name).unlink(missing_ok=True)
    finish_output(dst, names, writer)


def _owner(path: Path) -> Path | None:
    """The output directory ``path`` belongs to: the nearest of its two parents with a manifest,
    a writer's marker or a report.json."""
    for folder in (path.parent, path.parent.parent):
        if any((folder / name).exists() for name in (MANIFEST, WRITING, "report.json")):
            return folder
    return None


def check_manifest(path: Path) -> None:
    """InputError when ``path`` lies in an unfinished output directory or differs from its manifest.

    A file outside any such directory (any user JSONL) passes: there is nothing to check it by.
    """
    path = Path(path)
    out = _owner(path)
    if out is None:
        return
    check_run_dir(out)
    manifest = out / MANIFEST
    if not manifest.is_file():
        if (out / "report.json").is_file() and (out / "kept").is_dir():
            raise InputError(f"{out} has no {MANIFEST}: its writer did not finish (rerun it)")
        return
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        entry = listed[os.path.relpath(path.resolve(), out.resolve())]
        expected = entry["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{path} is not listed in a readable {manifest}") from None
    if sha256_file(path) != expected:
        raise InputError(f"{path} differs from {manifest}: a later run changed it (rerun it)")
