"""ForwardGNN with top-down signals: all layers learn in every time step, each also sees the layers above.

Node classification: SF + Top-to-Loss and SF + Top-to-Input (against virtual class nodes); link prediction:
Top-to-Input with no label state on top (``GNN_FL-CE-TopDown`` in the official code).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnbench.hparams import HparamError
from gnnbench.models.forwardgnn.layers import (
    Backbone,
    TopDownLayer,
    check_backbone,
    check_link_backbone,
    forward_layers,
    l2_rows,
    unread_link_width,
)
from gnnbench.models.forwardgnn.link import dot
from gnnbench.models.forwardgnn.sf import ClassNodes
from gnnbench.tasks.base import Budget, FitResult, RunContext, Task, check_finite, train_epochs


class TopDown(nn.Module):
    """Shared schedule: each epoch is one time step updating every layer with its own optimiser on its own
    local loss; states from the previous step stand in for the layers above; the whole model is selected on
    validation (early stopping and best-state restore over all layers)."""

    fit_hparams: dict[str, Any] = {"lr": 1e-3, "weight_decay": 5e-4}
    layers: nn.ModuleList
    check_hparams = staticmethod(check_backbone)

    @abstractmethod
    def training_graph(self, data: Data) -> Data:
        """The graph every time step runs on; fixes what training needs from the training view."""

    @abstractmethod
    def validate(self, task: Task, data: Data) -> dict[str, float]:
        """The task's validation metrics (``task.metric`` and ``loss``) of the model as it is."""

    @abstractmethod
    def initial_states(self, graph: Data) -> list[Tensor]:
        """The states of one bottom-up pass (index 0 is the input)."""

    @abstractmethod
    def time_step(self, graph: Data, states: list[Tensor], optimizers: list[torch.optim.Optimizer],
                  hparams: dict[str, Any]) -> Tensor:
        """Update every layer once, ``states`` in place; the mean local loss."""

    def fit(self, task: Task, data: Data, hparams: dict[str, Any], budget: Budget, ctx: RunContext) -> FitResult:
        graph = self.training_graph(data)
        optimizers = [torch.optim.Adam(layer.parameters(), lr=hparams["lr"], weight_decay=hparams["weight_decay"])
                      for layer in self.layers]
        with torch.no_grad():
            states = self.initial_states(graph)

        def epoch_step(epoch: int) -> dict[str, float]:
            self.train()
            loss = self.time_step(graph, states, optimizers, hparams)
            check_finite(loss, epoch)
            return {"train_loss": loss.item()}

        @torch.no_grad()
        def validate() -> dict[str, float]:
            self.eval()
            return self.validate(task, data)

        return train_epochs(self, epoch_step, validate, task, budget, ctx)


class ClassTopDown(ClassNodes, TopDown):
    """Top-down node classification on the graph augmented with the virtual class nodes."""

    def training_graph(self, data: Data) -> Data:
        self.prepare(data)
        return self.augment(data.x, data.edge_index)

    def validate(self, task: Task, data: Data) -> dict[str, float]:
        return task.metrics(self(data.x, data.edge_index), data, ("val",))["val"]


class SingleForwardTopToLoss(ClassTopDown):
    r"""SF + Top-to-Loss: layer :math:`\ell`'s loss reads the mean of its output and the states above it.

    States :math:`s_0 = \mathrm{L2}(X)`, :math:`s_{\ell+1} = \mathrm{L2}(o_\ell)` with
    :math:`o_\ell = \mathrm{layer}_\ell(s_\ell)`. In each time step, for :math:`\ell = 0..L-1` in order, the
    loss embedding is :math:`e_\ell = \mathrm{mean}(o_\ell, s_{\ell+2}, \dots, s_L)`, scored against the class
    nodes by the SF cross-entropy; gradients are clipped to ``grad_max_norm`` before the step. Every state a
    layer reads, its input :math:`s_\ell` included, is the previous step's (detached); the step's new states
    replace them when it ends (the official ``new_states``). Inference: one bottom-up pass, then
    :math:`\sum_\ell \mathrm{softmax}(z(e_\ell))`; ``forward`` returns its log.
    """

    fit_hparams = {"lr": 1e-3, "weight_decay": 5e-4, "grad_max_norm": 1.0}

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 backbone: Backbone = "gcn", tau: float = 1.0) -> None:
        super().__init__()
        self.layers = forward_layers(backbone, [in_channels] + [hidden_channels] * num_layers)
        self.add_class_nodes(in_channels, out_channels, tau)

    def initial_states(self, graph: Data) -> list[Tensor]:
        states = [l2_rows(graph.x)]
        for layer in self.layers:
            states.append(l2_rows(layer(states[-1], graph.edge_index)))
        return states

    @staticmethod
    def loss_embedding(output: Tensor, states: list[Tensor], i: int) -> Tensor:
        return torch.stack([output, *states[i + 2:]]).mean(0)

    def time_step(self, graph: Data, states: list[Tensor], optimizers: list[torch.optim.Optimizer],
                  hparams: dict[str, Any]) -> Tensor:
        losses, previous = [], list(states)
        for i, (layer, optimizer) in enumerate(zip(self.layers, optimizers, strict=True)):
            optimizer.zero_grad()
            output = layer(previous[i], graph.edge_index)
            loss = self.class_loss(self.loss_embedding(output, previous, i), graph.num_real_nodes)
            loss.backward()
            nn.utils.clip_grad_norm_(layer.parameters(), hparams["grad_max_norm"])
            optimizer.step()
            states[i + 1] = l2_rows(output.detach())
            losses.append(loss.detach())
        return torch.stack(losses).mean()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        graph = self.augment(x, edge_index)
        states, outputs = [l2_rows(graph.x)], []
        for layer in self.layers:
            outputs.append(layer(states[-1], graph.edge_index))
            states.append(l2_rows(outputs[-1]))
        return sum(self.class_logits(self.loss_embedding(o, states, i), x.size(0)).softmax(-1)
                   for i, o in enumerate(outputs)).log()


def check_test_time_steps(hparams: Mapping[str, Any]) -> None:
    """Inference reads the outputs of steps 2..T-1: fewer than 3 steps leave none, a suite fails when it loads."""
    if hparams["test_time_steps"] < 3:
        raise HparamError("test_time_steps", f"test_time_steps must be >= 3 (inference reads steps 2..T-1), "
                                             f"got {hparams['test_time_steps']}")


class TopToInput(TopDown):
    r"""Top-to-Input: layer :math:`\ell` reads :math:`[\mathrm{L2}(s_\ell) \Vert \mathrm{L2}(s_{\ell+2})]`.

    :math:`s_0 = X` and :math:`s_{\ell+1}` is layer :math:`\ell`'s output; the top layer's "above" state is
    :meth:`top_state`. The bottom-up initial pass reads zeros from above. With alternating updates (the
    official scripts), even layers update first and odd layers then read their neighbours' fresh states.
    Inference runs ``test_time_steps`` recurrent steps and reads every layer's output of steps 2..T-1.
    """

    @staticmethod
    def check_hparams(hparams: Mapping[str, Any], device: str = "cpu") -> None:
        check_backbone(hparams)
        check_test_time_steps(hparams)

    @staticmethod
    def unread_hparams(hparams: Mapping[str, Any]) -> dict[str, str]:
        """The update order of one layer: another run id for the same runs."""
        return {"alternating": "num_layers is 1 (no layers to alternate)"} if hparams["num_layers"] == 1 else {}

    def build(self, backbone: Backbone, in_channels: int, hidden_channels: int, out_channels: int,
              top_channels: int, num_layers: int, alternating: bool, test_time_steps: int) -> None:
        """Layer i maps ``below_i + above_i`` to ``out_i``; its above-state is layer i+1's output, the top
        layer's is :meth:`top_state` (``top_channels`` wide)."""
        if num_layers < 1 or test_time_steps < 3:
            raise ValueError(f"need num_layers >= 1 and test_time_steps >= 3, got {num_layers} and "
                             f"{test_time_steps}")
        outputs = [hidden_channels] * (num_layers - 1) + [out_channels]
        below = [in_channels] + outputs[:-1]
        above = outputs[1:] + [top_channels]
        self.layers = nn.ModuleList(TopDownLayer(backbone, b, a, o) for b, a, o in zip(below, above, outputs,
                                                                                         strict=True))
        self.above_widths = above
        self.alternating = alternating
        self.test_time_steps = test_time_steps

    @abstractmethod
    def top_state(self, graph: Data) -> Tensor:
        """What the top layer reads from above."""

    @abstractmethod
    def layer_loss(self, output: Tensor, graph: Data) -> Tensor:
        """One layer's local objective on its output."""

    @staticmethod
    def above(i: int, states: list[Tensor]) -> Tensor:
        """Layer i's above-state in ``[X, s_1, ..., s_L, top]``: s_{i+2}, which is the top state for the top
        layer."""
        return states[i + 2]

    def initial_states(self, graph: Data) -> list[Tensor]:
        """``[X, s_1, ..., s_L, top]``: a bottom-up pass reading zeros from above, the top state last."""
        states = [graph.x]
        for layer, width in zip(self.layers, self.above_widths, strict=True):
            states.append(layer(states[-1], states[-1].new_zeros(states[-1].size(0), width), graph.edge_index))
        return [*states, self.top_state(graph)]

    def order(self) -> list[int]:
        layers = range(len(self.layers))
        return [*layers[::2], *layers[1::2]] if self.alternating else list(layers)

    def step_states(self, graph: Data, states: list[Tensor],
                    optimizers: list[torch.optim.Optimizer] | None = None) -> tuple[list[Tensor], Tensor]:
        """One time step; with ``optimizers`` each layer also takes a gradient step. Without alternation every
        layer reads the previous step's states."""
        source = states if self.alternating else list(states)
        outputs, losses = [torch.empty(0)] * len(self.layers), []
        for i in self.order():
            output = self.layers[i](source[i], self.above(i, source), graph.edge_index)
            if optimizers is not None:
                optimizers[i].zero_grad()
                loss = self.layer_loss(output, graph)
                loss.backward()
                optimizers[i].step()
                losses.append(loss.detach())
            outputs[i] = output.detach()
            states[i + 1] = outputs[i]
        return outputs, torch.stack(losses).mean() if losses else torch.zeros(())

    def time_step(self, graph: Data, states: list[Tensor], optimizers: list[torch.optim.Optimizer],
                  hparams: dict[str, Any]) -> Tensor:
        return self.step_states(graph, states, optimizers)[1]

    def stored_outputs(self, graph: Data) -> Iterator[Tensor]:
        """Every layer's output at inference time steps 2..T-1 (the official ``storable_time_steps``)."""
        states = self.initial_states(graph)
        for step in range(self.test_time_steps):
            outputs, _ = self.step_states(graph, states)
            if step >= 2:
                yield from outputs


class SingleForwardTopToInput(ClassTopDown, TopToInput):
    r"""SF + Top-to-Input (node classification): the top layer's above-state is the label matrix Y.

    Y is one-hot for training nodes and class nodes, uniform elsewhere; input widths are F + H, 2H, ..., H + C.
    Each layer's loss is the SF cross-entropy against the class nodes; the prediction sums every stored
    output's class softmax (:class:`TopToInput`), and ``forward`` returns the log of that sum.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 backbone: Backbone = "gcn", tau: float = 1.0, alternating: bool = True,
                 test_time_steps: int = 10) -> None:
        super().__init__()
        self.build(backbone, in_channels, hidden_channels, hidden_channels, out_channels, num_layers, alternating,
                   test_time_steps)
        self.add_class_nodes(in_channels, out_channels, tau)

    def label_state(self, graph: Data) -> Tensor:
        """Y: one-hot rows for training nodes and class nodes, uniform rows for every other node."""
        n, c = graph.num_real_nodes, self.num_classes
        y = graph.x.new_full((n + c, c), 1.0 / c)
        y[self.train_index] = F.one_hot(self.train_labels, c).to(y.dtype)
        y[n:] = torch.eye(c, dtype=y.dtype, device=y.device)
        return y

    def top_state(self, graph: Data) -> Tensor:
        return self.label_state(graph)

    def layer_loss(self, output: Tensor, graph: Data) -> Tensor:
        return self.class_loss(output, graph.num_real_nodes)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return sum(self.class_logits(output, x.size(0)).softmax(-1)
                   for output in self.stored_outputs(self.augment(x, edge_index))).log()


class LinkTopToInput(TopToInput):
    r"""Top-to-Input for link prediction: no label state on top (the top layer reads only the state below).

    Each layer's loss is the binary cross-entropy of :math:`s_{uv} = \langle z_u, z_v \rangle` on the split's
    fixed training pairs; a pair's score is the mean of :math:`\sigma(s_{uv})` over every layer and stored
    time step, and :meth:`score_pairs` returns its logit. The official link scripts use no weight decay.
    """

    fit_hparams = {"lr": 1e-3, "weight_decay": 0.0}

    @staticmethod
    def check_hparams(hparams: Mapping[str, Any], device: str = "cpu") -> None:
        check_link_backbone(hparams)
        check_test_time_steps(hparams)

    @staticmethod
    def unread_hparams(hparams: Mapping[str, Any]) -> dict[str, str]:
        """Top-to-Input's, and at one layer the width of a hidden layer it does not have."""
        return TopToInput.unread_hparams(hparams) | unread_link_width(hparams)

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 backbone: Backbone = "gcn", alternating: bool = True, test_time_steps: int = 10) -> None:
        super().__init__()
        self.build(backbone, in_channels, hidden_channels, out_channels, 0, num_layers, alternating,
                   test_time_steps)
        self.register_buffer("train_pairs", torch.empty(2, 0, dtype=torch.long), persistent=False)
        self.register_buffer("train_labels", torch.empty(0), persistent=False)

    def training_graph(self, data: Data) -> Data:
        self.train_pairs, self.train_labels = data.train_pairs, data.train_labels.float()
        return Data(x=data.x, edge_index=data.edge_index)

    def validate(self, task: Task, data: Data) -> dict[str, float]:
        return task.pair_metrics(self.score_pairs(data.x, data.edge_index, data.val_pairs), data.val_labels)

    def top_state(self, graph: Data) -> Tensor:
        return graph.x.new_zeros(graph.num_nodes, 0)

    def layer_loss(self, output: Tensor, graph: Data) -> Tensor:
        return F.binary_cross_entropy_with_logits(dot(output, self.train_pairs), self.train_labels)

    def score_pairs(self, x: Tensor, edge_index: Tensor, pairs: Tensor) -> Tensor:
        graph = Data(x=x, edge_index=edge_index)
        probs = torch.stack([dot(output, pairs).sigmoid() for output in self.stored_outputs(graph)])
        return torch.logit(probs.mean(0), eps=1e-7)

    def forward(self, x: Tensor, edge_index: Tensor, pairs: Tensor) -> Tensor:
        return self.score_pairs(x, edge_index, pairs)
