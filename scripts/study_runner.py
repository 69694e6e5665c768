"""The studies' arms, trained and evaluated resumably, several at a time.

A *chain* is one training seed's sequence of QLoRA stages on one data file (``sft``, ``grpo``, or
``sft`` then ``grpo``), each followed by a ``reasoneval run``. An *arm* names one evaluation of a
chain ("10% clean, seed 1"). Chains live under ``OUT/runs/<key>/seed<k>``, where the key names
the data by its sha256, so two arms whose cleaning kept the same rows share one training. Every
stage records its fingerprint (``scripts.stages``): a killed study rerun keeps what finished.

Chains run in ``jobs`` worker processes with one torch thread each; on 2 cores, two single-thread
trainings finish sooner than one two-thread training twice.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from scripts import recipe
from scripts.recipe import PipelineConfig
from scripts.stages import Stage, run_stage, typed_config


@dataclass(frozen=True)
class Chain:
    key: str  # directory under OUT/runs: the data's identity and the stage sequence
    seed: int
    steps: tuple[str, ...]  # "sft" / "grpo", in order; () evaluates the base only
    # Not part of the identity: two arms whose files hold the same rows are one chain.
    train_file: Path | None = field(compare=False)

    def eval_dir(self, out: Path, after: str) -> Path:
        return out / "runs" / self.key / f"seed{self.seed}" / f"eval-{after}"


@dataclass(frozen=True)
class Arm:
    name: str  # what the report calls it: "10% clean", "base -> SFT -> GRPO"
    chain: Chain
    after: str  # the stage whose model is evaluated: "sft", "grpo" or "base"


def data_key(prefix: str, path: Path) -> str:
    """``prefix`` plus the file's sha256: identical kept rows train once."""
    return f"{prefix}-{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"


def run_chain(chain: Chain, cfg: PipelineConfig, base: Path, test_file: Path | None, out: Path) -> dict[str, Any]:
    """Every stage of ``chain`` and the evaluation after each; skips what a fingerprint shows done."""
    root = out / "runs" / chain.key / f"seed{chain.seed}"
    ran: dict[str, float] = {}  # stage -> seconds, for the stages run now (not resumed)
    recorded = 0.0  # every stage's seconds, as its stage.json records them
    started = time.monotonic()
    previous: Path = base / "base.json"
    adapter: Path | None = None
    data_inputs = (chain.train_file,) if chain.train_file else ()
    threads = {"torch_threads": cfg.torch_threads}
    eval_inputs: tuple[Path, ...] = (test_file,) if test_file else ()
    evals = {}
    for step in chain.steps or ("base",):  # a chain without training evaluates the base
        if step != "base":
            target = root / step
            assert chain.train_file is not None
            typed = (recipe.sft_config(cfg, chain.seed, base, chain.train_file, target) if step == "sft"
                     else recipe.grpo_config(cfg, chain.seed, base, adapter, chain.train_file, target))  # fmt: skip
            work = (partial(recipe.sft, cfg, chain.seed, base, chain.train_file, target) if step == "sft"
                    else partial(recipe.grpo, cfg, chain.seed, base, adapter, chain.train_file, target))  # fmt: skip
            stage = Stage(f"{step} {chain.key} seed {chain.seed}", target,
                          typed_config(typed, out=target, **threads), (*data_inputs, previous))  # fmt: skip
            seconds, resumed = run_stage(stage, work)
            recorded += seconds
            if not resumed:
                ran[step] = seconds
            previous = adapter = target
        model = adapter or base
        target = chain.eval_dir(out, step)
        eval_config = typed_config(recipe.eval_config(cfg, model, target, test_file), out=target, **threads)
        stage = Stage(f"eval {chain.key} seed {chain.seed} {step}", target, eval_config,
                      (previous, *eval_inputs), keep_partial=("cache",))  # fmt: skip
        seconds, resumed = run_stage(stage, partial(recipe.evaluate, cfg, model, target, test_file))
        recorded += seconds
        if not resumed:
            ran[f"eval {step}"] = seconds
        evals[step] = accuracy(target)
    return {"evals": evals, "ran": ran, "stage_seconds": recorded,
            "seconds": round(time.monotonic() - started, 1)}  # fmt: skip


def accuracy(run_dir: Path) -> float:
    from reasoneval.report_record import read_report

    return read_report(run_dir).flat_metrics()["accuracy.accuracy"]


def _worker_setup(threads: int) -> None:
    """Each worker: fixed torch threads (the same sums in the same order at any load), quiet
    libraries, and death with the study process, so a killed study leaves no orphan writing."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if sys.platform == "linux":
        import contextlib
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):  # PR_SET_PDEATHSIG = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    import torch

    from reasoneval.backends.threads import THREADS_ENV
    from train.console import quiet_library_noise, quiet_progress_bars

    quiet_library_noise()
    quiet_progress_bars()
    torch.set_num_threads(threads)
    os.environ[THREADS_ENV] = str(threads)


def run_arms(
    arms: Sequence[Arm], cfg: PipelineConfig, base: Path, test_file: Path | None, out: Path,
    *, jobs: int, study: str, log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
) -> tuple[dict[Arm, Path], float]:  # fmt: skip
    """Run every arm's chain once (in ``jobs`` processes when > 1); a progress line per arm.
    Returns each arm's evaluation directory and the seconds all stages took when they ran."""
    # Longest chains first: two workers then end near the same time.
    chains = sorted(dict.fromkeys(a.chain for a in arms), key=lambda c: -len(c.steps))
    serves: dict[Chain, list[Arm]] = {c: [a for a in arms if a.chain == c] for c in chains}
    done = 0
    started = time.monotonic()
    stage_seconds = 0.0

    def report(chain: Chain, result: Mapping[str, Any]) -> None:
        nonlocal done, stage_seconds
        stage_seconds += result["stage_seconds"]
        how = ", ".join(f"{k} {v:.0f}s" for k, v in result["ran"].items()) or "kept from an earlier run"
        for arm in serves[chain]:
            done += 1
            acc = result["evals"][arm.after]
            log(f"[{done}/{len(arms)}] {study}: {arm.name}, seed {chain.seed}: accuracy {100 * acc:.1f}% "
                f"({how}; {time.monotonic() - started:.0f}s elapsed)")  # fmt: skip

    log(f"{study}: {len(arms)} arms, {len(chains)} chains to train or resume, {jobs} at a time")
    if jobs <= 1:
        _worker_setup(cfg.torch_threads)
        for chain in chains:
            report(chain, run_chain(chain, cfg, base, test_file, out))
    else:
        work = partial(run_chain, cfg=cfg, base=base, test_file=test_file, out=out)
        run_in_pool(jobs, cfg.torch_threads, work, chains, report)
    return {arm: arm.chain.eval_dir(out, arm.after) for arm in arms}, round(stage_seconds, 1)


def run_in_pool(jobs: int, threads: int, work: Callable[[Any], Any], items: Sequence[Any],
                on_result: Callable[[Any, Any], None]) -> None:  # fmt: skip
    """``work(item)`` for each item in ``jobs`` spawned workers; ``on_result(item, result)`` as
    each ends. ``work`` must pickle (a module-level function or a partial of one)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from reasonkit.errors import Terminated

    context = multiprocessing.get_context("spawn")  # no forked torch or tokenizer threads
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_setup,
                               initargs=(threads,))  # fmt: skip
    try:
        futures = {pool.submit(work, item): item for item in items}
        for future in as_completed(futures):
            on_result(futures[future], future.result())
    except (KeyboardInterrupt, Terminated):
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True)


def _stop_workers(pool: Any) -> None:
    """On Ctrl-C or SIGTERM, end the workers now: the pool's own shutdown trained every queued
    chain first (37.8 s after SIGINT on the toy study with --jobs 2, issue 29). A chain cut short
    has no stage.json for its stage, so the rerun redoes it, as after SIGKILL."""
    workers = list(getattr(pool, "_processes", {}).values())  # concurrent.futures keeps them here
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(10)
