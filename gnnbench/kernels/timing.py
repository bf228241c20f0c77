"""Timing a piece of device work after warm-up: CUDA events on a GPU, ``perf_counter`` on the CPU."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

import torch


def time_ms(fn: Callable[[], object], device: torch.device, warmup: int = 1, repeats: int = 3) -> list[float]:
    """Milliseconds of each of ``repeats`` calls of ``fn``, after ``warmup`` untimed calls.

    On CUDA each call is bracketed by events recorded on ``device``'s current stream, where ``fn``'s kernels
    run (the current device may be another GPU), so asynchronous kernels are counted in full; on the CPU the
    work is synchronous and the wall clock is exact enough.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            stream = torch.cuda.current_stream(device)
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record(stream)
            fn()
            end.record(stream)
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            begin = time.perf_counter()
            fn()
            times.append((time.perf_counter() - begin) * 1e3)
    return times


def median_ms(fn: Callable[[], object], device: torch.device, warmup: int = 1, repeats: int = 3) -> float:
    """The median of :func:`time_ms`: robust to one slow repeat on a shared machine."""
    return statistics.median(time_ms(fn, device, warmup, repeats))


def median_ms_or_inf(fn: Callable[[], object], device: torch.device, warmup: int = 1, repeats: int = 3) -> float:
    """:func:`median_ms`, or infinity where ``fn`` runs out of memory: when choosing the fastest backend, one
    that does not fit loses. The failed call's tensors are freed (and the CUDA cache emptied) before returning."""
    try:
        return median_ms(fn, device, warmup, repeats)
    except torch.OutOfMemoryError:
        pass  # leaving the handler frees the failed call's tensors
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return math.inf
