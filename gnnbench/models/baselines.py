"""Classical baselines built from PyG layers, with their papers' defaults.

Each is a stack of ``dropout -> layer -> activation`` (no activation after the last layer), the layout of the
reference implementations (Kipf & Welling's GCN applies dropout to the input of every layer, as does GAT).
Architecture defaults are the constructor's defaults; training defaults (lr, weight decay) are on the
registry entry. Where a paper did not target Planetoid, the choice is stated in the class docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv, SGConv

from gnnbench.kernels import CONCRETE
from gnnbench.kernels.adjacency import graph_of
from gnnbench.registry import register_model

if TYPE_CHECKING:  # SGC.fit's annotations only: the baselines are built by tasks, not the other way round
    from torch_geometric.data import Data

    from gnnbench.tasks.base import Budget, FitResult, RunContext
    from gnnbench.tasks.node import NodeClassification

NODE = ("node_classification", "inductive_node_classification", "inductive_node_regression")
NODE_LINK = (*NODE, "link_prediction")  # the link task decodes pairs by the embeddings' dot product
#: message-passing backends (``gnnbench.kernels``): layers that fuse on a sparse ``adj_t`` (GCN, SAGE, GIN, SGC)
#: run all (``CONCRETE``); GAT's attention needs per-edge messages, so it runs on ``edge_index`` only
EDGE_KERNELS = ("scatter", "torch_scatter")


def dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """``F.dropout`` in distribution; on CPU the mask is drawn with ``rand_like``, because torch's CPU
    ``bernoulli_`` is slower and weighs on the epoch time on wide bag-of-words features (docs/design.md)."""
    if not training or p == 0.0 or x.device.type != "cpu":
        return F.dropout(x, p=p, training=training)
    return torch.where(torch.rand_like(x) >= p, x / (1.0 - p), 0.0)


class LayerStack(nn.Module):
    """``x -> dropout -> layer -> act`` for every layer, without ``act`` after the last one."""

    uses_graph = True
    #: the constructor arguments only a hidden layer reads: a stack of one layer leaves them unread
    hidden_only: tuple[str, ...] = ("hidden_channels",)

    @classmethod
    def unread_hparams(cls, hparams: Mapping[str, Any]) -> dict[str, str]:
        """A hidden layer's settings in a stack of one layer: each another run id for the same runs."""
        if hparams.get("num_layers") != 1:  # SGC has no num_layers: it reads all it takes
            return {}
        return dict.fromkeys(cls.hidden_only, "num_layers is 1 (one layer from the features to the outputs, no "
                                              "hidden layer)")

    def __init__(self, layers: Sequence[nn.Module], dropout: float, act: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.dropout = dropout
        self.act = act

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = dropout(x, self.dropout, self.training)
            x = layer(x, edge_index) if self.uses_graph else layer(x)
            if i < len(self.layers) - 1:
                x = self.act(x)
        return x


def widths(in_channels: int, hidden_channels: int, out_channels: int, num_layers: int) -> list[tuple[int, int]]:
    """(in, out) of each layer of a ``num_layers`` stack."""
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}")
    dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
    return list(zip(dims[:-1], dims[1:], strict=True))


@register_model("gcn", paper="Kipf & Welling, ICLR 2017 (arXiv 1609.02907)", tasks=NODE_LINK,
                defaults={"lr": 0.01, "weight_decay": 5e-4}, kernels=CONCRETE)
class GCN(LayerStack):
    r"""Graph convolutional network: :math:`X' = \hat{D}^{-1/2}(A + I)\hat{D}^{-1/2} X W + b`, ReLU between layers.

    Two departures from Kipf & Welling's code, both PyG's: a bias in every layer, and weight decay on every
    layer's weights, where theirs decays the first layer's only.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 16, num_layers: int = 2,
                 dropout: float = 0.5) -> None:
        layers = [GCNConv(i, o) for i, o in widths(in_channels, hidden_channels, out_channels, num_layers)]
        super().__init__(layers, dropout, F.relu)


@register_model("gat", paper="Velickovic et al., ICLR 2018 (arXiv 1710.10903)", tasks=NODE,
                defaults={"lr": 0.005, "weight_decay": 5e-4}, kernels=EDGE_KERNELS)
class GAT(LayerStack):
    r"""Graph attention network: :math:`x_i' = \Vert_{h} \sum_{j \in N(i) \cup i} \alpha^h_{ij} W^h x_j`, ELU.

    ``hidden_channels`` is per head; hidden layers concatenate ``heads`` heads, the output layer averages
    ``out_heads`` heads (1 on Cora/CiteSeer, 8 on PubMed in the paper). Dropout 0.6 on every layer's input and
    on the attention coefficients.
    """

    hidden_only = ("hidden_channels", "heads")

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 8, heads: int = 8,
                 out_heads: int = 1, num_layers: int = 2, dropout: float = 0.6) -> None:
        layers: list[nn.Module] = []
        width = in_channels
        for _ in range(num_layers - 1):
            layers.append(GATConv(width, hidden_channels, heads=heads, dropout=dropout))
            width = hidden_channels * heads
        layers.append(GATConv(width, out_channels, heads=out_heads, concat=False, dropout=dropout))
        super().__init__(layers, dropout, F.elu)


@register_model("sage", paper="Hamilton et al., NeurIPS 2017 (arXiv 1706.02216)", tasks=NODE_LINK,
                defaults={"lr": 0.01, "weight_decay": 5e-4}, kernels=CONCRETE)
class GraphSAGE(LayerStack):
    r"""GraphSAGE-mean: :math:`x_i' = W_1 x_i + W_2 \,\mathrm{mean}_{j \in N(i)} x_j`, ReLU.

    The paper's 2 layers and mean aggregator, full-batch; its 256 hidden units targeted large inductive
    graphs, so on Planetoid we use 64 with the GCN dropout and optimiser settings. As in PyG's ``SAGEConv``
    default, the embeddings are not L2-normalised after each layer (the paper's Algorithm 1, line 7).
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64, num_layers: int = 2,
                 dropout: float = 0.5) -> None:
        dims = widths(in_channels, hidden_channels, out_channels, num_layers)
        layers = [SAGEConv(i, o, aggr="mean") for i, o in dims]
        super().__init__(layers, dropout, F.relu)


@register_model("gin", paper="Xu et al., ICLR 2019 (arXiv 1810.00826)", tasks=NODE,
                defaults={"lr": 0.01, "weight_decay": 5e-4}, kernels=CONCRETE)
class GIN(LayerStack):
    r"""Graph isomorphism network: :math:`x_i' = \mathrm{MLP}((1 + \epsilon) x_i + \sum_{j \in N(i)} x_j)`.

    Two-layer MLPs per layer; ``train_eps=False`` is the paper's GIN-0. Node-level default: 2 layers of 64.
    """

    hidden_only = ()  # every layer's MLP has a hidden layer ``hidden_channels`` wide, a single layer's too

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64, num_layers: int = 2,
                 dropout: float = 0.5, train_eps: bool = False) -> None:
        layers = [
            GINConv(nn.Sequential(nn.Linear(i, hidden_channels), nn.ReLU(), nn.Linear(hidden_channels, o)),
                    train_eps=train_eps)
            for i, o in widths(in_channels, hidden_channels, out_channels, num_layers)
        ]
        super().__init__(layers, dropout, F.relu)


@register_model("sgc", paper="Wu et al., ICML 2019 (arXiv 1902.07153)", tasks=("node_classification",),
                defaults={"lr": 0.2, "weight_decay": 5e-6}, kernels=CONCRETE)
class SGC(LayerStack):
    r"""Simplified graph convolution: :math:`\mathrm{softmax}(\hat{A}^K X W)`, one linear map after ``K``
    parameter-free propagation steps (:math:`\hat A` as in GCN).

    :math:`\hat A^K X` is computed once and cached (``SGConv(cached=True)``: transductive use only), before the
    training loop (:meth:`fit`), as DGMLP's and SIGN's propagation is. The official code's defaults: ``K=2``, no
    dropout, Adam with lr 0.2 and weight decay 5e-6 (the paper also tunes the weight decay per dataset on
    validation). Its training differs: the official code trains 100 epochs and reports the last; here the suite's
    stopping rule (best validation epoch, its patience) applies, as to every model.
    """

    def __init__(self, in_channels: int, out_channels: int, K: int = 2) -> None:
        super().__init__([SGConv(in_channels, out_channels, K=K, cached=True)], 0.0, F.relu)

    def fit(self, task: NodeClassification, data: Data, hparams: dict[str, Any], budget: Budget,
            ctx: RunContext) -> FitResult:
        """The protocol hook: one forward pass fills the cache, then the task's own training loop. Filled by the
        first training step instead, the K propagations, which cost many training steps (timed in
        ``docs/models/dgmlp.md``), were timed as part of epoch 0, inflating the recorded mean epoch time, the more
        so the larger K."""
        training = self.training
        with torch.no_grad():
            # eval: no dropout drawn, so the training draws stay as they were; graph_of: the backend's graph form
            self.eval()(data.x, graph_of(data))
        self.train(training)
        return task.fit(self, data, hparams, budget, ctx)


@register_model("mlp", paper="graph-agnostic baseline", tasks=NODE, defaults={"lr": 0.01, "weight_decay": 5e-4},
                kernels=CONCRETE)  # it never reads the graph, so any backend runs it
class MLP(LayerStack):
    """Multi-layer perceptron on node features alone: what the graph adds is measured against it."""

    uses_graph = False

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64, num_layers: int = 2,
                 dropout: float = 0.5) -> None:
        layers = [nn.Linear(i, o) for i, o in widths(in_channels, hidden_channels, out_channels, num_layers)]
        super().__init__(layers, dropout, F.relu)


__all__ = ["GAT", "GCN", "GIN", "MLP", "SGC", "GraphSAGE", "LayerStack"]
