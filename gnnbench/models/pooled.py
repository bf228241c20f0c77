r"""Graph-level baselines: a message-passing stack read out by global pooling of every layer (Xu et al.).

All three share one layout, so that a comparison isolates the convolution:

.. math::
    h^{(0)} = \mathrm{ReLU}(\mathrm{BN}(W_0 x)), \qquad
    h^{(l)} = \mathrm{ReLU}(\mathrm{BN}(\mathrm{conv}_l(h^{(l-1)}))), \qquad
    \hat y = \sum_{l=0}^{L} \mathrm{dropout}\big(W_l\, \mathrm{pool}(h^{(l)})\big)

the readout of GIN's paper (Xu et al., ICLR 2019, eq. 4.2: pooled representations of every depth) as
implemented in Errica et al.'s fair comparison (ICLR 2020), whose GIN these defaults follow (hidden 64, 4
layers, dropout 0.5, sum pooling, Adam lr 0.01, batch 32), with three differences: their StepLR(50, 0.5) is off
by default (``lr_step: 50`` turns it on, with ``lr_factor`` 0.5), their input is two Linear-BN-ReLU blocks where
this is one, and they pool the input's linear map, :math:`\mathrm{pool}(W_0 h^{(0)})`, where this maps its pool
(with sum pooling theirs adds the bias once per node).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv, GINConv, SAGEConv, global_add_pool, global_max_pool, global_mean_pool

from gnnbench.registry import register_model

GRAPH = ("graph_classification", "graph_regression", "ogb_graph_classification", "ogb_graph_regression")
POOLS = {"sum": global_add_pool, "mean": global_mean_pool, "max": global_max_pool}
Pool = Literal["sum", "mean", "max"]


class PooledStack(nn.Module):
    """``convs`` between an input layer and a per-layer pooled linear readout (see the module docstring)."""

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int, convs: Sequence[nn.Module],
                 pool: Pool, dropout: float) -> None:
        super().__init__()
        self.input = nn.Sequential(nn.Linear(in_channels, hidden_channels), nn.BatchNorm1d(hidden_channels), nn.ReLU())
        self.convs = nn.ModuleList(convs)
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden_channels) for _ in convs)
        self.readouts = nn.ModuleList(nn.Linear(hidden_channels, out_channels) for _ in range(len(convs) + 1))
        self.pool = POOLS[pool]
        self.dropout = dropout

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor) -> Tensor:
        h = self.input(x)
        out = F.dropout(self.readouts[0](self.pool(h, batch)), self.dropout, self.training)
        for conv, norm, readout in zip(self.convs, self.norms, self.readouts[1:], strict=True):
            h = F.relu(norm(conv(h, edge_index)))
            out = out + F.dropout(readout(self.pool(h, batch)), self.dropout, self.training)
        return out


def _check(num_layers: int) -> None:
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}")


@register_model("gin_pool", paper="Xu et al., ICLR 2019 (arXiv 1810.00826); protocol of Errica et al., ICLR 2020",
                tasks=GRAPH, defaults={"lr": 0.01, "batch_size": 32})
class PooledGIN(PooledStack):
    r"""GIN for graphs: :math:`h_i' = \mathrm{MLP}((1 + \epsilon) h_i + \sum_{j \in N(i)} h_j)`, pooled at every depth.

    Sum pooling by default (Xu et al.). The MLP is Linear-BN-ReLU-Linear (the stack adds BN-ReLU after it);
    ``train_eps=False`` is GIN-0.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64, num_layers: int = 4,
                 dropout: float = 0.5, pool: Pool = "sum", train_eps: bool = False) -> None:
        _check(num_layers)
        h = hidden_channels
        convs = [GINConv(nn.Sequential(nn.Linear(h, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Linear(h, h)),
                         train_eps=train_eps) for _ in range(num_layers)]
        super().__init__(in_channels, out_channels, h, convs, pool, dropout)


@register_model("gcn_pool", paper="Kipf & Welling, ICLR 2017 (arXiv 1609.02907), with global pooling",
                tasks=GRAPH, defaults={"lr": 0.01, "batch_size": 32})
class PooledGCN(PooledStack):
    r"""GCN layers :math:`H' = \hat{D}^{-1/2}(A + I)\hat{D}^{-1/2} H W`, pooled at every depth (mean by default)."""

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64, num_layers: int = 4,
                 dropout: float = 0.5, pool: Pool = "mean") -> None:
        _check(num_layers)
        convs = [GCNConv(hidden_channels, hidden_channels) for _ in range(num_layers)]
        super().__init__(in_channels, out_channels, hidden_channels, convs, pool, dropout)


@register_model("sage_pool", paper="Hamilton et al., NeurIPS 2017 (arXiv 1706.02216), with global pooling",
                tasks=GRAPH, defaults={"lr": 0.01, "batch_size": 32})
class PooledSAGE(PooledStack):
    r"""GraphSAGE-mean layers :math:`h_i' = W_1 h_i + W_2\, \mathrm{mean}_{j \in N(i)} h_j`, pooled at every depth."""

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64, num_layers: int = 4,
                 dropout: float = 0.5, pool: Pool = "mean") -> None:
        _check(num_layers)
        convs = [SAGEConv(hidden_channels, hidden_channels, aggr="mean") for _ in range(num_layers)]
        super().__init__(in_channels, out_channels, hidden_channels, convs, pool, dropout)


__all__ = ["PooledGCN", "PooledGIN", "PooledSAGE", "PooledStack"]
