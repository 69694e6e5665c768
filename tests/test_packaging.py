"""The project's own metadata builds without setuptools deprecation warnings (issue 16)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_metadata_builds_with_an_spdx_license_and_no_license_warning(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tmp_path / name)
    (tmp_path / "out").mkdir()
    code = "from setuptools import build_meta; print(build_meta.prepare_metadata_for_build_wheel('out'))"
    proc = subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "project.license" not in proc.stderr  # "... as a TOML table is deprecated"
    metadata = (tmp_path / "out" / proc.stdout.strip().splitlines()[-1] / "METADATA").read_text()
    assert "License-Expression: MIT" in metadata.splitlines()
