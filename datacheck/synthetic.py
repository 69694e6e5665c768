"""A seeded GSM8K-style task built here: multi-step arithmetic word problems from templates.

Rows are in GSM8K's exact layout (``question``; ``answer`` = reasoning lines carrying
``<<expr=value>>`` calculator annotations, then ``#### value``), so every stage that reads GSM8K
reads this too. The easy end of the difficulty knobs is meant to be learnable by a tiny model
trained from scratch on a CPU in minutes; planted flaws (recorded in a manifest) give datacheck
something known to find; :func:`numeric_variants` re-draws a problem's numbers for the
sensitivity layer, keeping its template and recomputing the gold.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from reasoneval.artifacts import atomic_write_text

SCHEMA_VERSION = 1
Op = Literal["+", "-", "*", "/"]
FlawKind = Literal["near_duplicate", "wrong_label", "broken_annotation"]

NAMES = ("Ava", "Ben", "Carla", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira", "Liam")
ITEMS = ("apples", "pencils", "marbles", "books", "cookies", "stickers", "eggs", "coins", "shells")
# Sentence patterns: {name} {other} {item} are words, {n} the step's number.
START = ("{name} has {n} {item}.", "{name} starts with {n} {item}.", "There are {n} {item} in {name}'s bag.")
STEP: Mapping[Op, tuple[str, ...]] = {
    "+": ("{name} buys {n} more.", "{other} gives {name} {n} more.", "{name} finds {n} more."),
    "-": ("{name} gives {n} to {other}.", "{name} loses {n} of them.", "{name} sells {n} of them."),
    "*": ("Then {name} ends up with {n} times as many.", "The number of {item} grows {n} times."),
    "/": ("{name} splits them into {n} equal piles and keeps one pile.",),
}
QUESTION = ("How many {item} does {name} have now?", "How many {item} are there at the end?")
NEAR_DUPLICATE_SUFFIX = " Answer with a number."


@dataclass(frozen=True, slots=True)
class Difficulty:
    """The knobs. Defaults are the easy end, the one a from-scratch tiny model learns on a CPU in
    minutes (docs/pipeline.md): one or two steps, one-digit operands, three wordings per sentence."""

    min_steps: int = 1
    max_steps: int = 2
    low: int = 1  # range of the starting number and of +/- operands
    high: int = 9
    max_factor: int = 3  # * and / operands are drawn from 2..max_factor
    max_value: int = 99  # every intermediate result stays in 0..max_value
    operations: tuple[Op, ...] = ("+", "-", "*")
    phrasings: int = 3  # how many wordings of each sentence kind are used (template variety)


@dataclass(frozen=True, slots=True)
class Template:
    """Everything about a problem except its numbers."""

    name: str
    other: str
    item: str
    start: int  # index into START
    steps: tuple[tuple[Op, int], ...]  # (operation, index into STEP[op])
    question: int  # index into QUESTION


@dataclass(frozen=True, slots=True)
class Flaw:
    id: str
    kind: FlawKind
    duplicate_of: str | None = None  # near_duplicate: the id of the row it copies


@dataclass(frozen=True, slots=True)
class SyntheticSet:
    train: tuple[dict[str, str], ...]
    test: tuple[dict[str, str], ...]
    flaws: tuple[Flaw, ...]


def apply_op(op: Op, a: int, b: int) -> int:
    return {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]


def draw_operand(op: Op, current: int, d: Difficulty, rng: random.Random) -> int | None:
    if op == "+":
        hi = min(d.high, d.max_value - current)
        return rng.randint(d.low, hi) if hi >= d.low else None
    if op == "-":
        hi = min(d.high, current - 1)
        return rng.randint(d.low, hi) if hi >= d.low else None
    if op == "*":
        hi = min(d.max_factor, d.max_value // max(current, 1))
        return rng.randint(2, hi) if hi >= 2 else None
    divisors = [k for k in range(2, d.max_factor + 1) if current % k == 0]
    return rng.choice(divisors) if divisors else None


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


def _draw_template(d: Difficulty, rng: random.Random) -> Template:
    name, other = rng.sample(NAMES, 2)
    n_steps = rng.randint(d.min_steps, d.max_steps)
    steps = []

    def wording(options: Sequence[str]) -> int:
        return rng.randrange(min(len(options), d.phrasings))

    for _ in range(n_steps):
        op = rng.choice(d.operations)
        steps.append((op, wording(STEP[op])))
    return Template(
        name, other, rng.choice(ITEMS), wording(START), tuple(steps), wording(QUESTION)
    )


def render(template: Template, numbers: Sequence[int]) -> tuple[str, str]:
    """(question, answer) in GSM8K layout; the gold is recomputed from the numbers."""
    words = {"name": template.name, "other": template.other, "item": template.item}
    sentences = [START[template.start].format(n=numbers[0], **words)]
    lines = []
    current = numbers[0]
    for (op, phrase), operand in zip(template.steps, numbers[1:], strict=True):
        sentences.append(STEP[op][phrase].format(n=operand, **words))
        result = apply_op(op, current, operand)
        # Short lines that show the work, as GSM8K's own: "48/2 = <<48/2=24>>24".
        lines.append(f"{current} {op} {operand} = <<{current}{op}{operand}={result}>>{result}")
        current = result
    sentences.append(QUESTION[template.question].format(**words))
    return " ".join(sentences), "\n".join([*lines, f"#### {current}"])


def _draw_problem(d: Difficulty, rng: random.Random) -> tuple[Template, tuple[int, ...]]:
    for _ in range(1000):
        template = _draw_template(d, rng)
        numbers = draw_numbers(template, d, rng)
        if numbers is not None:
            return template, numbers
    raise ValueError(f"difficulty {d} admits no problem")


def _sentence_pattern(pattern: str) -> re.Pattern[str]:
    body = re.escape(pattern)
    for field, group in (("name", r"(?P<name>\w+)"), ("other", r"(?P<other>\w+)"),
                         ("item", r"(?P<item>\w+)"), ("n", r"(?P<n>\d+)")):  # fmt: skip
        body = body.replace(re.escape("{" + field + "}"), group, 1)
        body = body.replace(re.escape("{" + field + "}"), f"(?P={field})")
    return re.compile(body)


def parse_question(question: str) -> tuple[Template, tuple[int, ...]]:
    """Recover template and numbers from a question this module wrote (ValueError otherwise)."""
    question = question.removesuffix(NEAR_DUPLICATE_SUFFIX)
    sentences = re.findall(r"[^.?]+[.?]", question)
    found: dict[str, str] = {}

    def match(pattern: str, sentence: str) -> dict[str, str] | None:
        m = _sentence_pattern(pattern).fullmatch(sentence.strip())
        if m is None:
            return None
        groups = m.groupdict()
        if any(found.get(k, v) != v for k, v in groups.items() if k != "n"):
            return None
        return groups

    if len(sentences) < 3:
        raise ValueError(f"not a synthetic question: {question[:60]!r}")
    head, *middle, tail = sentences
    start = next(((i, g) for i, p in enumerate(START) if (g := match(p, head))), None)
    if start is None:
        raise ValueError(f"unrecognised opening: {head!r}")
    found.update({k: v for k, v in start[1].items() if k != "n"})
    numbers = [int(start[1]["n"])]
    steps: list[tuple[Op, int]] = []
    for sentence in middle:
        hit = next(
            ((op, i, g) for op, ps in STEP.items() for i, p in enumerate(ps) if (g := match(p, sentence))),
            None,
        )
        if hit is None:
            raise ValueError(f"unrecognised step: {sentence!r}")
        op, i, groups = hit
        found.update({k: v for k, v in groups.items() if k != "n"})
        steps.append((op, i))
        numbers.append(int(groups["n"]))
    q = next(((i, g) for i, p in enumerate(QUESTION) if (g := match(p, tail)) is not None), None)
    if q is None:
        raise ValueError(f"unrecognised question: {tail!r}")
    found.update(q[1])
    other = found.get("other") or next(n for n in NAMES if n != found["name"])
    return Template(found["name"], other, found["item"], start[0], tuple(steps), q[0]), tuple(numbers)


def numeric_variants(
    problem: str | Mapping[str, Any] | Any,
    n: int,
    seed: int,
    *,
    difficulty: Difficulty = Difficulty(),
) -> list[tuple[str, str]]:
    """``n`` re-draws of ``problem``'s numbers as (question, gold): same template, new gold.

    ``problem`` is a question string, a row/mapping with ``question``, or any record with a
    ``question`` attribute (reasoneval's Problem). Variants differ from the original and from
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
    d = replace(difficulty, high=max(difficulty.high, original[0]), max_value=max(
        difficulty.max_value, *_values(template, original)))  # fmt: skip
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
        q, answer = render(template, numbers)
        out.append((q, answer.rpartition("#### ")[2]))
    return out


def _values(template: Template, numbers: Sequence[int]) -> list[int]:
    values = [numbers[0]]
    for (op, _), operand in zip(template.steps, numbers[1:], strict=True):
        values.append(apply_op(op, values[-1], operand))
    return values


def _plant_flaws(
    rows: list[dict[str, str]], per_kind: int, rng: random.Random
) -> tuple[Flaw, ...]:
    """Overwrite a few train rows with known defects; the rest stay clean."""
    if per_kind == 0:
        return ()
    if len(rows) < 4 * per_kind:
        raise ValueError(f"need at least {4 * per_kind} train rows to plant {per_kind} flaws/kind")
    chosen = rng.sample(range(len(rows)), 4 * per_kind)
    flaws = []
    for k, index in enumerate(chosen[: 3 * per_kind]):
        row, row_id = rows[index], f"synthetic/train/{index}"
        kind: FlawKind = ("near_duplicate", "wrong_label", "broken_annotation")[k % 3]
        if kind == "near_duplicate":
            source = chosen[3 * per_kind + k // 3]
            rows[index] = {
                "question": rows[source]["question"] + NEAR_DUPLICATE_SUFFIX,
                "answer": rows[source]["answer"],
            }
            flaws.append(Flaw(row_id, kind, f"synthetic/train/{source}"))
            continue
        from datacheck.flaws import broken_annotation, wrong_label  # imports this module

        if kind == "wrong_label":
            rows[index] = {**row, "answer": wrong_label(row["answer"], rng)}
        else:  # the annotation claims a wrong result; the prose after it agrees with the truth
            rows[index] = {**row, "answer": broken_annotation(row["answer"], rng, slip=False)}
        flaws.append(Flaw(row_id, kind))
    return tuple(sorted(flaws, key=lambda f: int(f.id.rpartition("/")[2])))


def generate_synthetic(
    out_dir: str | os.PathLike[str] | None,
    *,
    n_train: int = 12000,
    n_test: int = 500,
    seed: int = 0,
    difficulty: Difficulty = Difficulty(),
    flaws_per_kind: int = 3,
) -> SyntheticSet:
    """Draw train/test rows (test never shares a question with train) and plant train flaws.

    With ``out_dir``, writes ``train.jsonl``, ``test.jsonl`` (GSM8K layout), ``flaws.json``
    (the planted-flaw manifest) and ``synthetic.json`` (the generator's settings).
    """
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    questions: set[str] = set()
    for _ in range(100 * (n_train + n_test)):
        if len(rows) == n_train + n_test:
            break
        question, answer = render(*_draw_problem(difficulty, rng))
        if question not in questions:  # distinct questions: test is truly held out
            questions.add(question)
            rows.append({"question": question, "answer": answer})
    if len(rows) < n_train + n_test:
        raise ValueError(f"difficulty {difficulty} has fewer than {n_train + n_test} distinct problems")
    test, train = rows[:n_test], rows[n_test:]
    flaws = _plant_flaws(train, flaws_per_kind, rng)
    result = SyntheticSet(tuple(train), tuple(test), flaws)
    if out_dir is not None:
        settings = {
            "schema_version": SCHEMA_VERSION, "seed": seed, "n_train": n_train, "n_test": n_test,
            "flaws_per_kind": flaws_per_kind, "difficulty": asdict(difficulty),
        }  # fmt: skip
        write_synthetic(Path(out_dir), result, settings)
    return result


def load_split(
    split: str, *, n: int | None = None, seed: int = 0, difficulty: Difficulty = Difficulty()
) -> list[dict[str, str]]:
    """One split of the default-sized set (12,000 train / 500 test) as rows with an ``id``.

    The set is the one ``datacheck clean synthetic`` writes with the same seed, so ``reasoneval
    run --dataset synthetic`` evaluates exactly the held-out rows the pipeline never trained on.
    """
    if split not in ("train", "test"):
        raise ValueError(f"synthetic splits are train and test, not {split!r}")
    data = generate_synthetic(None, seed=seed, difficulty=difficulty)
    rows = data.train if split == "train" else data.test
    if n is not None:
        rows = rows[:n]
    return [{"id": f"synthetic/{split}/{i}", **row} for i, row in enumerate(rows)]


def write_synthetic(out: Path, data: SyntheticSet, settings: Mapping[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for split, rows in (("train", data.train), ("test", data.test)):
        atomic_write_text(out / f"{split}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    manifest = {"schema_version": SCHEMA_VERSION, "flaws": [asdict(f) for f in data.flaws]}
    atomic_write_text(out / "flaws.json", json.dumps(manifest, indent=2) + "\n")
    atomic_write_text(out / "synthetic.json", json.dumps(settings, indent=2) + "\n")
