"""Writing `--out`: kept rows per split, rejections, clusters, report.json and report.md.

Every file goes to a temporary name in the same directory and is moved into place with
os.replace, so a crash never leaves a half-written output that looks complete.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datacheck.clean import CleanConfig, CleanResult
from datacheck.contamination import RULES
from datacheck.dedup.lsh import detection_probability
from datacheck.leak_audit import CATEGORIES
from datacheck.records import SCHEMA_VERSION, Problem, Rejection
from reasonkit.artifacts import atomic_write_text as atomic_write
from reasonkit.artifacts import package_versions
from reasonkit.jsonl import jsonl_text as _jsonl
from reasonkit.manifest import begin_output, finish_output

if TYPE_CHECKING:
    from datacheck.loading import LoadedSource, SourceSpec

EXAMPLES_PER_CHECK = 12
# Findings a reviewer should see in full, not sampled: each is a judgement about a specific row.
LISTED_IN_FULL = frozenset({"label_consistency", "calculator", "contamination"})


def kept_row(p: Problem) -> dict[str, Any]:
    return {
        **p.source,
        "id": p.id,
        "split": p.split,
        "reasoning": p.reasoning,
        "final_answer": p.final_answer,
    }


def rejected_row(r: Rejection) -> dict[str, Any]:
    row: dict[str, Any] = {"id": r.id, "split": r.split, "check": r.check, "reason": r.reason}
    if r.matched_id is not None:
        row["matched_id"] = r.matched_id
    row["record"] = dict(r.source) if isinstance(r.source, Mapping) else r.source
    return row


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


def clean_to_dir(
    spec: SourceSpec, config: CleanConfig, out: Path, *, source: LoadedSource | None = None
) -> dict[str, Any]:
    """``datacheck clean`` as a function: load, check, report, write ``out``; the report back.

    The CLI adds its summary line and gates on top; the embedded pipeline calls this directly,
    and the cleaning study passes rows it built itself as ``source`` (``loading.rows_source``).
    """
    from datacheck.clean import clean
    from datacheck.loading import load_source

    started = time.perf_counter()
    source = load_source(spec) if source is None else source
    result = clean(source, config)
    report = build_report(result, config, dataset=spec.name, input_hashes=source.input_hashes,
                          seconds=time.perf_counter() - started)  # fmt: skip
    write_outputs(out, result, report)
    return report


def write_outputs(out: Path, result: CleanResult, report: Mapping[str, Any]) -> None:
    """Every output, then manifest.json last: a directory without it is unfinished
    (reasonkit.manifest), so a killed rerun never leaves a mix that looks complete."""
    begin_output(out)
    texts = {f"kept/{split}.jsonl": _jsonl(kept_row(p) for p in problems)
             for split, problems in result.kept.items()}
    texts["rejected.jsonl"] = _jsonl(rejected_row(r) for r in result.rejected)
    texts["clusters.jsonl"] = _jsonl(asdict(c) for c in result.clusters)
    texts["report.json"] = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    texts["report.md"] = render_markdown(result, report)
    stale = set((out / "kept").glob("*.jsonl")) - {out / name for name in texts}
    for path in stale:  # a split an earlier run wrote and this one did not
        path.unlink()
    for name, text in texts.items():
        atomic_write(out / name, text)
    finish_output(out, texts, writer="datacheck clean")


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
    by_check: dict[str, list[Rejection]] = {}
    for r in result.rejected:
        by_check.setdefault(r.check, []).append(r)
    for check, rejections in sorted(by_check.items()):
        lines += ["", f"## {check} ({len(rejections)})", "", "| id | reason |", "|---|---|"]
        shown = len(rejections) if check in LISTED_IN_FULL else EXAMPLES_PER_CHECK
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
