"""The embedded task's splits, held out by computation rather than by question text.

A model can memorise a problem's computation (its numbers and operations, hence its whole
solution text) from a training row written with other names or other words. So the split is
cut in the space of computations: a seeded hash puts each computation the task can draw into
``test`` (32%), ``val`` (13%) or the training pool (55%), and a training row must not hold a held-out
computation, whole or as the last steps of its own (that would contain the held-out solution
text, ``#### n`` line included). The base model's corpus obeys the same rule
(``reasonkit.tasks.prose``). The split is a property of the task, fixed by ``HeldOut.seed``;
a data seed only changes which rows are drawn.

What the splits test:
- ``test``: in-distribution generalisation to new computations. Seen templates and names, but
  no computation or solution text of any training row (GSM1k's "fresh problems of the same
  kind", Zhang et al. 2024). Every item has its own computation: items sharing one would be
  one observation counted many times, and the paired intervals would be too narrow.
- ``test-ood``: the test items' computations again, item for item, written with held-out
  wordings that neither SFT nor pretraining ever saw: transfer to unseen templates, paired
  with ``test``.
- ``val``: its own held-out computations, for choosing a recipe before ``test`` is looked at.

One-step computations are few (98 of 1,720 in the default task), so distinct-computation splits hold
mostly two-step items (about 93% of ``test``), where the train split is half and half.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from reasonkit.tasks.arithmetic import (
    Computation,
    Difficulty,
    draw_numbers,
    draw_template,
    held_out_rewording,
    in_space,
    parse_question,
    render,
)

Split = Literal["train", "val", "test", "test-ood"]
SPLITS: tuple[Split, ...] = ("train", "val", "test", "test-ood")
EVAL_SPLITS: tuple[Split, ...] = ("val", "test", "test-ood")
Bucket = Literal["val", "test"]


@dataclass(frozen=True, slots=True)
class HeldOut:
    """Which computations of the task are held out, and for which split."""

    seed: int = 0
    # The default task has 1,720 computations up to commuting the first step. 32% (about 550)
    # give 500 test items a computation each, 13% (about 225) a 200-item val split.
    test_share: float = 0.32
    val_share: float = 0.13
    difficulty: Difficulty = field(default_factory=Difficulty)

    def bucket(self, c: Computation) -> Bucket | None:
        """``test``, ``val`` or None (may be trained on) for a computation of the task."""
        if not (in_space(c, self.difficulty) or in_space(c.commuted(), self.difficulty)):
            return None
        c = c.canonical()  # 4 + 1 is held out with 1 + 4, even where only one is in the task
        digest = hashlib.blake2b(f"{self.seed}|{c.start}|{c.steps}".encode(), digest_size=8).digest()
        unit = int.from_bytes(digest, "big") / 2**64
        if unit < self.test_share:
            return "test"
        return "val" if unit < self.test_share + self.val_share else None

    def trainable(self, c: Computation) -> bool:
        """Neither ``c`` nor any computation it ends with is held out."""
        return self.bucket(c) is None and all(self.bucket(s) is None for s in c.suffixes())

    def belongs(self, split: str, c: Computation) -> bool:
        """Whether a row of ``split`` may hold ``c``: test and test-ood share the test bucket."""
        if split == "train":
            return self.trainable(c)
        return self.bucket(c) == ("test" if split.startswith("test") else "val")

    def leaks(self, chains: Iterable[Computation]) -> list[Computation]:
        """The computations among ``chains`` that hold a held-out one (the property tests' check)."""
        return [c for c in chains if not self.trainable(c)]


@dataclass(frozen=True, slots=True)
class SplitSizes:
    train: int = 12000
    val: int = 200
    test: int = 500
    test_ood: int = 500  # at most test: the test items re-worded, in order


DEFAULT_HELD_OUT = HeldOut()
DEFAULT_SIZES = SplitSizes()


@dataclass(frozen=True, slots=True)
class TaskRows:
    """Rows per split, GSM8K layout (``question``, ``answer``), and the split they obey."""

    splits: dict[str, tuple[dict[str, str], ...]]
    held_out: HeldOut


def _draws(split: Split, n: int, held_out: HeldOut, rng: random.Random, taken: set[str]
           ) -> tuple[dict[str, str], ...]:  # fmt: skip
    """``n`` rows of ``split``: held-out splits one row per computation, train one per question."""
    d, rows, used = held_out.difficulty, list[dict[str, str]](), set[Computation]()
    for _ in range(1000 * max(n, 1)):
        if len(rows) == n:
            return tuple(rows)
        template = draw_template(d, rng)
        numbers = draw_numbers(template, d, rng)
        if numbers is None:
            continue
        c = Computation.of(template, numbers)
        if not held_out.belongs(split, c) or (split != "train" and c.canonical() in used):
            continue
        question, answer = render(template, numbers)
        if question not in taken:  # distinct questions within and across splits
            taken.add(question)
            used.add(c.canonical())
            rows.append({"question": question, "answer": answer})
    raise ValueError(f"difficulty {d} has fewer than {n} distinct {split} problems")


def _reworded(rows: tuple[dict[str, str], ...], n: int, rng: random.Random, taken: set[str]
              ) -> tuple[dict[str, str], ...]:  # fmt: skip
    """The first ``n`` rows' problems with held-out wordings and fresh names: same numbers and
    operations, so ``test-ood`` pairs item by item with ``test``."""
    if n > len(rows):
        raise ValueError(f"test-ood re-words test items: {n} > {len(rows)} test rows")
    out = []
    for row in rows[:n]:
        template, numbers = parse_question(row["question"])
        for _ in range(1000):
            question, answer = render(held_out_rewording(template, rng), numbers)
            if question not in taken:
                break
        taken.add(question)
        out.append({"question": question, "answer": answer})
    return tuple(out)


def draw_rows(sizes: SplitSizes = DEFAULT_SIZES, *, seed: int = 0, held_out: HeldOut = DEFAULT_HELD_OUT) -> TaskRows:
    """Every split's rows. Held-out splits are drawn first, so their rows do not depend on the
    size asked of train (the cleaning study's 3,000-row train sees the pipeline's test)."""
    rng = random.Random(seed)
    taken: set[str] = set()
    test = _draws("test", sizes.test, held_out, rng, taken)
    test_ood = _reworded(test, sizes.test_ood, rng, taken)
    val = _draws("val", sizes.val, held_out, rng, taken)
    train = _draws("train", sizes.train, held_out, rng, taken)
    return TaskRows({"train": train, "val": val, "test": test, "test-ood": test_ood}, held_out)


def load_split(split: str, *, n: int | None = None, seed: int = 0) -> list[dict[str, str]]:
    """One split of the default-sized task as rows with an ``id`` (``synthetic/test/0``).

    These are the rows ``datacheck clean synthetic`` writes with the same seed (before it plants
    its few train flaws), so ``reasoneval run --dataset synthetic`` evaluates exactly the
    held-out rows the pipeline never trained on.
    """
    if split not in SPLITS:
        raise ValueError(f"synthetic splits are {', '.join(SPLITS)}, not {split!r}")
    rows = draw_rows(seed=seed).splits[split]
    if n is not None:
        rows = rows[:n]
    return [{"id": f"synthetic/{split}/{i}", **row} for i, row in enumerate(rows)]
