"""Is every token the task needs a token the base can be taught to write? The embedding check.

A token that is never a training target gets its output-embedding row from the softmax's
push-down alone: the same direction for every such token, so they end as one cluster of
near-identical rows (Land & Bartolo 2024, "Fishing for Magikarp", find such under-trained
tokens in released LLMs). LoRA on the attention and MLP projections cannot tell the cluster's
members apart: the logits of all of them move together. In the first embedded base 567 of 768
rows were one cluster (cosine > 0.99), ``####``'s pieces among them, and a temperature-1 sample
of the SFT model wrote ``#### n`` about once in 5,000 tries (issue 23). The check here finds
such clusters and asks that no token of the task's own text sits in one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

NEAR_IDENTICAL = 0.99  # cosine above which two output rows are one direction


@dataclass(frozen=True, slots=True)
class EmbeddingHealth:
    vocab: int
    largest_cluster: int  # rows in the largest group of near-identical output embeddings
    clustered_rows: int  # rows in any such group of two or more
    task_tokens: int  # distinct tokens in the task's prompts and completions
    clustered_task_tokens: tuple[str, ...]  # task tokens inside a group: each one a defect

    @property
    def healthy(self) -> bool:
        return not self.clustered_task_tokens

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "clustered_task_tokens": list(self.clustered_task_tokens),
                "healthy": self.healthy, "near_identical_cosine": NEAR_IDENTICAL}


def near_identical_groups(weight: Any, threshold: float = NEAR_IDENTICAL) -> list[list[int]]:
    """Connected groups (two or more rows) of rows whose pairwise cosine exceeds ``threshold``."""
    import torch

    unit = torch.nn.functional.normalize(weight.detach().float(), dim=1)
    close = (unit @ unit.T) > threshold
    close.fill_diagonal_(False)
    parent = list(range(unit.shape[0]))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in close.nonzero().tolist():
        parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(parent)):
        groups.setdefault(find(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=len, reverse=True)


def embedding_health(model: Any, tokenizer: Any, task_texts: Iterable[str]) -> EmbeddingHealth:
    weight = model.get_output_embeddings().weight
    groups = near_identical_groups(weight)
    clustered = {i for g in groups for i in g}
    task_ids: set[int] = set()
    for text in task_texts:
        task_ids.update(tokenizer(text, add_special_tokens=False)["input_ids"])
    bad = sorted(task_ids & clustered)
    return EmbeddingHealth(
        vocab=int(weight.shape[0]),
        largest_cluster=len(groups[0]) if groups else 1,
        clustered_rows=len(clustered),
        task_tokens=len(task_ids),
        clustered_task_tokens=tuple(tokenizer.convert_ids_to_tokens(bad)),
    )


def task_texts(n: int = 2000) -> list[str]:
    """The fine-tuning format the base must learn to write: SFT prompts and completions of the
    task's train split, rendered as training renders them."""
    import re

    from reasonkit.prompting import IM_END, build_prompt, format_completion
    from reasonkit.tasks.split import load_split

    texts = []
    for row in load_split("train", n=n):
        reasoning, _, answer = row["answer"].rpartition("#### ")
        # SFT trains on the reasoning without calculator annotations (datacheck's kept rows).
        reasoning = re.sub(r"<<[^<>]*>>", "", reasoning)
        texts.append(build_prompt(row["question"]) + format_completion(reasoning, answer) + IM_END)
    return texts


def check_directory(model_dir: Path) -> EmbeddingHealth:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    return embedding_health(model, AutoTokenizer.from_pretrained(model_dir), task_texts())


def sampled_format_rate(model: Any, tokenizer: Any, questions: Iterable[str], *, samples: int = 8,
                        temperature: float = 1.0, max_new_tokens: int = 64, seed: int = 0) -> float:  # fmt: skip
    """Share of temperature-``temperature`` samples that end in a well-formed answer line
    (train.rewards.is_well_formed: reasoning, ``</think>``, then ``#### <number>``). Greedy
    decoding can hide a collapsed answer line: the old base's SFT model wrote ``#### n`` every
    time greedily and about once in 5,000 samples at temperature 1 (issue 23)."""
    import torch

    from reasonkit.prompting import STOP_STRINGS, build_prompt
    from train.rewards import is_well_formed

    torch.manual_seed(seed)
    good = total = 0
    for question in questions:
        ids = tokenizer(build_prompt(question), return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**ids, do_sample=True, temperature=temperature, top_k=0, top_p=1.0,
                                 max_new_tokens=max_new_tokens, num_return_sequences=samples,
                                 pad_token_id=tokenizer.pad_token_id)  # fmt: skip
        for row in out[:, ids["input_ids"].shape[1]:]:
            text = tokenizer.decode(row, skip_special_tokens=False)
            for stop in STOP_STRINGS:
                text = text.split(stop)[0]
            good += is_well_formed(text)
            total += 1
    return good / total
