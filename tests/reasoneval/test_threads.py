from __future__ import annotations

import pytest

from reasoneval.backends.threads import THREADS_ENV, decode_threads, other_runnable


def test_decode_threads_takes_the_idle_cores_and_at_least_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert decode_threads(cores=2, busy=0) == 2  # quiet: every core
    assert decode_threads(cores=2, busy=1) == 1
    assert decode_threads(cores=2, busy=7) == 1  # loaded: one thread, never zero
    assert decode_threads(cores=16, busy=4) == 12
    assert other_runnable(samples=2, gap_s=0.0) >= 0


def test_the_environment_fixes_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_ENV, "3")
    assert decode_threads(cores=2, busy=7) == 3
