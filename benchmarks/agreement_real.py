"""Agreement of reasonkit.answers with the labels of real GSM8K responses from another harness.

Reads the GSM8K result files of the Rereading-LLM-Reasoning repository (github.com/Tebmer/
Rereading-LLM-Reasoning, ``results/gsm_*.jsonl``: text-davinci-003, gpt-3.5-turbo and gpt-4o-mini
on the 1,319 test problems, a plain and a chain-of-thought prompt each, with the source's own
``score``). Prints how many verdicts differ from the source's, and each one with ``--show``, so
every disagreement can be adjudicated by hand. ``--convert DIR`` also writes one file per set that
``reasoneval score --response-field response --gold-field gold --question-field question`` reads.

    python benchmarks/agreement_real.py RESULTS_DIR [--show] [--convert DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reasonkit.answers import score_response

METHODS = ("vanilla", "cot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("results", type=Path)
    parser.add_argument("--show", action="store_true", help="print every disagreement")
    parser.add_argument("--convert", type=Path, help="write score-ready JSONL per set here")
    args = parser.parse_args(argv)
    # The 20-row *_233258* files are a debug run, not a result set.
    files = sorted(f for f in args.results.glob("gsm_*.jsonl") if "233258" not in f.name)
    if not files:
        print(f"{args.results}: no gsm_*.jsonl result files", file=sys.stderr)
        return 2
    total = disagree = 0
    for path in files:
        sets: dict[str, list[dict[str, str]]] = {m: [] for m in METHODS}
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for method in METHODS:
                result = row.get(method) or {}
                for response in result.get("generation") or []:
                    gold = str(row["target"])
                    extraction, correct = score_response(response, gold)
                    total += 1
                    if correct != bool(result["score"]):
                        disagree += 1
                        if args.show:
                            print(f"{path.name} id {row['id']} {method}: gold {gold}, source "
                                  f"{result['score']}, ours {extraction.value if extraction else None}"
                                  f"\n    ...{response[-160:]!r}")
                    sets[method].append({"id": str(row["id"]), "question": row["input"],
                                         "response": response, "gold": gold})
        if args.convert:
            args.convert.mkdir(parents=True, exist_ok=True)
            for method, rows in sets.items():
                out = args.convert / f"{path.stem}_{method}.jsonl"
                out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    print(f"{total} responses in {len(files)} files; {disagree} verdicts differ from the source's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
