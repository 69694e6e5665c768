"""The row checks in the order they run; adding one is one ``register`` call here.

A row carries the first check that rejects it, so this order is the order of reasons. Each
entry is the check's class (its ``name`` is the rejection's ``check``), a line on what it
rejects (``datacheck clean --help`` shows it), how a run's CleanConfig builds it, and the
``datacheck clean`` flags that set that config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datacheck.checks.base import Check
from datacheck.checks.calculator import CalculatorCheck
from datacheck.checks.format import FormatCheck
from datacheck.checks.label import LabelConsistencyCheck
from datacheck.checks.learnability import LearnabilityCheck
from datacheck.checks.model_score import IFDCheck
from datacheck.checks.roundtrip import RoundTripCheck
from reasonkit.errors import finite_float, float_in, positive_int

# Only a type here: CleanConfig's module loads the near-duplicate engine (numba), which
# `datacheck clean --help` should not wait for.
if TYPE_CHECKING:
    from datacheck.config import CleanConfig


@dataclass(frozen=True, slots=True)
class Option:
    """One ``datacheck clean`` flag that sets a CleanConfig field; left out, the field's default."""

    flag: str
    field: str  # CleanConfig's field, and the flag's argparse dest
    type: Callable[[str], Any] = str
    help: str | None = None

    @property
    def metavar(self) -> str:
        return self.flag.lstrip("-").upper().replace("-", "_")


@dataclass(frozen=True, slots=True)
class CheckEntry:
    name: str
    rejects: str
    build: Callable[[CleanConfig], Check | None]  # None: this config does not switch it on
    # Train only: a check about what a model can be *trained* on (learnability) must not cut
    # held-out rows, which would bias evaluation.
    train_only: bool = False
    # report.md lists every rejection, not a sample: each is a judgement about a specific row.
    listed_in_full: bool = False
    options: tuple[Option, ...] = ()


CHECKS: dict[str, CheckEntry] = {}


def register(
    check: type[Check],
    rejects: str,
    *,
    build: Callable[[CleanConfig], Check | None] | None = None,
    train_only: bool = False,
    listed_in_full: bool = False,
    options: tuple[Option, ...] = (),
) -> CheckEntry:
    """Add a check after those registered so far; ``build`` defaults to the class's defaults."""
    if check.name in CHECKS:
        raise ValueError(f"a check named {check.name} is registered already")
    entry = CheckEntry(check.name, rejects, build or (lambda _config: check()), train_only,
                       listed_in_full, options)  # fmt: skip
    CHECKS[check.name] = entry
    return entry


def _learnability(config: CleanConfig) -> Check:
    if config.tokenizer_path is None:
        return LearnabilityCheck(config.context_length, config.outlier_percentile)
    from datacheck.checks.learnability import tokenizer_counter

    return LearnabilityCheck(
        config.context_length, config.outlier_percentile, tokenizer_counter(config.tokenizer_path)
    )


def _model_score(config: CleanConfig) -> Check | None:
    return None if config.model_path is None else IFDCheck(config.model_path, config.max_ifd)


register(
    FormatCheck,
    "rows not shaped like a GSM8K problem (one '####' marker, a question, reasoning, a numeric "
    "label) or carrying leaked chat-template tokens or encoding damage",
)
register(
    CalculatorCheck,
    "a calculator annotation <<expr=value>> that does not evaluate to its value, or prose after "
    "it that states another number",
    listed_in_full=True,
)
register(
    LabelConsistencyCheck,
    "a '####' label that is not what the reasoning computes at its end",
    listed_in_full=True,
)
register(
    RoundTripCheck,
    "a row whose answer, rendered in the training format, does not parse back to itself",
)
register(
    LearnabilityCheck,
    "train rows longer than the context, or length outliers (reasoning tokens or steps beyond "
    "the percentile)",
    build=_learnability,
    train_only=True,
    options=(
        Option("--context-length", "context_length", positive_int),
        Option("--outlier-percentile", "outlier_percentile", float_in(0, 100, low_open=True)),
        Option("--tokenizer", "tokenizer_path", help="local tokenizer directory for token counts"),
    ),
)
register(
    IFDCheck,
    "with --model: train rows whose IFD, loss(answer | question) / loss(answer), is above --max-ifd",
    build=_model_score,
    train_only=True,
    options=(
        Option("--model", "model_path", help="local causal LM directory: adds the IFD model score"),
        Option("--max-ifd", "max_ifd", finite_float),
    ),
)
