"""What a gather cost: the numbers a user needs to tell a loading bottleneck from a compute one."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

#: What a record's ``loading.epoch_load_s``, ``epoch_load_share`` and ``epoch_load_cpu_s`` average: the epochs after
#: the first. The first epoch's gathers pay one-off costs later ones do not (on the CPU, the first touch of freshly
#: allocated output; docs/models/sign.md measures it for SIGN), which a mean over a short run would carry; it is
#: recorded apart, as ``first_epoch_load_s``. Records without ``epoch_load_over`` averaged every epoch.
EPOCH_LOAD_OVER = "after_first_epoch"


@dataclass(frozen=True)
class LoadStats:
    """One gather: ``rows`` rows of ``row_bytes`` bytes in ``seconds`` of wall time (to the data being usable on
    the device) and ``cpu_seconds`` of host CPU time (every thread of the process)."""

    mode: str
    rows: int
    row_bytes: int
    seconds: float
    cpu_seconds: float
    device: str

    @property
    def bytes(self) -> int:
        return self.rows * self.row_bytes

    @property
    def gbps(self) -> float:
        return self.bytes / self.seconds / 1e9 if self.seconds > 0 else float("nan")  # too fast to time

    def to_record(self) -> dict[str, Any]:
        return {**asdict(self), "bytes": self.bytes, "gbps": self.gbps}


@dataclass
class EpochLoad:
    """The gathers of one epoch, summed: loading time and its share of the epoch go into the record."""

    bytes: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def add(self, stats: LoadStats) -> None:
        self.bytes += stats.bytes
        self.seconds += stats.seconds
        self.cpu_seconds += stats.cpu_seconds

    @property
    def gbps(self) -> float:
        return self.bytes / self.seconds / 1e9 if self.seconds > 0 else float("nan")


def steady_mean(per_epoch: Sequence[float]) -> float:
    """The mean over the epochs after the first (:data:`EPOCH_LOAD_OVER`); NaN for a run of one epoch, which shows
    no steady rate."""
    steady = per_epoch[1:]
    return sum(steady) / len(steady) if steady else math.nan
