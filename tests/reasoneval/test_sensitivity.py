"""The sensitivity layer's paired statistics, checked against values computed by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasoneval.layers.accuracy import AccuracyLayer
from reasoneval.layers.base import RunContext
from reasoneval.layers.measures import prompt_sensitivity_score, spread_null
from reasoneval.layers.sensitivity import SensitivityConfig, SensitivityLayer, analyze
from reasoneval.records import Completion, Generation, Problem, ScoredSample
from reasonkit.errors import InputError

ORIGINAL = {"i1": True, "i2": True, "i3": False, "i4": True}
VARIANTS = {
    "format-boxed": {"i1": True, "i2": False, "i3": False, "i4": True},
    "format-hash": {"i1": True, "i2": True, "i3": False, "i4": True},
    "paraphrase-p1": {"i1": False, "i2": False, "i3": True, "i4": False},
}


def test_hand_computed_table() -> None:
    r = analyze(ORIGINAL, VARIANTS, seed=0, n_boot=300)
    m, fam = r.metrics, r.details["families"]
    assert m["accuracy.original"].value == 0.75 and m["accuracy.paraphrase-p1"].value == 0.25
    # format: 8 (item, variant) pairs; both right 5, original only 1 (boxed on i2), both wrong 2.
    assert (fam["format"]["a"], fam["format"]["b"], fam["format"]["c"], fam["format"]["d"]) == (
        5,
        1,
        0,
        2,
    )
    assert m["pdr.format"].value == pytest.approx(1 - 5 / 6)
    assert m["flip_rate.format"].value == pytest.approx(1 / 8)
    # paraphrase: the original is right on only 3 of its pairs, too few for a ratio
    assert "pdr.paraphrase" not in m and fam["paraphrase"]["pdr"] is None
    assert fam["paraphrase"]["mcnemar_p"] == pytest.approx(10 / 16)  # 2 * P(X <= 1 | 4, 1/2)
    assert fam["format"]["mcnemar_p"] == 1.0
    # PSS per item over (original, boxed, hash, p1): i2 = [1,0,1,0] disagrees on 4 of 6 pairs,
    # the others on 3 of 6. Mean = (0.5 + 2/3 + 0.5 + 0.5) / 4 = 13/24.
    assert m["pss"].value == pytest.approx(13 / 24)
    assert r.details["fragile_items"][0]["id"] == "i2"
    assert m["worst_case_accuracy"].value == 0.0  # every item fails under some prompt
    assert r.details["spread"]["spread"] == 0.5  # 0.75 (original) - 0.25 (paraphrase-p1)
    assert m["pdr.format"].higher_is_better is False
    json.dumps(r.details)


@given(st.lists(st.sampled_from([0.0, 1.0]), min_size=1, max_size=12))
def test_pss_zero_iff_all_variants_agree(scores: list[float]) -> None:
    pss = prompt_sensitivity_score(scores)
    assert 0.0 <= pss <= 1.0
    assert (pss == 0.0) == (len(set(scores)) == 1)
    assert pss == pytest.approx(prompt_sensitivity_score(scores[::-1]))


def test_noise_null_spreads_ten_to_twenty_points_on_100_items() -> None:
    y = [i % 2 == 0 for i in range(100)]  # 50% accuracy
    null = spread_null(y, 10, seed=0, n_boot=400)
    assert 0.10 <= float(np.median(null)) <= 0.25 and float(np.percentile(null, 95)) < 0.35


def test_spread_is_judged_against_the_null() -> None:
    original = {f"i{k}": k % 2 == 0 for k in range(100)}
    same = {f"v-{j}": dict(original) for j in range(3)}
    assert not analyze(original, same, seed=0, n_boot=300).details["spread"]["beyond_noise"]
    broken = dict(same, **{"v-9": dict.fromkeys(original, False)})
    spread = analyze(original, broken, seed=0, n_boot=300).details["spread"]
    assert spread["spread"] == 0.5 and spread["beyond_noise"] and spread["p_value"] == 0.0


def _sample(pid: str, variant: str, correct: bool) -> ScoredSample:
    gen = Generation(pid, variant, 0, "p", "h", Completion("#### 1", "stop", 3, 2))
    return ScoredSample(gen, "1", "1", "strict", correct)


def test_layer_requests_and_evaluate() -> None:
    problems = [
        Problem(f"gsm8k/test/{i}", f"Ann has {i} pens <script>x</script>. How many?", str(i))
        for i in range(5)
    ]
    ctx = RunContext(None, seed=1, samples=1)
    layer = SensitivityLayer(
        sensitivity_config=SensitivityConfig(families=("format", "template"), max_per_family=2)
    )
    requests = layer.requests(problems, ctx)
    assert len(requests) == 5 * 3 and len({(r.id, r.variant) for r in requests}) == 15
    assert all(r.gold == r.id.rsplit("/", 1)[1] for r in requests)
    originals = {r.prompt for r in AccuracyLayer().requests(problems, ctx)}
    assert not originals & {r.prompt for r in requests}  # every variant changes the prompt
    samples = [_sample(p.id, "original", True) for p in problems] + [
        _sample(r.id, r.variant, r.variant != "template-raw") for r in requests
    ]
    result = layer.evaluate(problems, samples, ctx)
    assert result.metrics["pdr.template"].value == 1.0 and result.metrics["pdr.format"].value == 0
    assert result.per_sample[("gsm8k/test/0", "template-raw", 0)] == {
        "sensitivity": {"family": "template"}
    }
    assert "<script>" not in result.html and "&lt;script&gt;" in result.html
    with pytest.raises(InputError, match="original"):
        layer.evaluate(problems, samples[5:], ctx)
