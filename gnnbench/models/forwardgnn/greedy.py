"""The greedy layer-wise schedule shared by ForwardGNN's SF, FF and link-prediction variants.

For layer i = 0..L-1: a fresh Adam optimiser over layer i's parameters only; up to ``budget.epochs`` full-batch
steps on layer i's local loss, its input a detached state computed once from the frozen layers below; after
every step the model made of layers 0..i is scored on validation (the scores of layers 0..i-1 are cached, so a
check costs one layer's forward) and layer i keeps its best-validation state (:class:`EarlyStopping`, patience
in steps, through :func:`~gnnbench.tasks.base.train_epochs`). Then layer i's output, computed once and
detached, becomes layer i+1's input. No gradient ever crosses a layer boundary.
"""

from __future__ import annotations

import functools
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from gnnbench.models.forwardgnn.layers import check_backbone
from gnnbench.tasks.base import Budget, FitResult, RunContext, Task, check_finite, train_epochs


class GreedyForward(nn.Module):
    """Base class: subclasses define the state between layers, the local loss and the per-layer scores.

    A *state* is whatever one layer reads (features plus, for some variants, the graph it runs on); the
    training and the evaluation states may differ (FF trains on positive and negative streams but scores one
    stream per candidate class), and coincide for SF. A layer's *contribution* is its share of the final
    score (a softmax for SF, a goodness for FF, a pair probability for link prediction); the prediction
    decodes the sum of the contributions of all layers.
    """

    fit_hparams: dict[str, Any] = {"lr": 1e-3, "weight_decay": 5e-4}
    layers: nn.ModuleList
    check_hparams = staticmethod(check_backbone)

    @abstractmethod
    def prepare(self, data: Any) -> None:
        """Fix what training needs from the training view once (class-node edges, negatives)."""

    @abstractmethod
    def train_state(self, data: Any) -> Any:
        """Layer 0's input during training."""

    @abstractmethod
    def eval_state(self, x: Tensor, edge_index: Tensor) -> Any:
        """Layer 0's input at inference."""

    @abstractmethod
    def layer_output(self, i: int, state: Any) -> Any:
        """Layer ``i`` applied to ``state`` (gradient flows into layer ``i`` only)."""

    @abstractmethod
    def local_loss(self, i: int, output: Any) -> Tensor:
        """Layer ``i``'s local objective on its training output."""

    @abstractmethod
    def next_state(self, state: Any, output: Any) -> Any:
        """The next layer's input: ``output`` (with ``state``'s graph), detached."""

    @abstractmethod
    def contribution(self, i: int, output: Any, target: Any) -> Tensor:
        """Layer ``i``'s share of the prediction for ``target`` (what is scored: all nodes, or pairs)."""

    @abstractmethod
    def decode(self, total: Tensor, num_layers: int) -> Tensor:
        """The model's output from the summed contributions of ``num_layers`` layers."""

    def selection(self, task: Task, output: Tensor, data: Any) -> dict[str, float]:
        """The task's validation metrics (``task.metric`` and ``loss``) of ``output``: node classification's,
        over its validation nodes (link prediction overrides)."""
        return task.metrics(output, data, ("val",))["val"]

    def selection_target(self, data: Any) -> Any:
        """What validation scores: ``None``, all nodes (link prediction: the validation pairs)."""
        return None

    def uses_eval_state_in_training(self) -> bool:
        """True when training and evaluation states coincide (SF), so one pass serves both."""
        return False

    def predict(self, x: Tensor, edge_index: Tensor, target: Any = None) -> Tensor:
        """Inference: the decoded sum of every layer's contribution."""
        state, total = self.eval_state(x, edge_index), None
        for i in range(len(self.layers)):
            output = self.layer_output(i, state)
            part = self.contribution(i, output, target)
            total = part if total is None else total + part
            state = self.next_state(state, output)
        return self.decode(total, len(self.layers))

    def fit(self, task: Task, data: Any, hparams: dict[str, Any], budget: Budget, ctx: RunContext) -> FitResult:
        """The greedy schedule (module docstring); the task evaluates the test split afterwards."""
        self.prepare(data)
        target = self.selection_target(data)
        shared = self.uses_eval_state_in_training()
        with torch.no_grad():
            state = self.train_state(data)
            evaluation = state if shared else self.eval_state(data.x, data.edge_index)
        total: Tensor | None = None
        history: dict[str, list[float]] = {}
        times: list[float] = []
        steps = best_step = 0
        for i, layer in enumerate(self.layers):
            validate = functools.partial(self._validate, task, i, evaluation, total, target, data)
            fit = self._train_layer(i, state, validate, steps, task, hparams, budget, ctx)
            for key, values in (*fit.history.items(), ("layer", [i] * fit.epochs_run)):
                history.setdefault(key, []).extend(values)
            times += fit.epoch_times_s
            best_step, steps = steps + fit.best_epoch, steps + fit.epochs_run
            with torch.no_grad():
                layer.eval()
                out_eval = self.layer_output(i, evaluation)
                part = self.contribution(i, out_eval, target)
                total = part if total is None else total + part
                state_out = out_eval if shared else self.layer_output(i, state)
                state = self.next_state(state, state_out)
                evaluation = state if shared else self.next_state(evaluation, out_eval)
        return FitResult(best_epoch=best_step, epochs_run=steps, history=history, epoch_times_s=times)

    def _train_layer(self, i: int, state: Any, validate: Callable[[], dict[str, float]], first_step: int,
                     task: Task, hparams: dict[str, Any], budget: Budget, ctx: RunContext) -> FitResult:
        """Layer i alone on its local loss over the detached ``state``, left at its best ``validate()`` step;
        progress numbers the steps from ``first_step``, across layers."""
        layer = self.layers[i]
        optimizer = torch.optim.Adam(layer.parameters(), lr=hparams["lr"], weight_decay=hparams["weight_decay"])

        def epoch_step(epoch: int) -> dict[str, float]:
            layer.train()
            optimizer.zero_grad()
            loss = self.local_loss(i, self.layer_output(i, state))
            check_finite(loss, first_step + epoch)
            loss.backward()
            optimizer.step()
            return {"train_loss": loss.item()}

        fit = train_epochs(layer, epoch_step, validate, task, budget, ctx,
                           report=lambda epoch, values: ctx.report(first_step + epoch, {"layer": i, **values}))
        layer.zero_grad(set_to_none=True)  # its optimiser's moments go when this returns: memory stays one layer's
        return fit

    @torch.no_grad()
    def _validate(self, task: Task, i: int, evaluation: Any, total: Tensor | None, target: Any,
                  data: Any) -> dict[str, float]:
        self.layers[i].eval()
        part = self.contribution(i, self.layer_output(i, evaluation), target)
        return self.selection(task, self.decode(part if total is None else total + part, i + 1), data)
