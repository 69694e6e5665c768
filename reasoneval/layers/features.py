"""The problem features wrong answers are clustered by: gold steps, operations, magnitude."""

from __future__ import annotations

import re

from reasoneval.layers.trace_checks import gold_step_count
from reasoneval.records import Problem

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_OPS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}


def problem_features(p: Problem | None) -> dict[str, list[str]]:
    """Feature -> buckets this problem falls in (operations can be several)."""
    if p is None:
        return {"gold_steps": ["unknown"], "operations": ["unknown"], "magnitude": ["unknown"]}
    steps = gold_step_count(p.solution) if p.solution else None
    step_bucket = ("unknown" if steps is None else "1-2" if steps <= 2 else "3-4" if steps <= 4
                   else "5-6" if steps <= 6 else "7+")
    calcs = "".join(re.findall(r"<<([^<>]*)=", p.solution or ""))
    ops = sorted({name for sym, name in _OPS.items() if sym in calcs}) or ["unknown"]
    numbers = [float(n.replace(",", "")) for n in _NUMBER.findall(p.question)]
    top = max(numbers, default=0.0)
    magnitude = "<10" if top < 10 else "10-99" if top < 100 else "100-999" if top < 1000 else "1000+"
    return {"gold_steps": [step_bucket], "operations": ops, "magnitude": [magnitude]}
