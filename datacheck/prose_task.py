"""The pretraining distribution of the embedded tiny base: arithmetic stories in another style.

A real user starts from an instruct model that has seen plenty of arithmetic but never this
task's exact format. This module stands in for that model's pretraining data. The problems are
wider than the target task in ``datacheck.synthetic``: 1-3 steps, operands up to 30, ``/``
included, results up to 200. They are written in another style: other wordings (some cue words,
such as "more" or "times", are shared, and so is one opening), reasoning in plain prose with no
calculator annotations, and the answer stated as prose ("The answer is 12."), never as
``#### 12``. The system turn is one of many assistant prompts, never the task's.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from datacheck.synthetic import ITEMS, NAMES, Difficulty, Op, apply_op, draw_operand
from reasoneval.prompting import SYSTEM_PROMPT

EXTRA_NAMES = ("Maya", "Noah", "Olga", "Pablo", "Rosa", "Sami", "Tara", "Umar")
EXTRA_ITEMS = ("cards", "beads", "stamps", "bottles", "candles", "buttons", "rocks", "plums")
START = (
    "{name} owns {n} {item}.",
    "At first, {name} has {n} {item}.",
    "{name} begins the day with {n} {item}.",
    "{name} has {n} {item}.",  # the one opening the target task shares
)
STEP: Mapping[Op, tuple[str, ...]] = {
    "+": ("{name} picks up {n} more {item}.", "{other} hands {name} another {n}.",
          "Later, {name} wins {n} extra {item}.", "{name} gets {n} more."),
    "-": ("{name} eats {n} of the {item}.", "{name} hands {n} to {other}.",
          "{name} drops {n} of them.", "{name} gives away {n}."),
    "*": ("The pile becomes {n} times as big.", "{name} multiplies the {item} by {n}.",
          "Now {name} has {n} times as many."),
    "/": ("{name} shares them equally among {n} friends and keeps one share.",
          "{name} cuts the pile into {n} equal parts and keeps one part."),
}  # fmt: skip
QUESTION = (
    "How many {item} does {name} have in the end?",
    "How many {item} are left?",
    "What is the final number of {item}?",
)
# Prose step connectives: the base shows its work without calculator annotations, in one of a
# few layouts, as an instruct model has seen work shown many ways.
CONNECTIVES = ("Then", "Next,", "After that,", "So")
ANSWER_SENTENCES = ("The answer is {n}.", "So the answer is {n}.", "The final answer is {n}.")
# System turns are drawn from many combinations, as an instruct model has seen many. Some ask
# for a format (even '####'); the answers ignore it, as an instruct model's habits often do.
# The task's own system prompt (reasoneval.prompting.SYSTEM_PROMPT) is never drawn.
ROLES = ("assistant", "math tutor", "teacher", "helper", "problem solver", "tutor")
ADJECTIVES = ("helpful", "careful", "friendly", "patient", "precise", "concise")
INSTRUCTIONS = (
    "Explain your reasoning.", "Reason step by step.", "Show your work, then give the answer.",
    "Think inside <think> </think> before answering.", "Give the final answer on its own line.",
    "Answer with a number.", "Be brief.", "Keep each step on its own line.",
    "Write the final answer as '#### <number>'.", "State the final answer clearly.",
    "Check the arithmetic.", "Use short sentences.",
)  # fmt: skip


# Wider than ``synthetic.Difficulty()``: the target task's problems lie inside this range.
PROSE_RANGE = Difficulty(min_steps=1, max_steps=3, low=1, high=30, max_factor=5, max_value=200,
                         operations=("+", "-", "*", "/"))  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProseProblem:
    system: str | None
    question: str
    reasoning: str  # what goes inside <think> ... </think>
    answer_sentence: str  # after </think>: "The answer is 12."
    answer: int


def _system_prompt(rng: random.Random) -> str | None:
    if rng.random() < 0.15:
        return None  # no system turn at all
    head = f"You are a {rng.choice(ADJECTIVES)} {rng.choice(ROLES)}."
    system = " ".join([head, *rng.sample(INSTRUCTIONS, rng.randint(0, 3))])
    return None if system == SYSTEM_PROMPT else system


def draw_problem(rng: random.Random, r: Difficulty = PROSE_RANGE) -> ProseProblem:
    for _ in range(1000):
        name, other = rng.sample(NAMES + EXTRA_NAMES, 2)
        item = rng.choice(ITEMS + EXTRA_ITEMS)
        words = {"name": name, "other": other, "item": item}
        current = rng.randint(r.low, r.high)
        sentences = [rng.choice(START).format(n=current, **words)]
        layout = rng.randrange(3)  # 0: a sentence per step; 1: bare equations; 2: one line
        lines = [f"{name} starts with {current} {item}."] if layout == 0 else []
        for _ in range(rng.randint(r.min_steps, r.max_steps)):
            op = rng.choice(r.operations)
            operand = draw_operand(op, current, r, rng)
            if operand is None:
                break
            result = apply_op(op, current, operand)
            sentences.append(rng.choice(STEP[op]).format(n=operand, **words))
            equation = f"{current} {op} {operand} = {result}"
            lines.append(f"{rng.choice(CONNECTIVES)} {equation}." if layout == 0 else f"{equation}.")
            current = result
        else:
            sentences.append(rng.choice(QUESTION).format(**words))
            return ProseProblem(
                system=_system_prompt(rng),
                question=" ".join(sentences),
                reasoning=(" " if layout == 2 else "\n").join(lines),
                answer_sentence=rng.choice(ANSWER_SENTENCES).format(n=current),
                answer=current,
            )
    raise ValueError(f"range {r} admits no problem")


def prose_problems(
    n: int, seed: int, *, exclude_questions: frozenset[str] = frozenset(),
    prose_range: Difficulty = PROSE_RANGE,
) -> Iterator[ProseProblem]:
    """``n`` seeded problems; any whose question is in ``exclude_questions`` is re-drawn.

    The base builder passes the target task's test questions there, so the held-out set is never
    in the base's pretraining data.
    """
    rng = random.Random(f"prose:{seed}")
    made = 0
    while made < n:
        problem = draw_problem(rng, prose_range)
        if problem.question in exclude_questions:
            continue
        made += 1
        yield problem
