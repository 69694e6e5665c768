"""The synthetic task's sentence patterns: in-distribution wordings, and held-out ones that only
the ``test-ood`` split writes (``reasonkit.tasks.arithmetic`` fills them with names and numbers)."""

from __future__ import annotations

from collections.abc import Mapping

from reasonkit.tasks.computation import Op

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
# Held-out wordings: the test-ood split's templates (transfer to unseen phrasing, GSM-Plus's
# "paraphrase" perturbation in spirit). None shares a sentence pattern with the lists above or
# with the base corpus (reasonkit.tasks.prose); tests check both.
OOD_START = ("{name}'s box holds {n} {item}.", "In the morning {name} counts {n} {item}.")
OOD_STEP: Mapping[Op, tuple[str, ...]] = {
    "+": ("{name} is handed {n} extra {item} by {other}.", "Another {n} {item} arrive for {name}."),
    "-": ("{other} takes {n} of {name}'s {item}.", "{name} throws away {n} {item}."),
    "*": ("{name}'s collection becomes {n} times larger.",),
    "/": ("{name} divides the {item} into {n} equal groups and keeps one group.",),
}
OOD_QUESTION = ("What number of {item} does {name} own after all this?", "Count {name}'s {item} now: how many are there?")
# Template indices point into these: in-distribution wordings first, held-out ones after them.
ALL_START = START + OOD_START
ALL_STEP: Mapping[Op, tuple[str, ...]] = {op: STEP[op] + OOD_STEP[op] for op in STEP}
ALL_QUESTION = QUESTION + OOD_QUESTION
NEAR_DUPLICATE_SUFFIX = " Answer with a number."
