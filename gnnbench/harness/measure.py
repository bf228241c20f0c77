"""Per-run peak memory that can be trusted when many runs share one process.

GPU: ``torch.cuda.max_memory_allocated`` after resetting the peak counters at the start of the run, minus what
was allocated at that moment, as on CPU: what is resident before (a profile's graph, an earlier run's cache) is
not the run's.
CPU (Linux): the kernel's resident-set high-water mark (``VmHWM``) reset at the start of the run by writing
``5`` to ``/proc/self/clear_refs``, minus the resident set at that moment; freed heap pages are first
returned to the OS (``malloc_trim``) so memory released by earlier runs cannot hide this run's growth. The
result is exact (no sampling) and covers every allocation of the process, torch's included. Where the
reset is not permitted, the process-lifetime peak is reported and the record says so (``kind``).
A run can leave a block out (:meth:`PeakMemory.paused`): ``auto`` timing the backends the run will not use.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import re
import resource
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


class PeakMemory:
    """Context manager; ``summary()`` gives ``{"peak_mb", "kind", ...}`` for the record."""

    def __init__(self, device: torch.device, collect: bool = True) -> None:
        """``collect=False`` skips the garbage collection at the start (seconds in a large process), for
        measurements repeated many times over tensors that are already alive (micro-benchmarks)."""
        self.device = device
        self.collect = collect
        self.kind = ""
        self.baseline_kb = 0
        self.peak_kb = 0
        self._before_pause_kb = 0  # the peak up to the last :meth:`paused` block

    def __enter__(self) -> PeakMemory:
        if self.collect:
            gc.collect()
            _freeze_once()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.baseline_kb = torch.cuda.memory_allocated(self.device) // 1024
            self.kind = "cuda_peak_above_start"
        else:
            _malloc_trim()
            self.baseline_kb = _status_kb("VmRSS")
            self.kind = "rss_peak_above_start"
        self._restart()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.peak_kb = max(self._before_pause_kb, self._peak_since_restart())

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Leave out what the block allocates and frees again (``auto`` timing the backends a run will not use):
        the peak is the larger of the peaks before and after it. Where the peak cannot be reset
        (``process_peak_rss``) the block is counted."""
        before = self._peak_since_restart()
        try:
            yield
        finally:
            if self.kind != "process_peak_rss":
                self._before_pause_kb = max(self._before_pause_kb, before)
                if self.device.type != "cuda":
                    _malloc_trim()  # the block's freed heap pages would otherwise stay resident and count
                self._restart()

    def _restart(self) -> None:
        """Start the peak counter from what is allocated (resident) now."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            return
        try:
            CLEAR_REFS.write_text("5")
        except OSError:
            self.kind = "process_peak_rss"

    def _peak_since_restart(self) -> int:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            return torch.cuda.max_memory_allocated(self.device) // 1024 - self.baseline_kb
        if self.kind == "rss_peak_above_start":
            return _status_kb("VmHWM") - self.baseline_kb
        return _process_peak_kb()

    def summary(self) -> dict[str, Any]:
        baseline = "baseline_allocated_mb" if self.device.type == "cuda" else "baseline_rss_mb"
        return {"peak_mb": round(self.peak_kb / 1024, 2), "kind": self.kind,
                baseline: round(self.baseline_kb / 1024, 2)}


def _freeze_once() -> None:
    """After the first run's collection, move every object alive then (the imports, the registries: 350,000 of
    them, 50 ms a collection) out of the collector's sight: they live as long as the process, and each later
    run's collection walks only what was made since, an earlier run's garbage included. Garbage that is no cycle
    is freed as before."""
    if not gc.get_freeze_count():
        gc.freeze()


def _status_kb(field: str) -> int:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", STATUS.read_text(), re.MULTILINE)
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


def _process_peak_kb() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, kB elsewhere


def _malloc_trim() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)
