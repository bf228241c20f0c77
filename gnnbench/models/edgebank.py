r"""EdgeBank: a non-parametric memory of the edges seen so far (Poursafaei et al., "Towards Better Evaluation for
Dynamic Link Prediction", NeurIPS 2022), TGB's sanity baseline.

A pair scores 1 when it is in the memory, else 0:

.. math::
    s(u, v, t) = \mathbb{1}\big[\exists\, (u, v, t') \in \mathcal{H},\ t' \ge t - w\big]

with :math:`\mathcal{H}` the events observed before the batch. ``memory = "unlimited"`` keeps every edge (:math:`w
= \infty`); ``memory = "time_window"`` keeps the edges of the last :math:`w` time units. The paper's fixed window
is the duration of the test period; the test period is hidden while the model is fitted, so :math:`w` is the
duration of the validation period, the same share of the stream (15 % under 70/15/15). The memory is the
``history`` the task passes, so it holds exactly the training and validation events (and the earlier test events)
and nothing of the batch. Nothing is trained.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
from torch import Tensor
from torch_geometric.data import TemporalData

from gnnbench.registry import register_model
from gnnbench.tasks.base import Budget, FitResult, RunContext
from gnnbench.tasks.temporal_link import StreamSplit, TemporalLinkModel, TemporalLinkPrediction

PAPER = "Poursafaei et al., NeurIPS 2022"


@register_model("edgebank", paper=PAPER, tasks=("temporal_link",), defaults={"memory": "unlimited"})
@register_model("edgebank_tw", paper=PAPER, tasks=("temporal_link",), defaults={"memory": "time_window"})
class EdgeBank(TemporalLinkModel):
    """EdgeBank: 1 for a pair already seen (ever, or within a time window), else 0; no parameters."""

    fit_hparams: dict[str, Any] = {}

    def __init__(self, in_channels: int, out_channels: int, num_nodes: int,
                 memory: Literal["unlimited", "time_window"] = "unlimited") -> None:
        super().__init__()
        self.num_nodes, self.memory = num_nodes, memory
        self.window: float | None = None

    def fit(self, task: TemporalLinkPrediction, split: StreamSplit, hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext) -> FitResult:
        """Nothing to learn: set the window to the validation period's duration, and score its events once."""
        start, end = split.ranges["val"]
        self.window = float(split.full.t[end - 1] - split.full.t[start]) if self.memory == "time_window" else None
        val = task.evaluate(self, split, "val")
        return FitResult(best_epoch=0, epochs_run=0, history={f"val_{k}": [v] for k, v in val.items()})

    def link_logits(self, history: TemporalData, src: Tensor, dst: Tensor, t: Tensor) -> Tensor:
        if self.window is not None and history.num_events:
            history = history[history.t >= t.min() - self.window]
        seen = history.src * self.num_nodes + history.dst
        return torch.isin(src.unsqueeze(1) * self.num_nodes + dst, seen).float()
