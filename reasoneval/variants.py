"""Prompt variants for the sensitivity layer: the same problem, asked differently.

Every variant belongs to a family and is named ``<family>-<label>``; the same labels are used
for every problem so per-variant accuracies compare like with like. Generation is deterministic
given the seed. Only the numeric family (programmatic problems) and GSM-Plus files change the
question's numbers and the gold; every other family keeps the question's text and the gold.
Each family is one entry of :data:`REGISTRY`: its name, its one-line description and its builder.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasoneval.records import Problem
from reasoneval.variant_texts import (
    ANSWER_FORMATS,
    BUILTIN_SHOTS,
    CASINGS,
    DISTRACTOR_NAMES,
    DISTRACTORS,
    FORMAT_BASE_SYSTEM,
    PARAPHRASES,
    SEPARATORS,
    SPACINGS,
    insert_distractor,
    spacing_formats,
)
from reasonkit.errors import InputError
from reasonkit.jsonl import read_objects
from reasonkit.prompting import SYSTEM_PROMPT, FewShotExample, build_prompt

NumericVariants = Callable[[Problem, int, int], list[tuple[str, str]]]  # (problem, n, seed)
GSM_PLUS = "gsmplus_"  # external rows' family: this prefix and their perturbation type


@dataclass(frozen=True, slots=True)
class Variant:
    name: str  # "<family>-<label>", the GenRequest.variant
    family: str
    question: str
    gold: str
    system: str | None = SYSTEM_PROMPT
    few_shot: tuple[FewShotExample, ...] = ()
    chat_template: bool = True

    def prompt(self, tokenizer: Any | None) -> str:
        return build_prompt(self.question, tokenizer=tokenizer, system=self.system,
                            few_shot=self.few_shot, chat_template=self.chat_template)


@dataclass(frozen=True, slots=True)
class ExternalVariant:
    perturbation_type: str
    question: str
    gold: str


def _paraphrase(problem: Problem, cfg: VariantConfig) -> list[Variant]:
    k = cfg.max_per_family
    picks = random.Random(f"{cfg.seed}:paraphrase").sample(range(len(PARAPHRASES)),
                                                           min(k, len(PARAPHRASES)))
    return [Variant(f"paraphrase-p{i}", "paraphrase", problem.question, problem.gold,
                    PARAPHRASES[i], cfg.few_shot) for i in sorted(picks)]


def _format(problem: Problem, cfg: VariantConfig) -> list[Variant]:
    return [Variant(f"format-{label}", "format", f"{problem.question}\n\n{text}", problem.gold,
                    FORMAT_BASE_SYSTEM, cfg.few_shot)
            for label, text in list(ANSWER_FORMATS.items())[:cfg.max_per_family]]


def _shots(problem: Problem, cfg: VariantConfig) -> list[Variant]:
    if cfg.few_shot:
        return [Variant("shots-zero", "shots", problem.question, problem.gold, few_shot=())]
    return [Variant("shots-few", "shots", problem.question, problem.gold, few_shot=BUILTIN_SHOTS)]


def _template(problem: Problem, cfg: VariantConfig) -> list[Variant]:
    return [Variant("template-raw", "template", problem.question, problem.gold,
                    few_shot=cfg.few_shot, chat_template=False)]


def _spacing(problem: Problem, cfg: VariantConfig) -> list[Variant]:
    out = []
    for d, casing, sep, space in spacing_formats(cfg.seed, cfg.max_per_family):
        label = f"{d.lower()}_{casing}_{SEPARATORS.index(sep)}_{SPACINGS.index(space)}"
        text = f"{space}{CASINGS[casing](d)}{sep}{problem.question}{space}"
        out.append(Variant(f"spacing-{label}", "spacing", text, problem.gold,
                           few_shot=cfg.few_shot))
    return out


def _distractor(problem: Problem, cfg: VariantConfig) -> list[Variant]:
    out = []
    for j in range(min(cfg.max_per_family, len(DISTRACTORS))):
        rng = random.Random(f"{cfg.seed}:distractor:{problem.id}:{j}")
        sentence = rng.choice(DISTRACTORS).format(name=rng.choice(DISTRACTOR_NAMES),
                                                  n=rng.randint(2, 99))
        out.append(Variant(f"distractor-d{j}", "distractor",
                           insert_distractor(problem.question, sentence), problem.gold,
                           few_shot=cfg.few_shot))
    return out


def _numeric_family(problem: Problem, cfg: VariantConfig) -> list[Variant]:
    return [Variant(f"numeric-n{j}", "numeric", nq, ngold, few_shot=cfg.few_shot)
            for j, (nq, ngold) in enumerate(_numeric(problem, cfg))]


def _external(problem: Problem, cfg: VariantConfig) -> list[Variant]:
    out = []
    seen: dict[str, int] = {}
    for ev in cfg.external.get(problem.id, ()):
        fam = GSM_PLUS + re.sub(r"[^a-z0-9]+", "_", ev.perturbation_type.lower()).strip("_")
        j = seen[fam] = seen.get(fam, -1) + 1
        if j < cfg.max_per_family:
            out.append(Variant(f"{fam}-g{j}", fam, ev.question, ev.gold, few_shot=cfg.few_shot))
    return out


@dataclass(frozen=True, slots=True)
class Family:
    """One variant family: what ``--sensitivity-families`` names, what the report says it
    changes, and how a problem's variants are built."""

    name: str
    description: str
    build: Callable[[Problem, VariantConfig], list[Variant]]
    # Only the question changes, so it runs under any --prompt-style (prompt_styles.check_style);
    # the others rewrite the think prompt itself.
    question_only: bool = False
    # The family names its variants are reported under (report.json's pdr.<family>), as a regular
    # expression; the family's own name when empty.
    reported_as: str = ""


# In this order: --sensitivity-families' default, and how make_variants interleaves them.
REGISTRY: dict[str, Family] = {f.name: f for f in (
    Family("paraphrase", "the system prompt reworded; same demands (reason in <think>, "
           "answer '#### n')", _paraphrase),
    Family("format", "the answer-format demand moved into the question, in one of four formats",
           _format),
    Family("shots", "worked examples added to a zero-shot prompt, or removed from a few-shot one",
           _shots),
    Family("template", "the same text without the chat template", _template),
    Family("spacing", "the question's label, casing, separator and spacing changed "
           "(FormatSpread)", _spacing, question_only=True),
    Family("distractor", "an irrelevant sentence with a name and a number inserted (GSM-IC)",
           _distractor, question_only=True),
    Family("numeric", "the problem's numbers redrawn, gold recomputed", _numeric_family,
           question_only=True),
    # Its rows are reported under one family per perturbation type (variant_labels.describe_family).
    Family("external", "rows of GSM-Plus-layout files, one family per perturbation type "
           "(gsmplus_<type>)", _external, question_only=True, reported_as=f"{GSM_PLUS}[a-z0-9_]*"),
)}
FAMILIES = tuple(REGISTRY)
QUESTION_FAMILIES = tuple(name for name, f in REGISTRY.items() if f.question_only)
# Any family name a variant is reported under, and any variant name (report.json's accuracy.<v>).
REPORTED_FAMILY = "|".join(f.reported_as or re.escape(f.name) for f in REGISTRY.values())
VARIANT_NAME = rf"(?:{REPORTED_FAMILY})-\w+"


@dataclass(frozen=True)
class VariantConfig:
    families: tuple[str, ...] = FAMILIES
    max_per_family: int = 4
    max_per_item: int = 24
    seed: int = 0
    few_shot: tuple[FewShotExample, ...] = ()  # the shots the original prompt uses
    numeric_variants: NumericVariants | None = None  # None: reasonkit.tasks', kept in the item's split
    external: Mapping[str, Sequence[ExternalVariant]] = field(default_factory=dict)  # by id


def family_of(variant: str) -> str:
    return variant.split("-", 1)[0]


def parse_families(text: str) -> tuple[str, ...]:
    """``--sensitivity-families paraphrase,format`` -> validated names; fail fast on unknown."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in REGISTRY]
    if unknown or not names:
        raise InputError(f"unknown or empty sensitivity families {unknown or text!r}; "
                         f"choose from {', '.join(FAMILIES)}")
    return names


def _family(problem: Problem, family: str, cfg: VariantConfig) -> list[Variant]:
    if family not in REGISTRY:
        raise InputError(f"unknown sensitivity family {family!r}; choose from {', '.join(FAMILIES)}")
    return REGISTRY[family].build(problem, cfg)


def _numeric(problem: Problem, cfg: VariantConfig) -> list[tuple[str, str]]:
    if not problem.id.startswith("synthetic/"):
        return []  # only programmatic problems can recompute their gold
    provider = cfg.numeric_variants
    if provider is None:
        provider = _held_out_variants
    try:
        return provider(problem, cfg.max_per_family, cfg.seed)
    except ValueError:  # the question does not parse back into a template
        return []


def _held_out_variants(problem: Problem, n: int, seed: int) -> list[tuple[str, str]]:
    """Re-drawn numbers that stay in the item's own split: a variant of a held-out item is held
    out too, so the numeric family does not measure recall of trained computations."""
    from reasonkit.tasks.arithmetic import numeric_variants
    from reasonkit.tasks.split import HeldOut

    split = problem.id.split("/")[1] if problem.id.count("/") >= 2 else "test"
    held_out = HeldOut()
    return numeric_variants(problem, n, seed, keep=lambda c: held_out.belongs(split, c))


def make_variants(problem: Problem, cfg: VariantConfig) -> list[Variant]:
    """The problem's variants, families interleaved so a per-item cap keeps every family."""
    lists = [_family(problem, f, cfg)[: cfg.max_per_family] for f in cfg.families]
    out: list[Variant] = []
    for rank in range(max((len(v) for v in lists), default=0)):
        out.extend(v[rank] for v in lists if rank < len(v))
    return out[: cfg.max_per_item]


def load_gsm_plus(
    path: Path, problems: Sequence[Problem]
) -> tuple[dict[str, list[ExternalVariant]], list[str]]:
    """GSM-Plus JSONL (question, answer, perturbation_type, seed_question) matched to problems
    by seed question text. Returns the variants by problem id and one reason per skipped row."""
    from reasonkit.answers import parse_gold

    def key(text: str) -> str:
        return " ".join(text.split())

    by_question = {key(p.question): p.id for p in problems}
    found: dict[str, list[ExternalVariant]] = {}
    skipped: list[str] = []
    for lineno, row in enumerate(read_objects(Path(path), what="a GSM-Plus row"), 1):
        try:
            fields = [str(row[f]) for f in ("question", "answer", "perturbation_type",
                                            "seed_question")]
        except KeyError as exc:
            raise InputError(f"{path}:{lineno}: not a GSM-Plus row (no field {exc})") from None
        question, answer, kind, seed_question = fields
        gold = parse_gold(answer)
        pid = by_question.get(key(seed_question))
        if gold is None:
            skipped.append(f"{path}:{lineno}: answer {answer[:40]!r} is not a number")
        elif pid is None:
            skipped.append(f"{path}:{lineno}: seed question matches no loaded problem")
        else:
            found.setdefault(pid, []).append(ExternalVariant(kind, question, gold))
    return found, skipped
