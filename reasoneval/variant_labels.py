"""Readable names for sensitivity variants: ``spacing-question_upper_1_0`` means little on a page;
``layout 'QUESTION : …'`` says what changed. The ids stay as they are in report.json and
samples.jsonl; only the report's labels use these."""

from __future__ import annotations

import re

from reasoneval.records import ORIGINAL
from reasoneval.variant_texts import CASINGS, DESCRIPTORS, SEPARATORS, SPACINGS
from reasoneval.variants import GSM_PLUS, REGISTRY

ANSWER_SHAPES = {
    "hash": "'#### n'",
    "answer_is": "'The answer is n.'",
    "boxed": "'\\boxed{n}'",
    "final_answer": "'**Final Answer:** n'",
}


def describe_family(family: str) -> str:
    """The registry's one line for a family; an external row's family names its perturbation."""
    if family.startswith(GSM_PLUS):
        return f"GSM-Plus perturbation '{family.removeprefix(GSM_PLUS).replace('_', ' ')}'"
    return REGISTRY[family].description if family in REGISTRY else ""


def _layout(label: str) -> str | None:
    """``question_upper_1_0`` -> the prompt's shape, e.g. ``'QUESTION : …'``."""
    parts = label.split("_")
    if len(parts) != 4 or not (parts[2].isdigit() and parts[3].isdigit()):
        return None
    descriptor = next((d for d in DESCRIPTORS if d.lower() == parts[0]), None)
    sep, space = int(parts[2]), int(parts[3])
    if descriptor is None or parts[1] not in CASINGS or sep >= len(SEPARATORS):
        return None
    if space >= len(SPACINGS):
        return None
    pad = SPACINGS[space]
    shown = f"{pad}{CASINGS[parts[1]](descriptor)}{SEPARATORS[sep]}…{pad}"
    return "layout '" + shown.replace("\n", "⏎") + "'"


def describe_variant(name: str) -> str:
    """A short readable label for a variant id; the id itself when it has no known shape."""
    if name == ORIGINAL:
        return "original prompt"
    family, _, label = name.partition("-")
    number = re.fullmatch(r"[a-z](\d+)", label)
    nth = f" {int(number[1]) + 1}" if number else ""
    if family == "paraphrase" and number:
        return f"reworded instruction{nth}"
    if family == "format" and label in ANSWER_SHAPES:
        return f"answer as {ANSWER_SHAPES[label]}"
    if family == "shots":
        return {"zero": "no worked examples", "few": "3 worked examples"}.get(label, name)
    if family == "template" and label == "raw":
        return "no chat template"
    if family == "spacing":
        return _layout(label) or name
    if family == "distractor" and number:
        return f"irrelevant sentence{nth}"
    if family == "numeric" and number:
        return f"numbers redrawn{nth}"
    if family.startswith(GSM_PLUS) and number:
        return f"GSM-Plus {family.removeprefix(GSM_PLUS).replace('_', ' ')}{nth}"
    return name
