"""`reasoneval run CKPT --layers accuracy[,traces,sensitivity] --out DIR`: generate once, judge by layer.

The walk: load problems -> each layer asks for prompts -> unique prompts are generated once (cached,
so a killed run resumes: run_generate.py) -> every sample is scored with reasonkit.answers -> each
layer turns the scored samples into metrics -> samples.jsonl, report.json (the record of
report_record.py), report.html (run_assemble.py) -> gates decide the exit code.
"""

from __future__ import annotations

import time
from dataclasses import replace

from reasoneval import console, provenance
from reasoneval.cache import cache_key
from reasoneval.datasets import load_problems
from reasoneval.gates import load_run_dir
from reasoneval.layers import LayerOptions, build_layers
from reasoneval.layers.base import RunContext
from reasoneval.prompt_styles import SPECS, stop_strings
from reasoneval.report import write_report
from reasoneval.report_record import GenerationRecord, RunReportRecord
from reasoneval.run_assemble import build_report, prompt_style_record, run_gates, sample_rows
from reasoneval.run_config import RunConfig
from reasoneval.run_generate import generate, prompt_hash, score_requests, unique_prompts
from reasoneval.run_prompts import resolve_prompt_style
from reasoneval.sharding import is_main_process, open_cache
from reasonkit.artifacts import atomic_write_text
from reasonkit.errors import InputError
from reasonkit.jsonl import jsonl_text
from reasonkit.manifest import begin_output, finish_output

__all__ = ["CACHE_FILE", "RUN_FILES", "execute", "exit_code", "prompt_hash", "run_evaluation"]

CACHE_FILE = "cache/generations.jsonl"
RUN_FILES = ("samples.jsonl", "report.json", "report.html")  # the cache is not part of the result


def execute(cfg: RunConfig) -> int:
    """Run the evaluation ``cfg`` describes and write its files; the exit code (1: a gate failed)."""
    return exit_code(run_evaluation(cfg))


def exit_code(report: RunReportRecord | None) -> int:
    """0, or 1 when a gate failed (a launched process other than the main one writes nothing)."""
    return 0 if report is None or all(g.passed for g in report.gates) else 1


def run_evaluation(cfg: RunConfig) -> RunReportRecord | None:
    """The evaluation itself: its report record, once written (None in a non-main process)."""
    started = time.time()
    baseline = load_run_dir(cfg.baseline) if cfg.baseline else None  # fail fast on a bad path
    if not cfg.checkpoint.exists():
        raise InputError(f"checkpoint not found: {cfg.checkpoint}")
    if cfg.base is not None and not (cfg.base / "config.json").is_file():
        raise InputError(f"--base {cfg.base} is not a model directory (no config.json)")
    problems = load_problems(cfg.dataset)
    model = provenance.describe_model(
        cfg.checkpoint, cfg.trust_remote_code, cfg.allow_pickle, base=cfg.base
    )
    tokenizer = provenance.load_tokenizer(model, cfg.trust_remote_code)
    style, renderer, style_reason = resolve_prompt_style(cfg, model, tokenizer, baseline)
    cfg = replace(cfg, prompt_style=style, few_shot=renderer.n_shots,
                  sampling=replace(cfg.sampling, stop=stop_strings(style)))  # fmt: skip
    ctx = RunContext(
        tokenizer, cfg.sampling.seed, cfg.sampling.n, "few-shot" if cfg.few_shot else "zero-shot",
        renderer=renderer, answer_marker=SPECS[style].marker,
    )
    from reasoneval.layers.trace_checks import TracesConfig

    options = LayerOptions(renderer.shots, cfg.sensitivity_config, TracesConfig(think=style == "think"))
    layers = build_layers(cfg.layers, options)
    by_layer = {layer.name: layer.requests(problems, ctx) for layer in layers}
    requests = [r for layer_requests in by_layer.values() for r in layer_requests]
    needed = unique_prompts(requests, cfg.sampling.n)
    # `auto` weighs the run's size: reasoneval/backends/choice.py
    backend_name, backend_reason = provenance.resolve_backend(cfg, model, needed)
    identity = f"{backend_name}:{model['fingerprint']}:{style}"  # the style is part of the key
    cache = open_cache(cfg.out / CACHE_FILE)  # only the main process writes it
    if is_main_process():
        cached = sum(
            cache_key(identity, p, replace(cfg.sampling, n=n)) in cache for p, n in needed.items()
        )
        plan = console.generation_plan(by_layer, needed, cached, style=f"{style} ({style_reason})")
        console.say(f"{plan}; backend {backend_name} ({backend_reason})")
    gen_started = time.time()
    gen_stats = generate(replace(cfg, backend=backend_name), needed, identity, cache)  # type: ignore[arg-type]
    gen_seconds = time.time() - gen_started
    if not is_main_process():
        return None  # every process holds all shards' output; the main one writes the run
    samples, extractions, whole_text = score_requests(requests, needed, identity, cfg, cache)
    results = [layer.evaluate(problems, samples, ctx) for layer in layers]
    rows = sample_rows(samples, extractions, whole_text, results, style)
    begin_output(cfg.out)  # until finish_output, readers know this directory is half-written
    atomic_write_text(cfg.out / "samples.jsonl", jsonl_text(rows))
    report = replace(
        build_report(cfg, problems, model, tokenizer, backend_name, results),
        prompt_style=prompt_style_record(cfg, style_reason, whole_text),
        generation=GenerationRecord(
            **gen_stats,
            seconds=round(gen_seconds, 3),
            completion_tokens=sum(s.generation.completion.completion_tokens for s in samples),
        ),
    )
    report = run_gates(report, cfg.gates, baseline, samples=cfg.out / "samples.jsonl",
                       margin_points=cfg.margin_points, seed=cfg.sampling.seed)  # fmt: skip
    report = replace(report, started=started, seconds=round(time.time() - started, 3))
    write_report(cfg.out, report, results, rows, {p.id: p.question for p in problems})
    finish_output(cfg.out, RUN_FILES, writer="reasoneval run")
    for g in report.gates:
        console.say(f"gate {'PASS' if g.passed else 'FAIL'}: {g.description}")
    for line in console.run_summary(report, cfg.out):
        console.say(line)
    return report
