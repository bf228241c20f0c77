"""ForwardGNN-FF: forward-forward learning on graphs, negatives by label appending or by virtual class nodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data

from gnnbench.models.forwardgnn.graph import class_node_edges, wrong_classes
from gnnbench.models.forwardgnn.greedy import GreedyForward
from gnnbench.models.forwardgnn.layers import Backbone, forward_layers


def ff_loss(h: Tensor, theta: float) -> Tensor:
    r"""FF objective of ``h`` (``[1 + K, n, H]``: the positive stream, then K negatives) on n nodes.

    :math:`\mathrm{BCE}(g^+ - \theta, 1) + \frac1K \sum_k \mathrm{BCE}(g^{-,k} - \theta, 0)` with the goodness
    :math:`g = \sum_d h_d^2` (a sum in training).
    """
    logits = h.pow(2).sum(-1) - theta
    positive = F.binary_cross_entropy_with_logits(logits[0], torch.ones_like(logits[0]))
    negative = F.binary_cross_entropy_with_logits(logits[1:], torch.zeros_like(logits[1:]))
    return positive + negative


@dataclass(frozen=True)
class EvalGroup:
    """One inference pass set: ``evaluated`` nodes take the candidate class, ``known`` nodes their own label.

    Every other node is unlabelled in the pass (uniform label vector, or no class-node edge).
    """

    evaluated: Tensor
    known: Tensor
    known_labels: Tensor

    def candidate(self, c: int) -> tuple[Tensor, Tensor]:
        """The labelled nodes of candidate ``c``'s pass and their classes."""
        return (torch.cat([self.known, self.evaluated]),
                torch.cat([self.known_labels, self.known_labels.new_full((self.evaluated.numel(),), c)]))


class ForwardForward(GreedyForward):
    r"""Shared FF machinery: streams of states, the FF loss on training nodes, goodness at inference.

    A state holds one feature matrix and one graph per stream: in training the positive stream and K fixed
    negative streams, at inference one stream per candidate class. The prediction is
    :math:`\arg\max_c \sum_\ell (\mathrm{mean}_d\, h^{(\ell)}_{v,d}(c)^2 - \theta)`: the goodness of the
    stream in which node v carries candidate class c, summed over layers (a mean of squares at inference, as
    the official code; every layer has the same width, so the argmax is that of the sum).

    As in the official code, the candidate class goes to the *evaluated* nodes only, the nodes whose labels
    the model may use keep them, and all other nodes stay unlabelled: validation nodes are evaluated with the
    training labels known, every other non-training node (test) with the training and validation labels
    known, and training nodes with no label known. Each group costs C passes.
    """

    def __init__(self, num_classes: int, theta: float, num_negatives: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.theta = theta
        self.num_negatives = min(num_negatives, num_classes - 1)  # the official code's cap: 100 means every wrong class
        #: the record's ``effective_hparams`` (:meth:`~gnnbench.tasks.base.FitResult.record`): a count above C - 1
        #: names the run (and, set away from the default, its config label), but C - 1 negatives ran
        self.effective_hparams = {"num_negatives": self.num_negatives} if self.num_negatives != num_negatives else {}
        self.register_buffer("train_index", torch.empty(0, dtype=torch.long), persistent=False)
        self.register_buffer("train_labels", torch.empty(0, dtype=torch.long), persistent=False)
        self.register_buffer("negatives", torch.empty(0, 0, dtype=torch.long), persistent=False)
        self.register_buffer("val_index", torch.empty(0, dtype=torch.long), persistent=False)
        self.register_buffer("val_labels", torch.empty(0, dtype=torch.long), persistent=False)
        self.group: EvalGroup | None = None  # whose passes eval_state builds: validation while fitting

    def prepare(self, data: Data) -> None:
        """Training and validation labels, and the K wrong classes of each training node, drawn once."""
        self.train_index = data.train_mask.nonzero().view(-1)
        self.train_labels = data.y[self.train_index]
        self.val_index = data.val_mask.nonzero().view(-1)
        self.val_labels = data.y[self.val_index]
        self.negatives = wrong_classes(self.train_labels, self.num_classes, self.num_negatives,
                                       torch.default_generator)
        self.group = self.validation_group()

    def validation_group(self) -> EvalGroup:
        """The validation nodes, with the training labels known: what selects each layer's best step."""
        return EvalGroup(self.val_index, self.train_index, self.train_labels)

    def eval_groups(self, num_nodes: int) -> list[EvalGroup]:
        """Validation, the remaining non-training nodes (train and validation labels known), then the training
        nodes (no label known)."""
        rest = torch.ones(num_nodes, dtype=torch.bool, device=self.train_index.device)
        rest[self.train_index] = rest[self.val_index] = False
        return [self.validation_group(),
                EvalGroup(rest.nonzero().view(-1), torch.cat([self.train_index, self.val_index]),
                          torch.cat([self.train_labels, self.val_labels])),
                EvalGroup(self.train_index, self.train_index[:0], self.train_labels[:0])]

    def layer_output(self, i: int, state: Data) -> Tensor:
        return torch.stack([self.layers[i](x, edges) for x, edges in zip(state.x, state.graphs, strict=True)])

    def local_loss(self, i: int, output: Tensor) -> Tensor:
        return ff_loss(output[:, self.train_index], self.theta)

    def contribution(self, i: int, output: Tensor, target: Any) -> Tensor:
        return (output[:, : self.num_real_nodes].pow(2).mean(-1) - self.theta).t()

    def decode(self, total: Tensor, num_layers: int) -> Tensor:
        return total

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """Goodness logits of every node, each row from its own group's C passes (one group at a time)."""
        if not self.train_index.numel():
            raise RuntimeError(f"{type(self).__name__} must be fitted before inference")
        logits = x.new_zeros(x.size(0), self.num_classes)
        for group in self.eval_groups(x.size(0)):
            if group.evaluated.numel():
                self.group = group
                logits[group.evaluated] = self.predict(x, edge_index)[group.evaluated]
        self.group = self.validation_group()
        return logits


class ForwardForwardLabels(ForwardForward):
    r"""ForwardGNN-FF with label appending: layer 0 reads :math:`[x_v \Vert \ell_v]`.

    :math:`\ell_v` is one-hot(:math:`y_v`) for training nodes in the positive stream, one-hot of the k-th
    wrong class in negative stream k, and uniform :math:`1/C` for every other node. Streams propagate
    separately (each layer's output on stream s is the next layer's input on stream s). At inference,
    candidate c gives the evaluated nodes one-hot(c), the known nodes their own one-hot labels and every other
    node the uniform vector.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 backbone: Backbone = "gcn", theta: float = 2.0, num_negatives: int = 100) -> None:
        super().__init__(out_channels, theta, num_negatives)
        self.layers = forward_layers(backbone, [in_channels + out_channels] + [hidden_channels] * num_layers)

    def with_labels(self, x: Tensor, nodes: Tensor, classes: Tensor) -> Tensor:
        """``[x || label vectors]``: ``nodes`` one-hot(``classes``), every other node uniform 1/C."""
        labels = x.new_full((x.size(0), self.num_classes), 1.0 / self.num_classes)
        labels[nodes] = F.one_hot(classes, self.num_classes).to(x.dtype)
        return torch.cat([x, labels], dim=-1)

    def train_state(self, data: Data) -> Data:
        self.num_real_nodes = data.num_nodes
        classes = [self.train_labels, *self.negatives.t()]
        return Data(x=torch.stack([self.with_labels(data.x, self.train_index, c) for c in classes]),
                    graphs=[data.edge_index] * len(classes))

    def eval_state(self, x: Tensor, edge_index: Tensor) -> Data:
        self.num_real_nodes = x.size(0)
        streams = [self.with_labels(x, *self.group.candidate(c)) for c in range(self.num_classes)]
        return Data(x=torch.stack(streams), graphs=[edge_index] * self.num_classes)

    def next_state(self, state: Data, output: Tensor) -> Data:
        return Data(x=output.detach(), graphs=state.graphs)


class ForwardForwardVirtual(ForwardForward):
    r"""ForwardGNN-FF with virtual nodes: negatives differ from positives by their class-node edges only.

    C class nodes with fixed random features join the graph. The positive graph links every training node to
    its own class node (both directions), negative graph k to its k-th wrong class node. As in the official
    code, the next layer's input on every graph is this layer's output on the positive graph. At inference,
    candidate c links the known nodes to their own class node and the evaluated nodes to class node c, and
    each candidate graph propagates its own states.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 backbone: Backbone = "gcn", theta: float = 2.0, num_negatives: int = 100) -> None:
        super().__init__(out_channels, theta, num_negatives)
        self.layers = forward_layers(backbone, [in_channels] + [hidden_channels] * num_layers)
        self.register_buffer("class_features", torch.randn(out_channels, in_channels))

    def train_state(self, data: Data) -> Data:
        n = self.num_real_nodes = data.num_nodes
        graphs = [torch.cat([data.edge_index, class_node_edges(self.train_index, c, n)], 1)
                  for c in [self.train_labels, *self.negatives.t()]]
        x = torch.cat([data.x, self.class_features])
        return Data(x=x.expand(len(graphs), -1, -1), graphs=graphs, tied=True)

    def eval_state(self, x: Tensor, edge_index: Tensor) -> Data:
        n = self.num_real_nodes = x.size(0)
        graphs = [torch.cat([edge_index, class_node_edges(*self.group.candidate(c), n)], 1)
                  for c in range(self.num_classes)]
        features = torch.cat([x, self.class_features])
        return Data(x=features.expand(self.num_classes, -1, -1), graphs=graphs, tied=False)

    def next_state(self, state: Data, output: Tensor) -> Data:
        x = output[0].detach().expand_as(output) if state.tied else output.detach()
        return Data(x=x, graphs=state.graphs, tied=state.tied)
