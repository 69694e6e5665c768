"""Check a labeller's notes against the responses they were drawn for (issue 25's hand labels).

A labeller writes one line per drawn response, with a one-line note naming the first departure.
A note whose numbers are mostly absent from its response, question and gold solution was written
for another item: one labelling session drifted that way after its 70th item (benchmarks/labels/
README.md). Exit 0 when every note fits, 1 when some do not (listed), 2 on unreadable input.

    python benchmarks/label_notes.py DRAW.jsonl LABELS.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
# Numbers too common to tell one item from another.
_COMMON = frozenset({"1", "2", "3", "4", "5", "10", "100"})


def misfits(drawn: Sequence[Mapping[str, str]], labels: Sequence[Mapping[str, str]]) -> list[int]:
    """Indices of the label lines that name another item, or whose note's numbers are mostly
    absent from their item."""
    out = []
    for i, (item, label) in enumerate(zip(drawn, labels, strict=True)):
        if (item["set"], item["id"]) != (label["set"], label["id"]):
            out.append(i)
            continue
        text = (item["question"] + item["gold"] + item["response"]).replace(",", "")
        numbers = [n.replace(",", "").rstrip(".") for n in _NUMBER.findall(label.get("note", ""))]
        numbers = [n for n in numbers if n not in _COMMON]
        if numbers and sum(n not in text for n in numbers) > len(numbers) / 2:
            out.append(i)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("draw", type=Path)
    parser.add_argument("labels", type=Path)
    args = parser.parse_args(argv)
    try:
        drawn, labels = ([json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x]
                         for p in (args.draw, args.labels))
        bad = misfits(drawn, labels)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"label_notes: cannot read the draw and its labels: {e}", file=sys.stderr)
        return 2
    for i in bad:
        print(f"line {i + 1}: {labels[i]['set']} {labels[i]['id']}: {labels[i].get('note', '')!r}")
    print(f"{len(bad)} of {len(labels)} notes do not fit their item")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
