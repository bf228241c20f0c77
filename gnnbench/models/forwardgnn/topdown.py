"""ForwardGNN-SF with top-down signals: all layers learn in every time step, each also sees the layers above."""

from __future__ import annotations

import time
from abc import abstractmethod
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnbench.models.forwardgnn.layers import Backbone, TopDownLayer, forward_layers, l2_rows
from gnnbench.models.forwardgnn.sf import ClassNodes
from gnnbench.tasks.base import Budget, EarlyStopping, FitResult, RunContext, Task, check_finite


class TopDown(ClassNodes):
    """Shared schedule: each epoch is one time step updating every layer with its own optimiser on its own
    SF loss; states from the previous step stand in for the layers above; the whole model is selected on
    validation (early stopping and best-state restore over all layers)."""

    fit_hparams: dict[str, Any] = {"lr": 1e-3, "weight_decay": 5e-4}
    layers: nn.ModuleList

    @abstractmethod
    def initial_states(self, graph: Data) -> list[Tensor]:
        """The states of one bottom-up pass (index 0 is the input)."""

    @abstractmethod
    def time_step(self, graph: Data, states: list[Tensor], optimizers: list[torch.optim.Optimizer],
                  hparams: dict[str, Any]) -> Tensor:
        """Update every layer once, ``states`` in place; the mean local loss."""

    def fit(self, task: Task, data: Data, hparams: dict[str, Any], budget: Budget, ctx: RunContext) -> FitResult:
        self.prepare(data)
        graph = self.augment(data.x, data.edge_index)
        optimizers = [torch.optim.Adam(layer.parameters(), lr=hparams["lr"], weight_decay=hparams["weight_decay"])
                      for layer in self.layers]
        stopper = EarlyStopping(task.direction, budget.patience)
        history: dict[str, list[float]] = {"train_loss": [], f"val_{task.metric}": [], "val_loss": []}
        times: list[float] = []
        with torch.no_grad():
            states = self.initial_states(graph)
        epoch = -1
        for epoch in range(budget.epochs):
            start = time.perf_counter()
            self.train()
            loss = self.time_step(graph, states, optimizers, hparams)
            check_finite(loss, epoch)
            if ctx.device.type == "cuda":
                torch.cuda.synchronize(ctx.device)
            times.append(time.perf_counter() - start)
            with torch.no_grad():
                self.eval()
                val = task.metrics(self(data.x, data.edge_index), data, ("val",))["val"]
            for key, value in (("train_loss", loss.item()), (f"val_{task.metric}", val[task.metric]),
                               ("val_loss", val["loss"])):
                history[key].append(value)
            ctx.report(epoch, {"loss": loss.item(), f"val_{task.metric}": val[task.metric]})
            if stopper.step(epoch, val[task.metric], val["loss"], self):
                break
        stopper.restore(self)
        return FitResult(best_epoch=stopper.best_epoch, epochs_run=epoch + 1, history=history, epoch_times_s=times)


class SingleForwardTopToLoss(TopDown):
    r"""SF + Top-to-Loss: layer :math:`\ell`'s loss reads the mean of its output and the states above it.

    States :math:`s_0 = \mathrm{L2}(X)`, :math:`s_{\ell+1} = \mathrm{L2}(o_\ell)` with
    :math:`o_\ell = \mathrm{layer}_\ell(s_\ell)`. In each time step, for :math:`\ell = 0..L-1` in order, the
    loss embedding is :math:`e_\ell = \mathrm{mean}(o_\ell, s_{\ell+2}, \dots, s_L)` (upper states detached,
    from the previous step), scored against the class nodes by the SF cross-entropy; gradients are clipped
    to ``grad_max_norm`` before the step. Inference: one bottom-up pass, then
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
        losses = []
        for i, (layer, optimizer) in enumerate(zip(self.layers, optimizers, strict=True)):
            optimizer.zero_grad()
            output = layer(states[i], graph.edge_index)
            loss = self.class_loss(self.loss_embedding(output, states, i), graph.num_real_nodes)
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


class SingleForwardTopToInput(TopDown):
    r"""SF + Top-to-Input: layer :math:`\ell` reads :math:`[\mathrm{L2}(s_\ell) \Vert \mathrm{L2}(s_{\ell+2})]`.

    :math:`s_0 = X`, :math:`s_{\ell+1}` is layer :math:`\ell`'s output, and the top layer's "above" state is
    the label matrix Y (one-hot for training nodes and class nodes, uniform elsewhere); input widths are
    F + H, 2H, ..., H + C. The bottom-up initial pass reads zeros from above. With alternating updates (the
    official scripts), even layers update first and odd layers then read their neighbours' fresh states.
    Inference runs ``test_time_steps`` recurrent steps and sums every layer's class softmax over steps
    2..T-1; ``forward`` returns the log of that sum.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 backbone: Backbone = "gcn", tau: float = 1.0, alternating: bool = True,
                 test_time_steps: int = 10) -> None:
        super().__init__()
        if num_layers < 1 or test_time_steps < 3:
            raise ValueError(f"need num_layers >= 1 and test_time_steps >= 3, got {num_layers} and "
                             f"{test_time_steps}")
        below = [in_channels] + [hidden_channels] * (num_layers - 1)
        above = [hidden_channels] * (num_layers - 1) + [out_channels]
        self.layers = nn.ModuleList(TopDownLayer(backbone, b, a, hidden_channels)
                                    for b, a in zip(below, above, strict=True))
        self.above_widths = above
        self.add_class_nodes(in_channels, out_channels, tau)
        self.alternating = alternating
        self.test_time_steps = test_time_steps

    def label_state(self, graph: Data) -> Tensor:
        """Y: one-hot rows for training nodes and class nodes, uniform rows for every other node."""
        n, c = graph.num_real_nodes, self.num_classes
        y = graph.x.new_full((n + c, c), 1.0 / c)
        y[self.train_index] = F.one_hot(self.train_labels, c).to(y.dtype)
        y[n:] = torch.eye(c, dtype=y.dtype, device=y.device)
        return y

    @staticmethod
    def above(i: int, states: list[Tensor]) -> Tensor:
        """Layer i's above-state in ``[X, s_1, ..., s_L, Y]``: s_{i+2}, which is Y for the top layer."""
        return states[i + 2]

    def initial_states(self, graph: Data) -> list[Tensor]:
        """``[X, s_1, ..., s_L, Y]``: a bottom-up pass reading zeros from above, the label state last."""
        states = [graph.x]
        for layer, width in zip(self.layers, self.above_widths, strict=True):
            states.append(layer(states[-1], states[-1].new_zeros(states[-1].size(0), width), graph.edge_index))
        return [*states, self.label_state(graph)]

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
                loss = self.class_loss(output, graph.num_real_nodes)
                loss.backward()
                optimizers[i].step()
                losses.append(loss.detach())
            outputs[i] = output.detach()
            states[i + 1] = outputs[i]
        return outputs, torch.stack(losses).mean() if losses else torch.zeros(())

    def time_step(self, graph: Data, states: list[Tensor], optimizers: list[torch.optim.Optimizer],
                  hparams: dict[str, Any]) -> Tensor:
        return self.step_states(graph, states, optimizers)[1]

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        graph = self.augment(x, edge_index)
        states, total = self.initial_states(graph), None
        for step in range(self.test_time_steps):
            outputs, _ = self.step_states(graph, states)
            if step >= 2:
                for output in outputs:
                    part = self.class_logits(output, x.size(0)).softmax(-1)
                    total = part if total is None else total + part
        return total.log()
