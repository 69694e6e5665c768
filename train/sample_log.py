"""A JSONL of a few sampled completions and reward statistics per logging step.

Built from TRL's public reward-function interface: every reward function is wrapped so the log
sees each function's scores for the batch; when the last one has scored, one line is written.
"""

from __future__ import annotations

import functools
import json
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

RewardFn = Callable[..., list[float]]


class CompletionSampleLog:
    def __init__(
        self,
        path: Path,
        reward_funcs: Sequence[RewardFn],
        weights: Sequence[float],
        *,
        samples_per_step: int,
        every_n_steps: int,
    ) -> None:
        self.path = path
        self.names = [fn.__name__ for fn in reward_funcs]
        self.weights = list(weights)
        self.samples_per_step = samples_per_step
        self.every_n_steps = max(1, every_n_steps)
        self._pending: dict[str, list[float]] = {}
        self._written_steps: set[int] = set()
        self.wrapped: list[RewardFn] = [self._wrap(fn) for fn in reward_funcs]

    def _wrap(self, fn: RewardFn) -> RewardFn:
        @functools.wraps(fn)
        def recorded(prompts: list[str], completions: list[str], **kwargs: Any) -> list[float]:
            scores = fn(prompts=prompts, completions=completions, **kwargs)
            self._pending[fn.__name__] = [float(s) for s in scores]
            if len(self._pending) == len(self.names):
                state = kwargs.get("trainer_state")
                step = int(state.global_step) if state is not None else -1
                self._flush(step, prompts, completions)
            return scores

        return recorded

    def _flush(self, step: int, prompts: list[str], completions: list[str]) -> None:
        scores, self._pending = self._pending, {}
        if step in self._written_steps or step % self.every_n_steps:
            return
        self._written_steps.add(step)
        totals = [
            sum(w * scores[name][i] for name, w in zip(self.names, self.weights, strict=True))
            for i in range(len(completions))
        ]
        record = {
            "step": step,
            "n_completions": len(completions),
            "reward_mean": {name: statistics.fmean(scores[name]) for name in self.names},
            "reward_std": {name: statistics.pstdev(scores[name]) for name in self.names},
            "total_mean": statistics.fmean(totals),
            "samples": [
                {
                    "prompt_tail": prompts[i][-200:],
                    "completion": completions[i],
                    "rewards": {name: scores[name][i] for name in self.names},
                }
                for i in range(min(self.samples_per_step, len(completions)))
            ],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
