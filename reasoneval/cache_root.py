"""Where reasoneval keeps what it derives from checkpoints: merged adapters and converted GGUFs.

One function for both, so the GGUF converter need not import the checkpoint resolver that calls
it (an import circle, issue 28).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("REASONEVAL_CACHE") or Path.home() / ".cache" / "reasoneval")
