"""``gnnbench profile loading``: gather bandwidth of every available mode over row sizes and batch sizes.

For each row size (128 B to 4 KiB of float32) a random table is built in host memory (pinned where CUDA
exists) and batches of distinct random rows are gathered in every available mode; each mode's result is first
checked against ``table[index]``. The modes then take turns, gather by gather, and every warm-up and timed
gather draws a fresh batch from the seeded generator, so no gather finds its rows in a cache warmed by the one
before it (a small batch would, and its GB/s would overstate a cold gather). ``copy_gbps`` is the contiguous
reference measured in the same run: a pinned host-to-device copy on a GPU (the PCIe bound), a host ``copy_``
on the CPU; both count the payload once, as a gather's GB/s does.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import torch

from gnnbench import markdown
from gnnbench.errors import GnnbenchError
from gnnbench.harness.env import environment
from gnnbench.kernels.timing import median_ms, turns
from gnnbench.loading.stats import LoadStats
from gnnbench.loading.store import FeatureStore, available_modes

ROW_BYTES = (128, 256, 512, 1024, 2048, 4096)
DEFAULT_ROWS = {"cpu": 200_000, "cuda": 20_000_000}
DEFAULT_BATCHES = {"cpu": (1_000, 10_000), "cuda": (100_000, 1_000_000)}
#: the largest table built, whatever ``rows`` asks: rows are cut to fit
MAX_TABLE_BYTES = {"cpu": 256 * 2**20, "cuda": 16 * 2**30}
EXTRA_COLUMNS = ["mode", "row_bytes", "rows", "batch", "gbps", "seconds", "cpu_seconds", "copy_gbps", "device"]


def reference_copy_gbps(device: torch.device, megabytes: int, warmup: int, repeats: int) -> float:
    """Contiguous copy bandwidth: pinned host to GPU on CUDA, a host ``copy_`` on the CPU; the bytes copied are
    counted once (not read plus written), as a gather's GB/s counts its rows, so the two compare. At least one
    untimed copy first, whatever ``warmup``: a cold first copy pays ``dst``'s page faults (about half the speed)."""
    warmup = max(warmup, 1)
    src = torch.ones(megabytes * 2**20 // 4)
    if device.type == "cuda":
        src, dst = src.pin_memory(), torch.empty(src.numel(), device=device)
        ms = median_ms(lambda: dst.copy_(src, non_blocking=True), device, warmup, repeats)
    else:
        dst = torch.empty_like(src)
        ms = median_ms(lambda: dst.copy_(src), device, warmup, repeats)
    return src.numel() * 4 / (ms * 1e-3) / 1e9


def profile(device: torch.device, rows: int, row_bytes: Sequence[int] = ROW_BYTES, batches: Sequence[int] = (1000,),
            warmup: int = 2, repeats: int = 5, seed: int = 0,
            on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """One record per (row size, batch, mode), in the leaderboard's schema plus :data:`EXTRA_COLUMNS`; sizes
    that cannot be measured are refused before anything is."""
    tables = {size: table_rows(device, rows, size) for size in row_bytes}
    for size, n in tables.items():
        if batch := next((b for b in batches if b > n), None):
            limit = (f"--rows {rows}" if n == rows else
                     f"tables are cut to {MAX_TABLE_BYTES[device.type] // 2**20} MiB on {device.type}")
            raise GnnbenchError(f"--batches: a batch of {batch} rows does not fit the table of {size}-byte rows, "
                                f"{n} rows ({limit}); expected batches of at most {n} rows")
    env, protocol = environment(device), {"seed": seed, "warmup": warmup, "repeats": repeats}
    copy_gbps = reference_copy_gbps(device, 1024 if device.type == "cuda" else 128, warmup, repeats)
    generator = torch.Generator().manual_seed(seed)
    records = []
    for size, n in tables.items():
        store = FeatureStore(torch.rand(n, size // 4, generator=generator), device)
        for batch in batches:
            shared = _shared_fields(size, n, batch, copy_gbps, env, protocol)
            for measured in _measure_modes(store, n, batch, available_modes(device), warmup, repeats, generator):
                records.append(record := {**shared, **measured})
                if on_row is not None:
                    on_row(record)
        del store
    return records


def table_rows(device: torch.device, rows: int, row_bytes: int) -> int:
    """The rows of the table measured for ``row_bytes``: ``rows``, cut to :data:`MAX_TABLE_BYTES`."""
    if row_bytes <= 0 or row_bytes % 4:
        raise GnnbenchError(f"--row-bytes: row sizes are whole float32 values (positive multiples of 4 bytes), "
                            f"got {row_bytes}")
    return min(rows, MAX_TABLE_BYTES[device.type] // row_bytes)


def _batch(rows: int, batch: int, generator: torch.Generator) -> torch.Tensor:
    """``batch`` distinct random rows of ``rows``, drawn afresh for every gather."""
    return torch.randperm(rows, generator=generator)[:batch]


def _measure_modes(store: FeatureStore, rows: int, batch: int, modes: Sequence[str], warmup: int, repeats: int,
                   generator: torch.Generator) -> list[dict[str, Any]]:
    """The statistics of every mode, each first checked against ``table[index]``. The modes take turns
    (:func:`~gnnbench.kernels.timing.turns`). Each batch is freed before the next gather: one kept alive makes the
    allocator map fresh memory for every other large batch, and the median of a mode would flip between the
    two speeds with the parity of its turns."""
    for mode in modes:
        index = _batch(rows, batch, generator)
        if not torch.equal(store.gather(index, mode)[0].cpu(), store.host[index]):
            raise AssertionError(f"gather mode {mode} returned different rows")
    stats: dict[str, list[LoadStats]] = {mode: [] for mode in modes}
    for round_, mode in turns(modes, warmup + repeats):
        stat = store.gather(_batch(rows, batch, generator), mode)[1]
        if round_ >= warmup:
            stats[mode].append(stat)
    return [_statistics(mode, stats[mode]) for mode in modes]


def _shared_fields(row_bytes: int, rows: int, batch: int, copy_gbps: float, env: dict[str, Any],
                   protocol: dict[str, int]) -> dict[str, Any]:
    """The fields of a record every mode of one (row size, batch) shares: ``protocol`` the settings that shaped
    the measurement, which compare notes a change of."""
    return {
        "status": "ok", "suite": "profile_loading", "task": f"loading_{row_bytes}B",
        "dataset": f"table-{rows}x{row_bytes}B-batch{batch}", "config": "default", "scenario": "none",
        "metric": "gbps", "direction": "max", "kernel": "", "row_bytes": row_bytes, "rows": rows, "batch": batch,
        "copy_gbps": copy_gbps, "device": env["device_name"], "env": env, "protocol": protocol,
    }


def _statistics(mode: str, stats: list[LoadStats]) -> dict[str, Any]:
    """One mode's fields: GB/s per gather, and the median gather's GB/s and CPU time."""
    rates = [s.gbps for s in stats]
    seconds = statistics.median(s.seconds for s in stats)
    return {
        "model": mode, "mode": mode, "mean": statistics.fmean(rates),
        "std": statistics.stdev(rates) if len(rates) > 1 else float("nan"), "n": len(rates), "values": rates,
        "gbps": stats[0].bytes / seconds / 1e9, "seconds": seconds,
        "cpu_seconds": statistics.median(s.cpu_seconds for s in stats), "gathers": [s.to_record() for s in stats],
    }


#: the title of loading.md
TITLE = "Feature-loading micro-benchmark"


def notes(records: Sequence[dict[str, Any]]) -> list[str]:
    """The header of loading.md: GB/s (median gather) by row size and mode, per batch size."""
    if not records:
        return []
    frame = pd.DataFrame(records)
    tables = frame.drop_duplicates("row_bytes").sort_values("row_bytes")
    sizes = ", ".join(f"{int(t.rows):,} x {int(t.row_bytes)} B ({t.rows * t.row_bytes / 2**20:,.0f} MiB)"
                      for t in tables.itertuples())
    lines = [f"Contiguous reference copy: {frame['copy_gbps'].iloc[0]:.2f} GB/s (measured in the same run; the payload "
             "counted once, as a gather's, where kernels.md's copy_gbps counts bytes read plus written). GB/s = batch "
             "rows x row bytes / median gather time; see gnnbench/loading/profile.py. Tables: "
             f"{sizes}; one that fits in the processor's cache gathers faster than one in main memory.", ""]
    if "gpu_direct" not in set(frame["mode"]):
        lines += ["gpu_direct (the zero-copy gather) is not measured: it needs CUDA and Triton.", ""]
    if {e.get("device") for e in frame["env"]} == {"cpu"}:
        lines += ["On the CPU, cpu and device run the same index_select on the same table, taking turns: they "
                  "differ by noise and by the few Python steps of each mode's call, which show on the smallest "
                  "batches.", ""]
    for batch, part in frame.groupby("batch"):
        table = part.pivot_table(index="row_bytes", columns="mode", values="gbps", aggfunc="first")
        lines += [f"Bandwidth vs row size, batches of {batch} rows (GB/s):", "",
                  *markdown.table(["row bytes", *table.columns],
                                  [[size, *(f"{v:.2f}" for v in row)] for size, row in table.iterrows()],
                                  right=range(len(table.columns) + 1)), ""]
    return lines
