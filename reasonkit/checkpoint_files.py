"""What a checkpoint directory holds, checked before any loader touches it.

Only safetensors are loaded: a pickle (``pytorch_model.bin``, ``adapter_model.bin``) can run code
on load, and vLLM and PEFT would otherwise fall back to one silently. Remote code is refused up
front too, with one line, instead of by transformers with a traceback after the imports.
"""

from __future__ import annotations

import json
from pathlib import Path

from reasonkit.errors import InputError

__all__ = ["CheckpointError", "check_remote_code", "check_weights"]

_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_NOT_WEIGHTS = ("training_args.bin", "optimizer.pt", "scheduler.pt", "rng_state.pth")


class CheckpointError(InputError):
    """A checkpoint directory that must not or cannot be loaded; exit 2 with this line."""


def _weights(directory: Path, adapter: bool) -> tuple[list[str], list[str]]:
    names = sorted(p.name for p in directory.iterdir() if p.is_file())
    ours = [n for n in names if n.startswith("adapter_model") == adapter and n not in _NOT_WEIGHTS]
    return ([n for n in ours if n.endswith(".safetensors")],
            [n for n in ours if n.endswith(_PICKLE_SUFFIXES)])


def check_weights(
    directory: Path, *, allow_pickle: bool, adapter: bool = False, flag: str | None = "--allow-pickle"
) -> None:
    """Safetensors weights are present, or (with ``allow_pickle``) pickled ones; else one line."""
    safe, pickled = _weights(directory, adapter)
    if safe:
        return
    what = "adapter" if adapter else "model"
    if pickled and not allow_pickle:
        escape = f", or pass {flag} if you trust them" if flag else ""
        raise CheckpointError(
            f"{directory} holds only pickled {what} weights ({', '.join(pickled[:3])}), which can "
            f"run code when loaded; convert them to safetensors{escape}"
        )
    if not pickled:
        raise CheckpointError(f"{directory} holds no {what} weights (no *.safetensors file)")


def check_remote_code(
    directory: Path, *, trust_remote_code: bool, flag: str | None = "--trust-remote-code"
) -> None:
    if trust_remote_code:
        return
    for name in ("config.json", "tokenizer_config.json"):
        try:
            config = json.loads((directory / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise CheckpointError(f"{directory / name} is not readable JSON ({exc})") from None
        if isinstance(config, dict) and config.get("auto_map"):
            escape = f"; pass {flag} only if you trust it" if flag else ", which is not run here"
            raise CheckpointError(
                f"{directory} needs its own Python code ({name} has auto_map){escape}"
            )
