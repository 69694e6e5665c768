"""What the scripts share: a typed dataclass config with a YAML overlay and ``--set KEY=VALUE``
overrides (the shape of TRL's scripts; YAML holds numbers and paths), and the command-line
boundary that turns errors into the project's exit codes."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from reasonkit.errors import InputError, one_line

T = TypeVar("T")


class UsageError(InputError, ValueError):
    """A bad profile, override or seed list: one line, exit 2."""


def _coerce(cls: type, name: str, value: Any) -> Any:
    """A YAML or --set value as its field's type (YAML reads `1e-5` as a string, for one)."""
    f = {f.name: f for f in dataclasses.fields(cls)}[name]
    sample = f.default_factory() if callable(f.default_factory) else f.default
    if isinstance(sample, list):
        items = [] if value is None else value if isinstance(value, list) else str(value).split(",")
        kinds: dict[str, type] = {"list[float]": float, "list[str]": str}
        kind = kinds.get(str(f.type), int)  # the annotation as written: list[int] by default
        try:
            return [_number(kind, v) if kind is not str else v for v in items if str(v).strip()]
        except (TypeError, ValueError, OverflowError):
            raise UsageError(f"{name} wants {kind.__name__}s, got {value!r}") from None
    if isinstance(sample, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    optional_number = {"float | None": float, "int | None": int}.get(str(f.type))
    if optional_number is not None:
        if value is None or str(value).lower() in ("null", "none", ""):
            return None
        try:
            return optional_number(value)
        except (TypeError, ValueError):
            raise UsageError(f"{name} wants a number or none, got {value!r}") from None
    if isinstance(sample, int | float):
        try:
            return _number(type(sample), value)
        except (TypeError, ValueError, OverflowError):
            raise UsageError(f"{name} wants a number, got {value!r}") from None
    if "None" in str(f.type):  # an optional setting (a baseline): null, none or nothing unset it
        return None if value is None or str(value).lower() in ("null", "none", "") else str(value)
    if value is None:  # `--set layers=` read as null, then failed as an internal error
        raise UsageError(f"{name} wants a value, got nothing")
    return str(value)  # "none" is a value here: grpo_scale_rewards=none is TRL's choice


def _number(kind: type, value: Any) -> Any:
    """``kind(value)``, but 2.7 is no int (int() truncated it) and neither is true or .inf."""
    if kind is int and (isinstance(value, bool) or (isinstance(value, float) and not value.is_integer())):
        raise ValueError(value)
    return kind(value)


def load_dataclass(cls: type[T], path: Path, overrides: Sequence[str] = ()) -> T:
    """``cls``'s defaults, overlaid by the YAML file at ``path``, then by ``KEY=VALUE`` items."""
    import yaml

    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise UsageError(f"--set wants KEY=VALUE, got {item!r}")
        try:
            values[key] = yaml.safe_load(raw)
        except yaml.YAMLError as exc:  # `--seeds ' , '` was an internal error (issue 29)
            raise UsageError(f"{key}: {raw!r} is not a value ({one_line(exc, 120)})") from None
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise UsageError(f"unknown config keys {unknown} in {path.name} or --set")
    return cls(**{k: _coerce(cls, k, v) for k, v in values.items()})


def check_seeds(seeds: Sequence[int]) -> None:
    if not seeds or len(set(seeds)) != len(seeds):
        raise UsageError(f"seeds must be distinct integers, got {list(seeds)}")


def guarded_cli(name: str, parser: argparse.ArgumentParser, argv: Sequence[str] | None,
                body: Callable[[argparse.Namespace], int]) -> int:  # fmt: skip
    """A script's command line inside the project's exit-code boundary (``reasonkit.errors``):
    parse, quiet the training libraries, check ``--out``, then ``body(args)``. Bad usage and bad
    input are one line and exit 2; a crash is one line, a log and exit 3."""
    from reasonkit.artifacts import check_out_dir
    from reasonkit.errors import debug_requested, guarded
    from train.config import ConfigError
    from train.console import quiet_library_noise, quiet_progress_bars
    from train.data import TrainDataError

    raw = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(raw)
    args = parser.parse_args(raw)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    quiet_library_noise()  # before torch, bitsandbytes or TRL load (train.console)
    quiet_progress_bars()  # piped into a log, tqdm writes thousands of updates

    def run() -> int:
        from reasonkit.outlock import output_lock

        check_out_dir(args.out)
        with output_lock(args.out):  # a second run on this --out exits 2 (reasonkit.outlock)
            return body(args)

    return guarded(name, run, debug=debug, input_errors=(UsageError, ConfigError, TrainDataError))
