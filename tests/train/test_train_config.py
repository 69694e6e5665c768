from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from train.config import ALL_PROJECTIONS, ConfigError, parse_config
from train.grpo import GRPORunConfig
from train.sft import SFTRunConfig

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_yaml_sets_defaults_and_flags_override(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("model_name_or_path: m\ntrain_file: t\nlearning_rate: 1.0e-3\nmax_steps: 7\n")
    cfg = parse_config(SFTRunConfig, ["--config", str(path), "--learning_rate", "5e-4"], prog="x")
    assert (cfg.learning_rate, cfg.max_steps, cfg.model_name_or_path) == (5e-4, 7, "m")
    assert cfg.load_in_4bit is True
    assert (
        parse_config(SFTRunConfig, ["--config", str(path), "--no-quantize"], prog="x").load_in_4bit
        is False
    )
    assert parse_config(SFTRunConfig, ["--load_in_4bit", "false"], prog="x").load_in_4bit is False


def test_unknown_yaml_key_and_bad_yaml_fail(tmp_path: Path) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text("learning_rat: 1.0e-3\n")
    with pytest.raises(ConfigError, match="learning_rat"):
        parse_config(SFTRunConfig, ["--config", str(typo)], prog="x")
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError):
        parse_config(SFTRunConfig, ["--config", str(broken)], prog="x")


def test_shipped_sft_recipes_parse_with_the_specified_adapter() -> None:
    for name in ("sft_gsm8k.yaml", "sft_qwen3_0.6b.yaml"):
        cfg = parse_config(SFTRunConfig, ["--config", str(CONFIGS / name)], prog="x")
        assert (cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout) == (16, 32, 0.0)
        assert cfg.lora_target_modules == ALL_PROJECTIONS
        assert cfg.load_in_4bit and cfg.seed == 3407 and cfg.learning_rate == 2e-4
    tiny_reason = parse_config(
        SFTRunConfig, ["--config", str(CONFIGS / "sft_gsm8k.yaml")], prog="x"
    )
    assert tiny_reason.max_samples == 2000 and tiny_reason.max_steps == 250
    assert (tiny_reason.per_device_train_batch_size, tiny_reason.gradient_accumulation_steps) == (
        2,
        4,
    )
    assert tiny_reason.eval_steps == 50 and tiny_reason.save_steps % tiny_reason.eval_steps == 0


def test_shipped_grpo_recipe_parses() -> None:
    cfg = parse_config(GRPORunConfig, ["--config", str(CONFIGS / "grpo_gsm8k.yaml")], prog="x")
    assert (cfg.learning_rate, cfg.num_generations, cfg.max_completion_length) == (1e-6, 16, 2048)
    assert cfg.format_weight <= 0.2
    group = cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps
    assert group % cfg.num_generations == 0  # TRL needs whole groups per generation batch


@pytest.mark.parametrize("name", ["ddp.yaml", "fsdp.yaml", "zero2.yaml"])
def test_accelerate_configs_are_valid(name: str) -> None:
    from accelerate.commands.config.config_args import ClusterConfig

    path = CONFIGS / "accelerate" / name
    assert isinstance(yaml.safe_load(path.read_text()), dict)
    cluster = ClusterConfig.from_yaml_file(str(path))  # accelerate's loader rejects unknown keys
    assert str(cluster.distributed_type).endswith(("MULTI_GPU", "FSDP", "DEEPSPEED"))
    assert cluster.num_processes >= 2


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"peft": "none"}, "cannot train a 4-bit base"),
        ({"save_steps": 30, "eval_steps": 20}, "multiple of eval_steps"),
        ({"model_name_or_path": ""}, "model_name_or_path is required"),
        ({"eval_fraction": 1.0}, "eval_fraction"),
    ],
)
def test_inconsistent_sft_configs_fail_before_loading(
    overrides: dict[str, object], needle: str
) -> None:
    from train.sft import prepare

    cfg = SFTRunConfig(**{"model_name_or_path": "m", "train_file": "missing.jsonl", **overrides})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=needle):
        prepare(cfg)
