"""glibc's heap, set for training on the CPU: memory a step frees is kept for the next step, not handed back.

By default glibc gives each allocation above a threshold that adapts from 128 KiB (every activation of a
graph-sized tensor) its own ``mmap``, returns it to the kernel on free, and trims the heap's top whenever
128 KiB lie free there. Each epoch's tensors are then mapped anew and page-faulted in: about 20 % of a CPU
GCN run on Cora (``benchmarks/cpu_allocator.py``). Raising both thresholds keeps freed chunks for reuse. Every
run still starts with an explicit trim (:class:`gnnbench.harness.measure.PeakMemory`), so an earlier run's
memory is neither kept nor counted. ``GNNBENCH_MALLOC=default`` leaves glibc as it is (the benchmark's
baseline); the record's ``env.allocator`` says which held.
"""

from __future__ import annotations

import ctypes
import functools
import os

from gnnbench.errors import GnnbenchError

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (malloc.h)
TRIM_BYTES = 1 << 30  # the free heap top kept before trimming
MMAP_BYTES = 32 << 20  # allocations below it come from the heap, reused, instead of mapped each time


def applied() -> str:
    """What this process's heap is set to: what :func:`keep_freed_memory` did, ``default`` before it ran."""
    return keep_freed_memory() if keep_freed_memory.cache_info().currsize else "default"


@functools.cache
def keep_freed_memory() -> str:
    """Set the thresholds once per process; what the record says of the allocator (``default`` where glibc is
    not the allocator, or ``GNNBENCH_MALLOC=default`` asks to leave it)."""
    setting = os.environ.get("GNNBENCH_MALLOC")
    if setting == "default":
        return "default"
    if setting not in (None, ""):
        raise GnnbenchError(f"GNNBENCH_MALLOC is {setting!r}; expected default (glibc as it is) or nothing")
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return "default"
    if mallopt(M_TRIM_THRESHOLD, TRIM_BYTES) != 1 or mallopt(M_MMAP_THRESHOLD, MMAP_BYTES) != 1:
        return "default"
    return f"glibc (trim threshold {TRIM_BYTES >> 20} MiB, mmap threshold {MMAP_BYTES >> 20} MiB)"
