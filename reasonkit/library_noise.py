"""Library messages a user cannot act on, quieted at the source for every stage's CLI.

Each filter names one message, so anything else the libraries say still shows (issue 16).
"""

from __future__ import annotations

import logging

# bitsandbytes' CPU backend looks for the optional `kernels` package (a hub download) for a fused
# 4-bit matmul, logs this at import when it is absent, and uses its own kernel instead. PEFT
# imports bitsandbytes, so it showed on every adapter evaluation and QLoRA run (issue 16).
BNB_KERNELS_HINT = "Failed to load CPU gemm_4bit_forward from kernels-community"
BNB_CPU_LOGGER = "bitsandbytes.backends.cpu.ops"


def _not_kernels_hint(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(BNB_KERNELS_HINT)


def quiet_bitsandbytes_kernels_hint() -> None:
    """Drop that one message; call before bitsandbytes is imported."""
    logging.getLogger(BNB_CPU_LOGGER).addFilter(_not_kernels_hint)
