"""The study report: comparisons computed by reasoneval's multi-seed compare, and HTML that
escapes whatever text the data or a check's name carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoneval.charts import svg_line_chart
from scripts.study_data import naive_row
from scripts.study_report import compare_arms, effect, render_html, render_markdown, section


def test_compare_arms_reads_the_runs_and_filters_items(tmp_path: Path, write_run) -> None:
    low = [write_run(tmp_path / f"a{s}", [True] * 60 + [False] * 40) for s in range(3)]
    high = [write_run(tmp_path / f"b{s}", [True] * (80 + s) + [False] * (20 - s)) for s in range(3)]
    c = compare_arms(low, high)
    assert c["delta"] == pytest.approx(0.21) and c["ci_low"] > 0 and c["effect"] == "helps"
    assert c["runs"] == [3, 3] and c["n_items"] == 100
    assert compare_arms(high, low)["effect"] == "hurts"
    # Only the first 60 items: both sides right on all of them.
    first = compare_arms(low, high, {f"synthetic/test/{i}" for i in range(60)})
    assert first["n_items"] == 60 and first["delta"] == 0 and first["effect"] == "no clear effect"
    assert effect(-0.01, 0.02) == "no clear effect"


def test_html_escapes_cells_labels_and_titles() -> None:
    hostile = "<script>alert(1)</script>"
    svg = svg_line_chart({hostile: [(0, 1.0), (5, -2.0)], "clean": [(0, 0.5)]}, x_label=hostile,
                         y_label="Δ", title=hostile)  # fmt: skip
    assert "<script>" not in svg and "&lt;script&gt;" in svg and svg.count("<polyline") == 2
    study = {"title": hostile, "summary": [hostile], "versions": {"x": hostile},
             "sections": [section(hostile, hostile, columns=[hostile], rows=[[hostile]], svg=svg)]}  # fmt: skip
    page = render_html(study)
    assert "<script>" not in page and page.count("&lt;script&gt;") >= 6
    md = render_markdown({**study, "sections": [section("t", columns=["a|b"], rows=[["x|y"]])]})
    assert "a\\|b" in md and "x\\|y" in md


def test_naive_reading_of_flawed_rows() -> None:
    row = naive_row("r", {"question": "q", "answer": "3 + 4 = <<3+4=7>>7\n#### 7"})
    assert (row["reasoning"], row["final_answer"]) == ("3 + 4 = 7", "7")
    missing = naive_row("r", {"question": "q", "answer": "3 + 4 = <<3+4=7>>7\nThe answer is 7."})
    assert missing["final_answer"] == "7" and missing["reasoning"].endswith("The answer is 7.")
    swapped = naive_row("r", {"question": "q", "answer": "#### 7\n3 + 4 = <<3+4=7>>7"})
    assert swapped["final_answer"] == "7" and swapped["reasoning"].startswith("#### 7")
    with pytest.raises(ValueError, match="no number"):
        naive_row("r", {"question": "q", "answer": "seven"})


def test_holm_adjusts_a_family_and_can_overturn_a_single_verdict() -> None:
    from scripts.study_report import holm

    family = [{"p_value": p, "effect": "helps"} for p in (0.001, 0.02, 0.03, 0.5)]
    holm(family)
    # Holm: sorted p times (m - rank), running maximum: 0.004, 0.06, 0.06, 0.5
    assert [round(c["p_holm"], 3) for c in family] == [0.004, 0.06, 0.06, 0.5]
    assert [c["holm_effect"] for c in family] == ["helps"] + ["not resolved after Holm"] * 3
    same = {"p_value": 0.0, "effect": "same rows", "same_rows_as_clean": True}
    holm([same])
    assert "p_holm" not in same  # no test, not in the family


def test_the_p_value_matches_the_interval(tmp_path: Path, write_run) -> None:
    low = [write_run(tmp_path / f"a{s}", [True] * 60 + [False] * 40) for s in range(3)]
    high = [write_run(tmp_path / f"b{s}", [True] * (66 + s) + [False] * (34 - s)) for s in range(3)]
    c = compare_arms(low, high)
    assert (c["p_value"] < 0.05) == (c["ci_low"] > 0 or c["ci_high"] < 0)
