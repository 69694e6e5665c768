"""`reasoneval` command line: one subcommand per module, each imported only when chosen.

Exit codes (all subcommands): 0 success/pass, 1 a gate failed (regression), 2 bad input or usage,
3 internal error; each with a one-line reason on stderr (docs/exit-codes.md).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from reasonkit.errors import EXIT_CODES_HELP, OneLineParser, debug_requested, guarded

# subcommand -> (module, help). Each module defines add_arguments(parser) and run(args) -> int.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "score": ("reasoneval.score", "rescore saved generations without a model"),
    "compare": ("reasoneval.compare", "paired comparison of two runs, or two groups of seeds"),
    "run": ("reasoneval.run_args", "generate with a checkpoint and evaluate the chosen layers"),
    "convert-gguf": ("reasoneval.gguf", "write a safetensors checkpoint from a GGUF file"),
    "tiny-model": ("reasoneval.tiny_model", "build a tiny Qwen2 checkpoint locally (no hub)"),
}


def make_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="reasoneval", description=__doc__.splitlines()[0], epilog=EXIT_CODES_HELP
    )
    parser.add_argument("--debug", action="store_true", help="print tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, epilog=EXIT_CODES_HELP)
        if name == chosen:  # import only the module that runs: `score` must not load torch
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(argv)

    def body() -> int:
        # Inside the boundary: building the parser imports the subcommand's module.
        args = make_parser(argv).parse_args(argv)
        code: int = importlib.import_module(SUBCOMMANDS[args.command][0]).run(args)
        return code

    chosen = next((a for a in argv if not a.startswith("-")), "")
    prog = f"reasoneval {chosen}" if chosen in SUBCOMMANDS else "reasoneval"
    return guarded(prog, body, debug=debug)


if __name__ == "__main__":
    raise SystemExit(main())
