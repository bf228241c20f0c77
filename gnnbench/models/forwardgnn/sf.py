"""ForwardGNN-SF (single forward): the main method, for node classification."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnbench.models.forwardgnn.graph import class_node_edges
from gnnbench.models.forwardgnn.greedy import GreedyForward
from gnnbench.models.forwardgnn.layers import Backbone, forward_layers


class ClassNodes(nn.Module):
    """Mixin for SF models: C virtual class nodes, fixed random features, linked to training nodes only."""

    tau: float

    def add_class_nodes(self, in_channels: int, num_classes: int, tau: float) -> None:
        """Draw the class nodes' features (buffers, never trained); edges come with :meth:`prepare`."""
        self.num_classes = num_classes
        self.tau = tau
        self.register_buffer("class_features", torch.randn(num_classes, in_channels))
        self.register_buffer("virtual_edges", torch.empty(2, 0, dtype=torch.long), persistent=False)
        self.register_buffer("train_index", torch.empty(0, dtype=torch.long), persistent=False)
        self.register_buffer("train_labels", torch.empty(0, dtype=torch.long), persistent=False)

    def prepare(self, data: Data) -> None:
        self.train_index = data.train_mask.nonzero().view(-1)
        self.train_labels = data.y[self.train_index]
        self.virtual_edges = class_node_edges(self.train_index, self.train_labels, data.num_nodes)

    def augment(self, x: Tensor, edge_index: Tensor) -> Data:
        """The graph with N + C nodes: class nodes appended after the real ones, linked to training nodes."""
        if not self.virtual_edges.numel():
            raise RuntimeError(f"{type(self).__name__} has no class-node edges yet: it must be fitted before "
                               "inference")
        return Data(x=torch.cat([x, self.class_features]), edge_index=torch.cat([edge_index, self.virtual_edges], 1),
                    num_real_nodes=x.size(0))

    def class_logits(self, h: Tensor, num_real_nodes: int) -> Tensor:
        """``[N, C]`` dot products of real nodes with class nodes, divided by the temperature."""
        return h[:num_real_nodes] @ h[num_real_nodes:].t() / self.tau

    def class_loss(self, h: Tensor, num_real_nodes: int) -> Tensor:
        """Cross-entropy of the training nodes' class logits."""
        return F.cross_entropy(self.class_logits(h, num_real_nodes)[self.train_index], self.train_labels)


class SingleForward(ClassNodes, GreedyForward):
    r"""ForwardGNN-SF: each layer classifies against virtual class nodes, trained greedily and locally.

    The graph gains one node per class with fixed random features (a buffer, never trained), linked in both
    directions to the training nodes of that class only. Layer :math:`\ell` computes
    :math:`H^{(\ell+1)} = \mathrm{ReLU}(\mathrm{Conv}_\ell(\mathrm{L2}(H^{(\ell)}), A_{aug}))` over all N + C
    nodes; its local loss is the cross-entropy of the logits
    :math:`z_{vc} = \langle h_v^{(\ell+1)}, h_c^{(\ell+1)} \rangle / \tau` over the training nodes. The
    prediction is :math:`\arg\max_c \sum_\ell \mathrm{softmax}(z^{(\ell)}_v)_c`; ``forward`` returns the log
    of that sum, so its cross-entropy is the negative log-likelihood of the mean per-layer distribution.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 backbone: Backbone = "gcn", tau: float = 1.0) -> None:
        super().__init__()
        self.layers = forward_layers(backbone, [in_channels] + [hidden_channels] * num_layers)
        self.add_class_nodes(in_channels, out_channels, tau)

    def train_state(self, data: Data) -> Data:
        return self.augment(data.x, data.edge_index)

    def eval_state(self, x: Tensor, edge_index: Tensor) -> Data:
        return self.augment(x, edge_index)

    def uses_eval_state_in_training(self) -> bool:
        return True

    def layer_output(self, i: int, state: Data) -> tuple[Tensor, int]:
        return self.layers[i](state.x, state.edge_index), state.num_real_nodes

    def local_loss(self, i: int, output: tuple[Tensor, int]) -> Tensor:
        return self.class_loss(*output)

    def next_state(self, state: Data, output: tuple[Tensor, int]) -> Data:
        return Data(x=output[0].detach(), edge_index=state.edge_index, num_real_nodes=state.num_real_nodes)

    def contribution(self, i: int, output: tuple[Tensor, int], target: Any) -> Tensor:
        return self.class_logits(*output).softmax(dim=-1)

    def decode(self, total: Tensor, num_layers: int) -> Tensor:
        return total.log()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.predict(x, edge_index)
