"""`python timed_generation.py OUT.json TOOL ARGS...`: a CLI run in this process, generation timed.

TOOL is `reasoneval` (runs `python -m reasoneval.cli ARGS`) or `lm_eval` (`python -m lm_eval ARGS`).
The one method each calls to generate (the backend's `generate`, lm-eval HFLM's
`generate_until`) is wrapped so that OUT.json gets the seconds spent inside it and every
(prompt, returned text) pair. Everything else the CLI does, loading and scoring and writing, is
left as it is, so the launcher's whole-process figures stay those of the real command.
"""

from __future__ import annotations

import json
import runpy
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _wrap(cls: Any, method: str, record: Callable[[tuple[Any, ...], Any], None]) -> None:
    original = getattr(cls, method)

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = original(self, *args, **kwargs)
        timings.append(time.perf_counter() - start)
        record(args, result)
        return result

    setattr(cls, method, timed)


timings: list[float] = []
outputs: dict[str, str] = {}


def _backend_outputs(args: tuple[Any, ...], result: Any) -> None:
    for prompt, completions in zip(args[0], result, strict=True):
        outputs[prompt] = completions[0].text


def _lm_eval_outputs(args: tuple[Any, ...], result: Any) -> None:
    for request, text in zip(args[0], result, strict=True):
        outputs[request.args[0]] = text


def main() -> int:
    out, tool, cli_args = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    if tool == "reasoneval":
        from reasoneval.backends.hf import HFBackend

        _wrap(HFBackend, "generate", _backend_outputs)
        try:
            from reasoneval.backends.vllm_engine import VLLMBackend

            _wrap(VLLMBackend, "generate", _backend_outputs)
        except ImportError:
            pass
        module = "reasoneval.cli"
    else:
        from lm_eval.models.huggingface import HFLM

        _wrap(HFLM, "generate_until", _lm_eval_outputs)
        module = "lm_eval"
    sys.argv = [module, *cli_args]
    code: Any = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        code = stop.code or 0
    out.write_text(json.dumps({"generation_s": sum(timings), "outputs": outputs}))
    return int(code) if isinstance(code, int) else 1


if __name__ == "__main__":
    sys.exit(main())
