"""`reasoneval score`: rescore saved generations from a JSONL file, without a model.

The command line reads the file and hands it to :func:`score_saved`, which the Python API calls
too (reasoneval.api.score); the scoring itself is reasoneval/scoring.py and score_traces.py.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reasoneval.records import ORIGINAL
from reasoneval.scoring import (
    MAX_RESPONSE_CHARS,
    SCORE_LAYERS,
    ScoreOptions,
    ScoreSummary,
    score_rows,
)
from reasonkit.artifacts import check_out_file, read_jsonl, write_jsonl_atomic
from reasonkit.errors import InputError, seed_int

__all__ = ["MAX_RESPONSE_CHARS", "ScoreOptions", "ScoreResult", "ScoreSummary", "score_file",
           "score_rows", "score_saved"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ScoreResult:
    rows: list[dict[str, Any]]  # each input row plus extracted, strategy, correct (and trace)
    summary: ScoreSummary
    traces: dict[str, Any] | None = None  # the traces layer's figures, when it ran

    def json(self) -> dict[str, Any]:
        """What ``--json`` prints."""
        payload: dict[str, Any] = asdict(self.summary)
        if self.traces is not None:
            payload["traces"] = self.traces
        return payload

    def text(self) -> str:
        """What the command prints without ``--json``."""
        if self.traces is None:
            return self.summary.text()
        from reasoneval.score_traces import traces_text

        return f"{self.summary.text()}\n{traces_text(self.traces)}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="JSONL of saved generations")
    parser.add_argument("--response-field", required=True, help="field holding the model output")
    parser.add_argument("--gold-field", required=True, help="raw GSM8K answer or bare value")
    parser.add_argument("--id-field", help="field copied to 'id' for `reasoneval compare`")
    parser.add_argument("--out", type=Path, required=True, help="scored JSONL to write")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--layers",
        default="accuracy",
        help="comma-separated: accuracy (always) and traces; traces reads no model either",
    )
    parser.add_argument("--finish-field", default="finish_reason", help="stop/length per row")
    parser.add_argument("--seed", type=seed_int, default=0, help="seed for the traces bootstrap")
    parser.add_argument(
        "--think", action="store_true",
        help="the responses continue a prompt that opened <think> (as `reasoneval run` primes): "
        "a response without </think> has no answer, and traces checks the tags",
    )
    parser.add_argument("--question-field", help="question text per row, for the traces checks")
    parser.add_argument(
        "--solution-field",
        help="gold solution per row in GSM8K layout (<<a*b=c>> step annotations), for the traces "
        "gold-path check; by default a --gold-field value holding '####' is used as the solution",
    )
    parser.add_argument(
        "--percent", choices=("number", "fraction", "either"), default="number",
        help="how '33.5%%' compares with a gold: as 33.5 (GSM8K's convention), as 0.335, or either",
    )
    parser.add_argument(
        "--variant", default=ORIGINAL,
        help="count the rows of this prompt variant or family (default original: a run's "
        "sensitivity variants are left out, as in `compare`), or all",
    )
    parser.add_argument(
        "--strict", action="store_true",
        help="exit 2 on a gold with no numeric answer (default: that row is unscorable)",
    )


def parse_score_layers(text: str) -> tuple[str, ...]:
    return _known_layers(tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip())))


def _known_layers(names: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in SCORE_LAYERS]
    if unknown:
        raise InputError(f"--layers: {', '.join(unknown)} cannot run on saved generations "
                         f"(choose from {', '.join(SCORE_LAYERS)})")
    return names


def score_saved(rows: Sequence[Mapping[str, Any]], options: ScoreOptions) -> ScoreResult:
    """Score saved rows: the accuracy summary, and the traces layer when ``options.layers`` asks."""
    _known_layers(options.layers)
    for option, name in (("--question-field", options.question_field),
                         ("--solution-field", options.solution_field)):
        if name and rows and name not in rows[0]:
            raise InputError(f"row 1: missing field {name!r} ({option})")
    scored, summary = score_rows(
        rows, response_field=options.response_field, gold_field=options.gold_field,
        id_field=options.id_field, think=options.think, percent=options.percent,
        strict_gold=options.strict_gold, variant=options.variant,
    )
    if "traces" not in options.layers:
        return ScoreResult(scored, summary)
    from reasoneval.score_traces import traces_over_rows

    return ScoreResult(scored, summary, traces_over_rows(scored, options))


def score_file(file: Path, out: Path | None, options: ScoreOptions) -> ScoreResult:
    """Score a JSONL file of saved generations; the scored rows go to ``out`` when given."""
    if out is not None:
        check_out_file(out)
    result = score_saved(read_jsonl(file), options)
    if out is not None:
        write_jsonl_atomic(out, result.rows)
    return result


def run(args: argparse.Namespace) -> int:
    options = ScoreOptions(
        response_field=args.response_field, gold_field=args.gold_field, id_field=args.id_field,
        think=args.think, percent=args.percent, strict_gold=args.strict, variant=args.variant,
        layers=parse_score_layers(args.layers), finish_field=args.finish_field, seed=args.seed,
        question_field=args.question_field, solution_field=args.solution_field,
    )
    result = score_file(args.file, args.out, options)
    print(json.dumps(result.json(), indent=2) if args.json else result.text())
    return 0
