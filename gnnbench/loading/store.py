"""A feature table in host memory and the three ways to gather a batch of its rows onto the device."""

from __future__ import annotations

import importlib.util
import time

import torch
from torch import Tensor

from gnnbench.errors import GnnbenchError
from gnnbench.loading.stats import LoadStats

MODES = ("cpu", "gpu_direct", "device")


class LoadingUnavailableError(GnnbenchError):
    """A gather mode this machine cannot run (``gpu_direct`` without CUDA and Triton)."""


def available_modes(device: torch.device) -> tuple[str, ...]:
    """The modes that run on ``device`` here: ``gpu_direct`` needs CUDA and Triton."""
    gpu_direct = device.type == "cuda" and importlib.util.find_spec("triton") is not None
    return tuple(m for m in MODES if m != "gpu_direct" or gpu_direct)


class FeatureStore:
    """Rows of ``features`` kept on the host (pinned when CUDA exists) and gathered onto ``device``.

    ``device`` mode keeps a second copy of the table in device memory, made by :meth:`prepare` (or, failing that,
    by the first ``device`` gather, before its clock starts); the others never allocate more than a batch on
    the device.
    """

    def __init__(self, features: Tensor, device: torch.device, pin: bool | None = None) -> None:
        if features.dim() != 2:
            raise ValueError(f"a feature store holds a 2-D table, got shape {tuple(features.shape)}")
        from gnnbench.harness.runner import device_problem  # here: the runner imports the models, which import this

        if problem := device_problem(str(device)):  # else every gather fails with torch's own error, not this
            raise LoadingUnavailableError(f"FeatureStore: {problem}")
        self.device = device
        pin = torch.cuda.is_available() if pin is None else pin
        if pin and not torch.cuda.is_available():  # torch's own error names no store and no remedy
            raise LoadingUnavailableError("pin=True needs CUDA: pinned host memory serves copies to a GPU, and this "
                                          "machine has none (pin=None pins exactly where CUDA exists)")
        host = features.detach().to("cpu").contiguous()
        self.host = host.pin_memory() if pin else host
        self._resident: Tensor | None = None
        self._staging: Tensor | None = None
        self._compiled = False  # gpu_direct's kernel variants

    @property
    def num_rows(self) -> int:
        return self.host.size(0)

    @property
    def row_bytes(self) -> int:
        return self.host.size(1) * self.host.element_size()

    def prepare(self, mode: str, rows: int = 0) -> None:
        """The set-up of ``mode`` for batches of up to ``rows`` rows, which is no batch's cost and is kept out of
        every gather's time (call it before timing epochs, too): for ``device``, the upload of the whole table;
        for ``cpu`` on a GPU, the pinned staging buffer; for ``gpu_direct``, compiling the kernel, once for each
        variant Triton specialises a row count into (1, a multiple of 16, any other). A mode unknown, or one this
        machine cannot run, is an error here."""
        if mode not in MODES:
            raise ValueError(f"gather mode must be one of {', '.join(MODES)}, got {mode!r}")
        if mode not in available_modes(self.device):
            raise LoadingUnavailableError(f"gather mode '{mode}' needs CUDA and Triton (device here: {self.device}); "
                                          f"available: {', '.join(available_modes(self.device))}")
        if mode == "device" and self._resident is None:
            self._resident = self.host.to(self.device)
        elif mode == "cpu" and self.device.type == "cuda" and (self._staging is None or self._staging.size(0) < rows):
            self._staging = torch.empty(rows, self.host.size(1), dtype=self.host.dtype).pin_memory()
        elif mode == "gpu_direct" and not self._compiled:
            for count in (1, 16, 17):
                self._gpu_direct(torch.arange(min(count, self.num_rows)))
            self._compiled = True

    def gather(self, index: Tensor, mode: str = "cpu") -> tuple[Tensor, LoadStats]:
        """``features[index]`` on the device, and what it cost; every mode returns the same tensor."""
        self.prepare(mode, index.numel())
        if index.numel() and not 0 <= int(index.min()) <= int(index.max()) < self.num_rows:
            raise IndexError(f"gather index out of range: rows {int(index.min())}..{int(index.max())} of a "
                             f"{self.num_rows}-row table")  # gpu_direct would read outside the pinned table
        self._synchronize()
        wall, cpu = time.perf_counter(), time.process_time()
        out = {"cpu": self._cpu, "gpu_direct": self._gpu_direct, "device": self._device}[mode](index)
        self._wait()
        stats = LoadStats(mode=mode, rows=index.numel(), row_bytes=self.row_bytes,
                          seconds=time.perf_counter() - wall, cpu_seconds=time.process_time() - cpu,
                          device=str(self.device))
        return out, stats

    def _cpu(self, index: Tensor) -> Tensor:
        """``index_select`` on the host into a pinned staging buffer, then one copy to the device."""
        index = index.to("cpu")
        if self.device.type == "cpu":
            return self.host.index_select(0, index)
        assert self._staging is not None  # allocated by prepare, before the clock
        staging = self._staging[:index.numel()]
        torch.index_select(self.host, 0, index, out=staging)
        return staging.to(self.device, non_blocking=True)

    def _gpu_direct(self, index: Tensor) -> Tensor:
        """A Triton kernel reading the pinned host rows in sorted order (:mod:`gnnbench.loading.triton_gather`)."""
        from gnnbench.loading import triton_gather

        if not self.host.is_pinned():
            raise LoadingUnavailableError("gpu_direct reads pinned host memory; this store was built with pin=False")
        return triton_gather.gather(self.host, index.to(self.device))

    def _device(self, index: Tensor) -> Tensor:
        """The table resident on the device (:meth:`prepare`), gathered there."""
        assert self._resident is not None
        return self._resident.index_select(0, index.to(self.device))

    def _synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def _wait(self) -> None:
        """Until the gather has finished, sleeping: a plain synchronize spins the host thread, and the CPU seconds
        would count the wait as work (a GPU-direct gather could never show it leaves the CPU idle)."""
        if self.device.type == "cuda":
            done = torch.cuda.Event(blocking=True)
            done.record(torch.cuda.current_stream(self.device))
            done.synchronize()
