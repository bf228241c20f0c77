"""OGB graph property prediction: the dataset's scaffold split and the official ``ogb`` Evaluator.

The protocol is the graph tasks' (mini-batches, validation selects the epoch, the test graphs are evaluated
once); what differs is OGB's: the split is always the dataset's own (scaffold), and the metric is whatever
``ogb.graphproppred.Evaluator`` computes for the dataset (ROC-AUC for molbace / molbbbp, RMSE for molesol),
averaged over the dataset's tasks. Classification trains with binary cross-entropy on the labelled targets
(OGB marks a missing label with NaN), regression with MSE, as OGB's example scripts do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Batch, Dataset

from gnnbench.errors import DataError
from gnnbench.registry import Entry, register_task
from gnnbench.tasks.base import Budget, RunContext
from gnnbench.tasks.graph import GraphTask
from gnnbench.units import AS_RECORDED, FRACTION


@dataclass(frozen=True)
class OgbOptions:
    """No options: OGB fixes the split and the metric."""


class _OgbGraphTask(GraphTask):
    level = "graph"
    stratified = False
    Options = OgbOptions
    #: the training loss on the labelled targets
    criterion: ClassVar[Callable[[Tensor, Tensor], Tensor]]

    def run(self, entry: Entry, dataset: Dataset, hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext) -> dict:
        from ogb.graphproppred import Evaluator

        name = getattr(dataset, "ogb_name", None)
        if name is None:
            raise DataError(f"task '{self.name}' needs an OGB dataset (one with ogb_name), "
                            f"got {type(dataset).__name__}")
        self.evaluator = Evaluator(name)
        if self.evaluator.eval_metric != self.metric:
            raise DataError(f"task '{self.name}' reports {self.metric}, but {name}'s OGB metric is "
                            f"{self.evaluator.eval_metric}")
        return super().run(entry, dataset, hparams, budget, ctx)

    def split(self, dataset: Dataset, seed: int) -> tuple[dict[str, Tensor], str]:
        return dict(dataset.split_idx), "ogb-scaffold"

    def out_channels(self, dataset: Dataset) -> int:
        return dataset[0].y.size(-1)

    def predict(self, model: torch.nn.Module, batch: Batch) -> tuple[Tensor, Tensor]:
        out, target = super().predict(model, batch)
        return out, target.view(out.shape)

    def loss(self, out: Tensor, target: Tensor) -> Tensor:
        labelled = ~torch.isnan(target)  # OGB marks a missing label NaN
        return self.criterion(out[labelled], target[labelled])

    def metrics(self, out: Tensor, target: Tensor) -> dict[str, float]:
        score = self.evaluator.eval({"y_true": target.cpu().numpy(), "y_pred": out.cpu().numpy()})
        return {self.metric: float(score[self.metric]), "loss": float(self.loss(out, target))}


@register_task("ogb_graph_classification", paper="Hu et al., NeurIPS 2020 (OGB): scaffold split, ogb Evaluator")
class OgbGraphClassification(_OgbGraphTask):
    """Binary (multi-task) molecular classification; ROC-AUC from the ogb Evaluator."""

    name = "ogb_graph_classification"
    metric = "rocauc"
    unit = FRACTION
    direction = "max"
    criterion = staticmethod(F.binary_cross_entropy_with_logits)


@register_task("ogb_graph_regression", paper="Hu et al., NeurIPS 2020 (OGB): scaffold split, ogb Evaluator")
class OgbGraphRegression(_OgbGraphTask):
    """Molecular property regression; RMSE from the ogb Evaluator."""

    name = "ogb_graph_regression"
    metric = "rmse"
    unit = AS_RECORDED
    direction = "min"
    criterion = staticmethod(F.mse_loss)
