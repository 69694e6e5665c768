"""A stage's resume fingerprint is the typed config it builds: change any setting, and it reruns.

The fingerprints came from hand-kept lists of PipelineConfig fields (SFT_FIELDS, ...): a setting
left out of them, or one fixed inside the recipe, let a rerun keep a stale adapter (issue 26).
The pipeline runs here with its stages' work replaced by a recorder, so only the fingerprints
and the resume decisions are exercised, over the real typed configs.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from reasoneval.backends.threads import THREADS_ENV
from scripts import recipe
from scripts.pipeline import run_pipeline
from scripts.recipe import PipelineConfig
from scripts.stages import Stage, fingerprint, typed_config

# PipelineConfig fields that are no stage's setting, and why.
NOT_A_STAGE_SETTING = {
    "seeds": "chooses which stages exist (each seed has its own directories)",
    "base": "an input: its identity is base.json's sha256",
    "baseline": "the CI gate, after every stage",
    "margin": "the CI gate",
    "reward_tolerance": "the CI gate",
    "min_rl_update": "the CI gate",
    "max_leaked_share": "the leak gate, read after the data stage",
    "eval_splits": "chooses which evaluation stages exist (each split has its own directories)",
}


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each stage's work, replaced: the name of every stage that ran (was not resumed)."""
    import torch

    calls: list[str] = []

    def clean(cfg: PipelineConfig, out: Path) -> None:
        calls.append("data")  # with the leak audit the pipeline reads next: nothing leaks
        (out / "report.json").write_text('{"leak_audit": {"test": {"leaked_share": 0.0}}}')

    monkeypatch.setattr(recipe, "clean_data", clean)
    monkeypatch.setattr(recipe, "split_train", lambda cfg, kept, out: calls.append("split"))
    monkeypatch.setattr(recipe, "sft", lambda cfg, seed, *a: calls.append(f"sft{seed}"))
    monkeypatch.setattr(recipe, "grpo", lambda cfg, seed, *a: calls.append(f"grpo{seed}"))
    monkeypatch.setattr(recipe, "evaluate", lambda cfg, model, out, *a, **k: calls.append(f"eval:{out.name}"))
    monkeypatch.setenv(THREADS_ENV, os.environ.get(THREADS_ENV, "1"))  # restored afterwards
    threads = torch.get_num_threads()
    yield calls
    torch.set_num_threads(threads)


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):  # a valid other value where one is checked
        return {"hf": "vllm", "accuracy,traces,sensitivity": "accuracy,traces",
                "numeric,format": "numeric"}.get(value, value + "x")  # fmt: skip
    if isinstance(value, list):
        return [*value, 9]
    return "changed"  # None


def test_changing_any_pipeline_setting_reruns_a_stage(ran: list[str], tmp_path: Path) -> None:
    cfg = PipelineConfig()
    run_pipeline(cfg, tmp_path)
    assert ran == ["data", "split", "sft0", "grpo0", *["eval:base", "eval:seed0", "eval:seed0"] * 2]
    ran.clear()
    run_pipeline(cfg, tmp_path)
    assert ran == []  # every stage resumed
    for f in dataclasses.fields(PipelineConfig):
        if f.name in NOT_A_STAGE_SETTING:
            continue
        changed = dataclasses.replace(cfg, **{f.name: _changed(getattr(cfg, f.name))})
        run_pipeline(changed, tmp_path)
        assert ran, f"{f.name} changed and every stage was kept"
        ran.clear()
        run_pipeline(cfg, tmp_path)  # back, for the next field
        ran.clear()


def test_a_setting_fixed_inside_the_recipe_reruns_its_stage(
    ran: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What no list of PipelineConfig fields could catch: the recipe's own constants."""
    run_pipeline(PipelineConfig(), tmp_path)
    built = recipe.sft_config
    monkeypatch.setattr(recipe, "sft_config",
                        lambda *a: dataclasses.replace(built(*a), warmup_steps=0.1))  # fmt: skip
    ran.clear()
    run_pipeline(PipelineConfig(), tmp_path)
    # SFT reruns; GRPO and the evaluations downstream of it follow (their input moved)
    assert ran == ["sft0", "grpo0", *["eval:seed0", "eval:seed0"] * 2]  # test and test-ood


def _leaves(config: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out += _leaves(value, f"{prefix}{f.name}.")
        else:
            out.append((f"{prefix}{f.name}", value))
    return out


def _replace(config: Any, path: str, value: Any) -> Any:
    head, _, rest = path.partition(".")
    if rest:
        return dataclasses.replace(config, **{head: _replace(getattr(config, head), rest, value)})
    return dataclasses.replace(config, **{head: value})


@pytest.mark.parametrize("kind", ["sft", "grpo", "eval"])
def test_every_field_of_the_typed_config_is_in_the_fingerprint(kind: str, tmp_path: Path) -> None:
    cfg, base, out = PipelineConfig(), recipe.REPO_ROOT / "models" / "tiny-base", tmp_path / kind
    train = tmp_path / "data" / "kept" / "train.jsonl"
    config = {"sft": lambda: recipe.sft_config(cfg, 0, base, train, out),
              "grpo": lambda: recipe.grpo_config(cfg, 0, base, tmp_path / "sft", train, out),
              "eval": lambda: recipe.eval_config(cfg, base, out)}[kind]()  # fmt: skip

    def fp(c: Any) -> str:
        return fingerprint(Stage(kind, out, typed_config(c, out=out)))

    recorded = typed_config(config, out=out)[type(config).__name__]
    paths = 0
    for name, value in _leaves(config):
        if isinstance(value, Path) or (isinstance(value, str) and value.startswith("/")):
            # a path is the stage's own directory or something it reads, identified by content
            shown = recorded
            for part in name.split("."):
                shown = shown[part]
            assert shown == "$input" or shown.startswith("$out/"), (name, shown)
            paths += 1
            continue
        changed = _replace(config, name, _changed(value))
        assert fp(changed) != fp(config), f"{kind}: {name} is not in the fingerprint"
    assert paths >= 2  # the model and the output directory at least


def test_paths_are_relative_to_the_stage_or_inputs(tmp_path: Path) -> None:
    cfg = PipelineConfig()
    base = recipe.REPO_ROOT / "models" / "tiny-base"
    one = typed_config(recipe.sft_config(cfg, 0, base, tmp_path / "a" / "train.jsonl", tmp_path / "a" / "sft"),
                       out=tmp_path / "a" / "sft")  # fmt: skip
    moved = typed_config(recipe.sft_config(cfg, 0, base, tmp_path / "b" / "train.jsonl", tmp_path / "b" / "sft"),
                         out=tmp_path / "b" / "sft")  # fmt: skip
    assert one == moved  # a run directory that moves keeps its stages
    assert one["SFTRunConfig"]["output_dir"] == "$out/." and one["SFTRunConfig"]["train_file"] == "$input"
