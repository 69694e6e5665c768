"""The one definition of the ChatML + ``<think>`` format shared by datacheck, train and reasoneval.

Training renders ``prompt + completion``; evaluation sends ``prompt`` and parses the completion
with :func:`reasonkit.answers.extract_answer`. Keeping both sides here means a format change
cannot silently desynchronise training from evaluation. The layout follows the Tiny-Reason
setup: reasoning inside ``<think>…</think>``, then one final-answer line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SYSTEM_PROMPT = (
    "You are a careful math tutor. Reason step by step inside <think> </think>, "
    "then give the final answer on its own line as '#### <number>'."
)
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
ANSWER_PREFIX = "#### "
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
# Everything a model might emit after the answer line; used as vLLM/HF stop strings.
STOP_STRINGS: tuple[str, ...] = (IM_END, "<|endoftext|>", f"\n{IM_START}")


@dataclass(frozen=True, slots=True)
class FewShotExample:
    question: str
    reasoning: str
    answer: str


def format_completion(reasoning: str, answer: str) -> str:
    """The assistant turn after the prompt's ``<think>\\n`` priming, without the end token."""
    return f"{reasoning.strip()}\n{THINK_CLOSE}\n{ANSWER_PREFIX}{answer.strip()}"


def _chatml(messages: Sequence[dict[str, str]]) -> str:
    parts = [f"{IM_START}{m['role']}\n{m['content']}{IM_END}\n" for m in messages]
    return "".join(parts) + f"{IM_START}assistant\n"


def build_messages(
    question: str,
    *,
    system: str | None = SYSTEM_PROMPT,
    few_shot: Sequence[FewShotExample] = (),
) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    if system:
        messages.append({"role": "system", "content": system})
    for ex in few_shot:
        messages.append({"role": "user", "content": ex.question})
        messages.append(
            {
                "role": "assistant",
                "content": f"{THINK_OPEN}\n{format_completion(ex.reasoning, ex.answer)}",
            }
        )
    messages.append({"role": "user", "content": question})
    return messages


def build_prompt(
    question: str,
    *,
    tokenizer: Any | None = None,
    system: str | None = SYSTEM_PROMPT,
    few_shot: Sequence[FewShotExample] = (),
    chat_template: bool = True,
) -> str:
    """The exact text sent to the model, ending in the ``<think>`` priming.

    With ``chat_template`` and a tokenizer that has one, the tokenizer's own template renders the
    messages (Qwen3's thinking switch is turned off, since the priming opens the block itself);
    otherwise plain ChatML is written, which is what Qwen2.5's template produces.
    ``chat_template=False`` gives a raw, template-free prompt (a sensitivity variant).
    """
    if not chat_template:
        shots = "".join(
            f"Question: {ex.question}\nAnswer: {format_completion(ex.reasoning, ex.answer)}\n\n"
            for ex in few_shot
        )
        head = f"{system}\n\n" if system else ""
        return f"{head}{shots}Question: {question}\nAnswer: {THINK_OPEN}\n"
    messages = build_messages(question, system=system, few_shot=few_shot)
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        rendered: str = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, enable_thinking=False
        )
        # Qwen3 with thinking off pre-fills an empty think block; drop it, we open our own.
        rendered = rendered.removesuffix(f"{THINK_OPEN}\n\n{THINK_CLOSE}\n\n")
    else:
        rendered = _chatml(messages)
    return f"{rendered}{THINK_OPEN}\n"
