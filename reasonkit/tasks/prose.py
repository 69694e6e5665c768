"""The pretraining distribution of the embedded tiny base: arithmetic stories in another style.

A real user starts from an instruct model that has seen plenty of arithmetic but never this
task's exact format. This module stands in for that model's pretraining data. The problems are
wider than the target task (``reasonkit.tasks.arithmetic``): 1-3 steps, operands up to 30, ``/``
included, results up to 200. They are written in another style: other wordings (some cue words,
such as "more" or "times", are shared, and so is one opening), reasoning in plain prose with no
calculator annotations, and the answer stated as prose ("The answer is 12."), never as
``#### 12``. The system turn is one of many assistant prompts, never the task's.

No problem here holds a computation the task holds out (``reasonkit.tasks.split``), whole or as
its last steps: the held-out splits are unseen by pretraining as well as by fine-tuning.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from reasonkit.tasks.arithmetic import (
    ITEMS,
    NAMES,
    Computation,
    Difficulty,
    Op,
    apply_op,
    draw_operand,
)
from reasonkit.tasks.split import DEFAULT_HELD_OUT, HeldOut

EXTRA_NAMES = ("Maya", "Noah", "Olga", "Pablo", "Rosa", "Sami", "Tara", "Umar")
EXTRA_ITEMS = ("cards", "beads", "stamps", "bottles", "candles", "buttons", "rocks", "plums")
# An instruct model knows the words of any arithmetic story, so the corpus uses the target's
# verbs and nouns too ("sells", "bag", "piles"), in sentences of its own: a word the base never
# saw would reach fine-tuning as BPE pieces whose embeddings no data shaped (scripts/base_health.py).
START = (
    "{name} owns {n} {item}.",
    "At first, {name} has {n} {item}.",
    "{name} begins the day with {n} {item}.",
    "{name} has {n} {item}.",  # the one opening the target task shares
    "{name} keeps {n} {item} in a bag.",
    "There are {n} {item} on {name}'s shelf.",
)
STEP: Mapping[Op, tuple[str, ...]] = {
    "+": ("{name} picks up {n} more {item}.", "{other} hands {name} another {n}.",
          "Later, {name} wins {n} extra {item}.", "{name} gets {n} more.",
          "{name} buys another {n} {item} at the shop.", "{name} finds {n} {item} on the floor."),
    "-": ("{name} eats {n} of the {item}.", "{name} hands {n} to {other}.",
          "{name} drops {n} of them.", "{name} gives away {n}.",
          "{name} loses {n} {item} on the way home.", "{name} sells {n} {item} at the fair."),
    "*": ("The pile becomes {n} times as big.", "{name} multiplies the {item} by {n}.",
          "Now {name} has {n} times as many.", "The heap of {item} grows to {n} times its size.",
          "{name} ends the week with {n} times as many."),
    "/": ("{name} shares them equally among {n} friends and keeps one share.",
          "{name} cuts the pile into {n} equal parts and keeps one part.",
          "{name} splits the {item} into {n} piles and keeps only one."),
}  # fmt: skip
QUESTION = (
    "How many {item} does {name} have in the end?",
    "How many {item} are left?",
    "What is the final number of {item}?",
    "How many {item} does {name} own now?",
    "How many {item} are there now?",
)
# Prose step connectives: the base shows its work without calculator annotations, in one of a
# few layouts, as an instruct model has seen work shown many ways. One layout is markdown with
# "#### Step k" headings, as chat models write: the heading pieces are then trained tokens,
# though the base never writes "#### <number>" as an answer.
CONNECTIVES = ("Then", "Next,", "After that,", "So")
ANSWER_SENTENCES = ("The answer is {n}.", "So the answer is {n}.", "The final answer is {n}.")
# System turns are drawn from many combinations, as an instruct model has seen many. Some ask
# for a format (even '####'); the answers ignore it, as an instruct model's habits often do.
# The task's own system prompt is never drawn (``avoid_system``).
ROLES = ("assistant", "math tutor", "teacher", "helper", "problem solver", "tutor")
ADJECTIVES = ("helpful", "careful", "friendly", "patient", "precise", "concise")
INSTRUCTIONS = (
    "Explain your reasoning.", "Reason step by step.", "Show your work, then give the answer.",
    "Think inside <think> </think> before answering.", "Give the final answer on its own line.",
    "Answer with a number.", "Be brief.", "Keep each step on its own line.",
    "Write the final answer as '#### <number>'.", "State the final answer clearly.",
    "Check the arithmetic.", "Use short sentences.",
)  # fmt: skip


# Wider than ``arithmetic.Difficulty()``: the target task's problems lie inside this range.
PROSE_RANGE = Difficulty(min_steps=1, max_steps=3, low=1, high=30, max_factor=5, max_value=200,
                         operations=("+", "-", "*", "/"))  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProseProblem:
    system: str | None
    question: str
    reasoning: str  # what goes inside <think> ... </think>
    answer_sentence: str  # after </think>: "The answer is 12."
    answer: int
    computation: Computation


def _system_prompt(rng: random.Random, avoid: str | None) -> str | None:
    if rng.random() < 0.15:
        return None  # no system turn at all
    head = f"You are a {rng.choice(ADJECTIVES)} {rng.choice(ROLES)}."
    system = " ".join([head, *rng.sample(INSTRUCTIONS, rng.randint(0, 3))])
    return None if system == avoid else system


def draw_problem(rng: random.Random, r: Difficulty = PROSE_RANGE, avoid_system: str | None = None) -> ProseProblem:
    for _ in range(1000):
        name, other = rng.sample(NAMES + EXTRA_NAMES, 2)
        item = rng.choice(ITEMS + EXTRA_ITEMS)
        words = {"name": name, "other": other, "item": item}
        start = current = rng.randint(r.low, r.high)
        sentences = [rng.choice(START).format(n=current, **words)]
        layout = rng.randrange(4)  # 0: a sentence per step; 1: bare equations; 2: one line; 3: markdown
        lines = [f"{name} starts with {current} {item}."] if layout == 0 else []
        steps: list[tuple[Op, int]] = []
        for _ in range(rng.randint(r.min_steps, r.max_steps)):
            op = rng.choice(r.operations)
            operand = draw_operand(op, current, r, rng)
            if operand is None:
                break
            result = apply_op(op, current, operand)
            sentences.append(rng.choice(STEP[op]).format(n=operand, **words))
            equation = f"{current} {op} {operand} = {result}"
            if layout == 3:
                lines.append(f"#### Step {len(steps) + 1}")
            lines.append(f"{rng.choice(CONNECTIVES)} {equation}." if layout == 0 else f"{equation}.")
            steps.append((op, operand))
            current = result
        else:
            sentences.append(rng.choice(QUESTION).format(**words))
            return ProseProblem(
                system=_system_prompt(rng, avoid_system),
                question=" ".join(sentences),
                reasoning=(" " if layout == 2 else "\n").join(lines),
                answer_sentence=rng.choice(ANSWER_SENTENCES).format(n=current),
                answer=current,
                computation=Computation(start, tuple(steps)),
            )
    raise ValueError(f"range {r} admits no problem")


def prose_problems(
    n: int, seed: int, *, held_out: HeldOut = DEFAULT_HELD_OUT, avoid_system: str | None = None,
    prose_range: Difficulty = PROSE_RANGE,
) -> Iterator[ProseProblem]:
    """``n`` seeded problems. One whose computation ``held_out`` keeps from training is
    re-drawn, so the held-out splits' computations and solutions never occur in pretraining."""
    rng = random.Random(f"prose:{seed}")
    made = 0
    while made < n:
        problem = draw_problem(rng, prose_range, avoid_system)
        if not held_out.trainable(problem.computation):
            continue
        made += 1
        yield problem
