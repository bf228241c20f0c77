"""Message-passing backends a run can choose with ``kernel:`` in a suite; the choice is in every record.

* ``scatter``: PyG's default path: a message per edge of ``edge_index`` reduced by
  ``torch_geometric.utils.scatter`` (torch's ``scatter_add_``/``scatter_reduce_``; PyG hands min/max with
  gradients on CUDA to ``torch_scatter`` when it is installed: :func:`scatter_provider`).
* ``torch_scatter``: the same edge messages, reduced by ``torch_scatter.scatter`` in every layer (needs the
  ``scatter`` extra, which builds from source).
* ``csr``: PyG's sparse-adjacency path: the task hands the model ``adj_t``, a ``torch.sparse_csr`` matrix with a
  row per target node, and PyG's ``GCNConv``/``SAGEConv``/``GINConv`` fuse message and aggregation into one
  ``torch.sparse.mm`` (no per-edge message tensor), its backward through a transpose built once per graph
  (:mod:`gnnbench.kernels.csr_matmul`).
* ``auto``: times the backends the model and task support on the run's own graph and keeps the fastest
  (:mod:`gnnbench.kernels.auto`); the record says what it chose and why.

A model declares its backends with ``kernels=(...)`` on its registry entry (default: ``scatter`` only) and a task
with its ``kernels`` attribute; a suite asking for a pair that cannot run fails at validation.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch_geometric.typing

from gnnbench.errors import GnnbenchError

BACKENDS: dict[str, str] = {
    "scatter": "PyG utils.scatter on edge_index (torch scatter_add_/scatter_reduce_, torch_scatter where PyG uses it)",
    "torch_scatter": "torch_scatter.scatter on edge_index in every message-passing layer",
    "csr": "torch.sparse_csr adjacency (adj_t): PyG's fused sparse-dense matmul",
    "auto": "the fastest of the applicable backends, timed on the run's own graph",
}
#: the backends ``auto`` chooses among (every concrete one)
CONCRETE = ("scatter", "torch_scatter", "csr")
#: what a model supports when its registry entry does not say
DEFAULT_MODEL_KERNELS = ("scatter",)


class KernelUnavailableError(GnnbenchError):
    """A backend whose library is not installed."""


def scatter_provider(device: torch.device) -> str:
    """Which library serves PyG's scatter on ``device`` where it has a choice: min/max with gradients go to
    ``torch_scatter`` on CUDA when it is installed; everything else, and everything on the CPU, is torch's."""
    return "torch_scatter" if torch_geometric.typing.WITH_TORCH_SCATTER and device.type == "cuda" else "torch"


def available(backend: str) -> bool:
    """Whether ``backend`` can run in this environment."""
    if backend == "torch_scatter":
        return importlib.util.find_spec("torch_scatter") is not None
    return backend in BACKENDS


def require(backend: str, instead: Sequence[str] = ()) -> None:
    """Raise a clear error when ``backend`` cannot run here; ``instead`` are the backends the error suggests (those
    the run's model and task can run, :func:`candidates`), none where the caller does not know them."""
    if backend not in BACKENDS:
        raise KernelUnavailableError(f"unknown kernel backend {backend!r} (known: {', '.join(BACKENDS)})")
    if not available(backend):
        others = f", or use kernel: {', '.join(instead)} or auto" if instead else ""
        raise KernelUnavailableError(f"kernel '{backend}' needs the torch-scatter package, which is not installed: "
                                     "the scatter extra, pip install --no-build-isolation -e '.[scatter]' in the "
                                     f"checkout (it builds from source){others}")


def model_kernels(entry: Any) -> tuple[str, ...]:
    """The backends a registry entry declares (``kernels=(...)``), ``scatter`` only when it declares none."""
    return tuple(entry.meta.get("kernels", DEFAULT_MODEL_KERNELS))


def candidates(model_kernels: Iterable[str], task_kernels: Iterable[str]) -> list[str]:
    """The concrete backends ``auto`` may time: supported by both the model and the task, and installed."""
    task = set(task_kernels)
    return [k for k in CONCRETE if k in model_kernels and k in task and available(k)]


__all__ = ["BACKENDS", "CONCRETE", "DEFAULT_MODEL_KERNELS", "KernelUnavailableError", "available", "candidates",
           "model_kernels", "require", "scatter_provider"]
