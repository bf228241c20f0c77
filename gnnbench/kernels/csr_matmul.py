r"""The ``csr`` backend's sparse-dense matmul, with the transposed adjacency cached for the backward pass.

A layer aggregating on ``adj_t`` (row = target) computes :math:`Y = A X` (sum) or :math:`Y = D^{-1} A X`
(mean, :math:`D` the count of entries per row, at least 1), and its backward needs
:math:`\partial X = A^\top \partial Y` (mean: :math:`A^\top D^{-1} \partial Y`). torch's own backward of
``torch.sparse.mm`` builds :math:`A^\top` from :math:`A` on every call; here it is built once per adjacency
(:func:`transposed`, kept on the tensor itself, so it lives and dies with the graph) and every later backward
is one more sparse-dense matmul.

PyG's ``GCNConv``, ``SAGEConv``, ``GINConv`` and ``SGConv`` aggregate on a sparse input with
``spmm(adj_t, x, reduce=aggr)``; :func:`~gnnbench.kernels.adjacency.configure` gives those layers
:class:`FusedAggregation` in its place. ``max`` has no such adjoint and stays on PyG's path, as does an
adjacency whose values require a gradient. ``GCNConv`` normalises its input into a new matrix on every call
unless built with ``cached=True``; :class:`NormalisedOnceForward` keeps that matrix on the input adjacency, so
the normalisation and its transpose are both built once per graph (again where its values were edited in
place).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import GCNConv, GINConv, SAGEConv, SGConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import spmm

#: the reductions :func:`csr_matmul` computes; others go to PyG's ``spmm``
LINEAR = {"sum": "sum", "add": "sum", "mean": "mean"}
#: the attributes of an ``adj_t`` holding its transpose, and its GCN normalisations
CACHE, NORMALISED = "_gnnbench_transposed", "_gnnbench_gcn_norm"
#: PyG's layers whose ``message_and_aggregate`` is ``spmm(adj_t, x_source, reduce=aggr)``; a subclass is not fused
#: (it may override ``forward`` or ``message_and_aggregate``, which fusing would replace)
FUSABLE = (GCNConv, SAGEConv, GINConv, SGConv)


def csr_matmul(adj_t: Tensor, x: Tensor, reduce: str = "sum") -> Tensor:
    """``spmm(adj_t, x, reduce)`` for a ``torch.sparse_csr`` ``adj_t``, its backward through the cached
    transpose for ``sum`` and ``mean``."""
    if (reduce not in LINEAR or not _is_csr(adj_t) or adj_t.requires_grad or x.dim() != 2
            or adj_t.size(1) != x.size(0)):
        return spmm(adj_t, x, reduce=reduce)
    return _CachedTransposeMatmul.apply(adj_t, x, LINEAR[reduce] == "mean")


def transposed(adj_t: Tensor) -> Tensor:
    """:math:`A^\top` of a ``torch.sparse_csr`` matrix, as a CSR matrix, built on the first call and kept on
    ``adj_t`` with the version of its values: values edited in place since are transposed again."""
    version = adj_t.values()._version
    cached = getattr(adj_t, CACHE, None)
    if cached is None or cached[0] != version:
        with quiet_sparse_warnings():
            cached = (version, adj_t.t().to_sparse_csr())
        setattr(adj_t, CACHE, cached)
    return cached[1]


def _is_csr(graph: Any) -> bool:
    """A ``torch.sparse_csr`` tensor (not ``edge_index``, nor torch_sparse's ``SparseTensor``)."""
    return isinstance(graph, Tensor) and graph.layout == torch.sparse_csr


def row_counts(adj_t: Tensor) -> Tensor:
    """The entries of each row (a target's in-degree), at least 1: the divisor of a mean, as PyG's ``spmm``."""
    crow = adj_t.crow_indices()
    return (crow[1:] - crow[:-1]).clamp_(min=1).unsqueeze(-1)


class _CachedTransposeMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, adj_t: Tensor, x: Tensor, mean: bool) -> Tensor:
        ctx.adj_t, ctx.mean = adj_t, mean
        out = torch.sparse.mm(adj_t, x)
        return out / row_counts(adj_t).to(out.dtype) if mean else out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor | None, None]:
        if not ctx.needs_input_grad[1]:
            return None, None, None
        if ctx.mean:
            grad = grad / row_counts(ctx.adj_t).to(grad.dtype)
        return None, torch.sparse.mm(transposed(ctx.adj_t), grad), None


class FusedAggregation:
    """The ``message_and_aggregate`` of a :data:`FUSABLE` layer (set on the instance; an object rather than a bound
    function, so a model saved whole with ``torch.save`` loads again): ``x`` a tensor or a (source, target)
    pair."""

    def __init__(self, layer: nn.Module) -> None:
        self.layer = layer

    def __call__(self, adj_t: Tensor, x: Tensor | tuple[Tensor, Tensor | None]) -> Tensor:
        return csr_matmul(adj_t, x[0] if isinstance(x, tuple) else x, reduce=self.layer.aggr)


class NormalisedOnceForward:
    """``GCNConv.forward`` (set on the instance), its normalisation of a ``torch.sparse_csr`` adjacency computed on
    the first call and kept on the adjacency (per normalisation setting and version of its values), where PyG's
    layer without ``cached=True`` normalises on every call into a new matrix, whose transpose would then be built
    on every backward too. The layer's own cache slot carries it into PyG's ``forward`` and is emptied after.
    An adjacency whose values require a gradient is normalised on every call, as PyG does."""

    def __init__(self, layer: GCNConv) -> None:
        self.layer = layer

    def __call__(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        layer = self.layer
        if (layer.cached or not layer.normalize or edge_weight is not None or not _is_csr(edge_index)
                or edge_index.requires_grad):
            return GCNConv.forward(layer, x, edge_index, edge_weight)
        key = (layer.improved, layer.add_self_loops, layer.flow, x.dtype, x.size(layer.node_dim),
               edge_index.values()._version)
        memo = {k: v for k, v in getattr(edge_index, NORMALISED, {}).items() if k[-1] == key[-1]}  # this version's
        setattr(edge_index, NORMALISED, memo)
        if key not in memo:
            with quiet_sparse_warnings():
                memo[key] = gcn_norm(edge_index, None, key[4], *key[:4])
        layer._cached_edge_index = memo[key]
        try:
            return GCNConv.forward(layer, x, edge_index, edge_weight)
        finally:
            layer._cached_edge_index = None


@contextlib.contextmanager
def quiet_sparse_warnings() -> Iterator[None]:
    """torch warns that its sparse CSR/CSC support is "beta" whenever one is built; say it once, in the docs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse (CSR|CSC) tensor support is in beta")
        warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
        yield


__all__ = ["FUSABLE", "FusedAggregation", "NormalisedOnceForward", "csr_matmul", "quiet_sparse_warnings",
           "transposed"]
