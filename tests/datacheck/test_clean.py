"""The whole stage on planted-flaw fixtures: the right rows rejected by the right check."""

from __future__ import annotations

import json
from pathlib import Path

from datacheck.clean import clean
from datacheck.config import CleanConfig
from datacheck.dedup.clusters import DedupConfig
from datacheck.loading import SourceSpec, load_source
from datacheck.outputs import write_outputs
from datacheck.report import build_report


def _clean(
    data_dir: Path, tmp_path: Path
) -> tuple[dict[str, dict[str, object]], dict[str, list[str]]]:
    source = load_source(SourceSpec("gsm8k", data_dir))
    config = CleanConfig(dedup=DedupConfig(), outlier_percentile=100.0)
    result = clean(source, config)
    report = build_report(
        result, config, dataset="gsm8k", input_hashes=source.input_hashes, seconds=0.0
    )
    out = tmp_path / "out"
    write_outputs(out, result, report)
    rejected = {
        r["id"]: r for r in map(json.loads, (out / "rejected.jsonl").read_text().splitlines())
    }
    kept = {
        split: [
            json.loads(x)["id"] for x in (out / "kept" / f"{split}.jsonl").read_text().splitlines()
        ]
        for split in ("train", "test")
    }
    return rejected, kept


def test_planted_flaws_are_rejected_by_their_check(gsm8k_like_dir: Path, tmp_path: Path) -> None:
    rejected, kept = _clean(gsm8k_like_dir, tmp_path)
    assert {k: v["check"] for k, v in rejected.items()} == {
        "gsm8k/train/1": "label_consistency",
        "gsm8k/train/2": "calculator",
        "gsm8k/train/3": "format",
        "gsm8k/train/4": "near_duplicate",
        "gsm8k/train/5": "contamination",
    }
    assert rejected["gsm8k/train/4"]["matched_id"] == "gsm8k/train/0"  # lowest index kept
    assert rejected["gsm8k/train/5"]["matched_id"] == "gsm8k/test/0"
    assert rejected["gsm8k/train/1"]["record"]["answer"].endswith("#### 19")
    assert kept == {"train": ["gsm8k/train/0"], "test": ["gsm8k/test/0", "gsm8k/test/1"]}


def test_kept_rows_carry_training_fields(gsm8k_like_dir: Path, tmp_path: Path) -> None:
    _clean(gsm8k_like_dir, tmp_path)
    row = json.loads((tmp_path / "out" / "kept" / "train.jsonl").read_text().splitlines()[0])
    assert row["final_answer"] == "72" and row["split"] == "train"
    assert "<<" not in row["reasoning"] and row["answer"].endswith("#### 72")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["splits"]["train"]["rejected_by_check"]["near_duplicate"] == 1
    assert set(report["input_sha256"]) == {"train.jsonl", "test.jsonl"}
    assert report["versions"]["datasketch"] != "absent"
    clusters = [
        json.loads(x) for x in (tmp_path / "out" / "clusters.jsonl").read_text().splitlines()
    ]
    assert clusters[0]["kept"] == "gsm8k/train/0" and clusters[0]["members"] == [
        "gsm8k/train/0",
        "gsm8k/train/4",
    ]


def test_keep_policy_prefers_a_row_that_passes_checks(tmp_path: Path, write_rows) -> None:  # type: ignore[no-untyped-def]
    q = "Tom has 3 boxes of 4 pens each and buys 5 more pens at the shop. How many pens now?"
    write_rows(
        tmp_path / "d" / "train.jsonl",
        [
            {
                "question": q,
                "answer": "3*4 = <<3*4=12>>12\n12+5 = <<12+5=17>>17\n#### 19",
            },  # broken label
            {"question": q + " ", "answer": "3*4 = <<3*4=12>>12\n12+5 = <<12+5=17>>17\n#### 17"},
        ],
    )
    write_rows(
        tmp_path / "d" / "test.jsonl",
        [
            {
                "question": "Sam has 9 marbles and loses 4. How many remain?",
                "answer": "9-4 = 5\n#### 5",
            }
        ],
    )
    rejected, kept = _clean(tmp_path / "d", tmp_path)
    assert kept["train"] == ["gsm8k/train/1"]  # the clean copy survives, not the lower index
    assert rejected["gsm8k/train/0"]["check"] == "label_consistency"
