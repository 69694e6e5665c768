"""Round trip: the row rendered in the training format parses back to its own answer.

Training writes `prompting.format_completion`; evaluation and the GRPO reward read with
`reasonkit.answers.extract_answer`. A row that does not survive this trip would train the
model on an answer the scorer cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from datacheck.checks.base import KEEP, Verdict
from datacheck.records import Problem


@dataclass(frozen=True, slots=True)
class RoundTripCheck:
    name: ClassVar[str] = "round_trip"

    def __call__(self, problem: Problem) -> Verdict | None:
        from reasonkit.answers import extract_answer
        from reasonkit.prompting import format_completion

        if problem.final_answer is None:
            return Verdict(self.name, "no canonical final answer to render")
        text = format_completion(problem.reasoning, problem.final_answer)
        extraction = extract_answer(text)
        if extraction is None:
            return Verdict(self.name, "the extractor finds no answer in the rendered completion")
        if extraction.value != problem.final_answer:
            return Verdict(
                self.name,
                f"rendered answer {problem.final_answer} parses back as {extraction.value} "
                f"(marker {extraction.marker})",
            )
        return KEEP
