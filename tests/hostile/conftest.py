"""The bad-input corpus (issue 14): each case runs a CLI in process and checks its exit contract.

0 ok; 1 gate only; 2 bad input, one line; 3 internal error, one line naming the exception and
where its traceback went. Never a traceback on stderr (hostile_helpers.invoke asserts it).
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _crash_logs_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REASONKIT_CRASH_DIR", str(tmp_path / "crash"))
    monkeypatch.delenv("REASONKIT_DEBUG", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
