"""Realistic flaws planted at configurable rates into the synthetic task's train split.

The cleaning study (``python -m scripts.study cleaning``) trains on a flawed set and on its cleaned
versions, so every flaw here is one `datacheck clean` is meant to catch, drawn in the shapes it
takes in GSM8K and in scraped chain-of-thought data. Each planted row is recorded (kind, variant,
source), so the study can say which check caught which flaw and which flaws got through.

Rates are fractions of train rows. A planted row *replaces* a clean row, so the split keeps its
size at every rate and arms differ in content only. The default rates and their sources are in
``FlawRates``; docs/study.md gives the measurements behind them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from reasonkit.tasks.arithmetic import (
    ITEMS,
    NAMES,
    QUESTION,
    START,
    STEP,
    Computation,
    Difficulty,
    Template,
    draw_numbers,
    parse_question,
    render,
)
from reasonkit.tasks.split import DEFAULT_HELD_OUT, HeldOut

FlawName = Literal[
    "wrong_label", "broken_annotation", "format_drift", "near_duplicate", "over_represented", "leak"
]
FORMAT_VARIANTS = ("missing_marker", "other_marker", "swapped")
OTHER_MARKERS = ("The answer is {n}.", "Answer: {n}", "\\boxed{{{n}}}")
TRAILING = (" Answer with a number.", " Show your work.", " Think step by step.", " Explain briefly.")


@dataclass(frozen=True, slots=True)
class FlawRates:
    """Share of train rows carrying each flaw. The defaults (11.5% in all) sit well above what
    datacheck measures in GSM8K itself (about 0.2%) and aim at GSM8K-like data put together from
    several sources; the study's dose-response also runs 0% and 5%.

    - wrong_label 3%: on the real GSM8K train split datacheck's label check flags 11 of 7,473
      rows (0.15%, docs/datacheck.md), a floor: it sees only labels that contradict the last
      step. GSM8K's authors estimate 1.7% of problems hold breaking errors or ambiguities (Cobbe
      et al. 2021, appendix), and GSM8K-Platinum (Vendrow et al. 2025) keeps 1,209 of the 1,319
      test questions: 8.3% were removed as mislabelled or ambiguous. 3% sits between.
    - broken_annotation 1%: GSM8K's annotations were written by code and a model that is "highly
      unlikely to generate any incorrect annotations" (Cobbe et al. 2021), and datacheck's
      calculator check finds none in the real set (docs/datacheck.md). 1% stands for
      model-written CoT, where no rate is published. Half are slips the prose repeats.
    - format_drift 1.5%: no `####` line, another answer marker, or the answer first. Absent from
      GSM8K; common when CoT sets are merged, but no published rate was found.
    - near_duplicate 3% and over_represented 2%: Lee et al. 2022 find about 10% of the sequences
      of several common NLP datasets repeated; 5% here, in two shapes: copies with a trailing
      sentence, and re-draws of three over-represented templates.
    - leak 1% of train rows (6% of the test items at 3,000/500 rows; datacheck finds 4
      contaminated rows, 0.05%, in the real GSM8K train split): Lee et al. 2022 find
      train-test overlap in over 4% of validation sets; GSM1k (Zhang et al. 2024) measures
      accuracy drops of up to 8% (13% in its first version) on fresh GSM8K-like problems.
      A third of the leaks are verbatim, a third renamed (same numbers and answer, other
      names), a third reworded (same computation; other names, item and sentence wordings).
    """

    wrong_label: float = 0.03
    broken_annotation: float = 0.01
    format_drift: float = 0.015
    near_duplicate: float = 0.03
    over_represented: float = 0.02
    leak: float = 0.01
    over_represented_templates: int = 3

    @property
    def total(self) -> float:
        return float(sum(getattr(self, name) for name in FLAW_NAMES))

    def scaled_to(self, total: float) -> FlawRates:
        """The same mix of flaws, rescaled so that ``total`` of the rows are flawed."""
        if not 0 <= total < 1:
            raise ValueError(f"a flawed share must be in [0, 1), got {total}")
        factor = total / self.total if self.total else 0.0
        return replace(self, **{name: getattr(self, name) * factor for name in FLAW_NAMES})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FLAW_NAMES: tuple[FlawName, ...] = tuple(
    f.name for f in fields(FlawRates) if f.name != "over_represented_templates"  # type: ignore[misc]
)


@dataclass(frozen=True, slots=True)
class PlantedFlaw:
    row: int  # index into the train split
    kind: FlawName
    variant: str
    source: str | None = None  # the row copied or re-drawn ("train/12"), or the test row leaked


def wrong_label(answer: str, rng: random.Random) -> str:
    """The `####` label moved off the reasoning's result, never onto one of its intermediate values
    (that would be a plausible, not a wrong, label)."""
    head, _, label = answer.rpartition("#### ")
    values = {int(v) for v in re.findall(r"=(\d+)>>", head)}
    wrong = next(w for w in (int(label) + rng.randint(1, 9) for _ in range(100)) if w not in values)
    return f"{head}#### {wrong}"


def broken_annotation(answer: str, rng: random.Random, *, slip: bool) -> str:
    """The first calculator annotation claims a wrong result. With ``slip`` the prose repeats the
    wrong value (an arithmetic slip a model would learn); without, only the annotation is wrong."""
    first, sep, rest = answer.partition("\n")
    body = first.partition("<<")[2].partition(">>")[0]
    expr, _, value = body.rpartition("=")
    wrong = int(value) + rng.randint(1, 9)
    broken = first.replace(f"<<{body}>>", f"<<{expr}={wrong}>>", 1)
    if slip:
        broken = broken.removesuffix(value) + str(wrong)
    return f"{broken}{sep}{rest}"


def drift_format(answer: str, variant: str, rng: random.Random) -> str:
    head, _, label = answer.rpartition("\n#### ")
    if variant == "missing_marker":
        return head
    if variant == "other_marker":
        return f"{head}\n{rng.choice(OTHER_MARKERS).format(n=label)}"
    if variant == "swapped":
        return f"#### {label}\n{head}"
    raise ValueError(f"unknown format drift {variant!r}")


def renamed(question: str, rng: random.Random) -> tuple[str, str]:
    """The same problem, numbers and answer with other names: a templated leak."""
    template, numbers = parse_question(question)
    name, other = rng.sample([n for n in NAMES if n not in (template.name, template.other)], 2)
    return render(replace(template, name=name, other=other), numbers)


def reworded(question: str, rng: random.Random, difficulty: Difficulty) -> tuple[str, str]:
    """The same numbers and computation in other words: new names and item, and another
    in-distribution wording for every sentence that has one."""
    template, numbers = parse_question(question)
    name, other = rng.sample([n for n in NAMES if n not in (template.name, template.other)], 2)

    def other_wording(current: int, wordings: Sequence[str]) -> int:
        options = [i for i in range(min(len(wordings), difficulty.phrasings)) if i != current]
        return rng.choice(options) if options else current

    new = Template(
        name, other, rng.choice([i for i in ITEMS if i != template.item]),
        other_wording(template.start, START),
        tuple((op, other_wording(phrase, STEP[op])) for op, phrase in template.steps),
        other_wording(template.question, QUESTION),
    )  # fmt: skip
    return render(new, numbers)


def inject_flaws(
    train: Sequence[dict[str, str]],
    test: Sequence[dict[str, str]],
    rates: FlawRates,
    seed: int,
    held_out: HeldOut = DEFAULT_HELD_OUT,
) -> tuple[list[dict[str, str]], list[PlantedFlaw]]:
    """A copy of ``train`` with ``rates`` of its rows replaced by flawed ones, and the manifest."""
    rng = random.Random(f"flaws:{seed}")
    rows = [dict(r) for r in train]
    counts = {name: round(getattr(rates, name) * len(rows)) for name in FLAW_NAMES}
    if counts["leak"] > len(test):
        raise ValueError(f"cannot leak {counts['leak']} test rows from a test split of {len(test)}")
    order = list(range(len(rows)))
    rng.shuffle(order)
    n_flawed = sum(counts.values())
    if n_flawed + max(rates.over_represented_templates, 1) > len(rows):
        raise ValueError(f"{n_flawed} flawed rows do not fit in a train split of {len(rows)}")
    sources = order[n_flawed:]  # copies are made of rows that stay clean
    planter = _Planter(rows, test, sources, sources[: rates.over_represented_templates],
                       rng.sample(range(len(test)), counts["leak"]), rng, held_out)  # fmt: skip
    planted: list[PlantedFlaw] = []
    targets = iter(order[:n_flawed])
    for name in FLAW_NAMES:
        for k in range(counts[name]):
            index = next(targets)
            rows[index], flaw = planter.plant(name, k, index)
            planted.append(flaw)
    return rows, sorted(planted, key=lambda f: f.row)


@dataclass(frozen=True)
class _Planter:
    rows: Sequence[dict[str, str]]
    test: Sequence[dict[str, str]]
    sources: Sequence[int]  # train rows that stay clean: what copies are made of
    templates: Sequence[int]  # the over-represented ones
    leaked: Sequence[int]  # test rows to copy into train
    rng: random.Random
    held_out: HeldOut  # over-represented re-draws keep to trainable computations

    def plant(self, name: FlawName, k: int, index: int) -> tuple[dict[str, str], PlantedFlaw]:
        """The ``k``-th flaw of kind ``name``, replacing train row ``index``."""
        row, rng = self.rows[index], self.rng
        if name == "wrong_label":
            return {**row, "answer": wrong_label(row["answer"], rng)}, PlantedFlaw(index, name, "off_by_1_to_9")
        if name == "broken_annotation":
            slip = k % 2 == 0
            flawed = broken_annotation(row["answer"], rng, slip=slip)
            return {**row, "answer": flawed}, PlantedFlaw(index, name, "slip" if slip else "annotation_only")
        if name == "format_drift":
            variant = FORMAT_VARIANTS[k % len(FORMAT_VARIANTS)]
            return {**row, "answer": drift_format(row["answer"], variant, rng)}, PlantedFlaw(index, name, variant)
        if name == "near_duplicate":
            source = rng.choice(self.sources)
            original = self.rows[source]
            copy = {"question": original["question"] + rng.choice(TRAILING), "answer": original["answer"]}
            return copy, PlantedFlaw(index, name, "trailing_sentence", f"train/{source}")
        if name == "over_represented":
            source = self.templates[k % len(self.templates)]
            template, _ = parse_question(self.rows[source]["question"])
            # New numbers, but never a held-out computation: a re-draw is a template flaw, not a leak.
            numbers = None
            while numbers is None or not self.held_out.trainable(Computation.of(template, numbers)):
                numbers = draw_numbers(template, self.held_out.difficulty, rng)
            q, a = render(template, numbers)
            return {"question": q, "answer": a}, PlantedFlaw(index, name, "template_redraw", f"train/{source}")
        target = self.leaked[k]
        question = self.test[target]["question"]
        if k % 3 == 0:
            q, a, variant = question, self.test[target]["answer"], "verbatim"
        elif k % 3 == 1:
            (q, a), variant = renamed(question, rng), "renamed"
        else:
            (q, a), variant = reworded(question, rng, self.held_out.difficulty), "reworded"
        return {"question": q, "answer": a}, PlantedFlaw(index, name, variant, f"test/{target}")
