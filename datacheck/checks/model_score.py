"""Optional model-based learnability: Instruction-Following Difficulty with a local student model.

IFD = loss(answer | question) / loss(answer) (Li et al. 2024, "From Quantity to Quality", NAACL).
A ratio above 1 means the question makes the answer *harder* to predict: the pair is
misaligned, the paper's own cut-off for discarding data. transformers is imported only here,
and only when `--model PATH` is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from datacheck.checks.base import KEEP, Verdict
from datacheck.records import Problem


@dataclass(slots=True)
class IFDCheck:
    name: ClassVar[str] = "model_score"
    model_path: str
    max_ifd: float = 1.0
    max_tokens: int = 2048
    scores: dict[str, float] = field(default_factory=dict, init=False)

    def fit(self, problems: Sequence[Problem]) -> None:
        import torch
        from tqdm import tqdm
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from reasonkit.prompting import build_prompt, format_completion

        tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(
            self.model_path, local_files_only=True, use_safetensors=True, trust_remote_code=False
        )
        model.eval()  # type: ignore[no-untyped-call]
        with torch.inference_mode():
            for p in tqdm(problems, desc="IFD", unit="row", disable=None):
                if p.final_answer is None:
                    continue
                prompt = tokenizer(
                    build_prompt(p.question, tokenizer=tokenizer), add_special_tokens=False
                )["input_ids"]
                answer = tokenizer(
                    format_completion(p.reasoning, p.final_answer), add_special_tokens=False
                )["input_ids"]
                conditioned = _mean_loss(model, torch, prompt, answer, self.max_tokens)
                alone = _mean_loss(model, torch, [], answer, self.max_tokens)
                if alone > 0 and math.isfinite(conditioned):
                    self.scores[p.id] = conditioned / alone

    def __call__(self, problem: Problem) -> Verdict | None:
        score = self.scores.get(problem.id)
        if score is not None and score > self.max_ifd:
            return Verdict(
                self.name,
                f"IFD {score:.3f} > {self.max_ifd:g}: the question does not help predict the answer",
            )
        return KEEP


def _mean_loss(
    model: Any, torch: Any, context: list[int], answer: list[int], max_tokens: int
) -> float:
    """Mean next-token loss over answer[1:], so both IFD terms score the same tokens."""
    ids = (context + answer)[:max_tokens]
    first = len(context) + 1  # the answer's first token has no in-answer context when alone
    if len(ids) <= first:
        return math.nan
    input_ids = torch.tensor([ids])
    logits = model(input_ids=input_ids).logits[0, :-1].float()
    targets = input_ids[0, 1:]
    losses = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    return float(losses[first - 1 :].mean())
