"""Prompt variants for the sensitivity layer: the same problem, asked differently.

Every variant belongs to a family and is named ``<family>-<label>``; the same labels are used
for every problem so per-variant accuracies compare like with like. Generation is deterministic
given the seed. Only the numeric family (programmatic problems) and GSM-Plus files change the
question's numbers and the gold; every other family keeps the question's text and the gold.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasoneval.records import Problem
from reasonkit.errors import InputError
from reasonkit.jsonl import read_objects
from reasonkit.prompting import SYSTEM_PROMPT, FewShotExample, build_prompt

FAMILIES = ("paraphrase", "format", "shots", "template", "spacing", "distractor", "numeric",
            "external")
NumericVariants = Callable[[Problem, int, int], list[tuple[str, str]]]  # (problem, n, seed)

# Instruction paraphrases: the same two demands as SYSTEM_PROMPT (reason inside <think>, answer
# as '#### <number>'), reworded. Ours.
PARAPHRASES = (
    "You are a patient math teacher. Think the problem through step by step inside <think> "
    "</think>, and then write the final answer on a separate line as '#### <number>'.",
    "Solve the math problem. Put your step-by-step reasoning between <think> and </think>, "
    "then state the final answer alone on a line in the form '#### <number>'.",
    "You help students with arithmetic word problems. Work it out step by step in <think> "
    "</think>; afterwards, give only the final answer on its own line as '#### <number>'.",
    "Reason carefully, one step at a time, inside <think> </think>. When you are done, write "
    "the final numeric answer on its own line, prefixed by '#### '.",
    "You are an expert at grade-school math. Show your working inside <think> </think>, then "
    "finish with a line '#### <number>' holding the final answer.",
    "Think step by step within <think> </think> before answering. End with the final answer on "
    "its own line, written as '#### <number>'.",
    "As a careful tutor, explain each step of the solution inside <think> </think>. Then give "
    "the answer by itself on the last line as '#### <number>'.",
    "Work through the question methodically inside <think> </think>, checking each calculation. "
    "Conclude with one line of the form '#### <number>'.",
    "You are good at math. First reason inside <think> </think>, step by step; then output the "
    "final answer on a new line as '#### <number>'.",
    "Read the problem, reason about it step by step between <think> and </think>, and report "
    "the result on its own final line as '#### <number>'.",
)
# Answer-format instructions: the system prompt keeps the reasoning demand only, and the format
# demand moves to the end of the user turn. '####' is among them, so the placement change alone
# is measured too. The answer parser reads all four (reasonkit.answers markers).
FORMAT_BASE_SYSTEM = "You are a careful math tutor. Reason step by step inside <think> </think>."
ANSWER_FORMATS = {
    "hash": "Give the final answer on its own line as '#### <number>'.",
    "answer_is": "End your reply with the sentence 'The answer is <number>.'",
    "boxed": "Write the final answer as \\boxed{<number>}.",
    "final_answer": "End your reply with the line '**Final Answer:** <number>'.",
}
# A few worked examples of our own (not GSM8K, so they cannot leak test items).
BUILTIN_SHOTS = (
    FewShotExample("A box holds 6 pens. How many pens are in 4 boxes?",
                   "Each box holds 6 pens, so 4 boxes hold 4 * 6 = 24 pens.", "24"),
    FewShotExample("Tom had 30 stamps and gave away 12. Then he bought 5 more. How many stamps "
                   "does he have?",
                   "After giving away 12 he had 30 - 12 = 18 stamps.\nAfter buying 5 more he had "
                   "18 + 5 = 23 stamps.", "23"),
    FewShotExample("A rope 45 meters long is cut into 9 equal pieces. How long is each piece?",
                   "Each piece is 45 / 9 = 5 meters long.", "5"),
)
# FormatSpread's grammar of prompt formats (Sclar et al. 2023, "Quantifying Language Models'
# Sensitivity to Spurious Features in Prompt Design"): a field descriptor, its casing, the
# separator after it and the spacing around the field. Our descriptor and separator choices.
DESCRIPTORS = ("Question", "Problem", "Q")
CASINGS: Mapping[str, Callable[[str], str]] = {"title": str.title, "upper": str.upper,
                                               "lower": str.lower}
SEPARATORS = (": ", " : ", ":\n", " - ", ":: ", "\n")
SPACINGS = ("", "\n", "\n\n", "  ")
# Off-topic sentences in the spirit of GSM-IC (Shi et al. 2023, "Large Language Models Can Be
# Easily Distracted by Irrelevant Context"): a role name and a number, irrelevant to the
# question. Our templates.
DISTRACTORS = (
    "{name}'s neighbour keeps {n} goldfish in a pond.",
    "The library across the street opened {n} years ago.",
    "{name}'s cousin cycles {n} kilometres every Sunday.",
    "A bakery nearby sells {n} loaves of rye bread on Mondays.",
    "{name} once read {n} pages of a novel in one evening.",
)
DISTRACTOR_NAMES = ("Priya", "Mateo", "Yuki", "Olu", "Hannah", "Sven")


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
    unknown = [n for n in names if n not in FAMILIES]
    if unknown or not names:
        raise InputError(f"unknown or empty sensitivity families {unknown or text!r}; "
                         f"choose from {', '.join(FAMILIES)}")
    return names


def insert_distractor(question: str, sentence: str) -> str:
    """Put ``sentence`` just before the question's last sentence (GSM-IC's placement)."""
    parts = re.split(r"(?<=[.!?])\s+", question.strip())
    if len(parts) < 2:
        return f"{sentence} {question.strip()}"
    return " ".join([*parts[:-1], sentence, parts[-1]])


def spacing_formats(seed: int, k: int) -> list[tuple[str, str, str, str]]:
    """``k`` distinct (descriptor, casing, separator, spacing) draws, the same for every item."""
    grammar = [(d, c, s, w) for d in DESCRIPTORS for c in CASINGS for s in SEPARATORS
               for w in SPACINGS]
    return random.Random(f"{seed}:spacing").sample(grammar, min(k, len(grammar)))


def _family(problem: Problem, family: str, cfg: VariantConfig) -> list[Variant]:
    q, gold, k = problem.question, problem.gold, cfg.max_per_family
    shots = cfg.few_shot
    if family == "paraphrase":
        picks = random.Random(f"{cfg.seed}:paraphrase").sample(range(len(PARAPHRASES)),
                                                               min(k, len(PARAPHRASES)))
        return [Variant(f"paraphrase-p{i}", family, q, gold, PARAPHRASES[i], shots)
                for i in sorted(picks)]
    if family == "format":
        return [Variant(f"format-{label}", family, f"{q}\n\n{text}", gold, FORMAT_BASE_SYSTEM,
                        shots) for label, text in list(ANSWER_FORMATS.items())[:k]]
    if family == "shots":
        if shots:
            return [Variant("shots-zero", family, q, gold, few_shot=())]
        return [Variant("shots-few", family, q, gold, few_shot=BUILTIN_SHOTS)]
    if family == "template":
        return [Variant("template-raw", family, q, gold, few_shot=shots, chat_template=False)]
    if family == "spacing":
        out = []
        for d, casing, sep, space in spacing_formats(cfg.seed, k):
            label = f"{d.lower()}_{casing}_{SEPARATORS.index(sep)}_{SPACINGS.index(space)}"
            text = f"{space}{CASINGS[casing](d)}{sep}{q}{space}"
            out.append(Variant(f"spacing-{label}", family, text, gold, few_shot=shots))
        return out
    if family == "distractor":
        out = []
        for j in range(min(k, len(DISTRACTORS))):
            rng = random.Random(f"{cfg.seed}:distractor:{problem.id}:{j}")
            sentence = rng.choice(DISTRACTORS).format(name=rng.choice(DISTRACTOR_NAMES),
                                                      n=rng.randint(2, 99))
            out.append(Variant(f"distractor-d{j}", family, insert_distractor(q, sentence), gold,
                               few_shot=shots))
        return out
    if family == "numeric":
        return [Variant(f"numeric-n{j}", family, nq, ngold, few_shot=shots)
                for j, (nq, ngold) in enumerate(_numeric(problem, cfg))]
    if family == "external":
        out = []
        seen: dict[str, int] = {}
        for ev in cfg.external.get(problem.id, ()):
            fam = "gsmplus_" + re.sub(r"[^a-z0-9]+", "_", ev.perturbation_type.lower()).strip("_")
            j = seen[fam] = seen.get(fam, -1) + 1
            if j < k:
                out.append(Variant(f"{fam}-g{j}", fam, ev.question, ev.gold, few_shot=shots))
        return out
    raise InputError(f"unknown sensitivity family {family!r}; choose from {', '.join(FAMILIES)}")


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
