"""`datacheck clean`: load, check, decontaminate, deduplicate; every row ends kept or rejected.

Order matters only for which reason a row carries: the first check that rejects it. The row
checks (datacheck.checks.registry, in its order) run on every row; decontamination looks at
train rows still kept; near-duplicate clustering sees all rows, so its keep policy (passes
everything so far first, then lowest index) can prefer a clean copy over an earlier broken one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from datacheck.checks.base import Check
from datacheck.checks.registry import CHECKS
from datacheck.config import CONTAMINATION, NEAR_DUPLICATE, CleanConfig
from datacheck.contamination import find_overlaps
from datacheck.dedup.clusters import DedupConfig, DedupResult, near_duplicate_clusters
from datacheck.leak_audit import audit
from datacheck.loading import LoadedSource, SourceSpec, load_source
from datacheck.outputs import write_outputs
from datacheck.records import Problem, Rejection
from datacheck.report import build_report
from datacheck.result import CleanResult, Cluster

TRAIN = "train"


def clean_to_dir(
    spec: SourceSpec, config: CleanConfig, out: Path, *, source: LoadedSource | None = None
) -> dict[str, Any]:
    """``datacheck clean`` as a function: load, check, report, write ``out``; the report back.

    The CLI adds its summary line and gates on top; the embedded pipeline calls this directly,
    and the cleaning study passes rows it built itself as ``source`` (``loading.rows_source``).
    """
    started = time.perf_counter()
    source = load_source(spec) if source is None else source
    result = clean(source, config)
    report = build_report(result, config, dataset=spec.name, input_hashes=source.input_hashes,
                          seconds=time.perf_counter() - started)  # fmt: skip
    write_outputs(out, result, report)
    return report


def planned_checks(config: CleanConfig) -> list[tuple[Check, bool]]:
    """(check, train only) in the registry's order: the checks this config switches on and
    does not skip."""
    built = [(entry.build(config), entry.train_only) for entry in CHECKS.values()]
    planned = [(check, train_only) for check, train_only in built if check is not None]
    unknown = sorted(config.skip - {c.name for c, _ in planned} - {CONTAMINATION, NEAR_DUPLICATE})
    if unknown:
        raise ValueError(f"no check named {', '.join(unknown)} to skip")
    return [(check, train_only) for check, train_only in planned if check.name not in config.skip]


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
    planned = planned_checks(config)
    verdicts: dict[str, Rejection] = {}
    for split, loaded in source.splits.items():
        every = split == TRAIN or len(source.splits) == 1  # a lone file is trained on
        checks = [check for check, train_only in planned if every or not train_only]
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
