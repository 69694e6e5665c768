"""`datacheck clean`: load, check, decontaminate, deduplicate; every row ends kept or rejected.

Order matters only for which reason a row carries: the first check that rejects it. Checks run
on every row; decontamination looks at train rows still kept; near-duplicate clustering sees all
rows, so its keep policy (passes everything so far first, then lowest index) can prefer a clean
copy over an earlier broken one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from datacheck.checks import (
    CalculatorCheck,
    Check,
    FormatCheck,
    LabelConsistencyCheck,
    LearnabilityCheck,
    RoundTripCheck,
)
from datacheck.contamination import DEFAULT_RULES, find_overlaps
from datacheck.dedup.clusters import DedupConfig, DedupResult, near_duplicate_clusters
from datacheck.leak_audit import SplitAudit, audit
from datacheck.loading import LoadedSource
from datacheck.records import Problem, Rejection

NEAR_DUPLICATE = "near_duplicate"
CONTAMINATION = "contamination"
TRAIN = "train"


@dataclass(frozen=True, slots=True)
class CleanConfig:
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


@dataclass(frozen=True, slots=True)
class Cluster:
    split: str
    kept: str
    members: tuple[str, ...]
    edges: tuple[tuple[str, str, float], ...]


@dataclass(slots=True)
class CleanResult:
    kept: dict[str, list[Problem]]
    rejected: list[Rejection]
    clusters: list[Cluster]
    overlaps: list[tuple[str, str, str, str]]  # (train id, test id, kind, detail)
    bands_rows: tuple[int, int]
    n_rows: dict[str, int] = field(default_factory=dict)
    leak_audit: dict[str, SplitAudit] = field(default_factory=dict)  # held-out split -> audit


def build_checks(config: CleanConfig) -> tuple[list[Check], list[Check]]:
    """(checks for every split, checks for train only). Learnability is about what a model
    can be *trained* on, so test rows are not cut for length: that would bias evaluation."""
    learnability = LearnabilityCheck(config.context_length, config.outlier_percentile)
    if config.tokenizer_path:
        from datacheck.checks.learnability import tokenizer_counter

        learnability = LearnabilityCheck(
            config.context_length,
            config.outlier_percentile,
            tokenizer_counter(config.tokenizer_path),
        )
    train_only: list[Check] = [learnability]
    if config.model_path:
        from datacheck.checks.model_score import IFDCheck

        train_only.append(IFDCheck(config.model_path, config.max_ifd))
    common: list[Check] = [FormatCheck(), CalculatorCheck(), LabelConsistencyCheck(), RoundTripCheck()]
    unknown = sorted(config.skip - {c.name for c in [*common, *train_only]} - {CONTAMINATION, NEAR_DUPLICATE})
    if unknown:
        raise ValueError(f"no check named {', '.join(unknown)} to skip")
    return ([c for c in common if c.name not in config.skip],
            [c for c in train_only if c.name not in config.skip])  # fmt: skip


def _run_checks(
    problems: Sequence[Problem], checks: Sequence[Check], verdicts: dict[str, Rejection]
) -> None:
    for check in checks:
        survivors = [p for p in problems if p.id not in verdicts]
        fit = getattr(check, "fit", None)
        if fit is not None:
            fit(survivors)
        for p in survivors:
            verdict = check(p)
            if verdict is not None:
                verdicts[p.id] = Rejection(p.id, p.split, verdict.check, verdict.reason, p.source)


def clean(source: LoadedSource, config: CleanConfig) -> CleanResult:
    common, train_only = build_checks(config)
    verdicts: dict[str, Rejection] = {}
    for split, loaded in source.splits.items():
        checks = [*common, *train_only] if split == TRAIN or len(source.splits) == 1 else common
        _run_checks(loaded.problems, checks, verdicts)
    overlaps = [] if CONTAMINATION in config.skip else _decontaminate(source, config, verdicts)
    clusters: list[Cluster] = []
    for loaded in source.splits.values():
        if NEAR_DUPLICATE not in config.skip:
            clusters += _deduplicate(loaded.problems, config.dedup, verdicts)
    kept = {
        split: [p for p in loaded.problems if p.id not in verdicts]
        for split, loaded in source.splits.items()
    }
    held_out = {split: loaded.problems for split, loaded in source.splits.items() if split != TRAIN}
    leaks = audit(held_out, kept[TRAIN]) if TRAIN in kept else {}
    rejected = [r for loaded in source.splits.values() for r in loaded.rejections]
    rejected += [
        verdicts[p.id]
        for loaded in source.splits.values()
        for p in loaded.problems
        if p.id in verdicts
    ]
    return CleanResult(
        kept,
        rejected,
        clusters,
        overlaps,
        config.dedup.banding(),
        {split: loaded.n_rows for split, loaded in source.splits.items()},
        leaks,
    )


def _decontaminate(
    source: LoadedSource, config: CleanConfig, verdicts: dict[str, Rejection]
) -> list[tuple[str, str, str, str]]:
    """Train rows still kept, against every held-out split (test; the synthetic task's val and
    test-ood too)."""
    held_out = [p for split, loaded in source.splits.items() if split != TRAIN for p in loaded.problems]
    if TRAIN not in source.splits or not held_out:
        return []
    train = [p for p in source.splits[TRAIN].problems if p.id not in verdicts]
    found = find_overlaps(train, held_out, config.contamination_rules,
                          ngram=config.contamination_ngram, dedup=config.dedup)  # fmt: skip
    reported = []
    for i, overlap in sorted(found.items()):
        row, match = train[i], held_out[overlap.test]
        reason = f"overlaps {match.split} row {match.id} ({overlap.kind}: {overlap.detail})"
        verdicts[row.id] = Rejection(row.id, row.split, CONTAMINATION, reason, row.source, match.id)
        reported.append((row.id, match.id, overlap.kind, overlap.detail))
    return reported


def _deduplicate(
    problems: Sequence[Problem], config: DedupConfig, verdicts: dict[str, Rejection]
) -> list[Cluster]:
    result: DedupResult = near_duplicate_clusters([p.question for p in problems], config)
    clusters = []
    for members in result.clusters:
        # Keep policy: a member that passed every check so far, then the lowest line index.
        survivor = min(members, key=lambda i: (problems[i].id in verdicts, problems[i].index))
        kept = problems[survivor]
        for i in members:
            p = problems[i]
            if i != survivor and p.id not in verdicts:
                reason = f"near-duplicate of {kept.id} (question word-3-gram Jaccard >= {config.threshold:g})"
                verdicts[p.id] = Rejection(p.id, p.split, NEAR_DUPLICATE, reason, p.source, kept.id)
        member_set = set(members)
        edges = tuple(
            (problems[e.left].id, problems[e.right].id, round(e.jaccard, 4))
            for e in result.edges
            if e.left in member_set
        )
        clusters.append(Cluster(kept.split, kept.id, tuple(problems[i].id for i in members), edges))
    return clusters
