"""The texts sensitivity variants are made of: instructions, formats, shots, layouts, distractors.

The family registry and its builders (reasoneval.variants) put them together; the report's
labels (reasoneval.variant_labels) read them back.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping

from reasonkit.prompting import FewShotExample

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
