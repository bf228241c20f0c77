"""Timing a piece of device work after warm-up: CUDA events on a GPU, ``perf_counter`` on the CPU."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence

import torch


def time_ms(fn: Callable[[], object], device: torch.device, warmup: int = 1, repeats: int = 3) -> list[float]:
    """Milliseconds of each of ``repeats`` calls of ``fn`` (:func:`time_once`), after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    return [time_once(fn, device) for _ in range(repeats)]


def time_once(fn: Callable[[], object], device: torch.device) -> float:
    """Milliseconds of one call of ``fn``.

    On CUDA the call is bracketed by events recorded on ``device``'s current stream, where ``fn``'s kernels
    run (the current device may be another GPU), so asynchronous kernels are counted in full; on the CPU the
    work is synchronous and the wall clock is exact enough.
    """
    if device.type == "cuda":
        stream = torch.cuda.current_stream(device)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record(stream)
        fn()
        end.record(stream)
        end.synchronize()
        return start.elapsed_time(end)
    begin = time.perf_counter()
    fn()
    return (time.perf_counter() - begin) * 1e3


def turns(names: Sequence[str], rounds: int) -> Iterator[tuple[int, str]]:
    """``(round, name)``: every name once a round, the order reversed every other round, so that measurements
    taking turns are none of them always the later one: a machine that warms up or slows down during the
    measurement biases none of them."""
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            yield round_, name


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
