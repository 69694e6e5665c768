"""Accuracy on held-out items with a twin in training against the rest: the memorisation gap.

    python -m scripts.memorisation_gap --train KEPT/train.jsonl --test KEPT/test.jsonl --run EVAL_DIR

``--train`` and ``--test`` are datacheck kept-row files (GSM8K layout with ids); ``--run`` is a
``reasoneval run`` directory scored on that test split. Each test item is put in one group by
datacheck's leak audit (a verbatim, renamed, same-computation or solution-text twin among the
train rows, or none), and the accuracy of each group is printed with its Wilson interval, with
Fisher's exact test of twinned against untwinned. docs/pipeline.md reports the old split's gap
and the held-out split's.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reasonkit.errors import EXIT_CODES_HELP, OneLineParser, guarded


def _problems(path: Path, split: str) -> list[Any]:
    from datacheck.parsing import parse_problem
    from reasonkit.kept_rows import read_kept_rows

    return [parse_problem(id=r.id, split=split, index=i, question=r.question, answer=str(r.source["answer"]),
                          source=r.to_json())
            for i, r in enumerate(read_kept_rows(path))]  # fmt: skip


def gap(train: Path, test: Path, run: Path) -> dict[str, Any]:
    from scipy.stats import fisher_exact

    from datacheck.leak_audit import audit_split
    from reasoneval.compare import load_run_results
    from reasoneval.stats import wilson_interval

    audit = audit_split("test", _problems(test, "test"), _problems(train, "train"))
    twinned = {item for pairs in audit.twins.values() for item, _ in pairs}
    correct = {item: samples[0] for item, samples in load_run_results(run).items()}  # greedy: one
    groups = {"twinned": [correct[i] for i in correct if i in twinned],
              "untwinned": [correct[i] for i in correct if i not in twinned]}  # fmt: skip
    out: dict[str, Any] = {"items": len(correct), "by_category": audit.to_dict()["by_category"]}
    for name, values in groups.items():
        k, n = sum(values), len(values)
        lo, hi = wilson_interval(k, n) if n else (float("nan"), float("nan"))
        out[name] = {"n": n, "correct": k, "accuracy": k / n if n else float("nan"), "lo": lo, "hi": hi}
    (a, b), (c, d) = ((out[g]["correct"], out[g]["n"] - out[g]["correct"]) for g in ("twinned", "untwinned"))
    out["fisher_p"] = float(fisher_exact([[a, b], [c, d]])[1]) if out["twinned"]["n"] and out["untwinned"]["n"] else None
    return out


def make_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m scripts.memorisation_gap", description=__doc__.splitlines()[0],
                           epilog=EXIT_CODES_HELP, allow_abbrev=False)  # fmt: skip
    parser.add_argument("--train", type=Path, required=True, help="kept train rows (JSONL)")
    parser.add_argument("--test", type=Path, required=True, help="the evaluated test rows (JSONL)")
    parser.add_argument("--run", type=Path, required=True, help="a reasoneval run directory on --test")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)

    def body() -> int:
        print(json.dumps(gap(args.train, args.test, args.run), indent=2))
        return 0

    return guarded("memorisation_gap", body)


if __name__ == "__main__":
    sys.exit(main())
