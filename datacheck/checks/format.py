"""Format: the row is shaped like a GSM8K problem and carries no template or encoding damage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from datacheck.checks.base import KEEP, Verdict
from datacheck.parsing import FINAL_MARKER
from datacheck.records import Problem

# Tokens of the chat format we train with (reasonkit.prompting) and of common others; a row that
# contains one would teach the model to emit turn boundaries mid-answer.
LEAKED_TOKENS = (
    "<|im_start|>",
    "<|im_end|>",
    "<|endoftext|>",
    "<think>",
    "</think>",
    "<|begin_of_text|>",
    "<|eot_id|>",
    "[INST]",
    "<s>",
    "</s>",
)
# U+FFFD is what a failed decode leaves; the others are UTF-8 read as cp1252/latin-1 ("â€™" for a right single quote).
MOJIBAKE = re.compile("\ufffd|Ã[\u0080-\u00bf]|â€|Â[\u00a0-\u00bf]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class FormatCheck:
    name: ClassVar[str] = "format"
    min_question_chars: int = 10
    leaked_tokens: tuple[str, ...] = LEAKED_TOKENS

    def __call__(self, problem: Problem) -> Verdict | None:
        reason = self._problem_with(problem)
        return KEEP if reason is None else Verdict(self.name, reason)

    def _problem_with(self, p: Problem) -> str | None:
        markers = p.raw_answer.count(FINAL_MARKER)
        if markers != 1:
            return f"expected exactly one '{FINAL_MARKER}' final-answer marker, found {markers}"
        if len(p.question.strip()) < self.min_question_chars:
            return f"question shorter than {self.min_question_chars} characters"
        if not p.steps:
            return "no reasoning before the final-answer marker"
        if not p.label:
            return "empty final answer after the marker"
        if p.final_answer is None:
            return f"final answer {p.label!r} is not a number"
        for text in (p.question, p.raw_answer):
            for token in self.leaked_tokens:
                if token in text:
                    return f"leaked chat-template token {token!r}"
            damage = MOJIBAKE.search(text) or CONTROL.search(text)
            if damage:
                return f"encoding damage {damage.group(0)!r}"
        return None
