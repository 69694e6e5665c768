"""The report of one clean: report.json's fields and report.md's text (datacheck.outputs writes them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from datacheck.checks.registry import CHECKS
from datacheck.config import CONTAMINATION, CleanConfig
from datacheck.contamination import RULES
from datacheck.dedup.lsh import detection_probability
from datacheck.leak_audit import CATEGORIES
from datacheck.records import SCHEMA_VERSION, Rejection
from datacheck.result import CleanResult
from reasonkit.artifacts import package_versions

EXAMPLES_PER_CHECK = 12


def listed_in_full() -> frozenset[str]:
    """Findings a reviewer should see in full, not sampled: each is a judgement about a specific row."""
    return frozenset({CONTAMINATION, *(e.name for e in CHECKS.values() if e.listed_in_full)})


def build_report(
    result: CleanResult,
    config: CleanConfig,
    *,
    dataset: str,
    input_hashes: Mapping[str, str],
    seconds: float,
) -> dict[str, Any]:
    bands, rows = result.bands_rows
    per_split: dict[str, dict[str, Any]] = {}
    for split, n in result.n_rows.items():
        by_check = Counter(r.check for r in result.rejected if r.split == split)
        per_split[split] = {
            "rows": n,
            "kept": len(result.kept.get(split, [])),
            "rejected": sum(by_check.values()),
            "rejected_by_check": dict(sorted(by_check.items())),
        }
    total = sum(result.n_rows.values())
    return {
        "schema_version": SCHEMA_VERSION,
        "dataset": dataset,
        "rows": total,
        "kept": sum(len(v) for v in result.kept.values()),
        "rejected": len(result.rejected),
        "reject_rate": len(result.rejected) / total if total else 0.0,
        "splits": per_split,
        "thresholds": {
            **{k: v for k, v in asdict(config).items() if k not in ("dedup", "skip", "contamination_rules")},
            "skip": sorted(config.skip),
            "contamination_rules": [r for r in RULES if r in config.contamination_rules],
            "dedup": asdict(config.dedup),
            "lsh_bands": bands,
            "lsh_rows": rows,
            "lsh_detection_at_threshold": detection_probability(
                config.dedup.threshold, bands, rows
            ),
        },
        "near_duplicate_clusters": len(result.clusters),
        "contaminated_train_rows": len(result.overlaps),
        "contamination_by_rule": dict(sorted(Counter(kind for _, _, kind, _ in result.overlaps).items())),
        # Held-out items with a twin among the rows kept for training (datacheck.leak_audit).
        "leak_audit": {split: a.to_dict() for split, a in result.leak_audit.items()},
        "input_sha256": dict(input_hashes),
        "versions": package_versions(),
        "seconds": round(seconds, 2),
    }


def _cell(text: str, limit: int = 110) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _leak_audit_lines(audits: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not audits:
        return []
    lines = ["", "## leak audit: held-out items with a twin among the kept train rows", "",
             "| split | items | leaked | " + " | ".join(CATEGORIES) + " |",
             "|---|---|---|" + "---|" * len(CATEGORIES)]  # fmt: skip
    for split, a in audits.items():
        counts = " | ".join(str(a["by_category"][c]) for c in CATEGORIES)
        lines.append(f"| {split} | {a['items']} | {a['leaked_items']} ({a['leaked_share']:.2%}) | {counts} |")
    for split, a in audits.items():
        for category, pairs in a["examples"].items():
            shown = ", ".join(f"{item} ~ {twin}" for item, twin in pairs)
            lines.append(f"- {split} {category}: {_cell(shown, 300)}")
    return lines


def render_markdown(result: CleanResult, report: Mapping[str, Any]) -> str:
    lines = [
        f"# datacheck report: {report['dataset']}",
        "",
        f"{report['rows']} rows: {report['kept']} kept, {report['rejected']} rejected "
        f"({100 * report['reject_rate']:.2f}%); {report['near_duplicate_clusters']} near-duplicate "
        f"clusters; {report['contaminated_train_rows']} train rows overlapping test. "
        f"LSH {report['thresholds']['lsh_bands']} bands x {report['thresholds']['lsh_rows']} rows.",
        "",
        "| split | rows | kept | rejected | by check |",
        "|---|---|---|---|---|",
    ]
    for split, s in report["splits"].items():
        checks = ", ".join(f"{k} {v}" for k, v in s["rejected_by_check"].items()) or "none"
        lines.append(f"| {split} | {s['rows']} | {s['kept']} | {s['rejected']} | {checks} |")
    lines += _leak_audit_lines(report["leak_audit"])
    full = listed_in_full()
    by_check: dict[str, list[Rejection]] = {}
    for r in result.rejected:
        by_check.setdefault(r.check, []).append(r)
    for check, rejections in sorted(by_check.items()):
        lines += ["", f"## {check} ({len(rejections)})", "", "| id | reason |", "|---|---|"]
        shown = len(rejections) if check in full else EXAMPLES_PER_CHECK
        for r in rejections[:shown]:
            lines.append(f"| {r.id} | {_cell(r.reason)} |")
        if len(rejections) > shown:
            lines.append(f"| … | {len(rejections) - shown} more in rejected.jsonl |")
    if result.clusters:
        lines += [
            "",
            f"## near-duplicate clusters ({len(result.clusters)})",
            "",
            "| kept | members |",
            "|---|---|",
        ]
        for c in result.clusters[:EXAMPLES_PER_CHECK]:
            lines.append(f"| {c.kept} | {', '.join(c.members)} |")
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()), ""]
    return "\n".join(lines)
