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


def resolve_backend(name: str) -> tuple[str, str]:
    """``auto`` -> the concrete backend (the backends' own rule) and why; the name is recorded
    and part of the cache key, the reason is logged."""
    from reasoneval.backends import choose_backend

    return choose_backend(name)  # type: ignore[arg-type]


def _absolute(path: Path) -> str:
    return str(Path(path).resolve())


def command_line(cfg: RunConfig) -> list[str]:
    """The canonical command that reproduces this run (every setting explicit), with absolute
    paths, as the model section records them, so it runs from any directory."""
    ds, s = cfg.dataset, cfg.sampling
    cmd = [
        "reasoneval",
        "run",
        _absolute(cfg.checkpoint),
        "--layers",
        ",".join(cfg.layers),
        "--dataset",
        _absolute(Path(ds.name)) if Path(ds.name).is_file() else ds.name,
        "--split",
        ds.split,
        "--backend",
        cfg.backend,
        "--samples",
        str(s.n),
        "--temperature",
        str(s.temperature),
        "--top-p",
        str(s.top_p),
        "--max-new-tokens",
        str(s.max_new_tokens),
        "--prompt-style",
        cfg.prompt_style,
        "--few-shot",
        str(cfg.few_shot or 0),
        "--seed",
        str(s.seed),
        "--out",
        _absolute(cfg.out),
    ]
    if ds.data_dir is not None:
        cmd += ["--data-dir", _absolute(ds.data_dir)]
    if ds.limit is not None:
        cmd += ["--limit", str(ds.limit)]
    if cfg.baseline is not None:
        cmd += ["--baseline", _absolute(cfg.baseline), "--margin", str(cfg.margin_points)]
    for g in cfg.gates:
        cmd += ["--gate", str(g)]
    sens = cfg.sensitivity_config
    if sens is not None:
        cmd += [
            "--sensitivity-families",
            ",".join(sens.families),
            "--sensitivity-max-variants",
            str(sens.max_per_item),
        ]
        for path in sens.external_files:
            cmd += ["--variants-file", _absolute(path)]
    if cfg.base is not None:
        cmd += ["--base", _absolute(cfg.base)]
    if cfg.trust_remote_code:
        cmd.append("--trust-remote-code")
    if cfg.allow_pickle:
        cmd.append("--allow-pickle")
    if cfg.allow_style_mismatch:
        cmd.append("--allow-style-mismatch")
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
