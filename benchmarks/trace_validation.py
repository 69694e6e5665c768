"""The traces layer's gold-path check on real GSM8K responses of other models (issue 25).

Per response set (benchmarks/response_sets.py): the share of wrong answers given a specific
failure type, the false alarms on right answers, the mix of types, and the flag lift (the
wrong-answer rate among flagged responses over that among unflagged ones) for the answer-free
flags, for the gold-path flag and for both. With ``--labels``, the precision of each failure type
against hand labels (benchmarks/labels/README.md says how they were made). ``--draw`` writes a
fresh sample of wrong answers to label, without the checker's verdicts, to a path outside the
repository (the responses are not ours to commit). ``--speed`` times scoring with and without
the check, side by side on one core.

    python benchmarks/trace_validation.py --rereading DIR/results --openai FILE --gsm8k DIR \
        [--labels benchmarks/labels/gold_path_labels.jsonl] [--speed]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from response_sets import Response, load

from reasoneval.layers.gold_path import FAILURE_TYPES, parse_gold_path
from reasoneval.layers.gold_path_follow import follow_gold_path
from reasoneval.layers.trace_checks import TracesConfig
from reasoneval.layers.traces import traces_for_rows
from reasoneval.records import Problem
from reasoneval.stats import wilson_interval
from reasonkit.answers import parse_gold, score_response
from reasonkit.artifacts import atomic_write_text

TARGETS = "explained >= 50% per set at >= 90% precision; false alarms <= 2%; lift >= 2x"


def score_set(responses: Sequence[Response]) -> list[dict[str, Any]]:
    """The traces layer over one set, as `reasoneval score --layers traces` runs it."""
    rows, problems = [], []
    for r in responses:
        extraction, correct = score_response(r.response, r.solution)
        rows.append({"id": r.id, "response": r.response, "correct": correct,
                     "extracted": extraction.value if extraction else None})
        problems.append(Problem(r.id, r.question, parse_gold(r.solution) or "", r.solution))
    result = traces_for_rows(rows, problems, config=TracesConfig(think=False), n_boot=10)
    for row in rows:
        row["trace"] = result.per_sample[(row["id"], "original", 0)]["trace"]
    return rows


def lift(flagged: Sequence[bool], wrong: Sequence[bool]) -> float | None:
    on = [w for f, w in zip(flagged, wrong, strict=True) if f]
    off = [w for f, w in zip(flagged, wrong, strict=True) if not f]
    if not on or not off or not sum(off):
        return None
    return (sum(on) / len(on)) / (sum(off) / len(off))


def set_report(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    judged = [r for r in rows if r["trace"]["failure"] is not None]
    wrong = [not r["correct"] for r in judged]
    typed = [r["trace"]["failure"] in FAILURE_TYPES for r in judged]
    answer_free = [any(v for k, v in r["trace"].items() if k in _ANSWER_FREE) for r in judged]
    n_wrong, n_right = sum(wrong), len(judged) - sum(wrong)
    return {
        "n": len(rows), "judged": len(judged), "wrong": n_wrong,
        "explained": sum(t and w for t, w in zip(typed, wrong, strict=True)) / max(n_wrong, 1),
        "false_alarms": sum(t and not w for t, w in zip(typed, wrong, strict=True)) / max(n_right, 1),
        "lift_gold_path": lift(typed, wrong), "lift_answer_free": lift(answer_free, wrong),
        "lift_all": lift([a or t for a, t in zip(answer_free, typed, strict=True)], wrong),
        "types": dict(Counter(r["trace"]["failure"] for r in judged if not r["correct"])),
    }


_ANSWER_FREE = ("missing_answer", "truncated", "looping", "language_mixed", "arithmetic_error",
                "ungrounded", "inconsistent", "step_count_off")  # tags: not applicable here


def precision(labels: Sequence[Mapping[str, str]], scored: Mapping[str, Sequence[Mapping[str, Any]]]
              ) -> dict[str, tuple[int, int]]:
    """Failure type -> (labelled the same, predicted) over the hand-labelled responses."""
    by_key = {(s, r["id"]): r for s, rows in scored.items() for r in rows}
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for label in labels:
        row = by_key.get((label["set"], label["id"]))
        if row is None or row["correct"]:
            continue
        predicted = row["trace"]["failure"]
        out[predicted][1] += 1
        out[predicted][0] += predicted == label["label"]
    return {t: (hit, n) for t, (hit, n) in out.items()}


def left_unexplained(labels: Sequence[Mapping[str, str]],
                     scored: Mapping[str, Sequence[Mapping[str, Any]]]) -> Counter[str]:
    """The hand labels of the wrong answers the check left unexplained: how many it could have
    typed (a type it emits) and how many no rule of its taxonomy names ("other", "unknown",
    "wrong_quantity")."""
    verdict = {(s, r["id"]): r["trace"]["failure"] for s, rows in scored.items() for r in rows}
    return Counter(x["label"] for x in labels if verdict.get((x["set"], x["id"])) == "unexplained")


def summary(table: Mapping[str, tuple[int, int]]) -> str:
    """Each type's hits over predictions, and all specific types with a 95% Wilson interval."""
    typed = [(hit, n) for t, (hit, n) in table.items() if t in FAILURE_TYPES]
    hit, n = sum(h for h, _ in typed), sum(k for _, k in typed)
    low, high = wilson_interval(hit, n) if n else (0.0, 0.0)
    return (", ".join(f"{t} {h}/{k}" for t, (h, k) in sorted(table.items()))
            + f"; all types {hit}/{n} = {hit / max(n, 1):.0%} (95% CI {low:.0%}-{high:.0%})")


def label_groups(labels: Sequence[Mapping[str, str]]) -> dict[str, list[Mapping[str, str]]]:
    """Labels by sample and labeller ("held-out-2/c"); rows without a labeller are the first
    labeller's, who wrote the rules (benchmarks/labels/README.md)."""
    groups: dict[str, list[Mapping[str, str]]] = defaultdict(list)
    for x in labels:
        groups[f"{x.get('sample')}/{x.get('labeller', 'a')}"].append(x)
    return dict(groups)


def agreement(a: Sequence[Mapping[str, str]], b: Sequence[Mapping[str, str]]) -> str | None:
    """Raw agreement and Cohen's kappa of two labellers over the responses both labelled (None
    under 20 shared)."""
    left = {(x["set"], x["id"]): x["label"] for x in a}
    pairs = [(left[(x["set"], x["id"])], x["label"]) for x in b if (x["set"], x["id"]) in left]
    if len(pairs) < 20:
        return None
    n = len(pairs)
    observed = sum(p == q for p, q in pairs) / n
    first, second = Counter(p for p, _ in pairs), Counter(q for _, q in pairs)
    chance = sum(first[c] * second[c] for c in first) / n**2
    kappa = (observed - chance) / (1 - chance) if chance < 1 else 1.0
    return f"{n} shared, same label on {observed:.0%}, Cohen's kappa {kappa:.2f}"


def draw(scored: Mapping[str, Sequence[Mapping[str, Any]]], sets: Mapping[str, Sequence[Response]],
         args: argparse.Namespace) -> None:
    """Wrong answers to label: ``--per-type`` of each predicted type and ``--random`` more, in a
    shuffled order, written without the verdicts (labelling is blind)."""
    exclude = {(x["set"], x["id"]) for f in args.exclude for x in map(json.loads, f.read_text().splitlines())}
    text = {(r.set, r.id): r for rs in sets.values() for r in rs}
    rng = random.Random(args.seed)
    pools: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, rows in scored.items():
        for r in rows:
            if not r["correct"] and r["trace"]["failure"] and (name, r["id"]) not in exclude:
                pools[r["trace"]["failure"]].append((name, r["id"]))
    picked = []
    for pool in pools.values():
        rng.shuffle(pool)
        picked += pool[: args.per_type]
    # Plus wrong answers drawn regardless of type: the share typed, and what the rest were.
    rest = sorted({x for pool in pools.values() for x in pool} - set(picked))
    drawn = dict.fromkeys(picked, "per type") | dict.fromkeys(
        rng.sample(rest, min(args.random, len(rest))), "random")
    picked = list(drawn)
    rng.shuffle(picked)
    verdict = {(name, r["id"]): r["trace"]["failure"] for name, rows in scored.items() for r in rows}
    key = args.draw.with_name(args.draw.stem + ".key.jsonl")  # the verdicts: not for the labeller
    atomic_write_text(args.draw, "".join(
        json.dumps({"set": name, "id": item, "question": text[(name, item)].question,
                    "gold": text[(name, item)].solution, "response": text[(name, item)].response}) + "\n"
        for name, item in picked))
    atomic_write_text(key, "".join(
        json.dumps({"set": name, "id": item, "drawn": drawn[(name, item)],
                    "predicted": verdict[(name, item)]}) + "\n" for name, item in picked))
    print(f"wrote {len(picked)} responses to label to {args.draw}, how each was drawn to {key}")


def speed(sets: Mapping[str, Sequence[Response]]) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    pairs = [(r.response, r.solution, r.question) for rs in sets.values() for r in rs]
    parse_gold_path.cache_clear()  # scoring the sets parsed them already
    start = time.perf_counter()
    paths = {s: parse_gold_path(s, parse_gold(s), q) for s, q in {(s, q) for _, s, q in pairs}}
    parse_s = time.perf_counter() - start
    best_off = best_on = float("inf")
    for _ in range(3):  # interleaved, best of three: the machine is shared
        start = time.perf_counter()
        for response, solution, _ in pairs:
            score_response(response, solution)
        best_off = min(best_off, time.perf_counter() - start)
        start = time.perf_counter()
        for response, solution, _ in pairs:
            extraction, _ok = score_response(response, solution)
            path = paths[solution]
            if path is not None:
                follow_gold_path(response, extraction.value if extraction else None, "stop", path)
        best_on = min(best_on, time.perf_counter() - start)
    n = len(pairs)
    print(f"speed, one core, {n} responses (mean {sum(len(p[0]) for p in pairs) / n:.0f} chars), "
          f"load {os.getloadavg()[0]:.2f}: score_response {n / best_off:,.0f}/s; with the gold-path "
          f"check {n / best_on:,.0f}/s ({best_on / best_off:.2f}x the time); parsing {len(paths)} "
          f"gold solutions once each: {1e6 * parse_s / len(paths):.0f} us per problem")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--rereading", type=Path, help="Rereading-LLM-Reasoning results/ folder")
    parser.add_argument("--openai", type=Path, help="grade-school-math example_model_solutions.jsonl")
    parser.add_argument("--gsm8k", type=Path, default=Path(os.environ.get("GSM8K_DIR", "../shared/data/gsm8k")))
    parser.add_argument("--labels", type=Path, action="append", default=[], help="hand labels (JSONL)")
    parser.add_argument("--draw", type=Path, help="write wrong answers to label here")
    parser.add_argument("--per-type", type=int, default=13, help="drawn per predicted type")
    parser.add_argument("--random", type=int, default=0, help="drawn regardless of type")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exclude", type=Path, action="append", default=[], help="already drawn")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--weigh-by", default="held-out-2/c", help="label sample whose precision to apply per set")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if args.rereading is None and args.openai is None:
        parser.error("give --rereading and/or --openai")
    sets = load(args.rereading, args.openai, args.gsm8k)
    scored = {name: score_set(rs) for name, rs in sets.items()}
    if args.draw:
        draw(scored, sets, args)
        return 0
    reports = {name: set_report(rows) for name, rows in scored.items()}
    print(f"targets: {TARGETS}")
    for name, rep in reports.items():
        lifts = " ".join(f"{k[5:]} {'-' if v is None else f'{v:.1f}x'}" for k, v in rep.items()
                         if k.startswith("lift_"))
        print(f"{name:28s} wrong {rep['wrong']:5d}/{rep['judged']:5d}  explained {rep['explained']:6.1%}"
              f"  false alarms {rep['false_alarms']:5.2%}  lift: {lifts}")
    labels = [json.loads(x) for f in args.labels for x in f.read_text(encoding="utf-8").splitlines() if x]
    groups = label_groups(labels)
    tables = {}
    for group, rows in groups.items():
        tables[group] = precision(rows, scored)
        print(f"precision on the {group!r} labels: {summary(tables[group])}")
        missed = left_unexplained(rows, scored)
        typable = sum(c for t, c in missed.items() if t in FAILURE_TYPES)
        if missed:
            print(f"  the labels of those left unexplained: {dict(missed.most_common())}; a type the "
                  f"check emits on {typable}/{sum(missed.values())}")
    for (a, rows_a), (b, rows_b) in itertools.combinations(groups.items(), 2):
        agreed = agreement(rows_a, rows_b)
        if agreed is None:
            continue
        print(f"labellers {a!r} and {b!r}: " + agreed)
        same = {(x["set"], x["id"], x["label"]) for x in rows_a}
        table = precision([x for x in rows_b if (x["set"], x["id"], x["label"]) in same], scored)
        print(f"  precision where both gave the same label: {summary(table)}")
    if args.weigh_by in tables:
        print(f"per set, each type's share of the wrong answers weighed by its {args.weigh_by!r} precision:")
        for name, rep in reports.items():
            rates = {t: h / k for t, (h, k) in tables[args.weigh_by].items() if k}
            right = sum(c * rates.get(t, 0.0) for t, c in rep["types"].items() if t in FAILURE_TYPES)
            typed_n = sum(c for t, c in rep["types"].items() if t in FAILURE_TYPES)
            print(f"  {name:28s} typed {typed_n / max(rep['wrong'], 1):6.1%}, estimated right "
                  f"{right / max(rep['wrong'], 1):6.1%} of wrong answers, precision {right / max(typed_n, 1):.0%}")
    if args.json:
        atomic_write_text(args.json, json.dumps({"sets": reports, "precision": tables}, indent=2))
    if args.speed:
        speed(sets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
