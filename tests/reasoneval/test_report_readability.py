"""What a reader of report.html sees: readable variant names, items in numeric order, questions
cut at a word with an ellipsis, no ratio over a near-zero denominator, honest axes and arrows."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reasoneval.layers.base import Metric
from reasoneval.layers.sensitivity import analyze
from reasoneval.report import examples_html, metric_json, metrics_table, svg_histogram
from reasoneval.variant_labels import ANSWER_SHAPES, describe_family, describe_variant
from reasoneval.variants import ANSWER_FORMATS, FAMILIES

NS = "{http://www.w3.org/2000/svg}"


def test_every_variant_shape_has_a_readable_name_and_every_family_a_description() -> None:
    assert describe_variant("spacing-question_upper_1_0") == "layout 'QUESTION : …'"
    assert describe_variant("spacing-q_lower_2_1") == "layout '⏎q:⏎…⏎'"
    assert describe_variant("format-hash") == "answer as '#### n'"
    assert describe_variant("paraphrase-p0") == "reworded instruction 1"
    assert describe_variant("distractor-d2") == "irrelevant sentence 3"
    assert describe_variant("shots-few") == "3 worked examples"
    assert describe_variant("template-raw") == "no chat template"
    assert describe_variant("numeric-n0") == "numbers redrawn 1"
    assert describe_variant("gsmplus_digit_expansion-g1") == "GSM-Plus digit expansion 2"
    assert describe_variant("spacing-odd") == "spacing-odd"  # unknown shapes keep their id
    assert set(ANSWER_SHAPES) == set(ANSWER_FORMATS)
    assert all(describe_family(f) for f in FAMILIES)
    assert describe_family("gsmplus_critical_thinking") == "GSM-Plus perturbation 'critical thinking'"


def _items(n: int) -> list[str]:
    return [f"test/{i}" for i in range(n)]


def test_fragile_items_in_numeric_order_with_questions_cut_at_a_word() -> None:
    ids = _items(12)
    original = dict.fromkeys(ids, True)
    variants = {"format-hash": dict.fromkeys(ids, False)}  # every item equally fragile
    question = "Natalia sold clips to forty-eight of her friends in April " * 8
    result = analyze(original, variants, seed=0, n_boot=50,
                     questions=dict.fromkeys(ids, question))  # fmt: skip
    fragile = result.details["fragile_items"]
    assert [r["id"] for r in fragile] == [f"test/{i}" for i in range(10)]  # not 0, 1, 10, 11, 2
    shown = fragile[0]["question"]
    assert len(shown) <= 200 and shown.endswith("…") and question.startswith(shown[:-1] + " ")
    assert "answer as &#x27;#### n&#x27;" in result.html and "format-hash" in result.html


def test_pdr_is_undefined_when_the_original_is_right_on_fewer_than_five_pairs() -> None:
    ids = _items(20)
    original = {i: i == "test/0" for i in ids}  # 1 of 20 right: accuracy 0.05
    variants = {"format-hash": {i: i in ("test/0", "test/1") for i in ids}}
    result = analyze(original, variants, seed=0, n_boot=200)
    assert "pdr.format" not in result.metrics  # was -1.0 [-3.0, 0.0]
    assert result.details["families"]["format"]["pdr"] is None
    assert "undefined (original right on 1 &lt; 5)" in result.html
    assert "flip_rate.format" in result.metrics  # the paired flip rate is still reported


def test_a_histogram_of_one_value_is_labelled_with_that_value_only() -> None:
    svg = svg_histogram({"correct": [48, 48, 48]}, title="lengths")
    labels = [t.text for t in ET.fromstring(svg).iter(f"{NS}text")]
    assert "48" in labels and "48.5" not in labels and "49" not in labels
    spread = svg_histogram({"correct": [10, 11]})
    labels = [t.text for t in ET.fromstring(spread).iter(f"{NS}text")]
    assert "10.5" not in labels and {"10", "11"} <= set(labels)  # token counts are whole


def test_a_reference_metric_has_no_better_direction() -> None:
    table = metrics_table({"auroc.length": Metric(0.6, n=10, higher_is_better=None)})
    assert "none (a reference)" in table and "↑" not in table
    assert metric_json(Metric(0.6, higher_is_better=None))["higher_is_better"] is None


def test_incorrect_examples_show_their_question() -> None:
    rows = [{"id": "test/3", "variant": "original", "sample_index": 0, "response": "#### 2",
             "extracted": "2", "gold": "5", "finish_reason": "stop", "correct": False}]  # fmt: skip
    page = examples_html(rows, {"test/3": "Tom has <b>3</b> apples and buys 2. How many?"})
    assert "Question:</b> Tom has &lt;b&gt;3&lt;/b&gt; apples" in page



def test_long_labels_widen_the_interval_chart_instead_of_leaving_the_page() -> None:
    from reasoneval.report import svg_interval_chart

    label = "answer as '**Final Answer:** n'"
    svg = ET.fromstring(svg_interval_chart([(label, 0.5, 0.4, 0.6)]))
    text = next(t for t in svg.iter(f"{NS}text") if t.text == label)
    assert float(text.get("x", 0)) >= 7 * len(label)  # right-aligned there: starts at x >= 0
    assert int(svg.get("width", 0)) > 560


def test_the_spread_is_not_judged_against_a_degenerate_null() -> None:
    ids = _items(12)
    original = dict.fromkeys(ids, False)  # right on none: every bootstrap resample spreads by 0
    variants = {"format-hash": {i: i == "test/0" for i in ids}}
    result = analyze(original, variants, seed=0, n_boot=100)
    assert result.details["spread"]["null_degenerate"] is True
    assert "not judged" in result.html and "beyond sampling noise" not in result.html
