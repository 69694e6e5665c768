"""`datacheck clean DATASET --out DIR` and `datacheck dedup FILE.jsonl --field F --out DIR`.

Exit status: 0 ok; 1 a gate failed; 2 bad input or usage; 3 internal error; each with one line
on stderr (docs/exit-codes.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reasonkit.errors import (
    EXIT_CODES_HELP,
    EXIT_OK,
    GateFailed,
    InputError,
    OneLineParser,
    debug_requested,
    guarded,
    positive_int,
)

if TYPE_CHECKING:
    from datacheck.config import CleanConfig
    from datacheck.dedup.clusters import DedupConfig


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _rules(text: str) -> frozenset[str]:
    from datacheck.contamination import parse_rules

    try:
        return parse_rules(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _dedup_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threshold", type=_fraction, default=0.7, help="near-duplicate word-3-gram Jaccard (0.7)"
    )
    parser.add_argument("--num-perm", type=positive_int, default=128, help="MinHash permutations (128)")
    parser.add_argument(
        "--min-detection",
        type=_fraction,
        default=0.9,
        help="P(candidate) for a pair at the threshold (0.9)",
    )
    parser.add_argument(
        "--minhash-seed", type=int, default=1, help="permutation seed (datasketch's default, 1)"
    )
    parser.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="near-duplicate search here, or on Ray Data in resumable stages under OUT/ray_stages",
    )
    parser.add_argument("--ray-address", help="with --engine ray: auto, or ray://HOST:10001")


def _check_options(parser: argparse.ArgumentParser) -> None:
    """A section per registered check, in the order they run: what it rejects, and its flags."""
    from datacheck.checks.registry import CHECKS

    for entry in CHECKS.values():
        title = f"check {entry.name}" + (" (train rows only)" if entry.train_only else "")
        group = parser.add_argument_group(title, f"rejects {entry.rejects}")
        for option in entry.options:
            group.add_argument(option.flag, dest=option.field, type=option.type,
                               metavar=option.metavar, help=option.help)  # fmt: skip


def make_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="datacheck", description=__doc__.splitlines()[0], epilog=EXIT_CODES_HELP
    )
    parser.add_argument("--debug", action="store_true", help="print tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True)
    clean = sub.add_parser(
        "clean", help="check, decontaminate and deduplicate a dataset", epilog=EXIT_CODES_HELP
    )
    clean.add_argument("dataset", help="gsm8k, synthetic, or a path to a JSONL file")
    clean.add_argument("--out", type=Path, required=True)
    clean.add_argument(
        "--data-dir", type=Path, help="local GSM8K copy (train.jsonl, test.jsonl); env GSM8K_DIR"
    )
    clean.add_argument("--question-field", default="question")
    clean.add_argument("--answer-field", default="answer")
    clean.add_argument(
        "--split", default="train", help="split name for a single JSONL file (train)"
    )
    clean.add_argument("--seed", type=int, default=0, help="seed of the synthetic dataset (0)")
    clean.add_argument("--contamination-ngram", type=positive_int, default=13)
    clean.add_argument(
        "--contamination-rules", type=_rules,
        help="comma-separated: ngram, minhash, computation, template (docs/datacheck.md). "
        "Default: all four; synthetic leaves out template (its test split shares templates by design)",
    )  # fmt: skip
    clean.add_argument(
        "--max-reject-rate", type=_fraction, help="gate: fail (exit 1) above this fraction"
    )
    clean.add_argument(
        "--max-contamination", type=int, help="gate: fail (exit 1) above this many train rows"
    )
    clean.add_argument(
        "--max-leaked-items", type=int, metavar="N",
        help="gate: fail (exit 1) when a held-out split has more than N items with a twin among "
        "the kept train rows (the leak audit in report.md)",
    )  # fmt: skip
    _dedup_options(clean)
    _check_options(clean)
    dedup = sub.add_parser(
        "dedup", help="MinHash near-duplicate clusters of one JSONL field", epilog=EXIT_CODES_HELP
    )
    dedup.add_argument("file", type=Path)
    dedup.add_argument("--field", required=True)
    dedup.add_argument("--out", type=Path, required=True)
    _dedup_options(dedup)
    return parser


def _dedup_config(args: argparse.Namespace) -> DedupConfig:
    from datacheck.dedup.clusters import DedupConfig

    return DedupConfig(
        threshold=args.threshold,
        num_perm=args.num_perm,
        seed=args.minhash_seed,
        min_detection=args.min_detection,
        engine=args.engine,
        ray_workdir=str(args.out / "ray_stages"),
        ray_address=args.ray_address,
    )


def _check_local_models(args: argparse.Namespace) -> None:
    """--tokenizer and --model are local directories; the model's weights safe to load."""
    from reasonkit.checkpoint_files import check_remote_code, check_weights

    for flag, value in (("--tokenizer", args.tokenizer_path), ("--model", args.model_path)):
        if value is not None and not Path(value).is_dir():
            raise InputError(f"{flag} {value} is not a local directory")
    if args.model_path is not None:
        check_weights(Path(args.model_path), allow_pickle=False, flag=None)
        check_remote_code(Path(args.model_path), trust_remote_code=False, flag=None)


def clean_config(args: argparse.Namespace) -> CleanConfig:
    """The run's typed settings from the flags: the checks' own flags as their registry entries name."""
    from datacheck.checks.registry import CHECKS
    from datacheck.config import CleanConfig
    from datacheck.contamination import DEFAULT_RULES, TEMPLATED_RULES

    rules = args.contamination_rules or (TEMPLATED_RULES if args.dataset == "synthetic" else DEFAULT_RULES)
    fields = [o.field for entry in CHECKS.values() for o in entry.options]
    # A flag left out keeps CleanConfig's default: the one place it is stated.
    checks = {name: getattr(args, name) for name in fields if getattr(args, name) is not None}
    return CleanConfig(dedup=_dedup_config(args), contamination_ngram=args.contamination_ngram,
                       contamination_rules=rules, **checks)  # fmt: skip


def run_clean(args: argparse.Namespace) -> int:
    from datacheck.clean import clean_to_dir
    from datacheck.loading import SourceSpec

    _check_local_models(args)
    spec = SourceSpec(
        args.dataset, args.data_dir, args.question_field, args.answer_field, args.split, args.seed
    )
    config = clean_config(args)
    from reasonkit.outlock import output_lock

    with output_lock(args.out):  # a second clean into this --out exits 2
        report = clean_to_dir(spec, config, args.out)
    print(
        f"{report['rows']} rows: {report['kept']} kept, {report['rejected']} rejected; "
        f"report at {args.out / 'report.md'}",
        file=sys.stderr,
    )
    if args.max_reject_rate is not None and report["reject_rate"] > args.max_reject_rate:
        raise GateFailed(
            f"reject rate {report['reject_rate']:.4f} > --max-reject-rate {args.max_reject_rate}"
        )
    if (
        args.max_contamination is not None
        and report["contaminated_train_rows"] > args.max_contamination
    ):
        raise GateFailed(
            f"{report['contaminated_train_rows']} contaminated train rows > --max-contamination {args.max_contamination}"
        )
    leaked = {split: a["leaked_items"] for split, a in report["leak_audit"].items()}
    if args.max_leaked_items is not None and any(n > args.max_leaked_items for n in leaked.values()):
        raise GateFailed(
            "leak audit: " + ", ".join(f"{split} {n} items" for split, n in leaked.items())
            + f" with a twin among the kept train rows > --max-leaked-items {args.max_leaked_items}"
        )
    return EXIT_OK


def run_dedup(args: argparse.Namespace) -> int:
    from datacheck.dedup.command import dedup_file, summary_line

    summary = dedup_file(args.file, args.field, args.out, _dedup_config(args))
    print(summary_line(summary, args.out), file=sys.stderr)
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    try:
        return run_clean(args) if args.command == "clean" else run_dedup(args)
    except OSError as err:
        if err.filename is None:
            raise  # not about a path the user gave: an internal error
        # unreadable input, unwritable --out: bad input, not a crash
        raise InputError(f"{err.strerror or err} ({err.filename})") from err


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(argv)
    args = make_parser().parse_args(argv)
    return guarded("datacheck", lambda: _run(args), debug=debug or args.debug)


if __name__ == "__main__":
    sys.exit(main())
