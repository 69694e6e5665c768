"""The Python API: run, score, compare and gate from a notebook or a trainer, with typed results.

Each is the command's own code path (no second implementation): ``run`` parses its options with
`reasoneval run`'s parser, so every check and default is the command's; a bad value raises
InputError, where the command exits 2. A failed gate is in the result, not an exception.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NoReturn

from reasoneval.multiseed import GroupComparison
from reasoneval.records import ORIGINAL
from reasoneval.report_record import GateRecord, RunReportRecord, read_report
from reasoneval.score import ScoreResult
from reasoneval.scoring import ScoreOptions
from reasonkit.errors import InputError

__all__ = ["GateRecord", "GroupComparison", "RunReportRecord", "ScoreResult", "compare", "gate",
           "read_report", "run", "score"]  # fmt: skip

RunPath = str | Path  # a run directory, or a samples JSONL file


class _Parser(argparse.ArgumentParser):
    """A command's parser whose usage errors are InputError, not an exit."""

    def error(self, message: str) -> NoReturn:
        raise InputError(message)


def _parse(add_arguments: Callable[[argparse.ArgumentParser], None], positional: Sequence[object],
           options: Mapping[str, Any]) -> argparse.Namespace:
    """``options`` (by their argparse names: max_new_tokens=64) as a command line, parsed."""
    parser = _Parser(allow_abbrev=False)
    add_arguments(parser)
    actions = {a.dest: a for a in parser._actions if a.option_strings}
    argv = [str(p) for p in positional]
    for name, value in options.items():
        action = actions.get(name)
        if action is None:
            raise TypeError(f"unknown option {name!r} (`reasoneval run --help` lists them)")
        flag = action.option_strings[-1]
        if value is None or value is False:
            continue  # the command's default
        if value is True and action.nargs == 0:
            argv.append(flag)
        elif isinstance(value, list | tuple):  # a repeatable option: --gate, --variants-file
            argv += [token for item in value for token in (flag, str(item))]
        else:
            argv += [flag, str(value)]
    return parser.parse_args(argv)


def run(
    checkpoint: str | Path,
    *,
    out: str | Path,
    layers: Sequence[str] = ("accuracy",),
    gates: Sequence[str] = (),
    **options: Any,
) -> RunReportRecord | None:
    """`reasoneval run CHECKPOINT --layers ... --out OUT`: generate, score, write the run, gate.

    ``options`` are the command's other options by name: ``dataset="synthetic"``, ``limit=20``,
    ``max_new_tokens=64``, ``backend="hf"``, ``baseline=DIR``, ``seed=0``. The record's ``gates``
    hold the verdicts (``report.passed``). None only in a non-main process of `accelerate launch`.
    """
    from reasoneval.run_args import add_arguments, run_from_args

    args = _parse(add_arguments, [checkpoint, "--out", out],
                  {"layers": ",".join(layers), "gate": list(gates), **options})  # fmt: skip
    return run_from_args(args)


def score(
    rows: str | Path | Sequence[Mapping[str, Any]],
    *,
    response_field: str,
    gold_field: str,
    out: str | Path | None = None,
    layers: Sequence[str] = ("accuracy",),
    **options: Any,
) -> ScoreResult:
    """`reasoneval score`: saved generations (a JSONL file, or the rows) rescored without a model.

    ``options`` are :class:`reasoneval.scoring.ScoreOptions` fields (id_field, think, percent,
    variant, ...). With ``out`` the scored rows are written there, as the command writes them.
    """
    from reasoneval.score import score_file, score_saved
    from reasonkit.artifacts import check_out_file, write_jsonl_atomic

    opts = ScoreOptions(response_field=response_field, gold_field=gold_field,
                        layers=tuple(layers), **options)  # fmt: skip
    target = None if out is None else Path(out)
    if isinstance(rows, str | Path):
        return score_file(Path(rows), target, opts)
    if target is not None:
        check_out_file(target)
    result = score_saved(rows, opts)
    if target is not None:
        write_jsonl_atomic(target, result.rows)
    return result


def compare(
    baseline: RunPath | Sequence[RunPath],
    candidate: RunPath | Sequence[RunPath],
    *,
    test: Literal["non-inferiority", "superiority"] = "non-inferiority",
    margin_points: float = 2.0,
    min_effect_points: float = 0.0,
    variant: str = ORIGINAL,
    seed: int = 0,
    n_boot: int = 10_000,
    id_field: str = "id",
    allow_style_mismatch: bool = False,
) -> GroupComparison:
    """`reasoneval compare`: one run a side, or a group of runs (one per training seed)."""
    from reasoneval.compare import compare_runs

    sides = [[Path(p) for p in ([s] if isinstance(s, str | Path) else s)]
             for s in (baseline, candidate)]  # fmt: skip
    return compare_runs(sides[0], sides[1], test=test, margin_points=margin_points,
                        min_effect_points=min_effect_points, variant=variant, seed=seed,
                        n_boot=n_boot, id_field=id_field, allow_style_mismatch=allow_style_mismatch,
                        style_flag="allow_style_mismatch=True")  # fmt: skip


def gate(
    run_dir: str | Path,
    gates: Sequence[str] = (),
    *,
    baseline: str | Path | None = None,
    margin_points: float = 2.0,
    seed: int = 0,
) -> tuple[GateRecord, ...]:
    """A finished run's gates, as `reasoneval run --gate ... [--baseline DIR]` decides them: with
    a baseline, the paired accuracy non-inferiority test first, then each metric gate."""
    from reasoneval.gates import check_gates_up_front, load_run_dir, parse_gate
    from reasoneval.run_assemble import run_gates

    report = read_report(Path(run_dir))
    parsed = tuple(parse_gate(g) for g in gates)
    check_gates_up_front(parsed, [layer.name for layer in report.layers], baseline is not None)
    base = None if baseline is None else load_run_dir(Path(baseline))
    return run_gates(report, parsed, base, samples=Path(run_dir) / "samples.jsonl",
                     margin_points=margin_points, seed=seed).gates  # fmt: skip
