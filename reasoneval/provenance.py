"""What a run report records about where its numbers came from: model, tokenizer, packages, code."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reasoneval.cache import directory_fingerprint

if TYPE_CHECKING:
    from reasoneval.run_config import RunConfig


def describe_model(
    checkpoint: Path, trust_remote_code: bool, allow_pickle: bool = False, base: Path | None = None
) -> dict[str, Any]:
    """A full model dir or a PEFT adapter dir; the fingerprint covers the adapter and its base.

    Resolving it checks the weights (safetensors unless ``allow_pickle``) and remote code, so a
    checkpoint that must not load is refused here, before any import of torch. ``base``
    overrides an adapter's recorded base (``reasoneval run --base``)."""
    from reasoneval.backends.checkpoint import resolve_checkpoint

    resolved = resolve_checkpoint(
        checkpoint,
        base=None if base is None else str(base),
        allow_pickle=allow_pickle,
        trust_remote_code=trust_remote_code,
    )
    parts = [directory_fingerprint(resolved.model_dir)]
    if resolved.adapter_dir is not None:
        parts.append(directory_fingerprint(resolved.adapter_dir))
    return {
        "gguf": _gguf_source(resolved.model_dir) if resolved.gguf is not None else None,
        "checkpoint": str(checkpoint.resolve()),  # absolute, as base_model and tokenizer_dir
        "base_model": str(resolved.model_dir) if resolved.adapter_dir else None,
        "is_adapter": resolved.adapter_dir is not None,
        "tokenizer_dir": str(resolved.tokenizer_dir),
        "fingerprint": hashlib.sha256("+".join(parts).encode()).hexdigest(),
        "trust_remote_code": trust_remote_code,
    }


def _gguf_source(converted: Path) -> dict[str, Any]:
    """The converted checkpoint's record of its GGUF: file, sha256, types, dequantisation."""
    import json

    from reasoneval.gguf import PROVENANCE_FILE

    record: dict[str, Any] = json.loads((converted / PROVENANCE_FILE).read_text(encoding="utf-8"))
    return {**record["source"], "converted_to": str(converted),
            "dequantisation": record["dequantisation"]}


def load_tokenizer(model: dict[str, Any], trust_remote_code: bool) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(
        model["tokenizer_dir"], trust_remote_code=trust_remote_code
    )


def describe_tokenizer(tok: Any) -> dict[str, Any]:
    template = getattr(tok, "chat_template", None) or ""
    return {
        "name": getattr(tok, "name_or_path", None),
        "class": type(tok).__name__,
        "vocab_size": len(tok) if tok is not None else None,
        "eos_token": getattr(tok, "eos_token", None),
        "pad_token": getattr(tok, "pad_token", None),
        "chat_template_sha256": hashlib.sha256(str(template).encode()).hexdigest()
        if template
        else None,
    }


def resolve_backend(
    cfg: RunConfig, model: dict[str, Any], needed: dict[str, int]
) -> tuple[str, str]:
    """``auto`` -> the concrete backend for this run (reasoneval/backends/choice.py) and why; the
    name is recorded and part of the cache key, the reason goes into the plan line."""
    from reasoneval.backends import Workload, choose_backend
    from reasoneval.backends.choice import model_parameters

    work = Workload(
        prompts=len(needed),
        completions=sum(needed.values()),
        max_new_tokens=cfg.sampling.max_new_tokens,
        few_shot=(cfg.few_shot or 0) > 0,
        parameters=model_parameters(Path(model["base_model"] or model["checkpoint"])),
    )
    return choose_backend(cfg.backend, work)


def _absolute(path: Path) -> str:
    return str(Path(path).resolve())


# Every `reasoneval run` option as (option, the RunConfig field it sets), in the order the
# recorded command lists them. The command is derived from the recorded config through this
# table alone; tests/reasoneval/test_run_record.py checks that every option of the parser and
# every field of the config is here or in NO_OPTION, so the two cannot drift apart again (issue 26:
# the field names, chunk size, parallel sizes and the synthetic set's seed were left out).
OPTIONS: tuple[tuple[str, str], ...] = (
    ("--base", "base"),
    ("--layers", "layers"),
    ("--dataset", "dataset.name"),
    ("--data-dir", "dataset.data_dir"),
    ("--split", "dataset.split"),
    ("--limit", "dataset.limit"),
    ("--question-field", "dataset.question_field"),
    ("--answer-field", "dataset.answer_field"),
    ("--id-field", "dataset.id_field"),
    ("--data-seed", "dataset.seed"),
    ("--backend", "backend"),
    ("--samples", "sampling.n"),
    ("--temperature", "sampling.temperature"),
    ("--top-p", "sampling.top_p"),
    ("--max-new-tokens", "sampling.max_new_tokens"),
    ("--seed", "sampling.seed"),
    ("--few-shot", "few_shot"),
    ("--prompt-style", "prompt_style"),
    ("--chunk-size", "chunk_size"),
    ("--data-parallel-size", "parallel.data_parallel_size"),
    ("--tensor-parallel-size", "parallel.tensor_parallel_size"),
    ("--sensitivity-families", "sensitivity_config.families"),
    ("--sensitivity-max-variants", "sensitivity_config.max_per_item"),
    ("--variants-file", "sensitivity_config.external_files"),
    ("--baseline", "baseline"),
    ("--margin", "margin_points"),
    ("--gate", "gates"),
    ("--trust-remote-code", "trust_remote_code"),
    ("--allow-pickle", "allow_pickle"),
    ("--allow-style-mismatch", "allow_style_mismatch"),
    ("--out", "out"),
)
REPEATED = {"--gate", "--variants-file"}  # one option per value; other lists are comma-joined
# Fields that no option sets: the command reproduces a run only with these at their defaults,
# which every run from the command line and the pipeline has.
NO_OPTION = {
    "sampling.stop": "the prompt format's stop strings (reasonkit.prompting)",
    "sensitivity_config.max_per_family": "the layer's cap per family",
    "sensitivity_config.n_boot": "the layer's bootstrap size",
    "sensitivity_config.top_fragile": "how many fragile items the report lists",
}
UNRECORDED = {"sensitivity_config.numeric_variants"}  # a function (a test hook), not data


def _plain(value: Any, path: str = "") -> Any:
    from dataclasses import fields, is_dataclass

    from reasoneval.gates import Gate

    if isinstance(value, Gate):
        return str(value)  # the --gate text that parses back to it
    if is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in fields(value):
            name = f"{path}.{f.name}" if path else f.name
            if name not in UNRECORDED:
                out[f.name] = _plain(getattr(value, f.name), name)
        return out
    if isinstance(value, Path):
        return _absolute(value)
    if isinstance(value, tuple | list):
        return [_plain(v, path) for v in value]
    return value


def config_record(cfg: RunConfig) -> dict[str, Any]:
    """The resolved RunConfig as JSON, with absolute paths: what report.json records as
    ``config``, and what :func:`command_line` turns back into a command."""
    record: dict[str, Any] = _plain(cfg)
    name = record["dataset"]["name"]
    if Path(name).is_file():  # a JSONL file, not the name of a built-in set
        record["dataset"]["name"] = _absolute(Path(name))
    return record


def _lookup(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if value is None:
            return None  # e.g. no sensitivity_config: its options do not apply
        value = value[part]
    return value


def command_line(record: dict[str, Any]) -> list[str]:
    """The command that reproduces a run, derived from its :func:`config_record`: every option
    explicit, paths absolute (as the model section records them), so it runs from anywhere."""
    cmd = ["reasoneval", "run", str(record["checkpoint"])]
    for option, path in OPTIONS:
        value = _lookup(record, path)
        if value is None or value is False:
            continue
        if value is True:
            cmd.append(option)
        elif isinstance(value, list) and option in REPEATED:
            for item in value:
                cmd += [option, str(item)]
        elif isinstance(value, list):
            cmd += [option, ",".join(map(str, value))]
        else:
            cmd += [option, str(value)]
    return cmd


def layer_options(cfg: RunConfig) -> dict[str, Any]:
    sens = cfg.sensitivity_config
    if sens is None:
        return {}
    return {
        "sensitivity": {
            "families": list(sens.families),
            "max_per_family": sens.max_per_family,
            "max_per_item": sens.max_per_item,
            "external_files": [
                {"path": str(p), "sha256": directory_fingerprint(Path(p))}
                for p in sens.external_files
            ],
        }
    }
