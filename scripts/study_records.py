"""The studies' typed results: what travels between the study scripts, turned into JSON once.

``study_cleaning`` and ``study_recipes`` build these records, ``study_report`` renders them, and
``Study.to_json`` is the one place that knows study.json's layout (schema_version 1). Each
comparison keeps ``reasoneval.compare_groups``'s own ``GroupComparison``: the study adds only
its reading (the p-value matching the interval, the verdict, Holm's adjustment).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the CLI starts without numpy
    from datacheck.flaws import FlawRates
    from reasoneval.compare import GroupComparison

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class HolmAdjustment:
    """One comparison's place in its study's family of tests (Holm 1979)."""

    p_holm: float
    effect: str  # the CI's reading where the adjusted p < alpha, else "not resolved after Holm"
    family_size: int


@dataclass(frozen=True, slots=True)
class ArmComparison:
    """candidate - baseline over the arms' training seeds, and how the study reads it."""

    result: GroupComparison
    p_value: float  # two-sided, from the test matching the interval
    effect: str  # "helps", "hurts", "no clear effect", or why there is no test
    # Set on the cleaning study's per-check comparisons only: True when both arms kept the same
    # rows, so they share one training and the comparison is no test (not in the Holm family).
    same_rows_as_clean: bool | None = None
    holm: HolmAdjustment | None = None

    @property
    def tested(self) -> bool:
        return not self.same_rows_as_clean

    def to_json(self) -> dict[str, Any]:
        r = self.result
        out: dict[str, Any] = {
            "p_value": self.p_value, "n_items": r.n_items, "runs": [r.n_baseline_runs, r.n_candidate_runs],
            "baseline_accuracy": r.baseline_accuracy, "candidate_accuracy": r.candidate_accuracy,
            "baseline_runs": list(r.baseline_runs), "candidate_runs": list(r.candidate_runs),
            "delta": r.delta, "ci_low": r.ci_low, "ci_high": r.ci_high, "ci_method": r.ci_method,
            "mcnemar_p": r.mcnemar_p, "mde": r.mde, "effect": self.effect,
            "compare_verdict": r.verdict(),
        }  # fmt: skip
        if self.same_rows_as_clean is not None:
            out["same_rows_as_clean"] = self.same_rows_as_clean
        if self.holm is not None:
            out |= {"p_holm": self.holm.p_holm, "holm_effect": self.holm.effect,
                    "family_size": self.holm.family_size}  # fmt: skip
        return out


@dataclass(frozen=True, slots=True)
class Detection:
    """How many planted rows of one (flaw, variant) each check caught, or ``kept``."""

    flaw: str
    variant: str
    planted: int
    caught_by: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"flaw": self.flaw, "variant": self.variant, "planted": self.planted,
                "caught_by": dict(self.caught_by)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Inflation:
    """The raw arm's score on test items whose problem leaked into train, against the rest."""

    on_leaked: ArmComparison  # raw (candidate) - clean (baseline) on the leaked items
    on_rest: ArmComparison
    cells: tuple[str, ...]  # the report's table row

    def to_json(self) -> dict[str, Any]:
        return {"leaked_items": self.on_leaked.result.n_items,
                "raw_minus_clean_on_leaked": self.on_leaked.to_json(),
                "raw_minus_clean_on_rest": self.on_rest.to_json(), "cells": list(self.cells)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LevelFigures:
    """One flaw level of the cleaning study: what datacheck did, and what it was worth."""

    level: float  # share of train rows flawed
    rates: FlawRates
    rejected: Mapping[str, int]  # check -> train rows the full clean rejected
    detection: tuple[Detection, ...]
    unflawed_rejected: Mapping[str, int]
    clean_vs_raw: ArmComparison
    checks: Mapping[str, ArmComparison]  # check -> clean vs clean-without-it
    inflation: Inflation | None  # None when no leak was planted

    def family(self) -> list[ArmComparison]:
        """This level's comparisons in the Holm family's order: clean vs raw, then each check."""
        return [self.clean_vs_raw, *self.checks.values()]

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "rates": self.rates.to_dict(), "rejected": dict(self.rejected),
                "detection": [d.to_json() for d in self.detection],
                "unflawed_rejected": dict(self.unflawed_rejected),
                "clean_vs_raw": self.clean_vs_raw.to_json(),
                "checks": {k: c.to_json() for k, c in self.checks.items()},
                "inflation": self.inflation.to_json() if self.inflation else None}  # fmt: skip


@dataclass(frozen=True, slots=True)
class CleaningFigures:
    levels: Mapping[str, LevelFigures]  # by level label ("11.5%"), in level order

    def to_json(self) -> dict[str, Any]:
        return {label: f.to_json() for label, f in self.levels.items()}


@dataclass(frozen=True, slots=True)
class RecipeAccuracy:
    mean: float  # over the recipe's seeds
    runs: tuple[float, ...]  # each seed's accuracy
    n_items: int

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean, "runs": list(self.runs), "n_items": self.n_items}


@dataclass(frozen=True, slots=True)
class RecipeFigures:
    accuracy: Mapping[str, RecipeAccuracy]  # by recipe, base first
    comparisons: Mapping[str, ArmComparison]  # "b vs a": every pair, one Holm family

    def to_json(self) -> dict[str, Any]:
        return {"accuracy": {k: a.to_json() for k, a in self.accuracy.items()},
                "comparisons": {k: c.to_json() for k, c in self.comparisons.items()}}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Section:
    """A part of the report: paragraphs, perhaps a table, perhaps an inline SVG plot."""

    heading: str
    text: tuple[str, ...]
    table: Table | None
    svg: str | None  # built by reasoneval.charts, which escapes its labels

    def to_json(self) -> dict[str, Any]:
        table = ({"columns": list(self.table.columns), "rows": [list(r) for r in self.table.rows]}
                 if self.table else None)  # fmt: skip
        return {"heading": self.heading, "text": list(self.text), "table": table, "svg": self.svg}

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Section:
        table = record["table"]
        return cls(record["heading"], tuple(record["text"]),
                   Table(tuple(table["columns"]), tuple(tuple(r) for r in table["rows"])) if table else None,
                   record["svg"])  # fmt: skip


@dataclass(frozen=True, slots=True)
class Page:
    """What study.md and study.html show of a study, and what can be read back from study.json."""

    title: str
    summary: tuple[str, ...]
    sections: tuple[Section, ...]
    versions: Mapping[str, str]

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Page:
        """study.json's page (benchmarks/figures.py re-renders a finished study's tables)."""
        return cls(record["title"], tuple(record["summary"]),
                   tuple(Section.from_json(s) for s in record["sections"]), record["versions"])  # fmt: skip


@dataclass(frozen=True, slots=True)
class Study:
    study: str  # "cleaning" or "recipes"
    title: str
    summary: tuple[str, ...]
    config: Mapping[str, Any]  # the typed study config as written (dataclasses.asdict)
    seconds: float  # wall time of this run
    stage_seconds: float  # every arm's stages when they ran
    figures: CleaningFigures | RecipeFigures
    sections: tuple[Section, ...]

    def to_json(self, versions: Mapping[str, str]) -> dict[str, Any]:
        """study.json: every figure, with the package versions that made them."""
        return {"schema_version": SCHEMA_VERSION, "study": self.study, "title": self.title,
                "summary": list(self.summary), "config": self.config, "seconds": self.seconds,
                "stage_seconds": self.stage_seconds, "figures": self.figures.to_json(),
                "sections": [s.to_json() for s in self.sections], "versions": dict(versions)}  # fmt: skip

    def page(self, versions: Mapping[str, str]) -> Page:
        return Page(self.title, self.summary, self.sections, versions)
