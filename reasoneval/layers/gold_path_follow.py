"""The gold-path check per response: which gold values the reasoning reached, and its failure type.

Apart from gold_path (the gold steps, read once per problem) so that the reading and the rules
can import those records without a circle back to the function that calls them.
"""

from __future__ import annotations

from reasoneval.layers.gold_path import GoldPath, PathTrace, to_float
from reasoneval.layers.gold_path_reading import Reading
from reasoneval.layers.gold_path_rules import diagnose
from reasoneval.layers.gold_path_text import canonical_text, read_numbers


def follow_gold_path(
    response: str, extracted: str | None, finish_reason: str, path: GoldPath
) -> PathTrace:
    text = canonical_text(response)
    found, keys = read_numbers(text)
    answer = to_float(extracted) if extracted else None
    answer_key = None if answer is None else round(answer, 2)  # key(), inlined
    # The reasoning ends where the answer is written last: the final value written only in the
    # answer line is not a step the reasoning reached.
    cut = len(keys)
    if answer_key is not None and answer_key in keys:
        cut -= 1 + keys[::-1].index(answer_key)
    written = set(keys[:cut] if cut < len(keys) else keys)
    # A gold value the question states ("12" candles when one son is 12) is no evidence of the
    # step that computes it.
    reached = {i for i, k in path.unstated if k in written}
    # Steps reached, or feeding a reached step: a response may fold "3*3=9, 9*60" into one.
    done: set[int] = set().union(*[path.implied[i] for i in reached]) if reached else set()
    divergent = None
    if len(done) < len(path.steps):
        for i in range(len(path.steps)):
            if i not in done:
                divergent = i
                break
    reading = Reading(path, text, found, keys, cut, written, reached, done, answer_key, finish_reason)
    failure, evidence = diagnose(reading)
    return PathTrace(failure, len(path.steps), tuple([i + 1 for i in sorted(reached)]),
                     None if divergent is None else divergent + 1,
                     evidence if len(evidence) <= 120 else evidence[:120] + "…")
