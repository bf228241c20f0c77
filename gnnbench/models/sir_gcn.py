r"""SIR-GCN: soft-isomorphic relational graph convolution (Lim, Lim, Tan & Ikeda, "Contextualized Messages Boost
Graph Representations", TMLR 2025, arXiv 2403.12529; official code github.com/briangodwinlim/SIR-GCN).

.. math::
    h_u' = b_R + \bigoplus_{v \in \mathcal N(u)} W_R\, \sigma\!\left(W_Q h_u + W_K h_v \;[+\, W_E e_{vu}]\right)

The message is *anisotropic* (it depends on the receiver u and the sender v jointly) and *dynamic* (sigma sits
inside it, so it never splits into f(u) + g(v)). Efficient form (paper, official code): ``q = W_Q h`` and
``k = W_K h`` once per node, only ``sigma(q_u + k_v)`` per edge; for the linear aggregators (sum, mean, sym)
``W_R`` is applied once after aggregating, for ``max`` per edge before the max. ``W_Q`` has a bias, ``W_K`` none
(official HEAD), ``W_R``'s bias is added once per node; under ``max`` only to nodes with a message, since the
official per-edge ``W_R`` leaves a node without one at DGL's empty max, 0. ``sym`` is a sum with each message
scaled by ``deg_out(v)^{-1/2} deg_in(u)^{-1/2}`` (degrees clamped to 1, no self-loops added).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing, global_add_pool, global_mean_pool
from torch_geometric.utils import degree

from gnnbench.hparams import HparamError
from gnnbench.registry import register_model

Aggregator = Literal["sum", "mean", "max", "sym"]
Activation = Literal["leaky_relu", "relu", "relu_linear_relu"]
Norm = Literal["batch", "layer", "none"]
Wrapper = Literal["benchmark", "synthetic"]
#: what the official synthetic-task models (``synthetic-datasets/*/model.py``) leave out of the benchmark wrapper
SYNTHETIC_UNREAD = ("norm", "residual", "readout_layers", "input_dropout")
PYG_AGGR = {"sum": "add", "sym": "add", "mean": "mean", "max": "max"}


def inner_activation(name: Activation, channels: int) -> nn.Module:
    """sigma: LeakyReLU(0.2) (the benchmark models), ReLU, or ReLU-Linear-ReLU (DictionaryLookup's relational bias)."""
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    if name == "relu":
        return nn.ReLU()
    if name == "relu_linear_relu":
        return nn.Sequential(nn.ReLU(), nn.Linear(channels, channels), nn.ReLU())
    raise ValueError(f"activation must be one of leaky_relu, relu, relu_linear_relu; got {name!r}")


class SIRConv(MessagePassing):
    r"""One SIR-GCN layer :math:`h_u' = b_R + \bigoplus_v W_R \sigma(W_Q h_u + W_K h_v [+ W_E e_{vu}])` (see module)."""

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, aggr: Aggregator = "sum",
                 activation: Activation = "leaky_relu", edge_dim: int | None = None, feat_dropout: float = 0.0) -> None:
        if aggr not in PYG_AGGR:
            raise ValueError(f"aggr must be one of {', '.join(PYG_AGGR)}; got {aggr!r}")
        super().__init__(aggr=PYG_AGGR[aggr])
        self.mode = aggr
        self.lin_query = nn.Linear(in_channels, hidden_channels)
        self.lin_key = nn.Linear(in_channels, hidden_channels, bias=False)
        self.lin_edge = nn.Linear(edge_dim, hidden_channels, bias=False) if edge_dim is not None else None
        self.act = inner_activation(activation, hidden_channels)
        self.lin_relation = nn.Linear(hidden_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.feat_dropout = feat_dropout

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        q = F.dropout(self.lin_query(x), self.feat_dropout, self.training)
        k = F.dropout(self.lin_key(x), self.feat_dropout, self.training)
        e = None
        if self.lin_edge is not None:
            if edge_attr is None:
                raise ValueError("this SIRConv was built with edge_dim, so it needs edge_attr")
            e = F.dropout(self.lin_edge(edge_attr), self.feat_dropout, self.training)
        norm = None
        if self.mode == "sym":
            src, dst = edge_index
            deg_out = degree(src, x.size(0)).clamp(min=1).pow(-0.5)
            deg_in = degree(dst, x.size(0)).clamp(min=1).pow(-0.5)
            norm = deg_out[src] * deg_in[dst]
        out = self.propagate(edge_index, q=q, k=k, e=e, norm=norm, size=(x.size(0), x.size(0)))
        if self.mode != "max":
            return self.lin_relation(out) + self.bias
        return out + self.bias * (degree(edge_index[1], x.size(0)) > 0).unsqueeze(-1)

    def message(self, q_i: Tensor, k_j: Tensor, e: Tensor | None, norm: Tensor | None) -> Tensor:
        m = self.act(q_i + k_j if e is None else q_i + k_j + e)
        if self.mode == "max":
            return self.lin_relation(m)
        return m if norm is None else m * norm.view(-1, 1)


@register_model("sir_gcn", paper="Lim et al., TMLR 2025 (arXiv 2403.12529)",
                tasks=("graph_classification", "graph_regression", "inductive_node_classification",
                       "ogb_graph_classification", "ogb_graph_regression"),
                defaults={"optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.0, "warmup_epochs": 10,
                          "lr_patience": 10, "lr_factor": 0.5, "batch_size": 128})
class SIRGCN(nn.Module):
    r"""SIR-GCN, as the official benchmark wraps :class:`SIRConv` (``wrapper: benchmark``): input linear
    (``input_dropout`` after it, as the official models with an input encoder place it); per layer
    ``SIRConv(h) [+ W_res h] -> norm -> LeakyReLU(0.2) -> dropout``; an MLP readout of ``readout_layers`` on
    every node, then, for graph targets (when ``batch`` is given), pooling of the node scores, as the official
    models do (``readouts`` before ``pool``).

    ``wrapper: synthetic`` is the official synthetic-task model (DictionaryLookup, HeteroEdgeCount): an input
    embedding (a bias-free linear map of the one-hot input, initialised N(0, 1) as ``nn.Embedding``), per layer
    ``SIRConv(h) -> dropout`` with no residual, norm or activation between layers, and a bias-free linear readout
    before pooling; ``norm``, ``residual``, ``readout_layers`` and ``input_dropout`` are unread there. On
    HeteroEdgeCount the benchmark wrapper learns the count far more slowly (docs/models/sir_gcn.md).

    Training (registry defaults, the official ``train.py``): AdamW, a 10-epoch linear warm-up and
    ``ReduceLROnPlateau(factor 0.5)`` on the training loss; ``lr_patience`` 10 is ``train.py``'s default
    (``--patience 10``; the README commands vary it).
    """

    #: constructor arguments added after results existed, off at their default
    added_hparams = ("wrapper",)

    @staticmethod
    def check_hparams(hparams: Mapping[str, Any], device: str = "cpu") -> None:
        """Depths and a norm no model has: a suite that sets one fails when it loads, naming the key."""
        for key in ("num_layers", "readout_layers"):
            if hparams[key] < 1:
                raise HparamError(key, f"{key} must be >= 1, got {hparams[key]}")
        if hparams["norm"] not in get_args(Norm):
            raise HparamError("norm", f"norm must be one of {', '.join(get_args(Norm))}; got {hparams['norm']!r}")

    @staticmethod
    def unread_hparams(hparams: Mapping[str, Any]) -> dict[str, str]:
        """``pool`` on node-level targets (the graph tasks preset ``level``): nothing is pooled there; what the
        synthetic wrapper has no part for."""
        unread = {}
        if hparams.get("level") == "node":
            unread["pool"] = "the task's targets are node-level (no graph is pooled)"
        if hparams.get("wrapper") == "synthetic":
            unread |= dict.fromkeys(SYNTHETIC_UNREAD, "the synthetic-task wrapper has no such part")
        return unread

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64, num_layers: int = 4,
                 aggr: Aggregator = "sum", activation: Activation = "leaky_relu",
                 norm: Norm = "batch", residual: bool = True, dropout: float = 0.0,
                 feat_dropout: float = 0.0, input_dropout: float = 0.0, readout_layers: int = 2,
                 pool: Literal["sum", "mean"] = "sum", wrapper: Wrapper = "benchmark") -> None:
        self.check_hparams(locals())
        super().__init__()
        h = hidden_channels
        self.benchmark = wrapper == "benchmark"
        self.input = nn.Linear(in_channels, h, bias=self.benchmark)
        if not self.benchmark:  # nn.Embedding's start on a one-hot input; none of the parts below but the layers
            nn.init.normal_(self.input.weight)
            norm, residual, readout_layers, input_dropout = "none", False, 1, 0.0
        self.convs = nn.ModuleList(SIRConv(h, h, h, aggr, activation, feat_dropout=feat_dropout)
                                   for _ in range(num_layers))
        self.resids = nn.ModuleList(nn.Linear(h, h) if residual else nn.Identity() for _ in range(num_layers))
        self.residual = residual
        norms = {"batch": lambda: nn.BatchNorm1d(h), "layer": lambda: nn.LayerNorm(h), "none": nn.Identity}
        self.norms = nn.ModuleList(norms[norm]() for _ in range(num_layers))
        readout: list[nn.Module] = []
        for _ in range(readout_layers - 1):
            readout += [nn.Linear(h, h), nn.LeakyReLU(0.2)]
        self.readout = nn.Sequential(*readout, nn.Linear(h, out_channels, bias=self.benchmark))
        self.pool = global_add_pool if pool == "sum" else global_mean_pool
        self.dropout, self.input_dropout = dropout, input_dropout

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor | None = None) -> Tensor:
        """Node outputs, or one row per graph when ``batch`` is given."""
        h = F.dropout(self.input(x), self.input_dropout, self.training)
        for conv, resid, norm in zip(self.convs, self.resids, self.norms, strict=True):
            out = conv(h, edge_index)
            if self.residual:
                out = out + resid(h)
            out = norm(out)
            h = F.dropout(F.leaky_relu(out, 0.2) if self.benchmark else out, self.dropout, self.training)
        h = self.readout(h)
        return h if batch is None else self.pool(h, batch)


__all__ = ["SIRConv", "SIRGCN"]
