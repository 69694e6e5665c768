"""What `reasoneval run` tells the person at the terminal: the plan before generating, a summary
after, and a logging set-up that shows our INFO lines while engines stay at warnings.

Everything goes to stderr, as the other subcommands' one-line messages do; stdout stays free.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reasoneval.layers.base import GenRequest
from reasoneval.records import ORIGINAL
from reasonkit.library_noise import quiet_bitsandbytes_kernels_hint

if TYPE_CHECKING:
    from reasoneval.report_record import RunReportRecord

# The figure each layer is summed up by: its first line in docs/layers.md.
HEADLINE = {"accuracy": "accuracy", "traces": "clean_rate", "sensitivity": "pss"}
# vLLM logs ~300 INFO lines per engine start (issue 16); it reads this before it configures
# its loggers, in this process and in the engine-core process it spawns.
VLLM_LOG_ENV = "VLLM_LOGGING_LEVEL"


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time (pytest swaps it per test)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stderr, flush=True)


_VERBOSE = {"engines": False}  # set by setup_logging; read when an engine starts


def quiet_engines() -> bool:
    """Whether an engine's start-up output goes to a file (reasoneval.backends.engine_log)."""
    return not _VERBOSE["engines"]


def setup_logging(verbose: bool = False) -> None:
    """reasoneval's own loggers at INFO on stderr; vLLM and transformers at WARNING unless asked.

    ``--verbose`` (or VLLM_LOGGING_LEVEL set by the user) lets the engines speak too, start-up
    output included.
    """
    _VERBOSE["engines"] = verbose
    ours = logging.getLogger("reasoneval")
    if not any(isinstance(h, _StderrHandler) for h in ours.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("reasoneval: %(message)s"))
        ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    os.environ.setdefault(VLLM_LOG_ENV, "INFO" if verbose else "WARNING")
    if not verbose:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "warning")
        quiet_bitsandbytes_kernels_hint()
    if not sys.stderr.isatty():  # weight-loading bars would land in a piped log
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def say(line: str) -> None:
    print(f"reasoneval run: {line}", file=sys.stderr, flush=True)


def generation_plan(
    layer_requests: Mapping[str, Sequence[GenRequest]],
    needed: Mapping[str, int],
    n_cached: int,
    style: str | None = None,
) -> str:
    """One line: prompts per layer (with samples per prompt) and the unique total to generate.

    The sensitivity layer multiplies the work (about 19 prompts per item with every family), so
    the count is said before an engine starts, not discovered from the progress bar.
    """
    parts = []
    for name, requests in layer_requests.items():
        if not requests:
            continue
        items = len({r.id for r in requests})
        originals = sum(r.variant == ORIGINAL for r in requests)
        k = max((needed.get(r.prompt, 1) for r in requests if r.variant == ORIGINAL), default=1)
        per = f", {k} samples each" if originals and k > 1 else ""
        ratio = f" ({len(requests) / items:.3g} per item)" if len(requests) != items else ""
        parts.append(f"{name} {len(requests)} prompts{ratio}{per}")
    total = len(needed)
    completions = sum(needed.values())
    todo = total - n_cached
    head = f"prompt style {style}; " if style else ""
    return (
        f"plan: {head}{'; '.join(parts) or 'no prompts'}; {total} unique prompts, {completions} "
        f"completions; {n_cached} from the cache, {todo} to generate"
    )


def run_summary(report: RunReportRecord, out: Path) -> list[str]:
    """Lines ending a run: each layer's headline metric with its interval, where the report is,
    and the gate verdict."""
    lines = []
    for layer in report.layers:
        name = HEADLINE.get(layer.name) or next(iter(layer.metrics), None)
        if name is None or name not in layer.metrics:
            lines.append(f"{layer.name}: no metrics (see the report)")
            continue
        m = layer.metrics[name]
        n = f" (n={m.n})" if m.n is not None else ""
        interval = f" [{m.lo:.3f}, {m.hi:.3f}]" if m.lo is not None and m.hi is not None else ""
        lines.append(f"{layer.name}: {name} {m.value:.3f}{interval}{n}")
    lines.append(f"report: {out.resolve() / 'report.html'} (and report.json, samples.jsonl)")
    if not report.gates:
        lines.append("verdict: no gates asked for (--baseline, --gate)")
    else:
        failed = [g for g in report.gates if not g.passed]
        lines.append(
            f"verdict: FAIL, {len(failed)} of {len(report.gates)} gates failed"
            if failed
            else f"verdict: PASS, all {len(report.gates)} gates passed"
        )
    return lines
