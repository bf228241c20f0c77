"""Continuous-time dynamic graphs as PyG ``TemporalData``: event streams ``(src, dst, t, msg)`` sorted by time.

Three on-disk formats load from a local root, and one generator makes streams with known structure:

* **SNAP text** (``src dst unix_time`` per line, e.g. CollegeMsg, the "UCI" set of TGN/DyGLib):
  :func:`load_snap`. No edge features ship; ``msg`` is a zero column, as TGN/DyGLib use zeros for UCI.
* **TGN/DyGLib** ``ml_<name>.csv`` (columns ``u, i, ts, label, idx``) with the optional ``ml_<name>.npy`` edge
  features indexed by ``idx`` (row 0 is DyGLib's padding row): :func:`load_dyglib`. Zero features when the
  ``.npy`` is absent.
* **JODIE** CSVs, the files PyG's ``JODIEDataset`` downloads (``<root>/<name>/raw/<name>.csv``):
  :func:`load_jodie`, read by ``JODIEDataset`` itself.
* :func:`periodic_stream`: a seeded synthetic stream in which every pair recurs exactly every ``period``
  events, so predicting the next events needs what happened one period ago (long-range temporal structure).

Node ids are renumbered to ``0..N-1`` in sorted order of the file's ids; events are sorted by time (stable, so
the file's order breaks ties).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import TemporalData
from torch_geometric.datasets import JODIEDataset

from gnnbench.data.sources import cache_lock, prepared
from gnnbench.errors import DataError
from gnnbench.registry import register_dataset

DYGLIB_COLUMNS = ("u", "i", "ts")


def stream(src: Tensor, dst: Tensor, t: Tensor, msg: Tensor | None = None) -> TemporalData:
    """Events sorted by time (stable) with node ids renumbered to ``0..N-1``; zero ``msg`` when none is given.
    Times are integers (a memory model's last-update times are: PyG's ``TGNMemory``); whole floats are made
    integers, fractional ones refused rather than truncated."""
    if t.is_floating_point():
        if (fractional := torch.nonzero(t != t.round()).flatten()).numel():
            first, count = int(fractional[0]), fractional.numel()
            raise DataError(f"t holds fractional times ({count} event{'s' * (count > 1)}; first: event {first} as "
                            f"given, t={float(t[first])!r}); expected whole times: scale them to a finer whole unit "
                            "(seconds to milliseconds: t * 1000)")
        t = t.long()
    _, inverse = torch.unique(torch.cat([src, dst]), return_inverse=True)
    src, dst = inverse[:src.numel()], inverse[src.numel():]
    if msg is None:
        msg = torch.zeros(src.numel(), 1)
    order = torch.argsort(t, stable=True)
    return TemporalData(src=src[order], dst=dst[order], t=t[order], msg=msg[order].float())


def load_snap(path: str | Path) -> TemporalData:
    """A SNAP temporal edge list: whitespace-separated ``src dst unix_time`` per line."""
    path = Path(path)
    try:
        table = np.loadtxt(path, dtype=np.int64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: expected lines 'src dst unix_time' of integers ({exc})") from None
    if table.shape[1] < 3:
        raise DataError(f"{path}: expected 3 columns 'src dst unix_time', found {table.shape[1]}")
    src, dst, t = (torch.from_numpy(table[:, k].copy()) for k in range(3))
    return stream(src, dst, t)


def load_dyglib(root: str | Path, name: str) -> TemporalData:
    """``<root>/ml_<name>.csv`` (TGN/DyGLib events) and, if present, ``<root>/ml_<name>.npy`` (edge features)."""
    csv = Path(root) / f"ml_{name}.csv"
    if not csv.is_file():
        raise DataError(f"file {csv} is missing (TGN/DyGLib format ml_<name>.csv)")  # the path names the dataset
    frame = pd.read_csv(csv)
    missing = [c for c in DYGLIB_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{csv}: missing column(s) {', '.join(missing)}; expected u, i, ts (and idx for features)")
    src, dst = (torch.tensor(frame[c].to_numpy(np.int64)) for c in ("u", "i"))
    t = torch.tensor(frame["ts"].to_numpy(np.float64))
    features = csv.with_suffix(".npy")
    msg = None
    if features.is_file():
        if "idx" not in frame.columns:
            raise DataError(f"{csv}: column 'idx' is needed to index the edge features of {features}")
        table = np.load(features)
        idx = frame["idx"].to_numpy(np.int64)
        if table.ndim != 2 or idx.max() >= table.shape[0]:
            raise DataError(f"{features}: expected a 2-d array with a row for every idx of {csv} "
                            f"(max idx {idx.max()}), got shape {table.shape}")
        msg = torch.from_numpy(table[idx]).float()
    try:
        return stream(src, dst, t, msg)
    except DataError as exc:  # fractional times: the file to scale
        raise DataError(f"{csv} (column ts): {exc}") from None


def load_jodie(root: str | Path, name: str) -> TemporalData:
    """A JODIE CSV under ``<root>/<name>/raw/<name>.csv`` read by PyG's ``JODIEDataset``, which writes its
    ``processed/`` folder beside ``raw/``: under a lock in the cache folder, keyed by the dataset's folder, so
    concurrent first loads do not race and a read-only root that is already processed still loads.
    Destinations are offset after the sources, as PyG does."""
    if name.lower() not in JODIEDataset.names:
        raise DataError(f"JODIE dataset '{name}': expected one of {', '.join(JODIEDataset.names)}")
    csv = Path(root) / name / "raw" / f"{name}.csv"
    if not csv.is_file():  # PyG would download it, unverified: this suite reads local copies only
        raise DataError(f"JODIE dataset '{name}': expected its CSV at {csv}")
    folder = str(csv.parent.parent.resolve())
    with cache_lock(f"jodie-{hashlib.sha256(folder.encode()).hexdigest()[:16]}"):
        data = JODIEDataset(str(root), name)[0]
    return stream(data.src, data.dst, data.t, data.msg)


def periodic_stream(num_pairs: int = 64, periods: int = 40, seed: int = 0) -> TemporalData:
    """``num_pairs`` disjoint pairs (source ``k``, destination ``num_pairs + k``) replayed in one fixed random
    order ``periods`` times, one event per time step: every pair recurs exactly ``num_pairs`` events after its
    last occurrence, and each node takes part in nothing else. Deciding whether ``(u, v)`` happens now means
    noticing that ``u`` and ``v`` last acted *together*, one period ago; a model whose history is shorter than
    the period sees neither node."""
    if num_pairs < 2 or periods < 2:
        raise ValueError(f"periodic_stream needs num_pairs >= 2 and periods >= 2, got {num_pairs}, {periods}")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(num_pairs, generator=generator).repeat(periods)
    return stream(order, order + num_pairs, torch.arange(order.numel()))


def _college_msg(data_root: str | None = None) -> TemporalData:
    """CollegeMsg (SNAP; "UCI" in TGN/DyGLib): 1,899 students, 59,835 timestamped messages over 194 days."""
    with prepared("CollegeMsg", data_root) as root:
        return load_snap(root / "CollegeMsg" / "CollegeMsg.txt")


def _periodic(data_root: str | None = None) -> TemporalData:
    """Synthetic periodic stream: 256 pairs replayed 20 times (period 256 events), seed 0."""
    return periodic_stream(256, 20, seed=0)


register_dataset("CollegeMsg", tasks=("temporal_link",), files="CollegeMsg",
                 source="SNAP CollegeMsg (Panzarasa, Opsahl & Carley 2009) via wyd1502/DGNN@7eca3e8",
                 stats="1899 nodes, 59835 events, no features")(_college_msg)
register_dataset("PeriodicStream", tasks=("temporal_link",), paper="gnnbench synthetic",
                 stats="512 nodes, 5120 events, period 256")(_periodic)
