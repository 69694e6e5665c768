"""`reasoneval run CKPT --layers accuracy[,traces,sensitivity] --out DIR`: generate once, judge by layer.

The walk: load problems -> each layer asks for prompts -> unique prompts are generated once (cached,
so a killed run resumes) -> every sample is scored with reasonkit.answers -> each layer turns the
scored samples into metrics -> samples.jsonl, report.json, report.html -> gates decide the exit code.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reasoneval import console, provenance
from reasoneval.cache import GenerationCache, cache_key
from reasoneval.datasets import dataset_hash, load_problems
from reasoneval.gates import (
    GateOutcome,
    baseline_gate,
    check_gate,
    load_run_dir,
)
from reasoneval.layers import LayerOptions, build_layers
from reasoneval.layers.base import GenRequest, LayerResult, RunContext
from reasoneval.prompt_styles import SPECS, score_styled, stop_strings
from reasoneval.records import ORIGINAL, Generation, Problem, ScoredSample
from reasoneval.report import SCHEMA_VERSION, layers_json, write_report
from reasoneval.run_config import RunConfig
from reasoneval.run_prompts import resolve_prompt_style
from reasoneval.sharding import is_main_process, load_sharded, open_cache
from reasonkit.artifacts import atomic_write_text, git_revision, package_versions
from reasonkit.errors import InputError
from reasonkit.jsonl import jsonl_text
from reasonkit.manifest import begin_output, finish_output

if TYPE_CHECKING:
    from reasonkit.answers import Extraction

CACHE_FILE = "cache/generations.jsonl"
RUN_FILES = ("samples.jsonl", "report.json", "report.html")  # the cache is not part of the result
ENGINE_LOG = "engine.log"  # what vLLM's processes print, kept off the console


def prompt_hash(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def _unique_prompts(requests: Sequence[GenRequest], k: int) -> dict[str, int]:
    """prompt -> samples needed: k for an original, 1 for a variant; a shared prompt is generated once."""
    seen: set[tuple[str, str]] = set()
    needed: dict[str, int] = {}
    for r in requests:
        if (r.id, r.variant) in seen:
            raise InputError(f"two layers asked for the same (id, variant) {(r.id, r.variant)}")
        seen.add((r.id, r.variant))
        needed[r.prompt] = max(needed.get(r.prompt, 1), k if r.variant == ORIGINAL else 1)
    return needed


def _generate(
    cfg: RunConfig, needed: dict[str, int], identity: str, cache: GenerationCache
) -> dict[str, int]:
    """Fill the cache for every (prompt, n); the backend loads only when something is missing."""
    from tqdm import tqdm

    keys = {p: cache_key(identity, p, replace(cfg.sampling, n=n)) for p, n in needed.items()}
    missing = [p for p in needed if keys[p] not in cache]
    stats = {
        "unique_prompts": len(needed),
        "from_cache": len(needed) - len(missing),
        "generated_this_run": 0,
    }
    if not missing:
        return stats
    from reasoneval.backends import load_backend
    from reasoneval.backends.engine_log import engine_output_to

    # vLLM's own per-request bars: on a terminal only, never into a piped log.
    bars: dict[str, Any] = {"use_tqdm": sys.stderr.isatty()} if cfg.backend == "vllm" else {}
    # vLLM's start-up prints ~20 lines past its logger (issue 26): they go to a file instead.
    engine_log = cfg.out / ENGINE_LOG if cfg.backend == "vllm" and console.quiet_engines() else None
    if engine_log is not None:
        console.say(f"starting the vLLM engine; its output goes to {engine_log}")
    with engine_output_to(engine_log):
        backend = load_sharded(  # one replica per launched process: reasoneval/sharding.py
            cfg.backend,
            cfg.parallel,
            lambda **engine: load_backend(
                cfg.backend,
                str(cfg.checkpoint),
                seed=cfg.sampling.seed,
                trust_remote_code=cfg.trust_remote_code,
                allow_pickle=cfg.allow_pickle,
                base=None if cfg.base is None else str(cfg.base),
                **engine,
                **bars,
            ),
        )
    chunk_size = cfg.chunk_size or (512 if cfg.backend == "vllm" else 64)
    bar = tqdm(
        total=len(needed),
        initial=stats["from_cache"],
        desc="generating",
        unit="prompt",
        file=sys.stderr,
        dynamic_ncols=True,
    )
    try:
        for n in sorted({needed[p] for p in missing}):
            group = [p for p in missing if needed[p] == n]
            for start in range(0, len(group), chunk_size):
                chunk = group[start : start + chunk_size]
                outputs = backend.generate(chunk, replace(cfg.sampling, n=n))
                if len(outputs) != len(chunk) or any(len(o) != n for o in outputs):
                    raise RuntimeError(
                        f"backend {backend.name} returned the wrong number of samples"
                    )
                cache.put_many({keys[p]: o for p, o in zip(chunk, outputs, strict=True)})
                stats["generated_this_run"] += len(chunk)
                bar.update(len(chunk))
    finally:
        bar.close()
        with engine_output_to(engine_log):  # the shutdown's warnings too
            backend.close()
    return stats


def _score(
    requests: Sequence[GenRequest],
    needed: dict[str, int],
    identity: str,
    cfg: RunConfig,
    cache: GenerationCache,
) -> tuple[list[ScoredSample], list[Extraction | None], list[bool]]:
    samples: list[ScoredSample] = []
    extractions: list[Extraction | None] = []
    whole_text: list[bool] = []  # think: scored on the whole text, the block never closed
    for r in requests:
        completions = cache.get(
            cache_key(identity, r.prompt, replace(cfg.sampling, n=needed[r.prompt]))
        )
        assert completions is not None  # _generate filled every key
        count = cfg.sampling.n if r.variant == ORIGINAL else 1
        for i, comp in enumerate(completions[:count]):
            gen = Generation(r.id, r.variant, i, r.prompt, prompt_hash(r.prompt), comp)
            extraction, correct, whole = score_styled(comp.text, r.gold, cfg.prompt_style)
            whole_text.append(whole)
            samples.append(
                ScoredSample(
                    gen,
                    r.gold,
                    extraction.value if extraction else None,
                    extraction.strategy if extraction else None,
                    correct,
                    extraction.marker if extraction else None,
                )
            )
            extractions.append(extraction)
    return samples, extractions, whole_text


def _sample_rows(
    samples: Sequence[ScoredSample],
    extractions: Sequence[Extraction | None],
    whole_text: Sequence[bool],
    results: Sequence[LayerResult],
    style: str,
) -> list[dict[str, Any]]:
    rows = []
    for s, ext, whole in zip(samples, extractions, whole_text, strict=True):
        g, c = s.generation, s.generation.completion
        row: dict[str, Any] = {
            "id": g.id,
            "variant": g.variant,
            "sample_index": g.sample_index,
            "prompt_hash": g.prompt_hash,
            "prompt": g.prompt,
            "response": c.text,
            "finish_reason": c.finish_reason,
            "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens,
            "gold": s.gold,
            "extracted": s.extracted,
            "strategy": s.strategy,
            "marker": ext.marker if ext else None,
            "correct": s.correct,
            "prompt_style": style,
            "scored_whole_text": whole,
        }
        for result in results:  # a layer's per-sample object, e.g. traces' {"trace": {...}}
            extra = result.per_sample.get((g.id, g.variant, g.sample_index), {})
            clash = set(extra) & set(row)
            if clash:
                raise RuntimeError(f"layer {result.name} overwrites sample fields {sorted(clash)}")
            row.update(extra)
        rows.append(row)
    return rows


def execute(cfg: RunConfig) -> int:
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
    needed = _unique_prompts(requests, cfg.sampling.n)
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
    gen_stats = _generate(replace(cfg, backend=backend_name), needed, identity, cache)  # type: ignore[arg-type]
    gen_seconds = time.time() - gen_started
    if not is_main_process():
        return 0  # every process holds all shards' output; the main one writes the run
    samples, extractions, whole_text = _score(requests, needed, identity, cfg, cache)
    results = [layer.evaluate(problems, samples, ctx) for layer in layers]
    rows = _sample_rows(samples, extractions, whole_text, results, style)
    begin_output(cfg.out)  # until finish_output, readers know this directory is half-written
    atomic_write_text(cfg.out / "samples.jsonl", jsonl_text(rows))
    report = _report(cfg, problems, model, tokenizer, backend_name, results)
    report["prompt_style"] = {
        "name": style, "reason": style_reason, "few_shot": cfg.few_shot,
        "answer_marker": SPECS[style].marker, "source": SPECS[style].source,
        "stop": list(cfg.sampling.stop),
        "scored_whole_text": sum(whole_text),  # think responses that never closed the block
    }  # fmt: skip
    report["generation"] = {
        **gen_stats,
        "seconds": round(gen_seconds, 3),
        "completion_tokens": sum(s.generation.completion.completion_tokens for s in samples),
    }
    outcomes = _gates(cfg, report, baseline)
    report["gates"] = [o.json() for o in outcomes]
    report["timing"] = {"started": started, "seconds": round(time.time() - started, 3)}
    write_report(cfg.out, report, results, rows, {p.id: p.question for p in problems})
    finish_output(cfg.out, RUN_FILES, writer="reasoneval run")
    for o in outcomes:
        console.say(f"gate {'PASS' if o.passed else 'FAIL'}: {o.description}")
    for line in console.run_summary(report, cfg.out):
        console.say(line)
    return 0 if all(o.passed for o in outcomes) else 1


def _gates(
    cfg: RunConfig, report: dict[str, Any], baseline: tuple[dict[str, Any], Path] | None
) -> list[GateOutcome]:
    outcomes = []
    if baseline is not None:
        outcome, summary = baseline_gate(
            baseline[1],
            cfg.out / "samples.jsonl",
            margin_points=cfg.margin_points,
            seed=cfg.sampling.seed,
        )
        report["comparison"] = summary
        outcomes.append(outcome)
    outcomes += [check_gate(g, report, baseline[0] if baseline else None) for g in cfg.gates]
    return outcomes


def _report(
    cfg: RunConfig,
    problems: Sequence[Problem],
    model: dict[str, Any],
    tokenizer: Any,
    backend_name: str,
    results: Sequence[LayerResult],
) -> dict[str, Any]:
    ds = cfg.dataset
    config = provenance.config_record(replace(cfg, backend=backend_name))  # type: ignore[arg-type]
    return {
        "schema_version": SCHEMA_VERSION,
        "config": config,  # the resolved settings; the command is derived from them
        "command": provenance.command_line(config),
        "model": model,
        "tokenizer": provenance.describe_tokenizer(tokenizer),
        "backend": backend_name,
        "packages": package_versions(),
        "git_revision": git_revision(),
        "seed": cfg.sampling.seed,
        "sampling": asdict(cfg.sampling),
        "layer_options": provenance.layer_options(cfg),
        "dataset": {
            "name": ds.name,
            "split": ds.split,
            "limit": ds.limit,
            "n_problems": len(problems),
            "sha256": dataset_hash(problems),
        },
        "layers": layers_json(results),
    }
