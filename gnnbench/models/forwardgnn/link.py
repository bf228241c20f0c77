"""ForwardGNN for link prediction: SF ("FL-CE" in the official code) and FF ("FL-FF"), greedy and local."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data

from gnnbench.models.forwardgnn.greedy import GreedyForward
from gnnbench.models.forwardgnn.layers import Backbone, check_link_backbone, forward_layers, unread_link_width
from gnnbench.tasks.base import Task


def dot(h: Tensor, pairs: Tensor) -> Tensor:
    return (h[pairs[0]] * h[pairs[1]]).sum(-1)


class LinkSingleForward(GreedyForward):
    r"""Each layer scores pairs by the dot product of its own outputs, trained greedily and locally.

    Layer :math:`\ell` computes :math:`Z^{(\ell)} = \mathrm{ReLU}(\mathrm{Conv}_\ell(\mathrm{L2}(Z^{(\ell-1)}), A))`
    on the training edges; its local loss is the binary cross-entropy of :math:`s_{uv} = \langle z_u, z_v \rangle`
    on the split's fixed training pairs. A pair's score is the mean over layers of :math:`\sigma(s^{(\ell)}_{uv})`;
    :meth:`score_pairs` returns its logit (a monotone map, so ranking metrics are those of the mean).
    """

    check_hparams = staticmethod(check_link_backbone)
    unread_hparams = staticmethod(unread_link_width)

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 backbone: Backbone = "gcn") -> None:
        super().__init__()
        self.layers = forward_layers(backbone, [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels])
        self.register_buffer("train_pairs", torch.empty(2, 0, dtype=torch.long), persistent=False)
        self.register_buffer("train_labels", torch.empty(0), persistent=False)

    def prepare(self, data: Data) -> None:
        self.train_pairs, self.train_labels = data.train_pairs, data.train_labels.float()

    def train_state(self, data: Data) -> Data:
        return Data(x=data.x, edge_index=data.edge_index)

    def eval_state(self, x: Tensor, edge_index: Tensor) -> Data:
        return Data(x=x, edge_index=edge_index)

    def uses_eval_state_in_training(self) -> bool:
        return True

    def layer_output(self, i: int, state: Data) -> Tensor:
        return self.layers[i](state.x, state.edge_index)

    def pair_score(self, h: Tensor, pairs: Tensor) -> Tensor:
        """One layer's logit per pair."""
        return dot(h, pairs)

    def local_loss(self, i: int, output: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.pair_score(output, self.train_pairs), self.train_labels)

    def next_state(self, state: Data, output: Tensor) -> Data:
        return Data(x=output.detach(), edge_index=state.edge_index)

    def contribution(self, i: int, output: Tensor, target: Tensor) -> Tensor:
        return self.pair_score(output, target).sigmoid()

    def decode(self, total: Tensor, num_layers: int) -> Tensor:
        return torch.logit(total / num_layers, eps=1e-7)

    def selection(self, task: Task, output: Tensor, data: Data) -> dict[str, float]:
        return task.pair_metrics(output, data.val_labels)

    def selection_target(self, data: Data) -> Tensor:
        return data.val_pairs

    def score_pairs(self, x: Tensor, edge_index: Tensor, pairs: Tensor) -> Tensor:
        return self.predict(x, edge_index, pairs)

    def forward(self, x: Tensor, edge_index: Tensor, pairs: Tensor) -> Tensor:
        return self.score_pairs(x, edge_index, pairs)


class LinkForwardForward(LinkSingleForward):
    r"""ForwardGNN-FF for link prediction: a pair's per-layer logit is its goodness above the threshold.

    :math:`g_{uv} = \sum_d (z_{u,d}\, z_{v,d})^2 - \theta`, trained with the official ``ff_loss``: the mean BCE
    of the positive pairs (towards 1) plus that of the split's fixed negatives (towards 0), not one mean over
    all pairs, which would halve the loss against the weight decay. Everything else is
    :class:`LinkSingleForward`'s (greedy local training, the score is the mean over layers of
    :math:`\sigma(g^{(\ell)}_{uv})`). The official code has
    this variant (``GNN_FL-FF``) but no script for it; :math:`\theta = 2` as its FF default.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 backbone: Backbone = "gcn", theta: float = 2.0) -> None:
        super().__init__(in_channels, out_channels, hidden_channels, num_layers, backbone)
        self.theta = theta

    def pair_score(self, h: Tensor, pairs: Tensor) -> Tensor:
        return (h[pairs[0]] * h[pairs[1]]).pow(2).sum(-1) - self.theta

    def local_loss(self, i: int, output: Tensor) -> Tensor:
        logits, positive = self.pair_score(output, self.train_pairs), self.train_labels == 1
        return sum(F.binary_cross_entropy_with_logits(logits[side], self.train_labels[side])
                   for side in (positive, ~positive))
