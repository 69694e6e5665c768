"""A check is a small named unit: it keeps a problem, or rejects it with a readable reason.

The shape is datatrove's filter (pipeline/filters/base_filter.py): thresholds are constructor
arguments, and the reason travels with the rejection so nothing leaves the pipeline silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from datacheck.records import Problem

KEEP = None


@dataclass(frozen=True, slots=True)
class Verdict:
    check: str
    reason: str


class Check(Protocol):
    name: ClassVar[str]

    def __call__(self, problem: Problem) -> Verdict | None: ...


class FittedCheck(Check, Protocol):
    """A check whose thresholds come from the data itself (e.g. a percentile), fitted first."""

    def fit(self, problems: Sequence[Problem]) -> None: ...
