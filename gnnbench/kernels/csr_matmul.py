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
place). Both ``GCNConv`` and ``SGConv`` normalise a sparse matrix with a self-loop added to every node, a second
one where the graph has one; on ``edge_index`` (without weights) each node has one self-loop whatever the graph
had. Here both normalise the matrix :func:`with_gcn_loops` makes, which is what they compute on ``edge_index``.
With edge weights the edge path keeps a loop's own weight and gives the missing ones the fill value (2 for
``improved``), which a matrix holding repeated loops as one summed entry cannot follow exactly: an adjacency
:func:`~gnnbench.kernels.adjacency.graph_input` built from weights is refused there (gnnbench's tasks hand their
models none).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import torch
from torch import Tensor, nn
from torch_geometric.nn import GCNConv, GINConv, SAGEConv, SGConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_self_loops, remove_self_loops, spmm, to_edge_index, to_torch_csr_tensor

from gnnbench.kernels import KernelUnavailableError

#: the reductions :func:`csr_matmul` computes; others go to PyG's ``spmm``
LINEAR = {"sum": "sum", "add": "sum", "mean": "mean"}
#: the attributes of an ``adj_t`` holding its transpose, and its GCN normalisations and self-loops
CACHE, NORMALISED = "_gnnbench_transposed", "_gnnbench_gcn_norm"
#: the attribute marking an ``adj_t`` built from edge weights, whose self-loops GCN's normalisation reads otherwise
WEIGHTED = "_gnnbench_weighted"
#: PyG's layers whose ``message_and_aggregate`` is ``spmm(adj_t, x_source, reduce=aggr)``; a subclass is not fused
#: (it may override ``forward`` or ``message_and_aggregate``, which fusing would replace)
FUSABLE = (GCNConv, SAGEConv, GINConv, SGConv)

T = TypeVar("T")


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


def with_gcn_loops(adj_t: Tensor) -> Tensor:
    """``adj_t`` with its diagonal set to 1: GCN's self-loops as PyG adds them to an ``edge_index`` without
    weights, where ``add_remaining_self_loops`` drops the graph's own loops (repeated ones too) and gives every
    node one, of weight 1 even for ``improved`` (its fill value reaches only weighted edges). PyG's ``gcn_norm`` of
    a ``torch.sparse`` matrix adds a loop to every node instead (of weight 2 for ``improved``), beside the graph's
    own. An ``adj_t`` built from edge weights (:data:`WEIGHTED`) is refused: with weights the edge path keeps a
    loop's own weight (one copy's, of a repeated loop) and fills the missing ones with the fill value."""
    if getattr(adj_t, WEIGHTED, False):
        raise KernelUnavailableError("kernel 'csr' cannot add GCN's self-loops to an adjacency built from edge "
                                     "weights as the edge path does (it keeps a loop's own weight and fills the "
                                     "missing ones with the fill value); use scatter or torch_scatter")
    index, weight = remove_self_loops(*to_edge_index(adj_t))
    index, weight = add_self_loops(index, weight, 1.0, adj_t.size(0))
    return to_torch_csr_tensor(index, weight, size=tuple(adj_t.size()))


def kept(adj_t: Tensor, key: tuple, build: Callable[[], T]) -> T:
    """``build()`` of ``adj_t``, kept on it under ``key`` with the version of its values (what older versions
    built is dropped); built on every call where ``adj_t`` requires a gradient (a kept result would be
    backpropagated through twice)."""
    if adj_t.requires_grad:
        with quiet_sparse_warnings():
            return build()
    key = (*key, adj_t.values()._version)
    memo = {k: v for k, v in getattr(adj_t, NORMALISED, {}).items() if k[-1] == key[-1]}  # this version's
    setattr(adj_t, NORMALISED, memo)
    if key not in memo:
        with quiet_sparse_warnings():
            memo[key] = build()
    return memo[key]


class NormalisedOnceForward:
    """``GCNConv.forward`` (set on the instance), its normalisation of a ``torch.sparse_csr`` adjacency that of
    :func:`with_gcn_loops` (what the layer computes on ``edge_index``), computed on the first call and kept on the
    adjacency (:func:`kept`), where PyG's layer without ``cached=True`` normalises on every call into a new
    matrix, whose transpose would then be built on every backward too. The layer's own cache slot carries it
    into PyG's ``forward``, and is emptied after unless the layer is ``cached``."""

    def __init__(self, layer: GCNConv) -> None:
        self.layer = layer

    def __call__(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        layer = self.layer
        if (not layer.normalize or edge_weight is not None or not _is_csr(edge_index)
                or layer._cached_edge_index is not None):
            return GCNConv.forward(layer, x, edge_index, edge_weight)
        num_nodes, loops = x.size(layer.node_dim), layer.add_self_loops

        def normalised() -> tuple[Tensor, None]:
            looped = with_gcn_loops(edge_index) if loops else edge_index
            return gcn_norm(looped, None, num_nodes, False, False, layer.flow, x.dtype)

        layer._cached_edge_index = kept(edge_index, (loops, layer.flow, x.dtype, num_nodes), normalised)
        try:
            return GCNConv.forward(layer, x, edge_index, edge_weight)
        finally:
            if not layer.cached:
                layer._cached_edge_index = None


class LoopedForward:
    """``SGConv.forward`` (set on the instance) on a ``torch.sparse_csr`` adjacency: the layer normalises the
    adjacency with GCN's self-loops (:func:`with_gcn_loops`, kept on it), its own adding of loops off for the
    call, which is what it computes on ``edge_index``."""

    def __init__(self, layer: SGConv) -> None:
        self.layer = layer

    def __call__(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        layer = self.layer
        if not layer.add_self_loops or not _is_csr(edge_index):
            return SGConv.forward(layer, x, edge_index, edge_weight)
        looped = kept(edge_index, ("loops",), lambda: with_gcn_loops(edge_index))
        layer.add_self_loops = False
        try:
            return SGConv.forward(layer, x, looped, edge_weight)
        finally:
            layer.add_self_loops = True


#: the forward a fused layer of each class gets on ``csr``: GCN's normalisation as on ``edge_index``
NORMALISING = {GCNConv: NormalisedOnceForward, SGConv: LoopedForward}


@contextlib.contextmanager
def quiet_sparse_warnings() -> Iterator[None]:
    """torch warns that its sparse CSR/CSC support is "beta" whenever one is built; say it once, in the docs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse (CSR|CSC) tensor support is in beta")
        warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
        yield


__all__ = ["FUSABLE", "NORMALISING", "WEIGHTED", "FusedAggregation", "LoopedForward", "NormalisedOnceForward",
           "csr_matmul", "kept", "quiet_sparse_warnings", "transposed", "with_gcn_loops"]
