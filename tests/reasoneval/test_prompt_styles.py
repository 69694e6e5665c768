"""Prompt styles: rendering against the tokenizer's own chat template, the auto choice, scoring
consistent with the style, format vs correctness, and the refusal to compare across styles."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from reasoneval import backends
from reasoneval.backends.base import SamplingConfig
from reasoneval.cli import main
from reasoneval.prompt_styles import (
    CHAT_COT_INSTRUCTION,
    WEI_2022_EXEMPLARS,
    PromptRenderer,
    check_style,
    choose_style,
    score_styled,
)
from reasoneval.records import Completion, Problem
from reasonkit.errors import InputError
from reasonkit.prompting import build_prompt

QUESTION = "Ava has 3 apples and buys 4 more. How many apples does she have?"
PROBLEM = Problem("q0", QUESTION, "7")


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_chat_cot_is_the_tokenizers_own_template_with_the_instruction(tokenizer: Any) -> None:
    prompt = PromptRenderer("chat-cot", tokenizer)(PROBLEM)
    expected = tokenizer.apply_chat_template(
        [{"role": "user", "content": f"{QUESTION}\n{CHAT_COT_INSTRUCTION}"}],
        tokenize=False, add_generation_prompt=True,
    )  # fmt: skip
    assert prompt == expected and prompt.endswith("<|im_start|>assistant\n")
    assert "<think>" not in prompt and "careful math tutor" not in prompt  # not the think format


def test_fewshot_cot_turns_in_the_template_and_plain_text_without(tokenizer: Any) -> None:
    chat = PromptRenderer("fewshot-cot", tokenizer, n_shots=8)(PROBLEM)
    assert chat.count("<|im_start|>user\nQ: ") == 9 and chat.count("<|im_start|>assistant\n") == 9
    assert f"Q: {QUESTION}\nA:<|im_end|>\n<|im_start|>assistant\n" in chat
    assert "The answer is 6.<|im_end|>" in chat  # Wei et al.'s first exemplar, as a turn
    text = PromptRenderer("fewshot-cot", None, n_shots=2)(PROBLEM)
    first, second = WEI_2022_EXEMPLARS[:2]
    assert text == (f"Q: {first[0]}\nA: {first[1]} The answer is 6.\n\n"
                    f"Q: {second[0]}\nA: {second[1]} The answer is 5.\n\nQ: {QUESTION}\nA:")


def test_plain_has_no_template_and_think_is_the_shared_format(tokenizer: Any) -> None:
    assert PromptRenderer("plain", tokenizer)(PROBLEM) == f"Q: {QUESTION}\nA: Let's think step by step."
    think = PromptRenderer("think", tokenizer)(PROBLEM)
    assert think == build_prompt(QUESTION, tokenizer=tokenizer) and think.endswith("<think>\n")


def test_fewshot_gsm8k_draws_k_train_items_per_item_reproducibly(tokenizer: Any) -> None:
    pool = tuple(Problem(f"t{i}", f"Train question {i}?", str(i), f"Step {i}=<<{i}>>{i}.", "train")
                 for i in range(40))  # fmt: skip
    render = PromptRenderer("fewshot-gsm8k", tokenizer, n_shots=5, pool=pool, seed=0)
    a, b = render(PROBLEM), render(Problem("q1", QUESTION, "7"))
    assert a == render(PROBLEM)  # the same item gets the same shots
    assert a.count("Question: Train question") == 5 and a != b  # another item, other shots
    assert "#### " in a and "<<" in a  # gold solutions as lighteval shows them, annotations kept
    assert a.endswith(f"Question: {QUESTION}\nAnswer:<|im_end|>\n<|im_start|>assistant\n")


def test_styles_refuse_what_they_cannot_run(tokenizer: Any) -> None:
    with pytest.raises(InputError, match="needs a tokenizer with a chat template"):
        check_style("chat-cot", None, None, None)
    with pytest.raises(InputError, match="zero-shot"):
        check_style("plain", tokenizer, 3, None)
    with pytest.raises(InputError, match="out of range"):
        check_style("fewshot-cot", tokenizer, 9, None)
    with pytest.raises(InputError, match="rewrite the think prompt"):
        check_style("chat-cot", tokenizer, None, ("paraphrase", "distractor"))
    assert check_style("fewshot-cot", tokenizer, None, None) == 8
    assert check_style("fewshot-gsm8k", tokenizer, None, ("distractor",)) == 5


def test_auto_reads_what_the_checkpoint_records_then_the_template(
    tmp_path: Path, tokenizer: Any, tiny_model_dir: Path
) -> None:
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "train_meta.json").write_text(json.dumps({"stage": "sft"}))  # before the field
    assert choose_style("auto", [adapter], tokenizer)[0] == "think"
    (adapter / "train_meta.json").write_text(json.dumps({"prompt_style": "chat-cot"}))
    assert choose_style("auto", [adapter], None) == ("chat-cot", "auto: adapter/train_meta.json records it")
    assert choose_style("auto", [tiny_model_dir], None)[0] == "think"  # tiny_model.json
    bare = tmp_path / "bare"
    bare.mkdir()
    assert choose_style("auto", [bare], tokenizer)[0] == "chat-cot"
    assert choose_style("auto", [bare], None)[0] == "plain"
    assert choose_style("plain", [adapter], tokenizer) == ("plain", "asked for")


def test_unclosed_think_is_scored_on_its_whole_text_only_under_think() -> None:
    closed = "<scratch> 3+4=7\n</think>\n#### 7"
    assert score_styled(closed, "7", "think")[1:] == (True, False)
    never_closed = "3 + 4 = 7 apples.\n#### 7"
    extraction, correct, whole = score_styled(never_closed, "7", "think")
    assert correct and whole and extraction.marker == "####"
    assert score_styled("draft 7\n</think>\nno idea", "7", "think")[1] is False  # answer region only
    assert score_styled(never_closed, "7", "chat-cot")[1:] == (True, False)


class Scripted:
    """Answers every prompt with one fixed response; records the prompts."""

    name = "hf"

    def __init__(self, response: str) -> None:
        self.response, self.prompts = response, []  # type: ignore[var-annotated]

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        self.prompts += prompts
        return [[Completion(self.response, "stop", 10, 5)] for _ in prompts]

    def close(self) -> None:
        pass


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rows = [{"question": f"Tom has {i} pens and gets 1 more. How many?", "answer": f"#### {i + 1}"}
            for i in range(6)]  # fmt: skip
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _run(ckpt: Path, data: Path, out: Path, response: str, mp: pytest.MonkeyPatch,
         *extra: str) -> tuple[int, Scripted]:
    backend = Scripted(response)
    mp.setattr(backends, "load_backend", lambda *a, **k: backend)
    code = main(["run", str(ckpt), "--dataset", str(data), "--backend", "hf",
                 "--layers", "accuracy,traces", "--out", str(out), *extra])
    return code, backend


def test_style_is_stated_counted_scored_and_keyed(
    tiny_model_dir: Path, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Never closes the think block, answers in prose: the whole text is scored, and counted.
    code, _ = _run(tiny_model_dir, data, tmp_path / "think", "So the answer is 1.", monkeypatch)
    assert code == 0
    report = json.loads((tmp_path / "think" / "report.json").read_text())
    style = report["prompt_style"]
    assert (style["name"], style["scored_whole_text"]) == ("think", 6)
    assert "tiny_model.json" in style["reason"] and "--prompt-style" in report["command"]
    assert "prompt style think (auto: " in capsys.readouterr().err  # the plan line
    metrics = report["layers"]["accuracy"]["metrics"]
    assert metrics["accuracy"]["value"] == pytest.approx(1 / 6)  # item 0's gold is 1
    assert metrics["format_rate"]["value"] == 0 and metrics["strict_accuracy"]["value"] == 0
    assert report["layers"]["traces"]["metrics"]["flag_rate.tags_malformed"]["value"] == 1.0
    # The same checkpoint under chat-cot: new prompts, none served from think's cache.
    code, backend = _run(tiny_model_dir, data, tmp_path / "think", "#### 1", monkeypatch,
                         "--prompt-style", "chat-cot")  # fmt: skip
    report = json.loads((tmp_path / "think" / "report.json").read_text())
    assert code == 0 and len(backend.prompts) == 6
    assert all(CHAT_COT_INSTRUCTION in p for p in backend.prompts)
    assert report["generation"]["from_cache"] == 0 and report["prompt_style"]["name"] == "chat-cot"
    html = (tmp_path / "think" / "report.html").read_text()
    assert "<th>prompt style</th><td>chat-cot (asked for; 0 shots" in html  # the page names it
    m = report["layers"]["accuracy"]["metrics"]
    assert m["format_rate"]["value"] == 1 and m["strict_accuracy"]["value"] == pytest.approx(1 / 6)
    traces = report["layers"]["traces"]  # no think block was asked for: the tags check is off
    assert "flag_rate.tags_malformed" not in traces["metrics"]
    assert "tags_malformed" in traces["details"]["not_applicable"]


def test_compare_and_the_baseline_gate_refuse_different_styles(
    tiny_model_dir: Path, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert _run(tiny_model_dir, data, a, "#### 1", monkeypatch, "--prompt-style", "think")[0] == 0
    assert _run(tiny_model_dir, data, b, "#### 1", monkeypatch, "--prompt-style", "plain")[0] == 0
    capsys.readouterr()
    assert main(["compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err.strip()
    assert "different prompt styles" in err and "--allow-style-mismatch" in err
    assert len(err.splitlines()) == 1
    assert main(["compare", str(a), str(b), "--allow-style-mismatch"]) == 0
    assert main(["compare", str(a / "samples.jsonl"), str(b / "samples.jsonl")]) == 2  # rows say
    assert main(["compare", str(a), str(a)]) == 0
    from reasoneval.pytest_plugin import RunReport, assert_no_regression

    with pytest.raises(InputError, match="different prompt styles"):
        assert_no_regression(RunReport(b), RunReport(a))
    assert_no_regression(RunReport(b), RunReport(a), allow_style_mismatch=True)
    code, backend = _run(tiny_model_dir, data, tmp_path / "c", "#### 1", monkeypatch,
                         "--prompt-style", "plain", "--baseline", str(a))  # fmt: skip
    assert code == 2 and not backend.prompts  # refused before any generation
    assert "used prompt style think" in capsys.readouterr().err
    code, _ = _run(tiny_model_dir, data, tmp_path / "c", "#### 1", monkeypatch,
                   "--prompt-style", "plain", "--baseline", str(a), "--allow-style-mismatch")
    assert code == 0
