r"""One PyG layer family realising every layer of the GraphNAS/AGNN macro space.

:class:`SearchConv` computes, for each head :math:`h`,

.. math::
    x_i'^{\,h} = \mathrm{AGG}_{j \in N(i) \cup \{i\}}\; \alpha^h_{ij}\, W^h x_j ,

with the heads concatenated (hidden layers) or averaged (the output layer), and the attention function one of
(:math:`a_l, a_r` learnable per head, :math:`s_{ij} = a_l^\top W x_i + a_r^\top W x_j`):

* ``const``: :math:`\alpha_{ij} = 1`;  ``gcn``: :math:`\alpha_{ij} = 1/\sqrt{d_i d_j}` (self loops counted);
* ``gat``: :math:`\mathrm{LeakyReLU}(s_{ij})`;  ``gat_sym``: :math:`\mathrm{LeakyReLU}(s_{ij}) +
  \mathrm{LeakyReLU}(s_{ji})`;
* ``cos``: :math:`\langle a_l \odot W x_i, a_r \odot W x_j \rangle`;  ``linear``:
  :math:`\tanh((a_l + a_r)^\top W x_j)`, the neighbour's features in both terms, as GraphNAS's code has it;
* ``generalized_linear``: :math:`w_G^\top \tanh(a_l \odot W x_i + a_r \odot W x_j)`;

all but ``const`` and ``gcn`` softmax-normalised over :math:`N(i) \cup \{i\}` (GraphNAS's
``pyg_gnn_layer.py``). The aggregation has two forms (``form``):

* ``compact`` (the default, every recorded search's): ``AGG`` is ``sum``, ``mean`` or ``max`` over the
  weighted messages, or ``mlp``: the sum followed by a two-layer MLP (Linear-ReLU-Linear) shared by the heads;
  dropout on every attention function's coefficients.
* ``graphnas``: GraphNAS's ``GeoLayer``. Every message :math:`m_{ij} = \alpha_{ij} W x_j` of a ``mean``,
  ``max`` or ``mlp`` layer is mapped by two linear layers, :math:`P_2 (P_1 m_{ij} + b_1) + b_2` (per-head
  width -> 128 -> per-head width, no nonlinearity, shared by the heads, Glorot-initialised with zero biases)
  before it is aggregated by mean, max or (``mlp``) sum; a ``sum`` layer has no such maps. Dropout falls on
  the features of ``const``'s messages, on no ``gcn`` coefficient, and on the other functions' coefficients.
  :math:`a_l, a_r` start as the halves of one Glorot draw over ``[heads, 2 x width]`` and :math:`w_G` as a
  Glorot draw (``compact``: each a Glorot draw over ``[1, heads, width]``, :math:`w_G` PyTorch's default).
  Not ``GeoLayer``'s: it softmax-normalises over the edges leaving a node (``edge_index[0]`` under its
  ``source_to_target`` flow) while aggregating at their targets; both forms normalise over the edges arriving
  at :math:`i`, as attention over :math:`N(i)` means (docs/models/agnn.md).
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import add_remaining_self_loops, degree, softmax

#: attention functions with learnable vectors a_l, a_r
ATTENTION_VECTORS = ("gat", "gat_sym", "cos", "linear", "generalized_linear")
#: attention functions whose scores are not softmax-normalised
UNNORMALISED = ("const", "gcn")
AGGR = {"sum": "add", "mean": "mean", "max": "max", "mlp": "add"}
ACTIVATION_FUNCTIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu, "linear": lambda x: x,
               "softplus": F.softplus, "leaky_relu": F.leaky_relu, "relu6": F.relu6, "elu": F.elu}
NEGATIVE_SLOPE = 0.2
#: the hidden width of GeoLayer's per-message maps (its ``pool_dim``)
POOL_WIDTH = 128
LayerForm = Literal["compact", "graphnas"]


class SearchConv(MessagePassing):
    """A macro-space layer: ``attention`` x ``aggregation`` x ``heads``, ``out_channels`` per head, in one of
    the two aggregation forms."""

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1, attention: str = "gat",
                 aggregation: str = "sum", concat: bool = True, dropout: float = 0.0,
                 form: LayerForm = "compact") -> None:
        if attention not in (*ATTENTION_VECTORS, *UNNORMALISED):
            raise ValueError(f"unknown attention function {attention!r}")
        if aggregation not in AGGR:
            raise ValueError(f"unknown aggregation {aggregation!r} (expected one of {', '.join(AGGR)})")
        super().__init__(aggr=AGGR[aggregation], node_dim=0)
        if form not in get_args(LayerForm):
            raise ValueError(f"unknown layer form {form!r} (expected {' or '.join(get_args(LayerForm))})")
        self.heads, self.out_channels, self.concat = heads, out_channels, concat
        self.attention, self.aggregation, self.dropout, self.form = attention, aggregation, dropout, form
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        if attention in ATTENTION_VECTORS:
            self.att_l = nn.Parameter(torch.empty(1, heads, out_channels))
            self.att_r = nn.Parameter(torch.empty(1, heads, out_channels))
        if attention == "generalized_linear":
            self.general = nn.Linear(out_channels, 1, bias=False)
        if aggregation == "mlp" and form == "compact":
            self.mlp = nn.Sequential(nn.Linear(out_channels, out_channels), nn.ReLU(),
                                     nn.Linear(out_channels, out_channels))
        self.pool = (nn.Sequential(nn.Linear(out_channels, POOL_WIDTH), nn.Linear(POOL_WIDTH, out_channels))
                     if form == "graphnas" and aggregation != "sum" else None)
        self.bias = nn.Parameter(torch.zeros(heads * out_channels if concat else out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        nn.init.xavier_uniform_(self.lin.weight)
        for name in ("att_l", "att_r"):
            if hasattr(self, name) and self.form == "graphnas":  # GeoLayer's a_l, a_r: halves of one Glorot draw
                bound = math.sqrt(6 / (self.heads + 2 * self.out_channels))  # over [heads, 2 x per-head width]
                nn.init.uniform_(getattr(self, name), -bound, bound)
            elif hasattr(self, name):
                nn.init.xavier_uniform_(getattr(self, name))
        if hasattr(self, "general") and self.form == "graphnas":  # compact keeps PyTorch's Linear default
            nn.init.xavier_uniform_(self.general.weight)
        nn.init.zeros_(self.bias)
        for linear in self.pool or ():
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        edge_index, _ = add_remaining_self_loops(edge_index, num_nodes=x.size(0))
        h = self.lin(x).view(-1, self.heads, self.out_channels)
        alpha = self.coefficients(h, edge_index)
        if self.form == "compact" or self.attention not in UNNORMALISED:
            alpha = F.dropout(alpha, self.dropout, self.training)
        out = self.propagate(edge_index, h=h, alpha=alpha)
        if self.aggregation == "mlp" and self.form == "compact":
            out = self.mlp(out)
        out = out.reshape(-1, self.heads * self.out_channels) if self.concat else out.mean(dim=1)
        return out + self.bias

    def coefficients(self, h: Tensor, edge_index: Tensor) -> Tensor:
        r""":math:`\alpha_{ij}` of every edge ``j -> i`` and head, shape ``[E, heads]``."""
        src, dst = edge_index
        num_nodes = h.size(0)
        if self.attention == "const":
            return h.new_ones(src.numel(), self.heads)
        if self.attention == "gcn":
            deg = degree(dst, num_nodes, dtype=h.dtype)
            return (deg[src] * deg[dst]).rsqrt().unsqueeze(-1).expand(-1, self.heads)
        h_i, h_j = h[dst], h[src]
        if self.attention == "gat":
            score = F.leaky_relu(self.linear_score(h_i, h_j), NEGATIVE_SLOPE)
        elif self.attention == "gat_sym":
            score = (F.leaky_relu(self.linear_score(h_i, h_j), NEGATIVE_SLOPE)
                     + F.leaky_relu(self.linear_score(h_j, h_i), NEGATIVE_SLOPE))
        elif self.attention == "cos":
            score = (self.att_l * h_i * self.att_r * h_j).sum(-1)
        elif self.attention == "linear":
            score = torch.tanh(self.linear_score(h_j, h_j))
        else:  # generalized_linear
            score = self.general(torch.tanh(self.att_l * h_i + self.att_r * h_j)).squeeze(-1)
        return softmax(score, dst, num_nodes=num_nodes)

    def linear_score(self, h_i: Tensor, h_j: Tensor) -> Tensor:
        r""":math:`s_{ij} = a_l^\top W x_i + a_r^\top W x_j` per head."""
        return (self.att_l * h_i).sum(-1) + (self.att_r * h_j).sum(-1)

    def message(self, h_j: Tensor, alpha: Tensor) -> Tensor:
        if self.form == "graphnas" and self.attention == "const":
            h_j = F.dropout(h_j, self.dropout, self.training)
        out = alpha.unsqueeze(-1) * h_j
        return out if self.pool is None else self.pool(out)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.lin.in_features}, {self.out_channels}, heads={self.heads}, "
                f"attention={self.attention}, aggregation={self.aggregation}, concat={self.concat}, form={self.form})")


__all__ = ["ACTIVATION_FUNCTIONS", "LayerForm", "SearchConv"]
