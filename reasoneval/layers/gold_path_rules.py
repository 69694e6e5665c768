"""The gold-path check's failure types: one per response, from evidence in its text.

The rules are tried in this order; the first that holds decides (docs/layers.md, "Gold path"):

1. ``truncated``: the generation hit its length limit.
2. ``extra_step`` / ``answer_line``: the reasoning computed the gold final value as the gold
   does, but the answer differs: it computed on from there (extra step) or not (answer line);
   also ``answer_line`` when the answer is the final value in other units (cents, seconds).
3. ``missing_step``: the answer is a gold intermediate value, computed as the gold computes it
   (the reasoning stopped early).
4. Where the reasoning left the path: the first off-path equation (its result neither a gold
   value computed from that step's operands nor a unit conversion of one) on the chain of
   equations the answer was derived from. Compared with the gold steps not yet reached, it is
   ``arithmetic`` (its true value is on the path, the value it claims is not),
   ``missing_step`` (a gold step with terms left out, or with operands replaced by what the
   gold computes them from), ``wrong_operation`` (the same operands, another operator),
   ``extra_step`` (a final gold step with a term added), or ``foreign_quantity`` (an operand
   from nowhere: not in the question, the gold solution or the reasoning so far).

A wrong answer no rule types is ``unexplained``; a right one ``none``. None of the rules reads
whether the answer was scored right. Rules 2 and 3 compare the answer with gold values; rule 4
applies only when the reasoning never wrote the gold final value. The false alarms on right
answers and the precision of each type on hand-labelled responses are measured by
benchmarks/trace_validation.py (figures in docs/layers.md).
"""

from __future__ import annotations

from reasoneval.layers.gold_path import FailureType
from reasoneval.layers.gold_path_reading import Reading, classify, departure
from reasoneval.layers.gold_path_text import key


def diagnose(r: Reading) -> tuple[FailureType, str]:
    final = r.path.final_key
    is_final = r.answer == final
    if r.finish_reason == "length" and not is_final:
        return "truncated", "the generation hit its length limit"
    if not is_final and _final_reached(r):
        extra = next((e for e in r.eqs if final in {key(o) for o in e.expression.operands}
                      and key(e.result) != final and e.start > _first_result(r, final)), None)
        if extra is not None:
            return "extra_step", extra.text
        implicit = _implicit_extra(r)
        if implicit is not None:
            return "extra_step", implicit
        return "answer_line", f"the reasoning reached {r.path.final:g}"
    rescaled = None if is_final else _rescaled(r)
    if rescaled is not None:
        return "answer_line", rescaled
    early = None if is_final else _stopped_early(r)
    if early is not None:
        return "missing_step", early
    # The reasoning that wrote the gold final value, by whatever route, did not fail to reach it:
    # the rules about where it left the path do not apply.
    diverged = final not in r.written and len(r.done) < len(r.path.steps)
    off = departure(r) if diverged else None
    if off is not None:
        failure = classify(off, r)
        if failure is not None:
            return failure, off.text
    return ("none" if is_final else "unexplained"), off.text if off else ""


def _first_result(r: Reading, value: float) -> int:
    """Offset of the first equation that produces ``value`` (0 when none does)."""
    return next((e.start for e in r.eqs if key(e.result) == value), 0)


def _final_reached(r: Reading) -> bool:
    """The reasoning wrote the gold final value as the gold computes it, not by coincidence.

    An equation that produced it must be the gold's last step (up to regrouping); with no such
    equation, the values that step is computed from must be written too, and the final value
    outside any equation's left side ("12 / 2 = 6" writes a 2 that is no result). A final value
    the question states, or that an earlier gold step also computes, proves nothing by itself.
    """
    final = key(r.path.final)
    if final not in r.written or final in r.path.question or final not in r.path.keys:
        return False
    last = next(s for s in reversed(r.path.steps) if key(s.value) == final)
    producing = [e for e in r.eqs if key(e.result) == final]
    if any(e.expression.terms in last.cuts for e in producing):
        return True
    if producing or r.path.steps[r.path.keys[final]] is not last or not last.depends:
        return False
    inside = [(e.start, e.position) for e in r.eqs]
    as_result = any(v == final and not any(a <= p < b for a, b in inside) for p, v in r.numbers)
    return as_result and all(j in r.reached for j in last.depends)


def _rescaled(r: Reading) -> str | None:
    """The answer is the final value in other units, and the reasoning wrote it so: "24500
    cents" for a gold of $245, "5700 seconds" for 95 minutes. Only for a final value of 10 or
    more: "200" for a gold of 2 matched by chance more often than not."""
    final, answer = r.path.final, r.answer
    if answer is None:
        return None
    if abs(final) < 10:
        return None
    for scale in (100, 1000, 60):
        value = final * scale
        if abs(answer - value) <= 1e-6 * abs(value) and answer in r.written:
            return f"the answer is the gold final value {final:g} times {scale:g}"
    return None


def _implicit_extra(r: Reading) -> str | None:
    """The answer is the final value combined with a number the reasoning wrote, with no
    equation shown ("it takes 5 hours to get back ... a total of 8 hours")."""
    final, answer = r.path.final, r.answer
    if answer is None:
        return None
    for x in sorted(r.written - {key(final)}):
        if x == 0:
            continue
        for op, value in (("+", final + x), ("-", final - x), ("*", final * x), ("/", final / x)):
            if key(value) == answer:
                return f"answer {answer:g} = {final:g} {op} {x:g}"
    return None


def _stopped_early(r: Reading) -> str | None:
    """The answer is a gold intermediate value, computed as the gold computes it: by the last
    equation that produced it (not "36 - 24 = 12" hitting a gold 12 by chance), or, in prose,
    with every operand of that gold step written. A bare answer shows no computation."""
    if r.answer is None or r.answer not in r.path.keys:
        return None
    index = r.path.keys[r.answer]
    step = r.path.steps[index]
    producer = r.producers.get(r.answer)
    if producer is not None:
        ok = producer.expression.terms in step.cuts or (r.on_path(producer)
                                                       and r.answer not in r.path.question)
    else:
        ok = r.answer not in r.path.question and all(key(o) in r.written
                                                      for o in step.expression.operands)
    return f"the answer is gold step {index + 1}'s value" if ok else None


