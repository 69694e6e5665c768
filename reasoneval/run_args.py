"""`reasoneval run`'s command line: the options, their checks, and the RunConfig they build.

Every option is checked here, before any model loads; ``reasoneval.run.execute`` does the work.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from reasoneval import console
from reasoneval.backends.base import SamplingConfig
from reasoneval.datasets import DatasetSpec
from reasoneval.gates import check_gates_up_front, parse_gate
from reasoneval.layers import parse_layers
from reasoneval.prompt_styles import CHOICES
from reasoneval.run import exit_code, run_evaluation
from reasoneval.run_config import RunConfig
from reasoneval.sharding import ParallelConfig
from reasoneval.variants import FAMILIES
from reasonkit.artifacts import check_out_dir
from reasonkit.errors import InputError, float_in, non_negative_float, positive_int, seed_int

if TYPE_CHECKING:
    from reasoneval.layers.sensitivity import SensitivityConfig
    from reasoneval.report_record import RunReportRecord


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "checkpoint",
        type=Path,
        help="model directory, PEFT adapter directory, or a .gguf file (or a directory holding one)",
    )
    p.add_argument(
        "--base",
        type=Path,
        help="base model directory for an adapter CKPT (default: the one the adapter records)",
    )
    p.add_argument(
        "--layers", default="accuracy", help="comma-separated: accuracy,traces,sensitivity"
    )
    p.add_argument("--dataset", default="gsm8k", help="gsm8k, synthetic, or a JSONL file")
    p.add_argument(
        "--data-dir", type=Path, help="local GSM8K copy (default: $GSM8K_DIR, else the hub)"
    )
    p.add_argument("--split", default="test")
    p.add_argument(
        "--data-seed", type=int, default=0,
        help="seed of the synthetic set (default 0: the one `datacheck clean synthetic` writes)",
    )
    p.add_argument("--limit", type=positive_int, help="evaluate the first N problems")
    p.add_argument("--question-field", default="question")
    p.add_argument("--answer-field", default="answer")
    p.add_argument("--id-field", default="id")
    p.add_argument("--backend", choices=["auto", "vllm", "hf"], default="auto")
    p.add_argument("--samples", type=int, default=1, help="k samples per original prompt")
    p.add_argument("--temperature", type=non_negative_float, default=0.0)
    p.add_argument("--top-p", type=float_in(0, 1, low_open=True), default=1.0)
    p.add_argument("--max-new-tokens", type=int, default=512)
    p.add_argument(
        "--prompt-style",
        choices=CHOICES,
        default="auto",
        help="how questions are put and answers read (docs/run.md#prompt-styles); auto: the one "
        "the checkpoint records, else chat-cot with a chat template, else plain",
    )
    p.add_argument(
        "--few-shot",
        type=int,
        help="shots: think's worked train examples (default 0), fewshot-cot's exemplars (8), "
        "fewshot-gsm8k's random train items (5)",
    )
    p.add_argument(
        "--allow-style-mismatch",
        action="store_true",
        help="gate against a --baseline run of another prompt style",
    )
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--baseline", type=Path, help="a previous run directory to gate against")
    p.add_argument(
        "--margin", type=non_negative_float, default=2.0, help="allowed accuracy drop, in points"
    )
    p.add_argument(
        "--gate",
        action="append",
        default=[],
        help="METRIC<=VALUE | METRIC>=VALUE | METRIC<=baseline+DELTA (repeatable)",
    )
    p.add_argument(
        "--chunk-size", type=int, help="prompts per generate call (default: vllm 512, hf 64)"
    )
    p.add_argument("--sensitivity-families",
                   help=f"comma-separated variant families, of {', '.join(FAMILIES)} (default: all)")
    p.add_argument("--sensitivity-max-variants", type=int, help="variants per problem, at most")
    p.add_argument(
        "--variants-file",
        type=Path,
        action="append",
        default=[],
        help="GSM-Plus-layout JSONL of external variants (repeatable)",
    )
    p.add_argument("--trust-remote-code", action="store_true")
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="load pickled weights (*.bin) when no safetensors exist; pickles can run code",
    )
    p.add_argument(
        "--data-parallel-size",
        type=int,
        default=1,
        help="replicas, one per process started by accelerate launch (docs/scaling.md)",
    )
    p.add_argument("--tensor-parallel-size", type=int, default=1, help="GPUs per vLLM replica")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="let vLLM and transformers log at INFO"
    )


def config_from_args(args: argparse.Namespace) -> RunConfig:
    for flag, value, low in (
        ("--samples", args.samples, 1),
        ("--max-new-tokens", args.max_new_tokens, 1),
        ("--chunk-size", 1 if args.chunk_size is None else args.chunk_size, 1),
        ("--few-shot", 0 if args.few_shot is None else args.few_shot, 0),
    ):
        if value < low:
            raise InputError(f"{flag} must be at least {low}, got {value}")
    layers = parse_layers(args.layers)
    gates = tuple(parse_gate(g) for g in args.gate)
    check_gates_up_front(gates, layers, has_baseline=args.baseline is not None)
    check_out_dir(args.out)
    if args.samples > 1 and args.temperature <= 0.0:
        # vLLM refuses n > 1 with greedy decoding, and K copies of one answer make pass@K and
        # maj@K meaningless; say so before an engine starts.
        raise InputError(
            f"--samples {args.samples} needs --temperature above 0 (greedy repeats one answer)"
        )
    return RunConfig(
        checkpoint=args.checkpoint,
        out=args.out,
        layers=layers,
        dataset=DatasetSpec(
            args.dataset,
            args.split,
            args.data_dir,
            args.limit,
            args.question_field,
            args.answer_field,
            args.id_field,
            args.data_seed,
        ),
        backend=args.backend,
        sampling=SamplingConfig(
            n=args.samples,
            temperature=args.temperature,
            top_p=args.top_p,
            max_new_tokens=args.max_new_tokens,
            seed=args.seed,
        ),
        prompt_style=args.prompt_style,
        few_shot=args.few_shot,
        allow_style_mismatch=args.allow_style_mismatch,
        baseline=args.baseline,
        margin_points=args.margin,
        gates=gates,
        trust_remote_code=args.trust_remote_code,
        allow_pickle=args.allow_pickle,
        chunk_size=args.chunk_size,
        sensitivity_config=_sensitivity_config(args) if "sensitivity" in layers else None,
        parallel=ParallelConfig(args.data_parallel_size, args.tensor_parallel_size),
        base=args.base,
    )


def _sensitivity_config(args: argparse.Namespace) -> SensitivityConfig:
    from reasoneval.layers.sensitivity import SensitivityConfig
    from reasoneval.variants import parse_families

    config = SensitivityConfig()
    if args.sensitivity_families:
        config = replace(config, families=parse_families(args.sensitivity_families))
    if args.sensitivity_max_variants is not None:
        if args.sensitivity_max_variants < 1:
            raise InputError("--sensitivity-max-variants must be at least 1")
        config = replace(config, max_per_item=args.sensitivity_max_variants)
    for path in args.variants_file:
        if not path.is_file():
            raise InputError(f"--variants-file not found: {path}")
    return replace(config, external_files=tuple(args.variants_file))


def run(args: argparse.Namespace) -> int:
    return exit_code(run_from_args(args))


def run_from_args(args: argparse.Namespace) -> RunReportRecord | None:
    """The command's work, which the Python API (reasoneval.api.run) shares: the report record,
    None in a launched process other than the main one."""
    from reasonkit.outlock import output_lock

    console.setup_logging(verbose=args.verbose)
    cfg = config_from_args(args)
    with output_lock(cfg.out):  # a second run on this --out exits 2 (reasonkit.outlock)
        return run_evaluation(cfg)
