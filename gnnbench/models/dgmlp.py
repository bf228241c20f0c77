r"""DGMLP: node-adaptive combination of parameter-free propagation, then a residual MLP.

Zhang et al., "Evaluating Deep Graph Neural Networks" (arXiv 2108.00955, 2021); official code
``zwt233/DGMLP`` at commit ``88e05b42`` (the repository's later history holds a different method).

The graph is used once, before training (:func:`precompute`), without gradients:

1. :math:`\hat A = \tilde D^{-1/2} \tilde A \tilde D^{-1/2}`, :math:`\tilde A = A + I`, and
   :math:`X^{(k)} = \hat A X^{(k-1)}` for :math:`k = 1..K` (``K`` is the propagation depth :math:`D_p`).
2. The stationary state of every connected component (paper Eq. 4),
   :math:`\hat A^\infty_{ij} = (d_i+1)^r (d_j+1)^{1-r} / (2m+n)` for :math:`i, j` in one component with
   :math:`m` edges and :math:`n` nodes, and :math:`x^\infty_v = \sum_j \hat A^\infty_{vj} x_j`.
3. The node smoothing level :math:`\mathrm{NSL}_v(k) = \alpha_{v,k}(1-\beta_{v,k})` with
   :math:`\alpha_{v,k} = \cos(x^{(k)}_v, x^{(0)}_v)` and :math:`\beta_{v,k} = \cos(x^{(k)}_v, x^\infty_v)`.
4. Parameter-free, per-node hop weights :math:`w_v = \mathrm{softmax}_{k=0..K}(\mathrm{NSL}_v(k) / T)` and the
   combined feature :math:`\hat x_v = \sum_{k=0}^K w_v(k) x^{(k)}_v`.

Only :math:`\hat X` is trained on: a residual MLP with :math:`D_t` = ``mlp_layers`` linear layers (Eq. 8).

**Stationary state: code vs paper.** The paper propagates with :math:`r = 1/2`, whose limit weights a
component's nodes by :math:`\sqrt{d_j+1}`. The official code instead weights them by :math:`(d_j+1)/(2m+n)`,
the :math:`r = 0` (random-walk) limit, while still propagating with :math:`r = 1/2`. ``stationary`` picks one:
``"random_walk"`` (default, the code's: it produced the published Planetoid numbers) or ``"symmetric"`` (the
true limit of the propagation above). The :math:`(d_i+1)^r` factor does not change a cosine.

**Streaming.** Storing :math:`X^{(0..K)}` costs :math:`K+1` feature matrices; instead the propagation runs
twice, keeping one propagated matrix alive at a time: the first pass keeps only the :math:`N \times (K+1)`
smoothing levels, the second accumulates :math:`\sum_k w_v(k) x^{(k)}_v`.

**Official runs.** On Cora/CiteSeer/PubMed the code trains ``LR`` (dropout, then one linear layer: ``D_t = 1``,
no hidden layer) on the raw bag-of-words features (no row normalisation: use ``Cora-raw`` / ``CiteSeer-raw``)
for 200 epochs with Adam, T = 1; the per-dataset ``K``, dropout, lr and weight decay are the registry's
``dataset_defaults``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from scipy.sparse.csgraph import connected_components
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_remaining_self_loops, degree, scatter

from gnnbench.hparams import HparamError
from gnnbench.models.baselines import dropout
from gnnbench.registry import register_model
from gnnbench.tasks.base import Budget, FitResult, RunContext
from gnnbench.tasks.node import NodeClassification

Stationary = Literal["random_walk", "symmetric"]
#: r of the stationary state's neighbour weights (d_j + 1)^(1 - r) for each choice of ``stationary``
STATIONARY_R = {"random_walk": 0.0, "symmetric": 0.5}
#: added to the cosine's denominator, as in the official code: CiteSeer has zero-feature nodes
COSINE_EPS = 1e-10

Propagate = Callable[[Tensor], Tensor]


def propagation_matrix(edge_index: Tensor, num_nodes: int, dtype: torch.dtype | None = None) -> Tensor:
    r""":math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}` as a coalesced sparse tensor (row = target node), in
    ``dtype`` (torch's default when None): a sparse product needs its operands in one dtype."""
    index, weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=True, dtype=dtype)
    return torch.sparse_coo_tensor(index.flip(0), weight, (num_nodes, num_nodes), check_invariants=True).coalesce()


def components(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Connected-component id of every node (an isolated node is its own component)."""
    row, col = edge_index.cpu().numpy()
    graph = sp.coo_matrix((np.ones(row.size), (row, col)), shape=(num_nodes, num_nodes))
    _, labels = connected_components(graph, directed=False)
    return torch.from_numpy(labels).long().to(edge_index.device)


def stationary_state(x: Tensor, edge_index: Tensor, num_nodes: int, stationary: Stationary) -> Tensor:
    r""":math:`x^\infty_v = \sum_{j \in \mathrm{comp}(v)} (d_v+1)^r (d_j+1)^{1-r} x_j / (2m+n)` (paper Eq. 4),
    per connected component, with :math:`r` given by ``stationary`` (:data:`STATIONARY_R`)."""
    r = STATIONARY_R[stationary]
    looped, _ = add_remaining_self_loops(edge_index, num_nodes=num_nodes)
    deg = degree(looped[1], num_nodes, dtype=x.dtype)  # d + 1
    comp = components(edge_index, num_nodes)
    volume = scatter(deg, comp, dim=0, reduce="sum")  # 2m + n of each component
    pooled = scatter(deg.pow(1.0 - r).unsqueeze(-1) * x, comp, dim=0, reduce="sum")
    return deg.pow(r).unsqueeze(-1) * pooled[comp] / volume[comp].unsqueeze(-1)


def cosine(a: Tensor, b: Tensor) -> Tensor:
    """Row-wise cosine similarity, 0 where a row is all zeros."""
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1) + COSINE_EPS)


def smoothing_levels(x: Tensor, x_inf: Tensor, propagate: Propagate, K: int) -> Tensor:
    r""":math:`\mathrm{NSL}_v(k)` for :math:`k = 0..K` as an :math:`N \times (K+1)` matrix; only the current
    :math:`X^{(k)}` is held."""
    levels = torch.empty(x.size(0), K + 1, dtype=x.dtype, device=x.device)
    h = x
    for k in range(K + 1):
        if k:
            h = propagate(h)
        levels[:, k] = cosine(h, x) * (1.0 - cosine(h, x_inf))
    return levels


def combine(x: Tensor, weights: Tensor, propagate: Propagate) -> Tensor:
    r""":math:`\sum_{k=0}^{K} w_v(k)\, X^{(k)}_v`, propagating again rather than storing the :math:`X^{(k)}`."""
    combined = weights[:, :1] * x
    h = x
    for k in range(1, weights.size(1)):
        h = propagate(h)
        combined += weights[:, k : k + 1] * h
    return combined


def check_propagation(K: int, temperature: float) -> None:
    """The settings :func:`precompute` needs; a suite checks them (:meth:`DGMLP.check_hparams`) when it loads."""
    if K < 0:
        raise HparamError("K", f"DGMLP needs K >= 0 propagation steps, got {K}")
    if not temperature > 0:
        raise HparamError("temperature", f"DGMLP needs a positive temperature, got {temperature}")


@torch.no_grad()
def precompute(x: Tensor, edge_index: Tensor, K: int, temperature: float = 1.0,
               stationary: Stationary = "random_walk",
               propagate: Propagate | None = None) -> tuple[Tensor, Tensor]:
    """(combined features :math:`\\hat X`, hop weights :math:`N \\times (K+1)`), both without autograd history.

    ``propagate`` defaults to multiplying by :func:`propagation_matrix`; it is a parameter so that the one
    operation touching the graph can be observed. Everything is computed in ``x``'s dtype (float64 features give
    float64 results).
    """
    check_propagation(K, temperature)
    num_nodes = x.size(0)
    if propagate is None:
        adj = propagation_matrix(edge_index, num_nodes, x.dtype)
        propagate = adj.matmul
    x_inf = stationary_state(x, edge_index, num_nodes, stationary)
    weights = torch.softmax(smoothing_levels(x, x_inf, propagate, K) / temperature, dim=-1)
    return combine(x, weights, propagate), weights


class ResidualMLP(nn.Module):
    r"""``mlp_layers`` linear layers, each fed ``dropout(h)``: a projection to ``hidden_channels`` (ReLU, no skip,
    as widths change), residual layers :math:`h \leftarrow \mathrm{ReLU}(hW) + h` (Eq. 8), and a linear output.
    One layer is the official ``LR``: dropout, then a linear map to the classes."""

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int, mlp_layers: int,
                 dropout: float) -> None:
        super().__init__()
        dims = [in_channels] + [hidden_channels] * (mlp_layers - 1) + [out_channels]
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(dims[:-1], dims[1:], strict=True))
        self.dropout = dropout

    def forward(self, h: Tensor) -> Tensor:
        *hidden, output = self.layers
        for i, layer in enumerate(hidden):
            out = F.relu(layer(dropout(h, self.dropout, self.training)))
            h = out if i == 0 else out + h
        return output(dropout(h, self.dropout, self.training))


_CORA = {"K": 20, "dropout": 0.2, "lr": 0.2, "weight_decay": 5e-3}
_CITESEER = {"K": 15, "dropout": 0.1, "lr": 0.1, "weight_decay": 5e-2}
_PUBMED = {"K": 20, "dropout": 0.5, "lr": 0.2, "weight_decay": 5e-5}


@register_model("dgmlp", paper="Zhang et al., Evaluating Deep Graph Neural Networks (arXiv 2108.00955)",
                tasks=("node_classification",),  # its fit precomputes on the one graph of a transductive task
                dataset_defaults={"Cora": _CORA, "Cora-raw": _CORA, "CiteSeer": _CITESEER,
                                  "CiteSeer-raw": _CITESEER, "PubMed": _PUBMED, "PubMed-raw": _PUBMED})
class DGMLP(nn.Module):
    r"""DGMLP: :math:`\hat x_v = \sum_{k=0}^K \mathrm{softmax}_k(\mathrm{NSL}_v(k)/T)\, (\hat A^k X)_v`, then a
    residual MLP; the graph is read once, before training.

    Defaults are the official Cora run (``K=20``, dropout 0.2, ``mlp_layers=1``); ``dataset_defaults`` hold
    the official CiteSeer and PubMed settings. ``hidden_channels`` is used only when ``mlp_layers > 1``.
    """

    #: the protocol hook's training keys: Adam's lr and weight decay (the official Cora values)
    fit_hparams = {"lr": 0.2, "weight_decay": 5e-3}

    @staticmethod
    def check_hparams(hparams: Mapping[str, Any], device: str = "cpu") -> None:
        """Settings no constructor accepts: a suite that sets one fails when it loads, naming the key."""
        check_propagation(hparams["K"], hparams["temperature"])
        if hparams["mlp_layers"] < 1:
            raise HparamError("mlp_layers", f"mlp_layers must be >= 1, got {hparams['mlp_layers']}")

    @staticmethod
    def unread_hparams(hparams: Mapping[str, Any]) -> dict[str, str]:
        """A width with no hidden layer; a temperature, and the stationary state it weighs hops against, with one
        hop to weigh: each another run id for the same runs."""
        unread = {}
        if hparams["mlp_layers"] == 1:
            unread["hidden_channels"] = "mlp_layers is 1 (one linear map to the classes, no hidden layer)"
        if hparams["K"] == 0:
            unread |= dict.fromkeys(("temperature", "stationary"), "K is 0 (the features themselves, no hops to weigh)")
        return unread

    def __init__(self, in_channels: int, out_channels: int, K: int = 20, mlp_layers: int = 1,
                 hidden_channels: int = 64, dropout: float = 0.2, temperature: float = 1.0,
                 stationary: Stationary = "random_walk") -> None:
        self.check_hparams(locals())
        super().__init__()
        self.K, self.temperature, self.stationary = K, temperature, stationary
        self.mlp = ResidualMLP(in_channels, out_channels, hidden_channels, mlp_layers, dropout)
        # derived from the data by ``preprocess``; not parameters and not part of a checkpoint
        self.register_buffer("combined", None, persistent=False)
        self.register_buffer("hop_weights", None, persistent=False)

    def preprocess(self, x: Tensor, edge_index: Tensor) -> None:
        """Propagate once and keep only the combined features (and the hop weights, for inspection)."""
        self.combined, self.hop_weights = precompute(x, edge_index, self.K, self.temperature, self.stationary)

    def forward(self, x: Tensor, edge_index: Tensor | None = None) -> Tensor:
        """Logits of every node from the precomputed features.

        The arguments follow the node models' calling convention; the graph is not read here (decoupling),
        and ``x`` only has to describe the same nodes as the preprocessed features.
        """
        if self.combined is None:
            raise RuntimeError("DGMLP: call preprocess(x, edge_index) (done by fit) before the forward pass")
        if x.size(0) != self.combined.size(0):
            raise ValueError(f"DGMLP was preprocessed for {self.combined.size(0)} nodes, got {x.size(0)}")
        return self.mlp(self.combined)

    def fit(self, task: NodeClassification, data: Data, hparams: dict[str, Any], budget: Budget,
            ctx: RunContext) -> FitResult:
        """The protocol hook: precompute once, then the task's own training loop on the fixed features.

        Nodes are independent once propagated, so a training step reads the training nodes' rows only (as the
        official code does), instead of a forward over every node.
        """
        self.preprocess(data.x, data.edge_index)
        train_features = self.combined[data.train_mask]
        return task.fit(self, data, hparams, budget, ctx, train_logits=lambda: self.mlp(train_features))


__all__ = ["DGMLP", "ResidualMLP", "precompute", "stationary_state"]
