"""How a question is put to a model, and how its answer is read back: `reasoneval run --prompt-style`.

A model is judged on the prompt it was made for. The project's own adapters learn ChatML with a
``<think>`` block (``think``); an instruct model from elsewhere answers best in its own chat
template; a base model needs plain text. Published GSM8K figures come with their prompt, so each
style names its source, and `reasoneval compare` refuses to set runs of different styles side by
side unless asked.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from reasoneval.records import Problem
from reasoneval.variants import QUESTION_FAMILIES
from reasonkit.errors import InputError
from reasonkit.prompting import (
    STOP_STRINGS,
    THINK_CLOSE,
    FewShotExample,
    build_prompt,
)

StyleName = Literal["think", "chat-cot", "fewshot-cot", "fewshot-gsm8k", "plain"]
STYLE_NAMES: tuple[StyleName, ...] = ("think", "chat-cot", "fewshot-cot", "fewshot-gsm8k", "plain")
CHOICES = ("auto", *STYLE_NAMES)

# Zero-shot chain of thought: Kojima et al. 2022 ("Let's think step by step"), with GSM8K's own
# '#### <number>' line as the answer it asks for.
CHAT_COT_INSTRUCTION = (
    "Let's think step by step. At the end, write the final answer on its own line as "
    "'#### <number>'."
)


@dataclass(frozen=True, slots=True)
class StyleSpec:
    name: StyleName
    marker: str  # reasonkit.answers' marker of the answer line the style asks for
    stop: tuple[str, ...]  # besides the end-of-turn tokens
    default_shots: int
    source: str


SPECS: dict[str, StyleSpec] = {
    "think": StyleSpec("think", "####", (), 0,
                       "this project's SFT format: ChatML, a '<think>' priming, '#### n' "
                       "(the Tiny-Reason setup; reasonkit/prompting.py)"),
    "chat-cot": StyleSpec("chat-cot", "####", (), 0,
                          "the checkpoint's own chat template, zero-shot 'Let's think step by "
                          "step' (Kojima et al. 2022) and a '#### n' answer line"),
    "fewshot-cot": StyleSpec("fewshot-cot", "the_answer_is", ("Q:",), 8,
                             "lm-eval's gsm8k_cot: the 8 chain-of-thought exemplars of Wei et al. "
                             "2022, 'Q: ... A: ... The answer is n.', as chat turns when the "
                             "tokenizer has a template"),
    "fewshot-gsm8k": StyleSpec("fewshot-gsm8k", "####", ("Question:", "Question"), 5,
                               "lighteval's gsm8k task as the SmolLM2 model card ran it: k random "
                               "train items with their gold solutions, 'Question: ...\\nAnswer:', "
                               "in the chat template"),
    "plain": StyleSpec("plain", "the_answer_is", ("\nQ:",), 0,
                       "no chat template, for base models: 'Q: ...\\nA: Let's think step by "
                       "step.' (lm-eval's gsm8k_cot_zeroshot, Kojima et al. 2022)"),
}

# The eight exemplars of Wei et al. 2022 ("Chain-of-Thought Prompting Elicits Reasoning in Large
# Language Models", Table 20), as lm-eval's gsm8k_cot task carries them: facts of the benchmark
# prompt, not prose of ours.
WEI_2022_EXEMPLARS: tuple[tuple[str, str, str], ...] = (
    ("There are 15 trees in the grove. Grove workers will plant trees in the grove today. After "
     "they are done, there will be 21 trees. How many trees did the grove workers plant today?",
     "There are 15 trees originally. Then there were 21 trees after some more were planted. So "
     "there must have been 21 - 15 = 6.", "6"),
    ("If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the "
     "parking lot?", "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5.", "5"),
    ("Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have "
     "left in total?", "Originally, Leah had 32 chocolates. Her sister had 42. So in total they "
     "had 32 + 42 = 74. After eating 35, they had 74 - 35 = 39.", "39"),
    ("Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many "
     "lollipops did Jason give to Denny?", "Jason started with 20 lollipops. Then he had 12 after "
     "giving some to Denny. So he gave Denny 20 - 12 = 8.", "8"),
    ("Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys "
     "does he have now?", "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, "
     "then that is 4 more toys. 5 + 4 = 9.", "9"),
    ("There were nine computers in the server room. Five more computers were installed each day, "
     "from monday to thursday. How many computers are now in the server room?", "There were "
     "originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 "
     "computers were added. 9 + 20 is 29.", "29"),
    ("Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. "
     "How many golf balls did he have at the end of wednesday?", "Michael started with 58 golf "
     "balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, he had "
     "35 - 2 = 33 golf balls.", "33"),
    ("Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
     "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has "
     "23 - 15 dollars left. 23 - 15 is 8.", "8"),
)  # fmt: skip


def stop_strings(style: str) -> tuple[str, ...]:
    return STOP_STRINGS + SPECS[style].stop


def _has_template(tokenizer: Any | None) -> bool:
    return tokenizer is not None and bool(getattr(tokenizer, "chat_template", None))


def _chat(tokenizer: Any, messages: list[dict[str, str]]) -> str:
    rendered: str = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True
    )
    return rendered


def _turns(shots: Sequence[tuple[str, str]], question: str) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    for q, a in shots:
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return [*messages, {"role": "user", "content": question}]


@dataclass(frozen=True)
class PromptRenderer:
    """Renders one problem's prompt in a style. ``shots`` are the think style's fixed examples;
    ``pool`` the train problems fewshot-gsm8k draws its per-item shots from."""

    style: StyleName
    tokenizer: Any | None
    n_shots: int = 0
    shots: tuple[FewShotExample, ...] = ()
    pool: tuple[Problem, ...] = ()
    seed: int = 0

    def __call__(self, problem: Problem, question: str | None = None) -> str:
        q = problem.question if question is None else question
        tok = self.tokenizer
        if self.style == "think":
            return build_prompt(q, tokenizer=tok, few_shot=self.shots)
        if self.style == "chat-cot":
            return _chat(tok, [{"role": "user", "content": f"{q}\n{CHAT_COT_INSTRUCTION}"}])
        if self.style == "plain":
            return f"Q: {q}\nA: Let's think step by step."
        if self.style == "fewshot-cot":
            shots = [(f"Q: {sq}\nA:", f"{chain} The answer is {ans}.")
                     for sq, chain, ans in WEI_2022_EXEMPLARS[: self.n_shots]]
        else:  # fewshot-gsm8k: lighteval samples its shots per item ("random_sampling_from_train")
            rng = random.Random(f"{self.seed}:{problem.id}")
            drawn = rng.sample(self.pool, self.n_shots)
            # lighteval's target is " " + GSM8K's answer field: the solution, then '#### n'
            shots = [(f"Question: {p.question}\nAnswer:", f" {p.solution}\n#### {p.gold}")
                     for p in drawn]
        head = "Q" if self.style == "fewshot-cot" else "Question"
        final = f"{head}: {q}\nA:" if head == "Q" else f"Question: {q}\nAnswer:"
        if _has_template(tok):  # lm-eval's fewshot_as_multiturn, lighteval's --use_chat_template
            return _chat(tok, _turns(shots, final))
        return "".join(f"{u} {a.lstrip()}\n\n" for u, a in shots) + final


def check_style(style: str, tokenizer: Any | None, few_shot: int | None,
                families: Sequence[str] | None) -> int:
    """The shot count the style uses; one line (exit 2) for a combination that cannot be run."""
    if style == "chat-cot" and not _has_template(tokenizer):
        raise InputError("--prompt-style chat-cot needs a tokenizer with a chat template; this "
                         "one has none (use plain)")
    shots = SPECS[style].default_shots if few_shot is None else few_shot
    if style in ("chat-cot", "plain") and shots:
        raise InputError(f"--prompt-style {style} is zero-shot; --few-shot {shots} needs "
                         "think, fewshot-cot or fewshot-gsm8k")
    if style == "fewshot-cot" and not 1 <= shots <= len(WEI_2022_EXEMPLARS):
        raise InputError(f"--prompt-style fewshot-cot has {len(WEI_2022_EXEMPLARS)} exemplars; "
                         f"--few-shot {shots} is out of range")
    if style == "fewshot-gsm8k" and shots < 1:
        raise InputError("--prompt-style fewshot-gsm8k needs --few-shot of at least 1")
    if style != "think" and families is not None:
        other = [f for f in families if f not in QUESTION_FAMILIES]
        if other:
            raise InputError(f"sensitivity families {', '.join(other)} rewrite the think prompt; "
                             f"with --prompt-style {style} use --sensitivity-families "
                             f"{','.join(QUESTION_FAMILIES)}")
    return shots


def score_styled(text: str, gold: str, style: str) -> tuple[Any, bool, bool]:
    """(extraction, correct, whole_text): the answer read the way the style asks for it.

    think: after ``</think>``; a primed response that never closes the block is scored on its
    whole text (``whole_text`` True) rather than counted as no answer, and the traces layer keeps
    the tags flag as the format finding. Other styles: the whole response.
    """
    from reasonkit.answers import score_response

    if style == "think" and THINK_CLOSE in text:
        extraction, correct = score_response(text, gold, think=True)
        return extraction, correct, False
    extraction, correct = score_response(text, gold, think=False)
    return extraction, correct, style == "think"


def recorded_style(directory: Path) -> tuple[str, str] | None:
    """The style a checkpoint says it was made for: ``prompt_style`` in the ``train_meta.json``
    that train writes beside an adapter (adapters from before the field are think: train has only
    ever rendered that format), or in ``tiny_model.json``."""
    for name in ("train_meta.json", "tiny_model.json"):
        path = directory / name
        if not path.is_file():
            continue
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            continue
        style = meta.get("prompt_style", "think" if name == "train_meta.json" else None)
        if style in STYLE_NAMES:
            return str(style), name
    return None


def choose_style(requested: str, checkpoints: Sequence[Path], tokenizer: Any | None) -> tuple[str, str]:
    """``auto`` -> the style the checkpoint records, else chat-cot with a chat template, else
    plain; with the reason, which the plan line and report.json state."""
    if requested != "auto":
        if requested not in STYLE_NAMES:
            raise InputError(f"unknown prompt style {requested!r} (choose {', '.join(CHOICES)})")
        return requested, "asked for"
    for directory in checkpoints:
        found = recorded_style(directory) if directory.is_dir() else None
        if found:
            return found[0], f"auto: {directory.name}/{found[1]} records it"
    if _has_template(tokenizer):
        return "chat-cot", "auto: the tokenizer has a chat template"
    return "plain", "auto: the tokenizer has no chat template"


def run_style(path: Path) -> str | None:
    """The prompt style a run was made with: report.json's, or a samples file's rows'. None when
    the run does not say (runs from before prompt styles, `reasoneval score` output)."""
    if path.is_dir():
        from reasoneval.report_record import read_report

        try:
            style = read_report(path).prompt_style
        except InputError:  # unreadable: the loader that follows names what is wrong with it
            return None
        return None if style is None else style.name
    from reasonkit.artifacts import read_jsonl

    try:
        rows = read_jsonl(path)
    except Exception:  # the loader that follows reports a bad file with its own line
        return None
    names = {r.get("prompt_style") for r in rows if isinstance(r, dict)} - {None}
    return str(next(iter(names))) if len(names) == 1 else None


def check_same_style(runs: Sequence[Path], *, allowed: bool, flag: str) -> None:
    """Runs of different prompt styles measure different things: refuse them unless asked."""
    styles = {p: run_style(p) for p in runs}
    known = {s for s in styles.values() if s is not None}
    if len(known) > 1 and not allowed:
        listed = ", ".join(f"{p.name or p} {s}" for p, s in styles.items() if s)
        raise InputError(f"runs use different prompt styles ({listed}); accuracy under one "
                         f"prompt is not comparable with another; pass {flag} to compare anyway")
