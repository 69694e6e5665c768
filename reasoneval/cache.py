"""An append-only generation cache, so a killed run resumes without regenerating finished prompts.

One JSON line per prompt: ``{"key": sha256, "completions": [...]}``. The key covers everything that
decides the output: the model's identity (a fingerprint of its files and the backend name), the
exact prompt, and the sampling settings. Lines are appended and fsynced per finished batch; a line
cut short by a kill is discarded on the next open; a damaged line elsewhere is ignored (with a
warning), so its prompts are generated again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from reasoneval.backends.base import SamplingConfig
from reasoneval.records import Completion
from reasonkit.jsonl import BadLine, dumps_line, parse_line, split_lines

# Files above this size are fingerprinted by size plus their first and last chunk: hashing a
# multi-GB safetensors file on every run would cost more than many evaluations.
FULL_HASH_LIMIT = 64 << 20
EDGE_CHUNK = 4 << 20


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= FULL_HASH_LIMIT:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        else:
            h.update(fh.read(EDGE_CHUNK))
            fh.seek(size - EDGE_CHUNK)
            h.update(fh.read(EDGE_CHUNK))
            h.update(str(size).encode())
    return h.hexdigest()


def directory_fingerprint(path: Path) -> str:
    """sha256 over (relative name, content digest) of every file under a checkpoint directory."""
    h = hashlib.sha256()
    root = Path(path)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for f in files:
        rel = f.name if root.is_file() else f.relative_to(root).as_posix()
        h.update(f"{rel}\0{_file_digest(f)}\n".encode())
    return h.hexdigest()


def cache_key(model_identity: str, prompt: str, sampling: SamplingConfig) -> str:
    payload = json.dumps(
        {"model": model_identity, "prompt": prompt, "sampling": asdict(sampling)},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class GenerationCache:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._entries: dict[str, list[Completion]] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):  # the last append was cut short: drop its fragment
            with self.path.open("r+b") as fh:
                fh.truncate(len(complete))
        damaged = 0
        for line in split_lines(complete):
            if not line.strip():
                continue
            try:
                entry = parse_line(line)
                self._entries[entry["key"]] = [Completion(**c) for c in entry["completions"]]
            except (BadLine, KeyError, TypeError):
                damaged += 1  # its prompts are simply generated again
        if damaged:
            print(f"reasoneval: {self.path}: {damaged} damaged cache line(s) ignored; their "
                  "prompts will be generated again", file=sys.stderr)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str) -> list[Completion] | None:
        return self._entries.get(key)

    def put_many(self, entries: Mapping[str, Sequence[Completion]]) -> None:
        """Append one batch and make it durable before returning."""
        if not entries:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            dumps_line({"key": key, "completions": [asdict(c) for c in comps]}) + "\n"
            for key, comps in entries.items()
        ]
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write("".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
        for key, comps in entries.items():
            self._entries[key] = list(comps)
