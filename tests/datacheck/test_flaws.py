"""Planted flaws: the right counts, the right shapes, and datacheck rejecting the rows it should."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

import pytest

from datacheck.clean import clean
from datacheck.config import CleanConfig
from datacheck.contamination import TEMPLATED_RULES
from datacheck.flaws import FLAW_NAMES, FlawRates, broken_annotation, drift_format, inject_flaws
from datacheck.loading import SourceSpec, rows_source
from reasonkit.tasks.arithmetic import computation_of, parse_question
from reasonkit.tasks.split import SplitSizes, draw_rows


@pytest.fixture(scope="module")
def task():
    data = draw_rows(SplitSizes(train=3000, val=0, test=300, test_ood=0), seed=3).splits
    return list(data["train"]), list(data["test"])


@pytest.fixture(scope="module")
def flawed(task):
    train, test = task
    rows, planted = inject_flaws(train, test, FlawRates(), seed=3)
    return train, test, rows, planted


def _clean(rows, test, **kwargs):
    """As the study cleans: the templated task's rules (its test split shares templates)."""
    spec = SourceSpec("study")
    config = CleanConfig(**{"contamination_rules": TEMPLATED_RULES, **kwargs})
    return clean(rows_source({"train": rows, "test": test}, "study", spec), config)


def test_counts_follow_the_rates_and_the_split_keeps_its_size(flawed):
    train, _, rows, planted = flawed
    assert len(rows) == len(train)
    counts = Counter(f.kind for f in planted)
    for name in FLAW_NAMES:
        assert counts[name] == round(getattr(FlawRates(), name) * len(train))
    assert len({f.row for f in planted}) == len(planted)  # one flaw per row
    changed = {i for i, (a, b) in enumerate(zip(train, rows, strict=True)) if a != b}
    # Every changed row is a planted one (a template re-draw may land on its own numbers).
    assert changed <= {f.row for f in planted}
    assert len(changed) >= len(planted) - counts["over_represented"]


def test_same_seed_same_rows_other_seed_other_rows(task):
    train, test = task
    a = inject_flaws(train, test, FlawRates(), seed=1)
    assert a == inject_flaws(train, test, FlawRates(), seed=1)
    assert a != inject_flaws(train, test, FlawRates(), seed=2)


def test_scaling_keeps_the_mix():
    rates = FlawRates().scaled_to(0.2)
    assert rates.total == pytest.approx(0.2)
    assert rates.wrong_label / rates.leak == pytest.approx(FlawRates().wrong_label / FlawRates().leak)
    assert FlawRates().scaled_to(0.0).total == 0
    with pytest.raises(ValueError, match="flawed share"):
        FlawRates().scaled_to(1.0)


def test_each_flaw_has_its_shape(flawed):
    _, test, rows, planted = flawed
    test_questions = {r["question"] for r in test}
    checked = Counter()  # (kind, variant) pairs whose shape was asserted
    for f in planted:
        answer, question = rows[f.row]["answer"], rows[f.row]["question"]
        if f.kind == "format_drift":
            if f.variant == "swapped":
                assert answer.startswith("#### ")
            else:
                assert "####" not in answer
        elif f.kind == "leak":
            leaked = test[int(f.source.split("/")[1])]
            if f.variant == "verbatim":
                assert question == leaked["question"] and answer == leaked["answer"]
            else:  # the same numbers, computation and answer in other names (and words)
                assert question not in test_questions
                assert parse_question(question)[1] == parse_question(leaked["question"])[1]
                assert computation_of(question) == computation_of(leaked["question"])
                assert answer == leaked["answer"]
                template, leaked_template = parse_question(question)[0], parse_question(leaked["question"])[0]
                assert template.name != leaked_template.name
                if f.variant == "reworded":
                    assert template.item != leaked_template.item and template.start != leaked_template.start
        elif f.kind == "near_duplicate":
            source = rows[int(f.source.split("/")[1])]
            assert question.startswith(source["question"]) and question != source["question"]
        else:
            continue
        checked[f.kind, f.variant] += 1
    # Every branch above ran: a shape that no planted row had would otherwise pass unchecked.
    assert {("format_drift", "swapped"), ("leak", "verbatim"), ("leak", "renamed")} <= set(checked)
    assert {k for k, _ in checked} == {"format_drift", "leak", "near_duplicate"}
    assert len({v for k, v in checked if k == "format_drift"}) >= 2  # swapped and the others


def test_a_slip_carries_the_wrong_value_into_the_prose():
    answer = "3 + 4 = <<3+4=7>>7\n7 * 2 = <<7*2=14>>14\n#### 14"
    slip = broken_annotation(answer, random.Random(0), slip=True)
    only = broken_annotation(answer, random.Random(0), slip=False)
    wrong = int(re.search(r"<<3\+4=(\d+)>>", slip).group(1))
    assert wrong != 7 and slip.startswith(f"3 + 4 = <<3+4={wrong}>>{wrong}\n")
    assert only.startswith(f"3 + 4 = <<3+4={wrong}>>7\n")
    assert drift_format(answer, "missing_marker", random.Random(0)).endswith("14>>14")
    with pytest.raises(ValueError, match="unknown format drift"):
        drift_format(answer, "sideways", random.Random(0))


def test_datacheck_rejects_the_planted_rows_with_the_right_check(flawed):
    _, test, rows, planted = flawed
    verdicts = {r.id: r.check for r in _clean(rows, test).rejected}
    caught: dict[tuple[str, str], Counter[str]] = {}
    for f in planted:
        caught.setdefault((f.kind, f.variant), Counter())[verdicts.get(f"study/train/{f.row}", "kept")] += 1
    for variant in ("missing_marker", "other_marker", "swapped"):
        assert set(caught["format_drift", variant]) == {"format"}
    assert set(caught["broken_annotation", "slip"]) == {"calculator"}
    assert set(caught["broken_annotation", "annotation_only"]) == {"calculator"}
    for variant in ("verbatim", "renamed", "reworded"):
        assert set(caught["leak", variant]) == {"contamination"}, variant
    labels = caught["wrong_label", "off_by_1_to_9"]
    assert labels["label_consistency"] >= 0.9 * sum(labels.values())


def test_renamed_leaks_at_one_percent_are_caught_and_clean_rows_are_not(task):
    """Issue 22's bar: planted renamed and reworded leaks at 1% of train, caught >= 95%, by the
    computation rule where the words no longer match; and no unflawed row is called a leak."""
    train, test = task
    rates = FlawRates(**{**{name: 0.0 for name in FLAW_NAMES}, "leak": 0.01})
    rows, planted = inject_flaws(train, test, rates, seed=5)
    rejected = {r.id: r for r in _clean(rows, test).rejected if r.check == "contamination"}
    leaked = {f"study/train/{f.row}": f for f in planted}
    assert len(leaked) == 30
    caught = [row for row in leaked if row in rejected]
    assert len(caught) >= 0.95 * len(leaked)
    assert set(rejected) <= set(leaked)  # every contamination rejection is a planted leak
    for row, flaw in leaked.items():
        if flaw.variant == "reworded":
            assert "(computation:" in rejected[row].reason


def test_skipping_a_check_keeps_what_it_alone_rejects(flawed):
    _, test, rows, planted = flawed
    full = _clean(rows, test)
    without = _clean(rows, test, skip=frozenset({"calculator"}))
    kept, kept_full = {p.id for p in without.kept["train"]}, {p.id for p in full.kept["train"]}
    by_calculator = {r.id for r in full.rejected if r.check == "calculator"}
    annotated = {f"study/train/{f.row}" for f in planted if f.kind == "broken_annotation"}
    assert by_calculator == annotated
    # Only rows the calculator check rejected come back, and some do (others fall to a later check).
    assert kept_full < kept and kept - kept_full <= by_calculator
    assert "calculator" not in {r.check for r in without.rejected}
    no_dedup = _clean(rows, test, skip=frozenset({"near_duplicate", "contamination"}))
    assert not {r.check for r in no_dedup.rejected} & {"near_duplicate", "contamination"}
    assert no_dedup.clusters == [] and no_dedup.overlaps == []
    with pytest.raises(ValueError, match="no check named spelling"):
        _clean(rows, test, skip=frozenset({"spelling"}))


def test_the_skip_list_is_in_the_report(flawed, tmp_path):
    from datacheck.clean import clean_to_dir

    _, test, rows, _ = flawed
    spec = SourceSpec("study")
    source = rows_source({"train": rows, "test": test}, "study", spec)
    report = clean_to_dir(spec, CleanConfig(skip=frozenset({"format"})), tmp_path, source=source)
    assert report["thresholds"]["skip"] == ["format"]
    assert json.loads((tmp_path / "report.json").read_text())["thresholds"]["skip"] == ["format"]
