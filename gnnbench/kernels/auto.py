"""Choosing a run's backend, and ``auto``: measure, do not guess.

Which backend wins depends on the graph, the layer and the device, so ``auto`` times a forward and backward
pass of the run's own model on the run's own graph with every applicable backend and keeps the fastest. The
decision is cached per (model, graph size, feature width, device) for the process, so the seeds of one
configuration time once in one process (workers of the process and ray executors decide each for itself). The
timing runs with the random state forked and the model's state restored, so choosing never changes what the
run computes.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.aggr import MaxAggregation
from torch_geometric.utils import coalesce

from gnnbench.kernels import KernelUnavailableError, require
from gnnbench.kernels.adjacency import configure, graph_input
from gnnbench.kernels.timing import median_ms_or_inf

#: untimed and timed forward+backward steps per backend
WARMUP, REPEATS = 1, 3
#: the aggregations that count a repeated edge on ``csr`` (one entry, its weight the copies') as on ``edge_index``
SUMS = ("add", "sum")

_decisions: dict[Hashable, KernelChoice] = {}


@dataclass(frozen=True)
class KernelChoice:
    """The backend a run used, what the suite asked for, why, and the timings behind an ``auto`` choice."""

    backend: str
    requested: str
    reason: str
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return {"chosen": self.backend, "reason": self.reason,
                **({"timings_ms": {k: round(v, 4) for k, v in self.timings_ms.items()}} if self.timings_ms else {})}


def decide(requested: str, candidates: Sequence[str], measure: Callable[[str], float],
           key: Hashable | None = None, warmup: int = WARMUP, repeats: int = REPEATS,
           left_by: str = "supported here") -> KernelChoice:
    """The backend for ``requested`` (a backend name or ``auto``) among ``candidates``; ``measure(backend)``
    returns the median milliseconds of ``repeats`` steps after ``warmup`` with that backend (the counts are
    only written into the reason), or infinity where the backend ran out of memory, and is called only for
    ``auto``. ``left_by`` says what left ``candidates`` (a run's: the model, the task and what is installed
    support them; a profile's may be what it was asked for), in the reason where one is left."""
    if requested != "auto":
        require(requested)
        return KernelChoice(requested, requested, named_reason(requested, candidates, left_by))
    if not candidates:
        raise ValueError("kernel auto: no backend is supported by both this model and this task")
    if len(candidates) == 1:
        return KernelChoice(candidates[0], "auto", f"the only backend {left_by} ({candidates[0]})")
    if key is not None and key in _decisions:
        cached = _decisions[key]
        return replace(cached, reason=f"cached decision for this model, graph size and device: {cached.reason}")
    timings = {backend: measure(backend) for backend in candidates}
    fitting = {backend: ms for backend, ms in timings.items() if math.isfinite(ms)}
    if not fitting:
        raise torch.OutOfMemoryError(f"kernel auto: every backend ({', '.join(candidates)}) ran out of memory "
                                     "on this graph")
    best = min(fitting, key=fitting.__getitem__)
    too_large = [backend for backend in candidates if backend not in fitting]
    choice = KernelChoice(best, "auto", f"fastest of {', '.join(candidates)}: median of {repeats} timed "
                                        f"forward+backward steps after {warmup} warm-up, on this graph"
                                        + (f"; {', '.join(too_large)} ran out of memory" if too_large else ""),
                          fitting)
    if key is not None:
        _decisions[key] = choice
    return choice


def named_reason(requested: str, candidates: Sequence[str], left_by: str = "supported here") -> str:
    """Why the backend a suite names runs (its ``kernel:``, or ``scatter``, the default, where it names none): where
    ``candidates`` hold no other, the model and task chose it, not the suite (SIGN, which runs ``scatter`` only)."""
    return f"the only backend {left_by} ({requested})" if list(candidates) == [requested] else "set by the suite"


Untracked = Callable[[], contextlib.AbstractContextManager[Any]]


def use_kernel(requested: str, candidates: Sequence[str], model: nn.Module, x: Tensor, edge_index: Tensor,
               device: torch.device, untracked: Untracked = contextlib.nullcontext) -> tuple[Tensor, KernelChoice]:
    """Put a backend into effect on ``model`` and return (the graph its ``forward`` takes, the choice).

    For ``auto`` every candidate is timed on ``model(x, graph)`` with a sum as the loss, inside ``untracked()``
    (the run's peak memory leaves out the backends it will not use); a candidate that runs out of memory
    loses. ``csr`` is refused by name, and left out of ``auto``, where :func:`csr_refusal` gives a reason, which
    ``auto``'s reason then ends with.
    """
    num_nodes = x.size(0)
    layers = [m for m in model.modules() if isinstance(m, MessagePassing)]  # what a backend sets
    why = None
    if requested in ("csr", "auto") and "csr" in candidates and (why := csr_refusal(model, edge_index, num_nodes,
                                                                                      device)):
        if requested == "csr":
            raise KernelUnavailableError(f"kernel 'csr' cannot run this model {why}; use scatter, torch_scatter or "
                                         "auto")
        candidates = [backend for backend in candidates if backend != "csr"]

    def measure(backend: str) -> float:
        graph = graph_input(backend, edge_index, num_nodes)
        configure(model, backend)

        def step() -> None:
            model(x, graph).sum().backward()

        with _propagating(layers):
            ms = median_ms_or_inf(step, device, WARMUP, REPEATS)
        if math.isinf(ms):  # out of memory: the failed step's gradients go too
            model.zero_grad(set_to_none=True)
        return ms

    key = (type(model).__qualname__, repr(model), num_nodes, edge_index.size(1), x.size(-1), str(device),
           tuple(candidates))
    if requested == "auto" and len(candidates) > 1 and not layers:  # nothing a backend sets: the first, untimed
        # timing would compare one computation with itself and pick by noise, differently per process
        choice = KernelChoice(candidates[0], "auto", f"{candidates[0]}: the model has no message-passing layer, so "
                                                     "every backend computes the same and nothing is timed")
    elif requested == "auto" and len(candidates) > 1 and key not in _decisions:
        state = copy.deepcopy(model.state_dict())
        with untracked(), torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            choice = decide(requested, candidates, measure, key)
        model.load_state_dict(state)
        model.zero_grad(set_to_none=True)
    else:
        choice = decide(requested, candidates, measure, key)
        if list(candidates) == [choice.backend] and not layers:  # the backend is nominal, the model's own code runs
            choice = replace(choice, reason=f"{choice.reason}: the model has no message-passing layer for a backend "
                                            "to set, so its propagation, if any, is its own code")
    if why:  # auto left csr out: say so, or the reason reads as if csr were never a candidate
        choice = replace(choice, reason=f"{choice.reason}; csr left out: it cannot run this model {why}")
    configure(model, choice.backend)
    return graph_input(choice.backend, edge_index, num_nodes), choice


def csr_refusal(model: nn.Module, edge_index: Tensor, num_nodes: int, device: torch.device) -> str | None:
    """Why ``csr`` cannot run ``model`` on this graph as the edge path does, or None: torch's sparse CSR matmul
    has no max on CUDA; and a sparse matrix holds a repeated edge as one entry weighted by its copies, which a
    sum reads as the edge path's message per copy (GCN's degree too), a mean, max or min does not. Only a model
    with such a layer pays for the check of the graph (a sort of its edges, once per run)."""
    if device.type == "cuda" and has_max_aggregation(model.modules()):
        return ("on CUDA: it aggregates by max, which torch's sparse CSR matmul does not reduce there (PyG's spmm "
                "raises)")
    others = sorted({str(m.aggr) for m in model.modules() if isinstance(m, MessagePassing)} - set(SUMS))
    if others and coalesce(edge_index, num_nodes=num_nodes).size(1) < edge_index.size(1):
        return (f"on this graph, which repeats edges: a sparse adjacency holds each as one entry weighted by its "
                f"copies, and the model aggregates by {', '.join(others)}, which reads that otherwise than a message "
                "per copy (only a sum reads it the same); coalescing the edges (torch_geometric.utils.coalesce) "
                "would let it run csr")
    return None


def has_max_aggregation(modules: Iterable[nn.Module]) -> bool:
    """Whether a message-passing layer among a model's ``modules`` aggregates by max (``aggr="max"`` or a
    ``MaxAggregation``)."""
    return any(isinstance(m, MaxAggregation) or (isinstance(m, MessagePassing) and m.aggr == "max") for m in modules)


@contextlib.contextmanager
def _propagating(layers: Sequence[MessagePassing]) -> Iterator[None]:
    """Layers built with ``cached=True`` (SGC's ``SGConv``) propagate on every step instead of reusing the
    warm-up's result, so their backend is what is timed; they leave with the flag on and the cache empty.
    ``reset_parameters`` is what drops a PyG layer's cache; the parameters it re-draws are the caller's to restore."""
    cached = [layer for layer in layers if getattr(layer, "cached", False)]
    for layer in cached:
        layer.reset_parameters()
        layer.cached = False  # nothing is cached while off, so the cache stays empty
    try:
        yield
    finally:
        for layer in cached:
            layer.cached = True


__all__ = ["KernelChoice", "csr_refusal", "decide", "named_reason", "use_kernel"]
