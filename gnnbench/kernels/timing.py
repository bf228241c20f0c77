"""Timing a piece of device work after warm-up: CUDA events on a GPU, ``perf_counter`` on the CPU."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import torch

T = TypeVar("T")


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
    """:func:`median_ms`, or infinity where ``fn`` runs out of memory (:func:`unless_out_of_memory`): when
    choosing the fastest backend, one that does not fit loses."""
    ms = unless_out_of_memory(lambda: median_ms(fn, device, warmup, repeats))
    return math.inf if ms is None else ms


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is a failed allocation: torch's ``OutOfMemoryError`` on a GPU, a plain ``RuntimeError`` from
    its CPU allocator (which raises no subclass of its own)."""
    return isinstance(exc, torch.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "DefaultCPUAllocator: can't allocate memory" in str(exc))


def unless_out_of_memory(call: Callable[[], T], failures: list[str] | None = None) -> T | None:
    """``call()``, or None where it ran out of memory (:func:`out_of_memory`), the error's first line appended to
    ``failures``.

    The CUDA cache is emptied after the handler has let go of the exception: its traceback holds the failed
    call's frames, and with them the tensors it had allocated, so a cache emptied inside the handler (or inside a
    context manager's ``__exit__``, which holds the exception until the ``with`` statement ends) could not give
    their blocks back."""
    try:
        return call()
    except Exception as exc:
        if not out_of_memory(exc):
            raise
        if failures is not None:
            failures.append(f"out of memory: {str(exc).splitlines()[0]}")
    # leaving the handler released the exception, its traceback and the failed call's tensors
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return None
