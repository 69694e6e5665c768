"""A GSM8K-style task built here: multi-step arithmetic word problems from templates.

Rows are in GSM8K's exact layout (``question``; ``answer`` = reasoning lines carrying
``<<expr=value>>`` calculator annotations, then ``#### value``), so every stage that reads GSM8K
reads this too. A problem is a :class:`Template` (names, item, wordings) plus its numbers; the
numbers and operations alone are its :class:`Computation`, which fixes the gold solution text.
Held-out splits are cut by computation (``reasonkit.tasks.split``), not by question text.

Each sentence kind has in-distribution wordings (``START``, ``STEP``, ``QUESTION``), of which
``Difficulty.phrasings`` are used, and held-out wordings (``OOD_*``) that only the ``test-ood``
split uses: no training row, and no sentence of the base's corpus, is ever written with them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reasonkit.tasks import wordings
from reasonkit.tasks.computation import Computation, Op, apply_op
from reasonkit.tasks.wordings import ITEMS, NAMES, NEAR_DUPLICATE_SUFFIX, QUESTION, START, STEP

__all__ = [  # with the wordings and the computation other packages read from here
    "ITEMS", "NAMES", "NEAR_DUPLICATE_SUFFIX", "QUESTION", "START", "STEP",
    "Computation", "Difficulty", "Op", "Template", "allowed_operands", "apply_op",
    "computation_of", "draw_numbers", "draw_operand", "draw_template", "held_out_rewording",
    "in_space", "numeric_variants", "parse_question", "render",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Difficulty:
    """The knobs. Defaults are the easy end, the one a tiny model learns on a CPU in minutes
    (docs/pipeline.md): one or two steps, one-digit operands, three wordings per sentence."""

    min_steps: int = 1
    max_steps: int = 2
    low: int = 1  # range of the starting number and of +/- operands
    high: int = 9
    max_factor: int = 3  # * and / operands are drawn from 2..max_factor
    max_value: int = 99  # every intermediate result stays in 0..max_value
    operations: tuple[Op, ...] = ("+", "-", "*")
    phrasings: int = 3  # how many in-distribution wordings of each sentence kind are used


@dataclass(frozen=True, slots=True)
class Template:
    """Everything about a problem except its numbers."""

    name: str
    other: str
    item: str
    start: int  # index into wordings.ALL_START
    steps: tuple[tuple[Op, int], ...]  # (operation, index into wordings.ALL_STEP[op])
    question: int  # index into wordings.ALL_QUESTION


def allowed_operands(op: Op, current: int, d: Difficulty) -> range | list[int]:
    """The operands ``op`` may take at value ``current``: results stay in 0..max_value, and
    division is exact."""
    if op == "+":
        return range(d.low, min(d.high, d.max_value - current) + 1)
    if op == "-":
        return range(d.low, min(d.high, current - 1) + 1)
    if op == "*":
        return range(2, min(d.max_factor, d.max_value // max(current, 1)) + 1)
    return [k for k in range(2, d.max_factor + 1) if current % k == 0]


def draw_operand(op: Op, current: int, d: Difficulty, rng: random.Random) -> int | None:
    options = allowed_operands(op, current, d)
    return rng.choice(options) if len(options) else None


def in_space(c: Computation, d: Difficulty) -> bool:
    """Whether ``d``'s task could draw ``c``."""
    if not (d.min_steps <= len(c.steps) <= d.max_steps and d.low <= c.start <= d.high):
        return False
    current = c.start
    for op, operand in c.steps:
        if op not in d.operations or operand not in allowed_operands(op, current, d):
            return False
        current = apply_op(op, current, operand)
    return True


def draw_numbers(template: Template, d: Difficulty, rng: random.Random) -> tuple[int, ...] | None:
    numbers = [rng.randint(d.low, d.high)]
    current = numbers[0]
    for op, _ in template.steps:
        operand = draw_operand(op, current, d, rng)
        if operand is None:
            return None
        numbers.append(operand)
        current = apply_op(op, current, operand)
    return tuple(numbers)


def draw_template(d: Difficulty, rng: random.Random, *, held_out_wording: bool = False) -> Template:
    """A template with in-distribution wordings, or with held-out ones (the test-ood split)."""
    name, other = rng.sample(NAMES, 2)
    n_steps = rng.randint(d.min_steps, d.max_steps)

    def wording(seen: Sequence[str], unseen: Sequence[str]) -> int:
        if held_out_wording:
            return len(seen) + rng.randrange(len(unseen))
        return rng.randrange(min(len(seen), d.phrasings))

    steps = []
    for _ in range(n_steps):
        op = rng.choice(d.operations)
        steps.append((op, wording(STEP[op], wordings.OOD_STEP[op])))
    start = wording(START, wordings.OOD_START)
    return Template(name, other, rng.choice(ITEMS), start, tuple(steps), wording(QUESTION, wordings.OOD_QUESTION))


def held_out_rewording(template: Template, rng: random.Random) -> Template:
    """The same operations in fresh names and item and held-out wordings (the test-ood split)."""
    name, other = rng.sample(NAMES, 2)
    return Template(
        name, other, rng.choice(ITEMS), len(START) + rng.randrange(len(wordings.OOD_START)),
        tuple((op, len(STEP[op]) + rng.randrange(len(wordings.OOD_STEP[op]))) for op, _ in template.steps),
        len(QUESTION) + rng.randrange(len(wordings.OOD_QUESTION)),
    )  # fmt: skip


def render(template: Template, numbers: Sequence[int]) -> tuple[str, str]:
    """(question, answer) in GSM8K layout; the gold is recomputed from the numbers."""
    words = {"name": template.name, "other": template.other, "item": template.item}
    sentences = [wordings.ALL_START[template.start].format(n=numbers[0], **words)]
    for (op, phrase), operand in zip(template.steps, numbers[1:], strict=True):
        sentences.append(wordings.ALL_STEP[op][phrase].format(n=operand, **words))
    sentences.append(wordings.ALL_QUESTION[template.question].format(**words))
    return " ".join(sentences), Computation.of(template, numbers).solution()


def _sentence_pattern(pattern: str) -> re.Pattern[str]:
    body = re.escape(pattern)
    for field, group in (("name", r"(?P<name>\w+)"), ("other", r"(?P<other>\w+)"),
                         ("item", r"(?P<item>\w+)"), ("n", r"(?P<n>\d+)")):  # fmt: skip
        body = body.replace(re.escape("{" + field + "}"), group, 1)
        body = body.replace(re.escape("{" + field + "}"), f"(?P={field})")
    return re.compile(body)


_START_PATTERNS = [_sentence_pattern(p) for p in wordings.ALL_START]
_STEP_PATTERNS = [(op, i, _sentence_pattern(p)) for op, ps in wordings.ALL_STEP.items() for i, p in enumerate(ps)]
_QUESTION_PATTERNS = [_sentence_pattern(p) for p in wordings.ALL_QUESTION]
_SENTENCE = re.compile(r"[^.?]+[.?]")


def parse_question(question: str) -> tuple[Template, tuple[int, ...]]:
    """Recover template and numbers from a question this module wrote (ValueError otherwise)."""
    question = question.removesuffix(NEAR_DUPLICATE_SUFFIX)
    sentences = _SENTENCE.findall(question)
    found: dict[str, str] = {}

    def match(pattern: re.Pattern[str], sentence: str) -> dict[str, str] | None:
        m = pattern.fullmatch(sentence.strip())
        if m is None:
            return None
        groups = m.groupdict()
        if any(found.get(k, v) != v for k, v in groups.items() if k != "n"):
            return None
        return groups

    if len(sentences) < 3:
        raise ValueError(f"not a synthetic question: {question[:60]!r}")
    head, *middle, tail = sentences
    start = next(((i, g) for i, p in enumerate(_START_PATTERNS) if (g := match(p, head))), None)
    if start is None:
        raise ValueError(f"unrecognised opening: {head!r}")
    found.update({k: v for k, v in start[1].items() if k != "n"})
    numbers = [int(start[1]["n"])]
    steps: list[tuple[Op, int]] = []
    for sentence in middle:
        hit = next(((op, i, g) for op, i, p in _STEP_PATTERNS if (g := match(p, sentence))), None)
        if hit is None:
            raise ValueError(f"unrecognised step: {sentence!r}")
        op, i, groups = hit
        found.update({k: v for k, v in groups.items() if k != "n"})
        steps.append((op, i))
        numbers.append(int(groups["n"]))
    q = next(((i, g) for i, p in enumerate(_QUESTION_PATTERNS) if (g := match(p, tail)) is not None), None)
    if q is None:
        raise ValueError(f"unrecognised question: {tail!r}")
    found.update(q[1])
    other = found.get("other") or next(n for n in NAMES if n != found["name"])
    return Template(found["name"], other, found["item"], start[0], tuple(steps), q[0]), tuple(numbers)


def computation_of(question: str) -> Computation:
    """The computation of a question this module wrote (ValueError otherwise)."""
    return Computation.of(*parse_question(question))


def numeric_variants(
    problem: str | Mapping[str, Any] | Any,
    n: int,
    seed: int,
    *,
    difficulty: Difficulty = Difficulty(),
    keep: Any = None,
) -> list[tuple[str, str]]:
    """``n`` re-draws of ``problem``'s numbers as (question, gold): same template, new gold.

    ``problem`` is a question string, a row/mapping with ``question``, or any record with a
    ``question`` attribute (reasoneval's Problem). ``keep``, a predicate on a
    :class:`Computation`, limits the draws (the held-out split passes its own membership, so a
    variant of a held-out item is held out too). Variants differ from the original and from
    each other when the template admits that many distinct draws; fewer come back otherwise.
    """
    if isinstance(problem, str):
        question = problem
    elif isinstance(problem, Mapping):
        question = str(problem["question"])
    else:
        question = str(problem.question)
    template, original = parse_question(question)
    # Widen the ranges to hold the original's numbers, so a hard problem gets hard variants.
    values = Computation.of(template, original).values
    d = replace(difficulty, high=max(difficulty.high, original[0]),
                max_value=max(difficulty.max_value, *values))  # fmt: skip
    rng = random.Random(f"{seed}:{question}")
    seen = {original}
    out: list[tuple[str, str]] = []
    for _ in range(50 * n):
        if len(out) == n:
            break
        numbers = draw_numbers(template, d, rng)
        if numbers is None or numbers in seen:
            continue
        seen.add(numbers)
        if keep is not None and not keep(Computation.of(template, numbers)):
            continue
        q, answer = render(template, numbers)
        out.append((q, answer.rpartition("#### ")[2]))
    return out
