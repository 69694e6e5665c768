"""What this machine can do, decided once per run: device, compute dtype and optimiser."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import torch

Device = Literal["cuda", "cpu"]


@dataclass(frozen=True, slots=True)
class Hardware:
    device: Device
    bf16: bool
    fp16: bool
    optim: str
    vllm_available: bool

    @property
    def compute_dtype(self) -> torch.dtype:
        import torch

        if self.bf16:
            return torch.bfloat16
        if self.fp16:
            return torch.float16
        return torch.float32

    @property
    def use_cpu(self) -> bool:
        return self.device == "cpu"


def _has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def detect_hardware(*, force_cpu: bool = False, optim: str = "auto") -> Hardware:
    """CUDA with bf16 where the GPU supports it (Ampere+), fp16 on older GPUs, fp32 on CPU.

    ``optim="auto"`` picks bitsandbytes' paged 8-bit AdamW on CUDA (the QLoRA paper's paged
    optimiser, Dettmers et al. 2023, arXiv:2305.14314) and plain ``adamw_torch`` on CPU, where
    bitsandbytes' 8-bit optimiser kernels are not built.
    """
    import torch

    cuda = torch.cuda.is_available() and not force_cpu
    bf16 = cuda and torch.cuda.is_bf16_supported()
    fp16 = cuda and not bf16
    if optim == "auto":
        optim = "paged_adamw_8bit" if cuda and _has_module("bitsandbytes") else "adamw_torch"
    return Hardware(
        device="cuda" if cuda else "cpu",
        bf16=bf16,
        fp16=fp16,
        optim=optim,
        vllm_available=cuda and _has_module("vllm"),
    )
