"""GRPO rewards. Correctness is judged by ``reasonkit.answers``, the code that scores evaluations,
so the policy is optimised for exactly what the evaluation counts (nanochat's ``reward()`` calls
``evaluate()`` for the same reason)."""

from __future__ import annotations

from typing import Any

from reasonkit.answers import normalize, score_response
from reasonkit.prompting import ANSWER_PREFIX, THINK_CLOSE, THINK_OPEN

# The format reward is a nudge, not a goal: capped well below the accuracy reward so that a
# policy cannot earn more by emitting empty well-formed shells than by answering correctly.
MAX_FORMAT_WEIGHT = 0.2


def accuracy_reward(completions: list[str], final_answer: list[str], **_: Any) -> list[float]:
    """1.0 when the answer ``reasoneval`` extracts equals the gold answer, else 0.0.

    The prompt opens ``<think>``, so an answer written only inside the thinking earns nothing,
    as in evaluation (``think=True``).
    """
    return [
        1.0 if score_response(text, gold, think=True)[1] else 0.0
        for text, gold in zip(completions, final_answer, strict=True)
    ]


def is_well_formed(completion: str) -> bool:
    """Reasoning, then ``</think>``, then one ``#### <number>`` line and nothing else.

    The prompt already opens ``<think>``, so the completion must not open another one.
    """
    if THINK_OPEN in completion or completion.count(THINK_CLOSE) != 1:
        return False
    reasoning, tail = completion.split(THINK_CLOSE)
    if not reasoning.strip():
        return False
    answer_line = tail.strip()
    if "\n" in answer_line or not answer_line.startswith(ANSWER_PREFIX):
        return False
    return normalize(answer_line.removeprefix(ANSWER_PREFIX)) is not None


def format_reward(completions: list[str], **_: Any) -> list[float]:
    return [1.0 if is_well_formed(text) else 0.0 for text in completions]
