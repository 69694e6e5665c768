"""reasoneval: layered evaluation of small math-reasoning models.

The public surface, loaded on first use so that importing reasoneval never imports torch:
``reasoneval.api`` (run, score, compare, gate) and the typed results they return. The functions
are reached as ``reasoneval.api.run`` and so on: ``reasoneval.run``, ``reasoneval.score`` and
``reasoneval.compare`` are the subcommands' modules, which a package attribute cannot shadow.
"""

from __future__ import annotations

import importlib
from typing import Any

# No import of reasoneval.api here, not even for type checkers: modules under it import this
# package (`from reasoneval import console`), and the import graph stays free of circles.
__all__ = ["GateRecord", "GroupComparison", "RunReportRecord", "ScoreResult", "api", "read_report"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'reasoneval' has no attribute {name!r}")
    module = importlib.import_module("reasoneval.api")
    return module if name == "api" else getattr(module, name)
