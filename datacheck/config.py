"""The settings of one ``datacheck clean`` run, typed: the CLI, the pipeline and the studies build it."""

from __future__ import annotations

from dataclasses import dataclass, field

from datacheck.contamination import DEFAULT_RULES
from datacheck.dedup.config import DedupConfig

# The two steps that look at rows together rather than one by one: a rejection's ``check`` and a
# name ``skip`` takes, beside every registered check's (datacheck.checks.registry).
CONTAMINATION = "contamination"
NEAR_DUPLICATE = "near_duplicate"


@dataclass(frozen=True, slots=True)
class CleanConfig:
    # report.json's "thresholds" lists these fields in this order: keep it.
    dedup: DedupConfig = field(default_factory=DedupConfig)
    contamination_ngram: int = 13
    # datacheck.contamination's rule names; a templated task leaves out "template".
    contamination_rules: frozenset[str] = DEFAULT_RULES
    context_length: int = 2048
    outlier_percentile: float = 99.0
    tokenizer_path: str | None = None
    model_path: str | None = None
    max_ifd: float = 1.0
    # Checks switched off by name (a check's ``name``, "contamination", "near_duplicate"): the
    # cleaning study's leave-one-out arms. Rows a skipped check would reject stay kept.
    skip: frozenset[str] = frozenset()
