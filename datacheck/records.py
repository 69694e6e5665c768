"""The one record that travels through the stage, and the rejection that replaces it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 1
ANNOTATION = re.compile(r"<<([^<>]*)>>")


def strip_annotations(text: str) -> str:
    return ANNOTATION.sub("", text)


@dataclass(frozen=True, slots=True)
class Annotation:
    """One GSM8K calculator call ``<<expr=value>>`` and the text that follows it."""

    expression: str
    value: str  # as written after "=", unnormalised
    text_after: str  # the rest of the step after ">>", used to check the prose agrees
    step: int  # 0-based index of the reasoning step holding it


@dataclass(frozen=True, slots=True)
class Problem:
    id: str  # "gsm8k/<split>/<0-based line index>"
    split: str
    index: int  # 0-based line index in its split's file: the keep policy's tie-break
    question: str
    steps: tuple[str, ...]  # reasoning lines as written, annotations included
    label: str  # the text after the final-answer marker, as written
    final_answer: str | None  # canonical form of `label` (reasonkit.answers.normalize)
    annotations: tuple[Annotation, ...]
    raw_answer: str
    source: Mapping[str, Any]  # the input row's own fields, written back unchanged on output

    @property
    def reasoning(self) -> str:
        """The reasoning as training text: calculator annotations removed, steps joined."""
        return "\n".join(strip_annotations(step) for step in self.steps)


@dataclass(frozen=True, slots=True)
class Rejection:
    id: str
    split: str
    check: str
    reason: str
    source: Mapping[str, Any] | str  # the parsed row, or the raw line when it did not parse
    matched_id: str | None = None  # the kept/test row this one duplicates or overlaps, if any
