"""`reasoneval compare` on groups of runs (training seeds), and on real run directories."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from reasoneval import backends
from reasoneval.backends.base import SamplingConfig
from reasoneval.cli import main
from reasoneval.compare import compare_groups, compare_results, load_run_results
from reasoneval.records import Completion
from reasoneval.stats import mcnemar_exact, paired_bootstrap_ci
from reasonkit.errors import InputError

QUESTIONS = [f"Kim has {i} cards and finds {i + 3} more. How many cards?" for i in range(10)]


class _OriginalsOnly:
    """Right on every original prompt, wrong on every sensitivity variant of it."""

    name = "hf"

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        out = []
        for prompt in prompts:
            i = next(i for i, q in enumerate(QUESTIONS) if q in prompt)
            original = "<|im_start|>" in prompt and f"{QUESTIONS[i]}\n\n" not in prompt
            answer = 2 * i + 3 if original else -1
            out.append([Completion(f"</think>\n#### {answer}", "stop", 30, 6)] * sampling.n)
        return out

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def sensitivity_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real `reasoneval run` with the sensitivity layer on: 3 variants beside each original."""
    root = tmp_path_factory.mktemp("sens")
    data = root / "problems.jsonl"
    data.write_text(
        "".join(
            json.dumps({"question": q, "answer": f"#### {2 * i + 3}"}) + "\n"
            for i, q in enumerate(QUESTIONS)
        )
    )
    mp = pytest.MonkeyPatch()
    mp.setattr(backends, "load_backend", lambda *a, **k: _OriginalsOnly())
    try:
        args = ["run", str(tiny_model_dir), "--dataset", str(data), "--backend", "hf"]
        args += ["--layers", "accuracy,sensitivity", "--sensitivity-families", "format,template"]
        assert main([*args, "--sensitivity-max-variants", "3", "--out", str(root / "run")]) == 0
    finally:
        mp.undo()
    return root / "run"


def test_compare_counts_original_prompts_only_on_a_run_with_variants(
    sensitivity_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [json.loads(x) for x in (sensitivity_run / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 4 * len(QUESTIONS)  # the defect's setting: variants in the same file
    report = json.loads((sensitivity_run / "report.json").read_text())
    reported = report["layers"]["accuracy"]["metrics"]["accuracy"]["value"]
    samples = sensitivity_run / "samples.jsonl"
    for path in (samples, sensitivity_run):  # the samples file, or the run directory
        assert main(["compare", str(path), str(path), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["baseline_accuracy"] == reported == 1.0
        assert out["baseline_samples"] == [1, 1] and out["n_items"] == len(QUESTIONS)
    assert main(["compare", str(samples), str(samples), "--variant", "format", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["baseline_accuracy"] == 0.0 and out["baseline_samples"] == [2, 2]


def test_load_run_results_orders_samples_and_reports_a_missing_family(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    rows = [
        {"id": "a", "variant": "original", "sample_index": 1, "correct": False},
        {"id": "a", "variant": "format-json", "sample_index": 0, "correct": True},
        {"id": "a", "variant": "original", "sample_index": 0, "correct": True},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert load_run_results(path) == {"a": [True, False]}
    assert load_run_results(path, variant="format-json") == {"a": [True]}
    with pytest.raises(InputError, match="no 'template' samples among 3 rows"):
        load_run_results(path, variant="template")
    (tmp_path / "run").mkdir()
    with pytest.raises(InputError, match=r"needs samples\.jsonl"):
        load_run_results(tmp_path / "run")


def _run(correct: Sequence[int | bool]) -> dict[str, list[bool]]:
    return {f"q{i}": [bool(c)] for i, c in enumerate(correct)}


def test_two_runs_a_side_hand_computed() -> None:
    # 4 items; baseline runs at 50% and 75%, candidate runs at 75% and 100%.
    base = [_run([1, 1, 0, 0]), _run([1, 1, 1, 0])]
    cand = [_run([1, 1, 1, 0]), _run([1, 1, 1, 1])]
    g = compare_groups(base, cand, test="superiority")
    assert (g.baseline_accuracy, g.candidate_accuracy, g.delta) == (0.625, 0.875, 0.25)
    assert g.baseline_runs == (0.5, 0.75) and g.candidate_runs == (0.75, 1.0)
    # run accuracies differ by 0.25 on both sides: seed SD = 0.25 / sqrt(2)
    assert g.baseline_seed_sd == pytest.approx(0.25 / math.sqrt(2))
    # item differences D = (0, 0, 0.5, 0.5): var 1/12, item-only SE sqrt(1/48)
    assert g.item_se == pytest.approx(math.sqrt(1 / 48))
    # Two-way residuals: each table is one cell off the additive fit by 3/8 and three by 1/8,
    # twice over: SS = 2 * (9 + 3) / 64 = 3/8 on (2-1)(4-1) = 3 df, so 1/8 a side. The item
    # variance 1/12 - 1/16 - 1/16 < 0 floors at 0, leaving the run variance (0.5, 0.75) -> 1/32
    # per side: Var(delta) = 1/32 / 2 * 2 = 1/32, all of it on 1 + 1 seed df.
    assert g.se == pytest.approx(math.sqrt(1 / 32))
    assert g.df == pytest.approx(2.0)
    assert g.ci_low == pytest.approx(0.25 - 4.302653 * math.sqrt(1 / 32))  # t(0.975, 2)
    assert not g.passed  # two seeds a side cannot show a 25-point gain on 4 items
    assert "warning: the seed variance has only 2 df" in g.text()
    # run variance 1/32 minus residual / n = 1/32: none of the run spread is beyond item noise
    assert g.seed_variance_share == pytest.approx(0.0)
    # first samples: item 2 is 1/2 vs 1 (candidate), item 3 is 0 vs 1/2 (candidate)
    assert (g.baseline_only, g.candidate_only) == (0, 2) and g.mcnemar_p == 0.5


def test_one_run_a_side_is_the_paired_item_bootstrap() -> None:
    rng = random.Random(3)
    base = {f"q{i}": [rng.random() < 0.6 for _ in range(3)] for i in range(150)}
    cand = {f"q{i}": [rng.random() < 0.65 for _ in range(3)] for i in range(150)}
    g = compare_groups([base], [cand], seed=7, n_boot=2000)
    mb = [sum(base[f"q{i}"]) / 3 for i in range(150)]
    mc = [sum(cand[f"q{i}"]) / 3 for i in range(150)]
    assert (g.ci_low, g.ci_high) == paired_bootstrap_ci(mb, mc, seed=7, n_boot=2000)
    b = sum(base[f"q{i}"][0] and not cand[f"q{i}"][0] for i in range(150))
    c = sum(cand[f"q{i}"][0] and not base[f"q{i}"][0] for i in range(150))
    assert (g.baseline_only, g.candidate_only, g.mcnemar_p) == (b, c, mcnemar_exact(b, c))
    assert g.delta == pytest.approx(sum(mc) / 150 - sum(mb) / 150)
    assert g.seed_variance_share is None and g.baseline_seed_sd is None and g.df is None
    legacy = compare_results(base, cand, seed=7, n_boot=2000)
    assert (legacy.ci_low, legacy.mde, legacy.passed) == (g.ci_low, g.mde, g.passed)


def test_identical_groups_give_zero_delta_and_pass_both_tests() -> None:
    rng = random.Random(0)
    runs = [_run([rng.random() < 0.5 for _ in range(60)]) for _ in range(3)]
    g = compare_groups(runs, runs)
    assert g.delta == 0 and g.passed and g.ci_low <= 0 <= g.ci_high
    assert g.baseline_seed_sd == g.candidate_seed_sd and (g.baseline_seed_sd or 0) > 0
    assert g.ci_method == "identical runs on both sides" and g.ci_low == g.ci_high == 0
    sup = compare_groups(runs, runs, test="superiority")
    assert not sup.passed  # no gain is not a gain
    # Other seeds of the same recipe are not the same runs: at this seed spread (about 15
    # points), three seeds a side cannot show non-inferiority within 2 points.
    # Runs that never disagree leave no variance: the CI is [0, 0] and --json stays valid JSON.
    flat = compare_groups(runs[:1] * 2, runs[:1] * 3)
    assert flat.passed and flat.df is None and (flat.ci_low, flat.ci_high) == (0, 0)
    assert json.dumps(flat.to_dict(), allow_nan=False)
    others = [_run([rng.random() < 0.5 for _ in range(60)]) for _ in range(3)]
    assert not compare_groups(runs, others).passed


def test_seed_noise_widens_the_interval_beyond_the_paired_test() -> None:
    """Same items, candidate seeds drift by +-8 points: one pair looks like a gain, the group not."""
    rng = random.Random(1)
    truth = [rng.random() < 0.6 for _ in range(400)]

    def seed_run(shift: float) -> dict[str, list[bool]]:
        """shift > 0 turns that share of wrong items right; shift < 0 turns right ones wrong."""
        if shift >= 0:
            return _run([t or rng.random() < shift for t in truth])
        return _run([t and rng.random() >= -shift for t in truth])

    base = [seed_run(0.0), seed_run(0.0), seed_run(0.0)]
    cand = [seed_run(0.2), seed_run(-0.1), seed_run(-0.05)]
    lucky = compare_groups(base[:1], cand[:1], test="superiority")
    group = compare_groups(base, cand, test="superiority")
    assert lucky.passed and not group.passed
    assert group.seed_variance_share is not None and group.seed_variance_share > 0.5
    assert group.ci_high - group.ci_low > 2 * (lucky.ci_high - lucky.ci_low)
    assert group.se > 2 * group.item_se  # the seed term, not the items, sets the width


def test_superiority_honours_min_effect() -> None:
    base = [_run([i % 2 == 0 for i in range(200)])] * 2
    cand = [_run([i % 4 != 3 for i in range(200)])] * 2  # +25 points, no seed spread
    assert compare_groups(base, cand, test="superiority", min_effect_points=5).passed
    assert not compare_groups(base, cand, test="superiority", min_effect_points=30).passed


def _files(tmp_path: Path, name: str, runs: list[list[bool]]) -> list[str]:
    paths = []
    for j, correct in enumerate(runs):
        path = tmp_path / f"{name}{j}.jsonl"
        path.write_text(
            "".join(json.dumps({"id": f"q{i}", "correct": c}) + "\n" for i, c in enumerate(correct))
        )
        paths.append(str(path))
    return paths


def test_cli_groups_json_and_verdict_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(2)
    base = _files(tmp_path, "b", [[rng.random() < 0.5 for _ in range(300)] for _ in range(3)])
    cand = _files(tmp_path, "c", [[rng.random() < 0.9 for _ in range(300)] for _ in range(3)])
    argv = ["compare", "--baseline", *base, "--candidate", *cand, "--test", "superiority"]
    assert main([*argv, "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert out["n_baseline_runs"] == out["n_candidate_runs"] == 3 and out["ci_low"] > 0.3
    for key in ("baseline_seed_sd", "item_se", "seed_variance_share", "mde", "df"):
        assert isinstance(out[key], float)
    assert main([*argv, "--min-effect", "45"]) == 1
    text = capsys.readouterr().out
    assert "seed variance has only" not in text  # 3 runs a side: 4 df
    verdicts = [x for x in text.splitlines() if x.startswith("verdict:")]
    assert verdicts == [verdicts[0]] and "FAIL: not shown superior" in verdicts[0]
    assert main(["compare", "--baseline", *cand, "--candidate", *base]) == 1  # a regression


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("an item missing", "baseline run 2 lacks 1 (e.g. ['q7'])"),
        ("both forms", "give BASELINE CANDIDATE or --baseline/--candidate, not both"),
        ("one side", "--baseline and --candidate go together"),
        ("min-effect", "--min-effect applies to --test superiority"),
    ],
)
def test_cli_bad_groups_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, reason: str
) -> None:
    runs = [[(i + j) % 3 == 0 for i in range(10)] for j in range(3)]  # three distinct runs
    base, cand = _files(tmp_path, "b", runs), _files(tmp_path, "c", runs)
    kept = [x for x in Path(base[1]).read_text().splitlines(True) if '"q7"' not in x]
    Path(base[1]).write_text("".join(kept))
    argv = {
        "an item missing": ["--baseline", *base, "--candidate", *cand],
        "both forms": [base[0], "--baseline", base[0], "--candidate", cand[0]],
        "one side": ["--baseline", base[0]],
        "min-effect": [base[0], cand[0], "--min-effect", "1"],
    }[case]
    assert main(["compare", *argv]) == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1


def _run(correct: Sequence[int]) -> dict[str, list[bool]]:
    return {f"q{i}": [bool(c)] for i, c in enumerate(correct)}


MDE_WARNING = "below the minimum detectable effect"


@pytest.mark.parametrize(
    ("base_right", "cand_right", "passed"),
    [(6, 36, True),  # base -> SFT shape: the interval is far above -margin
     (36, 6, False)],  # a regression the interval shows beyond the margin
)  # fmt: skip
def test_no_mde_warning_when_the_interval_is_clear_of_the_margin(
    base_right: int, cand_right: int, passed: bool
) -> None:
    n = 40
    g = compare_groups([_run([1] * base_right + [0] * (n - base_right))],
                       [_run([1] * cand_right + [0] * (n - cand_right))], margin_points=2)  # fmt: skip
    assert g.mde > g.margin  # the condition that alone used to print the warning (issue 26)
    assert g.passed is passed and not (g.ci_low < -g.margin <= g.ci_high)
    assert MDE_WARNING not in g.text() and not g.underpowered()


def test_mde_warning_when_more_data_could_turn_the_verdict() -> None:
    base = [1, 0] * 10
    cand = [1, 1, 0, 0] * 5  # the same accuracy, disagreeing on half the items
    g = compare_groups([_run(base)], [_run(cand)], margin_points=2)
    assert not g.passed and g.ci_low < -g.margin <= g.ci_high and g.mde > g.margin
    assert MDE_WARNING in g.text() and g.underpowered()
