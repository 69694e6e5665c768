"""`reasoneval` command line: one subcommand per module, each imported only when chosen.

Exit codes (all subcommands): 0 success/pass, 1 a gate failed (regression), 2 bad input or usage,
with a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from reasoneval.errors import InputError

# subcommand -> (module, help). Each module defines add_arguments(parser) and run(args) -> int.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "score": ("reasoneval.score", "rescore saved generations without a model"),
    "compare": ("reasoneval.compare", "paired comparison of two runs, or two groups of seeds"),
    "run": ("reasoneval.run", "generate with a checkpoint and evaluate the chosen layers"),
    "tiny-model": ("reasoneval.tiny_model", "build a tiny Qwen2 checkpoint locally (no hub)"),
}


def make_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reasoneval", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == chosen:  # import only the module that runs: `score` must not load torch
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = make_parser(argv).parse_args(argv)
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    try:
        code: int = module.run(args)
    except InputError as exc:
        print(f"reasoneval {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"reasoneval {args.command}: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
