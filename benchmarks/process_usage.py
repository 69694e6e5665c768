"""`python process_usage.py OUT.json COMMAND...`: run COMMAND, write its wall, CPU and peak RSS.

The benchmarks measure whole processes through this small launcher rather than from their own
process. On Linux a child's ru_maxrss starts from its parent's resident size at fork (exec keeps
the old high-water mark), so a child started straight from a benchmark holding a 1M-document
corpus would report at least the benchmark's own size. This launcher is small, and its children
start from it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def measure(command: list[str], log: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    with log.open("wb") as fh:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=fh, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return {
        "returncode": child.returncode,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,  # the child and the children it waited for
        "peak_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
    }


def measured(command: list[str], log: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    """Run `command` under this launcher; raise with the log's tail when it fails."""
    out = log.with_suffix(".usage.json")
    launcher = [sys.executable, str(Path(__file__).resolve()), str(out), str(log), *command]
    subprocess.run(launcher, check=True, env=env)
    usage: dict[str, float] = json.loads(out.read_text())
    if usage["returncode"] != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{command[:4]} exited {usage['returncode']}:\n{tail}")
    return usage


if __name__ == "__main__":
    result = measure(sys.argv[3:], Path(sys.argv[2]))
    Path(sys.argv[1]).write_text(json.dumps(result))
