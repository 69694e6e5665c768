"""GGUF input without the real model: what is refused, with one line and exit 2, before any load.

The files are written with gguf-py's own writer, a few bytes each.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reasoneval.cli import main
from reasoneval.gguf import check_supported, find_gguf, inspect_gguf
from reasonkit.checkpoint_files import CheckpointError


def write_gguf(path: Path, arch: str = "llama", qtype: str = "F32") -> Path:
    import gguf

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name("synthetic")
    kind = gguf.GGMLQuantizationType[qtype]
    if kind.name == "F32":
        writer.add_tensor("token_embd.weight", np.zeros((4, 32), dtype=np.float32))
    else:  # raw blocks of the named type: one row of 256 values
        block, size = gguf.constants.GGML_QUANT_SIZES[kind]
        raw = np.zeros((1, (256 // block) * size), dtype=np.uint8)
        writer.add_tensor("token_embd.weight", raw, raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_inspect_reads_architecture_and_tensor_types(tmp_path: Path) -> None:
    info = inspect_gguf(write_gguf(tmp_path / "m.gguf", qtype="Q8_0"))
    assert (info.architecture, info.tensor_types, info.name) == ("llama", {"Q8_0": 1}, "synthetic")
    assert len(info.sha256) == 64 and not info.has_chat_template
    check_supported(info)  # llama and Q8_0 are both readable


@pytest.mark.parametrize(
    ("arch", "qtype", "said"),
    [("rwkv6", "F32", "architecture 'rwkv6' is not supported"),
     ("llama", "Q8_K", "tensor type(s) Q8_K cannot be dequantised")],
)  # fmt: skip
def test_unsupported_architecture_or_type_is_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arch: str, qtype: str, said: str
) -> None:
    path = write_gguf(tmp_path / "m.gguf", arch, qtype)
    for argv in (["convert-gguf", str(path), "--out", str(tmp_path / "out")],
                 ["run", str(path), "--dataset", "synthetic", "--out", str(tmp_path / "run")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert said in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_not_a_gguf_split_parts_and_ambiguous_directories_are_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a gguf at all" * 10)
    with pytest.raises(CheckpointError, match="not a readable GGUF"):
        inspect_gguf(fake)
    part = write_gguf(tmp_path / "model-00001-of-00002.gguf")
    with pytest.raises(CheckpointError, match="split GGUF"):
        inspect_gguf(part)
    two = tmp_path / "two"
    two.mkdir()
    write_gguf(two / "a.gguf")
    write_gguf(two / "b.gguf")
    with pytest.raises(CheckpointError, match="holds 2 GGUF files"):
        find_gguf(two)


def test_find_gguf_prefers_an_hf_checkpoint_and_finds_a_lone_file(tmp_path: Path) -> None:
    one = tmp_path / "one"
    one.mkdir()
    path = write_gguf(one / "m.gguf")
    assert find_gguf(one) == path and find_gguf(path) == path
    (one / "config.json").write_text("{}")
    assert find_gguf(one) is None  # a directory with config.json is an HF checkpoint
    assert find_gguf(tmp_path / "nothing.txt") is None


def test_train_sft_asks_for_the_converted_checkpoint_not_the_gguf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from train.sft import cli

    path = write_gguf(tmp_path / "m.gguf")
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"question": "q", "reasoning": "r", "final_answer": "1"}\n')
    for model in (path, tmp_path):  # the file, and a directory holding only it
        code = cli(["--model_name_or_path", str(model), "--train_file", str(rows),
                    "--output_dir", str(tmp_path / "out")])  # fmt: skip
        err = capsys.readouterr().err.strip()
        assert code == 2 and "reasoneval convert-gguf" in err and len(err.splitlines()) == 1
