"""What a gather cost: the numbers a user needs to tell a loading bottleneck from a compute one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


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
