from __future__ import annotations

from pathlib import Path

import pytest

from scripts.pipeline import PipelineConfig, UsageError, cli, load_config

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("profile", ["demo", "ci"])
def test_profiles_load(profile: str) -> None:
    cfg = load_config(profile)
    assert isinstance(cfg, PipelineConfig)
    assert cfg.eval_limit >= 500 and cfg.seeds == ([0] if profile == "ci" else [0, 1, 2])
    assert (REPO_ROOT / cfg.base / "base.json").is_file()
    if profile == "ci":
        assert cfg.baseline is not None and cfg.margin <= 5
        assert (REPO_ROOT / cfg.baseline / "samples.jsonl").is_file()


def test_overrides_are_typed_and_unknown_keys_fail() -> None:
    cfg = load_config("demo", ["sft_steps=7", "grpo_lr=1e-5", "seeds=0,1,2"])
    assert cfg.sft_steps == 7 and cfg.grpo_lr == pytest.approx(1e-5) and cfg.seeds == [0, 1, 2]
    with pytest.raises(UsageError, match="unknown config keys"):
        load_config("demo", ["sft_stepz=7"])
    with pytest.raises(UsageError, match="wants a number"):
        load_config("demo", ["sft_steps=many"])
    with pytest.raises(UsageError, match="distinct"):
        load_config("demo", ["seeds=1,1"])
    assert load_config("ci", ["baseline=null"]).baseline is None
    # "none" is one of TRL's scale_rewards, not a missing value; a required setting left empty
    # is bad usage (it read as null and crashed later, exit 3)
    assert load_config("demo", ["grpo_scale_rewards=none"]).grpo_scale_rewards == "none"
    with pytest.raises(UsageError, match="layers wants a value"):
        load_config("demo", ["layers="])


@pytest.mark.parametrize("argv", [["--seeds", "a,b"], ["--set", "nope=1"], ["--set", "novalue"],
                                  ["--set", "base=README.md"]])  # fmt: skip
def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path, argv: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert cli(["--out", str(tmp_path / "run"), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pipeline: error:")


def test_out_that_is_a_file_or_a_base_with_a_corrupt_record_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("x")
    assert cli(["--out", str(tmp_path / "file")]) == 2
    assert capsys.readouterr().err.strip() == f"pipeline: error: --out {tmp_path / 'file'} exists and is not a directory"
    base = tmp_path / "base"
    base.mkdir()
    (base / "base.json").write_text('{"sha256": ')
    assert cli(["--out", str(tmp_path / "run"), "--set", f"base={base}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unreadable base (JSONDecodeError" in err[0]


def _data_dir_with_audit(path: Path, leaked: dict[str, int]) -> Path:
    import json

    audits = {split: {"items": 500, "leaked_items": n, "leaked_share": n / 500} for split, n in leaked.items()}
    path.mkdir(parents=True, exist_ok=True)
    (path / "report.json").write_text(json.dumps({"leak_audit": audits}))
    return path


def test_a_leaking_held_out_split_stops_the_pipeline_as_a_gate(tmp_path: Path) -> None:
    from reasonkit.errors import GateFailed
    from scripts.pipeline import _check_leaks

    clean = _data_dir_with_audit(tmp_path / "clean", {"test": 0, "test-ood": 0, "val": 0})
    _check_leaks(load_config("demo"), clean)  # nothing leaks: no error
    leaky = _data_dir_with_audit(tmp_path / "leaky", {"test": 3, "test-ood": 0, "val": 0})
    with pytest.raises(GateFailed, match=r"leak audit: test 0.6% of items"):
        _check_leaks(load_config("demo"), leaky)
    _check_leaks(load_config("demo", ["max_leaked_share=0.01"]), leaky)  # within a stated allowance


def test_eval_splits_are_checked() -> None:
    from scripts.recipe import eval_splits

    assert eval_splits(load_config("demo")) == ["test", "test-ood"]
    assert eval_splits(load_config("demo", ["eval_splits=val"])) == ["val"]
    for bad in ("train", "test,test", "dev"):
        with pytest.raises(ValueError, match="held-out splits are"):
            eval_splits(load_config("demo", [f"eval_splits={bad}"]))
