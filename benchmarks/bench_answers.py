"""Throughput of reasonkit.answers.score_response on realistic synthetic responses, one core.

Target (issue 3): >= 20,000 responses/s. For scale, the same responses also go through
lm-eval's GSM8K regex filters (strict `#### (\\-?[0-9\\.\\,]+)`, then flexible last number,
patterns copied from lm-evaluation-harness lm_eval/tasks/gsm8k/gsm8k.yaml), which do less work.

    python benchmarks/bench_answers.py [--n 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sys
import time
from collections.abc import Callable

from reasonkit.answers import score_response

TARGET = 20_000  # responses/s, from the issue

NAMES = ["Janet", "Tom", "Maria", "Ahmed", "Lena", "Kofi", "Yuki", "Carlos"]
ITEMS = ["apples", "eggs", "marbles", "books", "cupcakes", "stickers", "tickets"]
FINALS = [
    "#### {v}",
    "The answer is {v}.",
    "The answer is ${v}.",
    "Therefore, the final answer is $\\boxed{{{v}}}$.",
    "**Final Answer:** {v}",
    "**Final Answer**\n\n\\boxed{{{v}}}",
    "<answer>{v}</answer>",
    "A: {v}",
    "So she has {v} {item} left.",  # no marker: flexible
    "{v}",
    "The answer is {v} {item}. Let me double-check: {a} + {b} = {c}.",
]


def make_response(rng: random.Random) -> tuple[str, str]:
    """A chain of arithmetic sentences and a final answer in one of the formats above."""
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    steps, total = [], rng.randint(2, 50)
    for _ in range(rng.randint(2, 7)):
        a, b = rng.randint(2, 60), rng.randint(2, 12)
        op = rng.choice("+-*")
        result = a + b if op == "+" else a - b if op == "-" else a * b
        total += result
        steps.append(
            f"{name} has {a} {item} and gets {b} more batches, so {a} {op} {b} = {result}."
        )
    value = total if rng.random() < 0.8 else round(total / 4, 2)
    spelled = f"{value:,}" if rng.random() < 0.3 else str(value)
    final = rng.choice(FINALS).format(v=spelled, item=item, a=total - 3, b=3, c=total)
    think = "<think>\n" + "\n".join(steps) + "\n</think>\n" if rng.random() < 0.5 else ""
    body = think + "\n".join(steps) + "\n" + final
    gold = f"{steps[0]}\n#### {value}" if rng.random() < 0.5 else str(value)
    if rng.random() < 0.2:  # some wrong answers
        gold = str(value + 1)
    return body, gold


_LM_EVAL_STRICT = re.compile(r"#### (\-?[0-9\.\,]+)")
_LM_EVAL_FLEX = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")


def lm_eval_style(response: str, gold: str) -> bool:
    m = _LM_EVAL_STRICT.search(response)
    if m:
        pred = m.group(1)
    else:
        found = _LM_EVAL_FLEX.findall(response)
        pred = next((g for g in found[-1] if g), "") if found else ""
    pred = pred.replace(",", "").replace("$", "").rstrip(".")
    return pred == gold.rsplit("#### ", 1)[-1].replace(",", "")


def throughput(fn: Callable[[str, str], object], pairs: list[tuple[str, str]]) -> float:
    best = 0.0
    for _ in range(3):  # best of three: the machine is shared
        start = time.perf_counter()
        for response, gold in pairs:
            fn(response, gold)
        best = max(best, len(pairs) / (time.perf_counter() - start))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--n", type=int, default=20_000, help="responses per timing pass")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    rng = random.Random(args.seed)
    pairs = [make_response(rng) for _ in range(args.n)]
    mean_chars = sum(len(r) for r, _ in pairs) / len(pairs)
    correct = sum(score_response(r, g)[1] for r, g in pairs)
    ours = throughput(score_response, pairs)
    lm_eval = throughput(lm_eval_style, pairs)
    print(f"python {sys.version.split()[0]} on {platform.machine()}, one core")
    print(f"{args.n} synthetic responses, mean {mean_chars:.0f} chars, {correct} scored correct")
    print(f"reasonkit.answers.score_response: {ours:,.0f} responses/s")
    print(f"ratio to the {TARGET:,}/s target: {ours / TARGET:.2f}x")
    print(f"lm-eval-style regex filter (less work, for scale): {lm_eval:,.0f} responses/s")
    return 0 if ours >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
