"""Public GSM8K response sets from other projects, joined with the GSM8K gold solutions.

- Rereading-LLM-Reasoning (github.com/Tebmer/Rereading-LLM-Reasoning, ``results/gsm_*.jsonl``):
  12 sets of the 1,319 test problems, a plain ("vanilla") and a chain-of-thought prompt per file.
  Going by the accuracies docs/layers.md lists, the 20230828_1157/_1200 files are gpt-3.5-turbo,
  20230828_141934/_142302 text-davinci-003, and the 20240926 files gpt-4o-mini (readtimes1: one
  reading, readtimes2: the re-reading prompt). The 20-row 20240929_233258 files are a debug run.
- OpenAI's grade-school-math (github.com/openai/grade-school-math,
  ``grade_school_math/data/example_model_solutions.jsonl``): one solution per test problem from
  each of their 6B and 175B models, fine-tuned and with a verifier (4 sets).

The files are read at run time from paths passed in; none of them is part of this repository.
Each response is scored here with reasonkit.answers against the GSM8K gold, not with the
source's own verdict; duplicate rows of a problem (the _1200 file repeats 30) count once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

METHODS = ("vanilla", "cot")
OPENAI_SETS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")


@dataclass(frozen=True, slots=True)
class Response:
    set: str  # "rr:20230828_1157:cot", "openai:6b_finetuning"
    id: str  # the GSM8K test index, as a string
    question: str
    response: str
    solution: str  # the GSM8K gold answer: annotated reasoning, then "#### value"


def _jsonl(path: Path) -> Iterator[dict[str, object]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def gsm8k_test(gsm8k_dir: Path) -> dict[str, tuple[int, str]]:
    """Question -> (test index, gold answer)."""
    rows = list(_jsonl(gsm8k_dir / "test.jsonl"))
    return {str(r["question"]): (i, str(r["answer"])) for i, r in enumerate(rows)}


def rereading_sets(results_dir: Path, gold: dict[str, tuple[int, str]]) -> dict[str, list[Response]]:
    sets: dict[str, list[Response]] = {}
    files = sorted(f for f in results_dir.glob("gsm_*.jsonl") if "233258" not in f.name)
    for path in files:
        stamp = path.stem.rsplit("_", 2)
        name = f"{stamp[-2]}_{stamp[-1]}" if stamp[-2].isdigit() else stamp[-1]
        for method in METHODS:
            out, seen = [], set()
            for row in _jsonl(path):
                question = str(row["input"])
                generations = (row.get(method) or {}).get("generation") or []  # type: ignore[union-attr]
                if question not in gold or question in seen or not generations:
                    continue
                seen.add(question)
                index, solution = gold[question]
                out.append(Response(f"rr:{name}:{method}", str(index), question,
                                    str(generations[0]), solution))
            sets[f"rr:{name}:{method}"] = out
    return sets


def openai_sets(path: Path, gold: dict[str, tuple[int, str]]) -> dict[str, list[Response]]:
    rows = [r for r in _jsonl(path) if str(r["question"]) in gold]
    return {
        f"openai:{name}": [
            Response(f"openai:{name}", str(gold[str(r["question"])][0]), str(r["question"]),
                     str(r[name]["solution"]), gold[str(r["question"])][1])  # type: ignore[index]
            for r in rows
        ]
        for name in OPENAI_SETS
    }


def load(rereading: Path | None, openai: Path | None, gsm8k_dir: Path) -> dict[str, list[Response]]:
    gold = gsm8k_test(gsm8k_dir)
    sets: dict[str, list[Response]] = {}
    if rereading is not None:
        sets.update(rereading_sets(rereading, gold))
    if openai is not None:
        sets.update(openai_sets(openai, gold))
    return sets
