"""IFD with a real (tiny, local) Qwen2 checkpoint through transformers."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from datacheck.checks.model_score import IFDCheck
from datacheck.records import Problem

pytestmark = pytest.mark.slow


def test_ifd_scores_every_row_and_rejects_above_the_cut(
    tiny_model_dir: Path, make_problem: Callable[..., Problem]
) -> None:
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from reasonkit.prompting import build_prompt, format_completion

    torch.set_num_threads(1)
    problems = [
        make_problem(),
        make_problem(
            "Ava has 12 apples and eats 5. How many are left?",
            "12-5 = <<12-5=7>>7\n#### 7",
            index=1,
        ),
        make_problem(
            "Ben buys 3 bags of 4 eggs. How many eggs?", "3*4 = <<3*4=12>>12\n#### 12", index=2
        ),
    ]
    check = IFDCheck(str(tiny_model_dir))
    check.fit(problems)
    assert set(check.scores) == {p.id for p in problems}
    assert all(math.isfinite(s) and s > 0 for s in check.scores.values())

    # The ratio is loss(answer | question) / loss(answer) over the same answer tokens.
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    p = problems[1]
    prompt = tok(build_prompt(p.question, tokenizer=tok), add_special_tokens=False)["input_ids"]
    answer = tok(format_completion(p.reasoning, "7"), add_special_tokens=False)["input_ids"]

    def loss(context: list[int]) -> float:
        ids = torch.tensor([context + answer])
        labels = ids.clone()
        labels[0, : len(context) + 1] = -100  # score answer[1:], as both terms must
        with torch.no_grad():
            return float(model(input_ids=ids, labels=labels).loss)

    assert check.scores[p.id] == pytest.approx(loss(prompt) / loss([]), rel=1e-4)

    worst = max(check.scores, key=check.scores.__getitem__)
    cut = IFDCheck(str(tiny_model_dir), max_ifd=sorted(check.scores.values())[-2])
    cut.scores.update(check.scores)
    verdicts = {q.id: cut(q) for q in problems}
    assert [i for i, v in verdicts.items() if v is not None] == [worst]
    assert verdicts[worst] is not None and verdicts[worst].check == "model_score"


def test_cli_model_option_adds_the_score_to_train_rows(
    tiny_model_dir: Path, gsm8k_like_dir: Path, tmp_path: Path
) -> None:
    import json

    from datacheck.cli import main

    out = tmp_path / "o"
    # --max-ifd 0 rejects every scored row: shows the check runs on train and only on train.
    args = ["clean", "gsm8k", "--data-dir", str(gsm8k_like_dir), "--out", str(out)]
    assert main([*args, "--model", str(tiny_model_dir), "--max-ifd", "0"]) == 0
    rejected = {
        r["id"]: r["check"]
        for r in map(json.loads, (out / "rejected.jsonl").read_text().splitlines())
    }
    assert rejected["gsm8k/train/0"] == "model_score"
    assert not any(i.startswith("gsm8k/test/") for i in rejected)


def test_local_tokenizer_counts_drive_the_context_limit(
    tiny_model_dir: Path, make_problem: Callable[..., Problem]
) -> None:
    from datacheck.checks.learnability import LearnabilityCheck, tokenizer_counter

    count = tokenizer_counter(str(tiny_model_dir))
    p = make_problem()
    tokens = count(p.question) + count(p.reasoning)
    assert tokens > 0
    # A context just too small for this row under the real tokenizer rejects it.
    check = LearnabilityCheck(context_length=tokens, count_tokens=count)
    check.fit([p])
    verdict = check(p)
    assert verdict is not None and f"exceed the {tokens}-token context" in verdict.reason
