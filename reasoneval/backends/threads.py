"""How many torch threads the HF backend decodes with on CPU: the cores nobody else is using.

torch's intra-op pool waits at a barrier after every operator, so a decode step runs at the
pace of its slowest thread. When other processes share the cores, one of those threads is often
descheduled and the others spin waiting for it. On the 2-core machine under load 6-8, the tiny
model decoded at 148-198 tok/s on 2 threads and 1,313-1,717 tok/s on 1 (docs/backends.md).
Quiet, 2 threads were faster. So the count is chosen before each generate call from the
processes that are runnable at that moment.
"""

from __future__ import annotations

import os
import time

THREADS_ENV = "REASONEVAL_HF_THREADS"  # a fixed count; overrides the choice below


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def other_runnable(samples: int = 5, gap_s: float = 0.01) -> int:
    """Runnable tasks on the machine besides the one reading, the median of a few samples of
    /proc/loadavg's running count (an instant figure; the 1-minute average lags by a minute).
    Elsewhere, the 1-minute load average."""
    counts = []
    for i in range(samples):
        try:
            with open("/proc/loadavg") as fh:
                running = int(fh.read().split()[3].split("/")[0])
        except (OSError, IndexError, ValueError):
            return round(os.getloadavg()[0])
        counts.append(running - 1)  # this thread is running while it reads
        if i + 1 < samples:
            time.sleep(gap_s)
    return sorted(counts)[len(counts) // 2]


def decode_threads(cores: int | None = None, busy: int | None = None) -> int:
    """REASONEVAL_HF_THREADS when set, else the idle cores: at least 1, at most all of them."""
    fixed = os.environ.get(THREADS_ENV)
    if fixed:
        return max(1, int(fixed))
    cores = usable_cores() if cores is None else cores
    busy = other_runnable() if busy is None else busy
    return max(1, min(cores, cores - busy))
