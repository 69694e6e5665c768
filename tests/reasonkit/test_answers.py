"""Table-driven checks of reasonkit.answers on hard, realistic small-model outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasonkit.answers import (
    Extraction,
    extract_answer,
    is_equivalent,
    normalize,
    parse_gold,
    score_response,
)

# (response, gold, expected extracted value, strategy, marker, correct)
# fmt: off
HARD_CASES = [
    # lm-eval's strict `#### (\-?[0-9\.\,]+)` misses these; flexible takes the wrong number.
    ("#### $1,072", "1072", "1072", "strict", "####", True),
    ("So she pays 72.00 dollars.\n#### 72.00", "72", "72", "strict", "####", True),
    ("The total is 72...", "72", "72", "flexible", "last_number", True),
    ("Half of it: 0.50", "0.5", "0.5", "flexible", "last_number", True),
    (
        "The answer is 18. To check: 9 * 2 = 18, and 20 - 2 = 18 too, from 20.",
        "18",
        "18",
        "strict",
        "the_answer_is",
        True,
    ),
    ("#### 18\n\nExplanation: she earned 20 but spent 2.", "18", "18", "strict", "####", True),
    # Math-Verify's bold case.
    ("**73**", "73", "73", "flexible", "last_number", True),
    ("The final answer is **73**.", "73", "73", "strict", "the_answer_is", True),
    # Formats small models produce.
    ("The answer is: $18.", "18", "18", "strict", "the_answer_is", True),
    ("\\boxed{18}", "18", "18", "strict", "boxed", True),
    ("She makes 18 dollars", "18", "18", "flexible", "last_number", True),
    ("<answer> 1,000 </answer>", "1000", "1000", "strict", "answer_tag", True),
    (
        "<think>1000 - 7 = 993</think>\n<answer>\n993\n</answer>",
        "993",
        "993",
        "strict",
        "answer_tag",
        True,
    ),
    ("It dropped to -5 degrees", "-5", "-5", "flexible", "last_number", True),
    ("The answer is 3/4", "0.75", "0.75", "strict", "the_answer_is", True),
    ("The answer is 50%", "50", "50", "strict", "the_answer_is", True),
    ("The answer is twelve.", "12", "12", "strict", "the_answer_is", True),
    ("So the answer is forty-two apples.", "42", "42", "strict", "the_answer_is", True),
    ("**Final Answer:** 18", "18", "18", "strict", "final_answer", True),
    ("### Final Answer\n\n$\\boxed{1{,}072}$", "1072", "1072", "strict", "boxed", True),
    ("$\\boxed{\\frac{3}{4}}$", "0.75", "0.75", "strict", "boxed", True),
    ("\\boxed{\\dfrac{1}{3}}", "1/3", "1/3", "strict", "boxed", True),
    ("\\boxed{18 \\text{ dollars}}", "18", "18", "strict", "boxed", True),
    ("The final answer is $\\boxed{\\$18.00}$", "18", "18", "strict", "boxed", True),
    ("\\boxed{x = 5}", "5", "5", "strict", "boxed", True),
    ("\\boxed{\\{2\\}}", "2", "2", "strict", "boxed", True),  # nested braces balanced
    ("A: 18", "18", "18", "strict", "a_colon", True),
    ("Answer: 16-3-4=9 eggs. 9*2=$18.", "18", "18", "strict", "answer_colon", True),
    ("The answer is 3 + 4 = 7.", "7", "7", "strict", "the_answer_is", True),
    ("the answer is one hundred and five", "105", "105", "strict", "the_answer_is", True),
    ("The answer is 0.5.", "1/2", "0.5", "strict", "the_answer_is", True),
    ("It costs $1,000,000 in total", "1000000", "1000000", "flexible", "last_number", True),
    # Last marker wins.
    (
        "The answer is 12.\nWait, I made an error. The answer is 14.",
        "14",
        "14",
        "strict",
        "the_answer_is",
        True,
    ),
    ("\\boxed{5} ... on reflection \\boxed{6}", "5", "6", "strict", "boxed", False),
    ("#### 10\nFinal Answer: 12", "12", "12", "strict", "final_answer", True),
    # Markers that carry no value are skipped, not trusted.
    (
        "#### Step 1: count eggs\n16 - 3 - 4 = 9, and 9 * 2 = 18",
        "18",
        "18",
        "flexible",
        "last_number",
        True,
    ),
    ("#### 1. Compute the eggs\nShe makes 9*2 = 18", "18", "18", "flexible", "last_number", True),
    (
        "A: Janet sells 16 - 3 - 4 = 9 eggs a day, so she makes $18",
        "18",
        "18",
        "flexible",
        "last_number",
        True,
    ),
    # Drafts inside <think> and text after the end of the turn do not count.
    ("<think>the answer is 20? no, 9 * 2</think>\nJanet makes $18.", "18", "18", "flexible",
     "last_number", True),
    ("#### 18<|im_end|>\n<|im_start|>user\nThe answer is 5", "18", "18", "strict", "####", True),
    # Answers on the next line, in prose, or in a bold label.
    ("The answer is:\n\n**18**", "18", "18", "strict", "the_answer_is", True),
    ("**Answer:** $18", "18", "18", "strict", "answer_colon", True),
    ("Final answer: Janet makes $18 every day. (9 eggs x $2)", "18", "18", "strict",
     "final_answer", True),
    ("\\boxed{\\text{Janet makes } 18}", "18", "18", "strict", "boxed", True),
    ("Final Answer: The final answer is $18$. I hope it is correct.", "18", "18", "strict",
     "the_answer_is", True),
    # Subtraction is not a negative sign.
    ("She has 10-5 apples", "5", "5", "flexible", "last_number", True),
    # Wrong answers stay wrong.
    ("The answer is 17.", "18", "17", "strict", "the_answer_is", False),
    ("#### 0.51", "0.5", "0.51", "strict", "####", False),
]
# fmt: on


@pytest.mark.parametrize(("response", "gold", "value", "strategy", "marker", "correct"), HARD_CASES)
def test_hard_cases(
    response: str, gold: str, value: str, strategy: str, marker: str, correct: bool
) -> None:
    extraction, is_correct = score_response(response, gold)
    assert extraction is not None
    assert (extraction.value, extraction.strategy, extraction.marker) == (value, strategy, marker)
    assert is_correct is correct


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,072", "1072"),
        ("72.00", "72"),
        ("72.0", "72"),
        ("72...", "72"),
        ("0.50", "0.5"),
        (".5", "0.5"),
        ("  18 Dollars. ", "18"),
        ("USD 18", "18"),
        ("€18", "18"),
        ("-5", "-5"),
        ("\u22125", "-5"),  # unicode minus
        ("-$5", "-5"),
        ("negative five", "-5"),
        ("3/4", "0.75"),
        ("1 1/2", "1.5"),
        ("2/3", "2/3"),
        ("\\frac{3}{4}", "0.75"),
        ("\\dfrac{10}{4}", "2.5"),
        ("\\frac12", "0.5"),
        ("\\text{18 apples}", "18"),
        ("\\$18", "18"),
        ("50%", "50"),
        ("50 percent", "50"),
        ("50\\%", "50"),
        ("twelve", "12"),
        ("Forty-Two", "42"),
        ("one hundred and five", "105"),
        ("two thousand three hundred", "2300"),
        ("three million", "3000000"),
        ("zero", "0"),
        ("**73**", "73"),
        ("\\boxed{73}", "73"),
        ("x = 5", "5"),
        ("1/1024", "0.0009765625"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "5 + 3",
        "9 * 2 = 18",
        "1,2,3",
        "1,0000",
        "12:30 and 5",
        "1/0",
        "Step 1: add",
        "1" * 41,
    ],
)
def test_normalize_rejects_what_is_not_one_number(text: str) -> None:
    assert normalize(text) is None


def test_parse_gold_reads_raw_gsm8k_and_bare_values() -> None:
    assert parse_gold("Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs.\n#### 18") == "18"
    assert parse_gold("#### 1,000") == "1000"
    assert parse_gold("-3") == "-3"
    assert parse_gold("no number here") is None


def test_is_equivalent_uses_tolerance_but_not_looseness() -> None:
    assert is_equivalent("0.75", "3/4")
    assert is_equivalent("1/3", "0.3333333333")  # relative error 1e-10 < rel_tol 1e-6
    assert not is_equivalent("0.33", "1/3")
    assert is_equivalent("0.33", "1/3", rel_tol=0.02)
    assert not is_equivalent("18", "19")
    assert not is_equivalent(None, "18")
    assert not is_equivalent("18", None)
    assert not is_equivalent("abc", "abc")  # not numbers: never equivalent


def test_flexible_can_be_turned_off() -> None:
    assert extract_answer("She makes 18 dollars", flexible=False) is None
    strict = extract_answer("The answer is 18", flexible=False)
    assert strict == Extraction(value="18", raw="18", strategy="strict", marker="the_answer_is")


def test_no_number_means_no_extraction() -> None:
    assert extract_answer("I don't know.") is None
    assert extract_answer("") is None
    assert score_response("I don't know.", "18") == (None, False)


def test_real_gsm8k_golds_parse_and_score_themselves() -> None:
    root = Path(os.environ.get("GSM8K_DIR", Path(__file__).parents[3] / "shared/data/gsm8k"))
    path = root / "test.jsonl"
    if not path.exists():
        pytest.skip(f"GSM8K not found at {path} (set GSM8K_DIR)")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        gold = parse_gold(row["answer"])
        assert gold is not None, row["answer"]
        # The gold solution itself, as a response, must score correct against its own answer.
        extraction, correct = score_response(row["answer"], row["answer"])
        assert correct, (row["answer"][-80:], extraction)


def test_importing_answers_does_not_import_torch() -> None:
    code = (
        "import sys, reasonkit.answers, reasoneval.stats, reasoneval.score, reasoneval.compare;"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
