"""The study report: comparisons computed by reasoneval's multi-seed compare, and HTML that
escapes whatever text the data or a check's name carries."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from reasoneval.charts import svg_line_chart
from reasoneval.compare import compare_groups
from scripts.study_data import naive_row
from scripts.study_records import ArmComparison, Page
from scripts.study_report import compare_arms, effect, render_html, render_markdown, section


def test_compare_arms_reads_the_runs_and_filters_items(tmp_path: Path, write_run) -> None:
    low = [write_run(tmp_path / f"a{s}", [True] * 60 + [False] * 40) for s in range(3)]
    high = [write_run(tmp_path / f"b{s}", [True] * (80 + s) + [False] * (20 - s)) for s in range(3)]
    c = compare_arms(low, high)
    assert c.result.delta == pytest.approx(0.21) and c.result.ci_low > 0 and c.effect == "helps"
    assert (c.result.n_baseline_runs, c.result.n_candidate_runs) == (3, 3) and c.result.n_items == 100
    assert compare_arms(high, low).effect == "hurts"
    # Only the first 60 items: both sides right on all of them.
    first = compare_arms(low, high, {f"synthetic/test/{i}" for i in range(60)})
    assert first.result.n_items == 60 and first.result.delta == 0 and first.effect == "no clear effect"
    assert effect(-0.01, 0.02) == "no clear effect"


def test_html_escapes_cells_labels_and_titles() -> None:
    hostile = "<script>alert(1)</script>"
    svg = svg_line_chart({hostile: [(0, 1.0), (5, -2.0)], "clean": [(0, 0.5)]}, x_label=hostile,
                         y_label="Δ", title=hostile)  # fmt: skip
    assert "<script>" not in svg and "&lt;script&gt;" in svg and svg.count("<polyline") == 2
    study = Page(title=hostile, summary=(hostile,), versions={"x": hostile},
                 sections=(section(hostile, hostile, columns=[hostile], rows=[[hostile]], svg=svg),))  # fmt: skip
    page = render_html(study)
    assert "<script>" not in page and page.count("&lt;script&gt;") >= 6
    md = render_markdown(dataclasses.replace(study, sections=(section("t", columns=["a|b"], rows=[["x|y"]]),)))
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

    result = compare_groups([{"a": [True]}], [{"a": [True]}])
    family = holm([ArmComparison(result, p, "helps") for p in (0.001, 0.02, 0.03, 0.5)])
    # Holm: sorted p times (m - rank), running maximum: 0.004, 0.06, 0.06, 0.5
    assert [round(c.holm.p_holm, 3) for c in family if c.holm] == [0.004, 0.06, 0.06, 0.5]
    assert [c.holm.effect for c in family if c.holm] == ["helps"] + ["not resolved after Holm"] * 3
    [same] = holm([ArmComparison(result, 0.0, "same rows", same_rows_as_clean=True)])
    assert same.holm is None and "p_holm" not in same.to_json()  # no test, not in the family


def test_the_p_value_matches_the_interval(tmp_path: Path, write_run) -> None:
    low = [write_run(tmp_path / f"a{s}", [True] * 60 + [False] * 40) for s in range(3)]
    high = [write_run(tmp_path / f"b{s}", [True] * (66 + s) + [False] * (34 - s)) for s in range(3)]
    c = compare_arms(low, high)
    assert (c.p_value < 0.05) == (c.result.ci_low > 0 or c.result.ci_high < 0)


def test_study_json_is_the_records_one_form_and_reads_back_to_the_same_page(tmp_path: Path, write_run) -> None:
    import json

    from scripts.study_records import RecipeAccuracy, RecipeFigures, Study
    from scripts.study_report import holm, write_study

    low = [write_run(tmp_path / f"a{s}", [True] * 60 + [False] * 40) for s in range(2)]
    high = [write_run(tmp_path / f"b{s}", [True] * (70 + s) + [False] * (30 - s)) for s in range(2)]
    [c] = holm([compare_arms(low, high)])
    assert c.holm is not None and c.holm.family_size == 1 and c.holm.p_holm == c.p_value
    # study.json's key order, as schema 1 has always written it.
    assert list(c.to_json()) == [
        "p_value", "n_items", "runs", "baseline_accuracy", "candidate_accuracy", "baseline_runs",
        "candidate_runs", "delta", "ci_low", "ci_high", "ci_method", "mcnemar_p", "mde", "effect",
        "compare_verdict", "p_holm", "holm_effect", "family_size"]  # fmt: skip
    accuracy = {"b": RecipeAccuracy(c.result.candidate_accuracy, c.result.candidate_runs, c.result.n_items)}
    study = Study("recipes", "t", ("s",), {"seeds": [0, 1]}, 1.5, 2.0, RecipeFigures(accuracy, {"b vs a": c}),
                  (section("h", "p", columns=["a"], rows=[["1|2"]]),))  # fmt: skip
    out = tmp_path / "study"
    out.mkdir()
    write_study(out, study)
    record = json.loads((out / "study.json").read_text(encoding="utf-8"))
    assert record["figures"]["comparisons"]["b vs a"] == c.to_json()
    assert record["figures"]["accuracy"]["b"] == {"mean": pytest.approx(0.705), "runs": [0.7, 0.71], "n_items": 100}
    assert list(record) == ["schema_version", "study", "title", "summary", "config", "seconds",
                            "stage_seconds", "figures", "sections", "versions"]  # fmt: skip
    page = Page.from_json(record)
    assert render_markdown(page) == (out / "study.md").read_text(encoding="utf-8")
    assert render_html(page) == (out / "study.html").read_text(encoding="utf-8")
