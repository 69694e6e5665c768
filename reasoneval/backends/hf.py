"""transformers backend: padded batched ``generate``, for machines without vLLM.

Sampling does not use ``generate``'s global RNG. Each (prompt, sample index) row draws from its
own ``torch.Generator`` seeded from the sampling seed, the sample index and the prompt text, so a
sample does not depend on which other prompts share its batch. That keeps cached and resumed runs
identical to uninterrupted ones, and makes the result independent of the batch size.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from reasoneval.backends.base import SamplingConfig
from reasoneval.backends.checkpoint import ResolvedCheckpoint
from reasoneval.backends.threads import decode_threads
from reasoneval.records import Completion

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


def row_seed(seed: int, sample_index: int, prompt: str) -> int:
    digest = hashlib.sha256(f"{seed}\x00{sample_index}\x00{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def is_out_of_memory(exc: BaseException) -> bool:
    # CUDA raises torch.OutOfMemoryError; the CPU allocator raises a plain RuntimeError.
    name = type(exc).__name__
    return name == "OutOfMemoryError" or (
        isinstance(exc, RuntimeError)
        and ("out of memory" in str(exc) or "can't allocate" in str(exc))
    )


def run_with_backoff(
    items: Sequence[T], batch_size: int, fn: Callable[[Sequence[T]], list[R]]
) -> tuple[list[R], int]:
    """``fn`` over consecutive batches, halving the batch after an out-of-memory error.

    Returns the results in order and the batch size that finally worked.
    """
    out: list[R] = []
    start = 0
    while start < len(items):
        batch = items[start : start + batch_size]
        try:
            out.extend(fn(batch))
        except Exception as exc:
            if not is_out_of_memory(exc) or batch_size == 1:
                raise
            batch_size //= 2
            log.warning("out of memory at batch %d; retrying with batch %d", len(batch), batch_size)
            _empty_cache()
            continue
        start += len(batch)
    return out, batch_size


def _empty_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class _SeededSampler:
    """A logits processor that samples each row with its own generator and forces that token.

    Used with greedy decoding, so generate's argmax then picks exactly the sampled token.
    """

    def __init__(self, seeds: Sequence[int], temperature: float, top_p: float, device: Any) -> None:
        import torch

        self.generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]
        self.temperature = temperature
        self.top_p = top_p

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        probs = torch.softmax(scores.float() / self.temperature, dim=-1)
        if self.top_p < 1.0:
            sorted_p, order = probs.sort(dim=-1, descending=True)
            # keep the smallest prefix whose mass reaches top_p (the top token always stays)
            drop = sorted_p.cumsum(dim=-1) - sorted_p >= self.top_p
            sorted_p = sorted_p.masked_fill(drop, 0.0)
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
        chosen = torch.stack(
            [
                torch.multinomial(p, 1, generator=g)
                for p, g in zip(probs, self.generators, strict=True)
            ]
        )
        forced = torch.full_like(scores, float("-inf"))
        return forced.scatter(-1, chosen, 0.0)


class _StopOnText:
    """Marks a row finished once its new tokens contain a stop string or an end-of-sequence id."""

    def __init__(self, piece: Callable[[int], str], stop: Sequence[str], eos: set[int]) -> None:
        self.piece, self.stop, self.eos = piece, tuple(stop), eos
        self.texts: list[str] = []
        self.window = max((len(s) for s in stop), default=0) + 32

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        if not self.texts:
            self.texts = [""] * input_ids.shape[0]
        done = []
        for row, ids in enumerate(input_ids[:, -1].tolist()):
            self.texts[row] += self.piece(ids)
            tail = self.texts[row][-self.window :]
            done.append(ids in self.eos or any(s in tail for s in self.stop))
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class HFBackend:
    name = "hf"

    def __init__(
        self,
        ckpt: ResolvedCheckpoint,
        *,
        dtype: str = "auto",
        trust_remote_code: bool = False,
        batch_size: int = 32,
        device: str | None = None,
        max_model_len: int | None = None,
        allow_pickle: bool = False,
        threads: int | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size = batch_size
        self.max_model_len = max_model_len
        self.threads = threads  # CPU only; None: threads.decode_threads() before each call
        self.tokenizer = AutoTokenizer.from_pretrained(
            ckpt.tokenizer_dir, trust_remote_code=trust_remote_code
        )
        self.tokenizer.padding_side = "left"  # decoder-only batches must end at the same column
        model: Any = AutoModelForCausalLM.from_pretrained(
            ckpt.model_dir, dtype=dtype, use_safetensors=None if allow_pickle else True,
            trust_remote_code=trust_remote_code,
        )  # fmt: skip
        if ckpt.adapter_dir is not None:
            from peft import PeftModel

            if model.get_input_embeddings().num_embeddings < len(self.tokenizer):
                model.resize_token_embeddings(len(self.tokenizer))
            model = PeftModel.from_pretrained(model, ckpt.adapter_dir).merge_and_unload()
        self.model = model.to(self.device).eval()
        gen = self.model.generation_config
        eos = gen.eos_token_id if gen.eos_token_id is not None else self.tokenizer.eos_token_id
        self.eos_ids: set[int] = set(eos if isinstance(eos, list) else [eos]) - {None}
        pad = self.tokenizer.pad_token_id
        self.pad_id: int = pad if pad is not None else min(self.eos_ids)
        self._pieces: dict[int, str] = {}

    def _piece(self, token_id: int) -> str:
        if token_id not in self._pieces:
            self._pieces[token_id] = self._decode_raw([token_id])
        return self._pieces[token_id]

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        import torch

        if self.device == "cpu":
            torch.set_num_threads(self.threads or decode_threads())
        # prompts arrive fully rendered (chat template included): no BOS or other tokens added
        encoded = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        # rows = (prompt index, sample index); longest first so the first batch finds OOM early
        # and each batch holds prompts of similar length (little padding).
        rows = sorted(
            ((i, j) for i in range(len(prompts)) for j in range(sampling.n)),
            key=lambda r: (-len(encoded[r[0]]), r),
        )

        def run_batch(batch: Sequence[tuple[int, int]]) -> list[Completion]:
            return self._generate_rows([encoded[i] for i, _ in batch], [prompts[i] for i, _ in batch],
                                       [j for _, j in batch], sampling)  # fmt: skip

        with torch.inference_mode():
            results, self.batch_size = run_with_backoff(rows, self.batch_size, run_batch)
        out: list[list[Completion]] = [[None] * sampling.n for _ in prompts]  # type: ignore[list-item]
        for (i, j), completion in zip(rows, results, strict=True):
            out[i][j] = completion
        return out

    def _generate_rows(
        self,
        ids: list[list[int]],
        texts: list[str],
        sample_idx: list[int],
        sampling: SamplingConfig,
    ) -> list[Completion]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

        width = max(len(x) for x in ids)
        input_ids = torch.tensor(
            [[self.pad_id] * (width - len(x)) + x for x in ids], device=self.device
        )
        mask = torch.tensor(
            [[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self.device
        )
        max_new = sampling.max_new_tokens
        if self.max_model_len is not None:
            max_new = max(1, min(max_new, self.max_model_len - width))
        stopper = _StopOnText(self._piece, sampling.stop, self.eos_ids)
        processors = LogitsProcessorList()
        if sampling.temperature > 0:
            seeds = [row_seed(sampling.seed, j, t) for j, t in zip(sample_idx, texts, strict=True)]
            processors.append(
                _SeededSampler(seeds, sampling.temperature, sampling.top_p, self.device)
            )
        # A fresh config, not the checkpoint's generation_config: its sampling defaults (Qwen ships
        # repetition_penalty, top_k...) would apply here but not in vLLM, which we give explicit
        # SamplingParams. SamplingConfig alone decides.
        config = GenerationConfig(  # type: ignore[no-untyped-call]
            max_new_tokens=max_new,
            do_sample=False,  # sampling, when asked, happens in _SeededSampler
            pad_token_id=self.pad_id,
            eos_token_id=sorted(self.eos_ids),
        )
        generated = self.model.generate(
            input_ids=input_ids,
            attention_mask=mask,
            generation_config=config,
            logits_processor=processors,
            stopping_criteria=StoppingCriteriaList([stopper]),
        )[:, width:].tolist()
        return [
            self._completion(row, len(x), sampling.stop)
            for row, x in zip(generated, ids, strict=True)
        ]

    def _completion(
        self, new_ids: list[int], prompt_tokens: int, stop: Sequence[str]
    ) -> Completion:
        text = ""
        for n, tok in enumerate(new_ids, start=1):
            if tok in self.eos_ids:  # the end token counts, as in vLLM, but is not in the text
                return Completion(self._decode(new_ids[: n - 1]), "stop", prompt_tokens, n)
            text += self._piece(tok)
            if any(s in text for s in stop):
                full = self._decode(new_ids[:n])
                hits = [full.find(s) for s in stop if s in full]
                return Completion(full[: min(hits, default=len(full))], "stop", prompt_tokens, n)
        return Completion(self._decode(new_ids), "length", prompt_tokens, len(new_ids))

    def _decode(self, ids: list[int]) -> str:
        text = self._decode_raw(ids)
        # A multi-byte character cut off by the last token decodes to U+FFFD; vLLM's incremental
        # detokenizer holds such a tail back instead, and so do we, so both return the same text.
        return text.rstrip("\ufffd")

    def _decode_raw(self, ids: list[int]) -> str:
        return str(
            self.tokenizer.decode(
                ids, skip_special_tokens=False, clean_up_tokenization_spaces=False
            )
        )

    def close(self) -> None:
        del self.model
        _empty_cache()
