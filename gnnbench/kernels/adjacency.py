"""Putting a backend into effect: the graph a model receives, and the aggregation its layers use.

Both halves are PyG's own extension points. The graph: PyG's convolutions accept either ``edge_index`` or a
sparse ``adj_t`` (row = target node), and on a sparse input those defining ``message_and_aggregate`` (GCN,
SAGE, GIN) run one sparse-dense matmul. The aggregation: a ``MessagePassing`` layer reduces messages with its
``aggr_module``, a replaceable :class:`~torch_geometric.nn.aggr.Aggregation`.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.aggr import Aggregation
from torch_geometric.nn.resolver import aggregation_resolver
from torch_geometric.utils import coalesce, to_torch_csr_tensor

from gnnbench.kernels import require
from gnnbench.kernels.csr_matmul import FUSABLE, LINEAR, NORMALISING, WEIGHTED, FusedAggregation, quiet_sparse_warnings

#: PyG aggregation names -> torch_scatter reductions
TORCH_SCATTER_REDUCE = {"add": "sum", "sum": "sum", "mean": "mean", "max": "max", "min": "min"}


def graph_input(backend: str, edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None) -> Tensor:
    """What the model's ``forward`` receives as its graph: ``edge_index`` itself, or for ``csr`` the
    ``torch.sparse_csr`` matrix ``adj_t`` with ``adj_t[i, j] = 1`` (or the edge's weight) for every edge
    ``j -> i``, built once. A repeated edge becomes one entry of weight 2 (the weights summed; PyG's
    ``to_torch_csr_tensor`` alone would keep one of them): the same sum, not the same mean or max, so ``csr`` is
    refused for those on such a graph (:func:`~gnnbench.kernels.auto.csr_refusal`). A matrix built from weights
    is marked so (:data:`~gnnbench.kernels.csr_matmul.WEIGHTED`, on this tensor only, not a copy of it): GCN's and
    SGC's layers that add self-loops refuse it on ``csr``, their self-loops on weighted ``edge_index`` not being
    :func:`~gnnbench.kernels.csr_matmul.with_gcn_loops`'s."""
    if backend != "csr":
        return edge_index
    weight = edge_weight if edge_weight is not None else torch.ones(edge_index.size(1), device=edge_index.device)
    edge_index, weight = coalesce(edge_index, weight, num_nodes=num_nodes, reduce="sum")
    with quiet_sparse_warnings():
        adj_t = to_torch_csr_tensor(edge_index.flip(0), weight, size=(num_nodes, num_nodes))
    if edge_weight is not None:
        setattr(adj_t, WEIGHTED, True)
    return adj_t


class TorchScatterAggregation(Aggregation):
    """Reduces messages with ``torch_scatter.scatter`` (sum, mean, max, min) instead of PyG's ``utils.scatter``."""

    def __init__(self, reduce: str) -> None:
        super().__init__()
        require("torch_scatter")
        import torch_scatter

        self._scatter = torch_scatter.scatter
        self.reduce_name = TORCH_SCATTER_REDUCE[reduce]

    def forward(self, x: Tensor, index: Tensor | None = None, ptr: Tensor | None = None,
                dim_size: int | None = None, dim: int = -2, max_num_elements: int | None = None) -> Tensor:
        if index is None:
            raise ValueError("TorchScatterAggregation needs the edges' target index")
        return self._scatter(x, index, dim=dim, dim_size=dim_size, reduce=self.reduce_name)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.reduce_name})"


def configure(model: nn.Module, backend: str) -> int:
    """Set the aggregation of every ``MessagePassing`` layer of ``model`` for ``backend``; returns how many
    layers it set. ``torch_scatter`` installs :class:`TorchScatterAggregation`; the other backends restore
    PyG's own aggregation for the layer's ``aggr``. ``csr`` fuses on sparse input and never reaches it: PyG's
    layers of :data:`~gnnbench.kernels.csr_matmul.FUSABLE` with a sum or mean get the matmul whose backward
    reads a cached transpose, and ``GCNConv`` and ``SGConv`` normalise a graph as on ``edge_index``, ``GCNConv``
    once per graph (:mod:`gnnbench.kernels.csr_matmul`); the other backends take both away again."""
    count = 0
    for layer in model.modules():
        if not isinstance(layer, MessagePassing) or not isinstance(layer.aggr, str):
            continue
        if layer.aggr not in TORCH_SCATTER_REDUCE:
            continue
        if backend == "torch_scatter":
            layer.aggr_module = TorchScatterAggregation(layer.aggr)
        else:
            layer.aggr_module = aggregation_resolver(layer.aggr)
        fused = backend == "csr" and type(layer) in FUSABLE and layer.aggr in LINEAR
        if fused:
            layer.message_and_aggregate = FusedAggregation(layer)
        else:
            layer.__dict__.pop("message_and_aggregate", None)  # the class's own again
        if fused and type(layer) in NORMALISING:
            layer.forward = NORMALISING[type(layer)](layer)
        else:
            layer.__dict__.pop("forward", None)
        count += 1
    return count


def with_graph(data: Data, graph: Tensor) -> Data:
    """``data`` carrying the model's graph input: a sparse ``graph`` becomes ``adj_t`` in place of
    ``edge_index`` (PyG's ``ToSparseTensor`` convention); ``edge_index`` leaves ``data`` as it is."""
    if graph.layout == torch.strided:
        return data
    data = copy.copy(data)
    data.adj_t = graph
    del data.edge_index
    return data


def graph_of(data: Data) -> Tensor:
    """The graph input of a model: ``adj_t`` when the backend made one, else ``edge_index``."""
    return data.adj_t if "adj_t" in data else data.edge_index


__all__ = ["TorchScatterAggregation", "configure", "graph_input", "graph_of", "with_graph"]
