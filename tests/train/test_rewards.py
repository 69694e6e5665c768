from __future__ import annotations

import pytest

from train.config import ConfigError
from train.grpo import GRPORunConfig, prepare
from train.rewards import accuracy_reward, format_reward, is_well_formed


def test_accuracy_uses_reasoneval_equivalence() -> None:
    completions = [
        "3+4=7\n</think>\n#### 7",
        "half of 2,144 is 1,072\n</think>\n#### 1,072",  # separators normalised by reasoneval
        "3+4=8\n</think>\n#### 8",
        "no answer at all",
    ]
    assert accuracy_reward(completions, final_answer=["7", "1072", "7", "7"]) == [
        1.0,
        1.0,
        0.0,
        0.0,
    ]


def test_accuracy_pays_nothing_for_an_answer_left_inside_the_thinking() -> None:
    # The prompt opened <think>: without </think>, all of the completion is thinking.
    completions = ["3+4=7\n#### 7", "3+4=7 so #### 7\n</think>\n", "3+4=7\n</think>\n#### 7"]
    assert accuracy_reward(completions, final_answer=["7", "7", "7"]) == [0.0, 0.0, 1.0]


@pytest.mark.parametrize(
    ("completion", "ok"),
    [
        ("3+4=7\n</think>\n#### 7", True),
        ("3+4=7\n</think>\n#### 7\n", True),
        ("3+4=7\n#### 7", False),  # the think block is never closed
        ("<think>\n3+4=7\n</think>\n#### 7", False),  # opens a second block
        ("\n</think>\n#### 7", False),  # no reasoning
        ("3+4=7\n</think>\nThe answer is 7", False),
        ("3+4=7\n</think>\n#### many apples", False),
        ("3+4=7\n</think>\n#### 7\nextra talk", False),
        ("a</think>b</think>\n#### 7", False),
    ],
)
def test_format_reward(completion: str, ok: bool) -> None:
    assert is_well_formed(completion) is ok
    assert format_reward([completion]) == [1.0 if ok else 0.0]


def test_format_weight_is_capped() -> None:
    cfg = GRPORunConfig(model_name_or_path="m", train_file="t", format_weight=0.5)
    with pytest.raises(ConfigError, match="format_weight"):
        prepare(cfg)  # rejected before any file or model is opened
