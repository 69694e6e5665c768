"""Splitting a GSM8K answer into reasoning steps, calculator annotations and the label."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datacheck.records import ANNOTATION, Annotation, Problem, strip_annotations

FINAL_MARKER = "####"
__all__ = ["ANNOTATION", "FINAL_MARKER", "parse_problem", "strip_annotations"]


def _annotations(steps: tuple[str, ...]) -> tuple[Annotation, ...]:
    found = []
    for i, step in enumerate(steps):
        for match in ANNOTATION.finditer(step):
            body = match.group(1)
            expression, _, value = body.rpartition("=")
            if not _:
                expression, value = body, ""
            after = strip_annotations(step[match.end() :])
            found.append(Annotation(expression.strip(), value.strip(), after, i))
    return tuple(found)


def parse_problem(
    *, id: str, split: str, index: int, question: str, answer: str, source: Mapping[str, Any]
) -> Problem:
    """Build the record; judging it (marker count, numeric label...) is the checks' job."""
    from reasonkit.answers import normalize

    head, marker, label = answer.rpartition(FINAL_MARKER)
    body = head if marker else answer
    steps = tuple(line.strip() for line in body.splitlines() if line.strip())
    label = label.strip() if marker else ""
    return Problem(
        id=id,
        split=split,
        index=index,
        question=question,
        steps=steps,
        label=label,
        final_answer=normalize(label) if label else None,
        annotations=_annotations(steps),
        raw_answer=answer,
        source=source,
    )
