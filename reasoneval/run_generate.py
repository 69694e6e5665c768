"""`reasoneval run`'s generation: unique prompts are generated once into the resumable cache, then
every sample is scored with reasonkit.answers (through its prompt style)."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from reasoneval import console
from reasoneval.cache import GenerationCache, cache_key
from reasoneval.layers.base import GenRequest
from reasoneval.prompt_styles import score_styled
from reasoneval.records import ORIGINAL, Generation, ScoredSample
from reasoneval.run_config import RunConfig
from reasoneval.sharding import load_sharded
from reasonkit.errors import InputError

if TYPE_CHECKING:
    from reasonkit.answers import Extraction

ENGINE_LOG = "engine.log"  # what vLLM's processes print, kept off the console


def prompt_hash(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def unique_prompts(requests: Sequence[GenRequest], k: int) -> dict[str, int]:
    """prompt -> samples needed: k for an original, 1 for a variant; a shared prompt is generated once."""
    seen: set[tuple[str, str]] = set()
    needed: dict[str, int] = {}
    for r in requests:
        if (r.id, r.variant) in seen:
            raise InputError(f"two layers asked for the same (id, variant) {(r.id, r.variant)}")
        seen.add((r.id, r.variant))
        needed[r.prompt] = max(needed.get(r.prompt, 1), k if r.variant == ORIGINAL else 1)
    return needed


def generate(
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


def score_requests(
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
        assert completions is not None  # generate filled every key
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
