"""Transductive link prediction on one graph, full-batch, with OGB's model-selection rules.

Split: PyG ``RandomLinkSplit`` (undirected; by default 16 % of the edges for validation and 20 % for test, as
ForwardGNN), seeded per run, each positive pair matched by one negative pair sampled **once** with the split:
the training negatives are fixed for every epoch, and every model sees the same validation and test
negatives. Message passing uses the training edges for training and validation; the test pairs are scored on
the training plus validation edges (``test_graph="train_val"``, the default: ``RandomLinkSplit``'s test graph,
which ForwardGNN's official evaluation and OGB's link tasks use, the validation edges being known by then), or
on the training edges alone (``test_graph="train"``).

Scores: a model's ``forward(x, edge_index)`` gives node embeddings and a pair's logit is the dot product of its
two embeddings; a model whose pair score is something else defines ``score_pairs(x, edge_index, pairs)``
returning the logits itself. Metric: ROC-AUC (primary), average precision and Hits@K recorded beside it.
The default protocol is Adam on the binary cross-entropy of the training pairs, the epoch selected on
validation ROC-AUC (ties: lower validation loss), and the test pairs scored once, at the selected epoch.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch_geometric.data import Data
from torch_geometric.transforms import RandomLinkSplit

from gnnbench import hparams as hp
from gnnbench.data.checks import check_graph
from gnnbench.registry import Entry, register_task
from gnnbench.tasks.base import Budget, FitResult, RunContext, Task, check_output, method_takes
from gnnbench.tasks.metrics import average_precision, hits_at_k, roc_auc
from gnnbench.units import FRACTION

SPLITS = ("train", "val", "test")
#: the message-passing edges the test pairs are scored on: training plus validation edges, or training edges
TEST_GRAPHS = ("train_val", "train")


@dataclass(frozen=True)
class LinkOptions:
    """Fractions of the (undirected) edges held out, the embedding width handed to models, K of Hits@K, and
    the graph the test pairs are scored on (``train_val`` or ``train``)."""

    val_fraction: float = 0.16
    test_fraction: float = 0.2
    embedding_channels: int = 128
    hits_k: int = 50
    split_seed: int | None = None  # None: every seed draws its own split
    test_graph: str = "train_val"

    def __post_init__(self) -> None:
        if self.test_graph not in TEST_GRAPHS:
            raise ValueError(f"test_graph must be one of {', '.join(TEST_GRAPHS)}, got {self.test_graph!r}")
        if not (0 < self.val_fraction < 1 and 0 < self.test_fraction < 1
                and self.val_fraction + self.test_fraction < 1):
            raise ValueError("link split fractions need 0 < val_fraction, 0 < test_fraction and a sum below 1; "
                             f"got {self.val_fraction} and {self.test_fraction}")
        if self.embedding_channels < 1 or self.hits_k < 1:
            raise ValueError(f"embedding_channels and hits_k must be positive, got {self.embedding_channels} "
                             f"and {self.hits_k}")


@register_task("link_prediction", paper="RandomLinkSplit protocol (ForwardGNN, Park et al., ICLR 2024); OGB rules")
class LinkPrediction(Task):
    """Transductive link prediction; ROC-AUC (AP and Hits@K recorded), validation-selected epoch."""

    name = "link_prediction"
    metric = "roc_auc"
    unit = FRACTION
    direction = "max"
    train_hparams = {"lr": 0.01, "weight_decay": 5e-4}
    Options = LinkOptions

    def label(self) -> str:
        """Test pairs scored on the training edges alone is another protocol: its runs get their own rows."""
        return self.name if self.options.test_graph == "train_val" else f"{self.name}(test_graph=train)"

    @classmethod
    def preset_model_args(cls, options: LinkOptions) -> dict[str, Any]:
        """Models embed nodes, as wide as the options say; the pair score is a dot product of embeddings."""
        return {"out_channels": options.embedding_channels}

    @classmethod
    def model_call(cls, model: Any) -> dict[str, tuple[str, ...]]:
        """``model(x, edge_index)`` for node embeddings; ``model.score_pairs(x, edge_index, pairs)`` instead for a
        model that scores pairs itself, whose ``forward`` the task never calls (:meth:`pair_logits`). A
        ``score_pairs`` its ``__init__`` sets is known once the model is built (as the graph tasks' ``takes_batch``),
        so a class without one whose ``forward`` cannot take ``(x, edge_index)`` is not refused on a guess when the
        suite loads: ``score_pairs`` is its call until then, and :meth:`fit_model` checks the built model."""
        if callable(getattr(model, "score_pairs", None)) or (
                isinstance(model, type) and not method_takes(model, "forward", ("x", "edge_index"))):
            return {"score_pairs": ("x", "edge_index", "pairs")}
        return {"forward": ("x", "edge_index")}

    def check_data(self, data: Data) -> None:
        """One graph with node features (:func:`~gnnbench.data.checks.check_graph`): its edges are split."""
        check_graph(data)

    def run(self, entry: Entry, data: Data, hparams: Mapping[str, Any], budget: Budget, ctx: RunContext) -> dict:
        opts: LinkOptions = self.options
        split, split_id = self.with_split(data, ctx.seed)
        model_kwargs, train_kwargs = hp.split(entry.obj, hparams)
        model = entry.obj(in_channels=split.num_features, **self.preset_model_args(opts), **model_kwargs)
        model, split = model.to(ctx.device), split.to(ctx.device)
        fit = self.fit_model(model, hide_test(split), train_kwargs, budget, ctx)
        return {
            "metrics": self.evaluate(model, split, SPLITS),
            "split": split_id,
            **fit.record(model),
            "data": {"num_nodes": split.num_nodes, "num_message_edges": split.num_edges,
                     "num_test_message_edges": int(split.test_edge_index.size(1)),
                     **{f"num_{s}_pairs": int(split[f"{s}_pairs"].size(1)) for s in SPLITS}},
        }

    def with_split(self, data: Data, seed: int) -> tuple[Data, str]:
        """Features, the training edges (both directions) for message passing, the test pairs' message edges
        (``test_edge_index``), and labelled pairs per split."""
        opts: LinkOptions = self.options
        split_seed = seed if opts.split_seed is None else opts.split_seed
        transform = RandomLinkSplit(num_val=opts.val_fraction, num_test=opts.test_fraction, is_undirected=True,
                                    neg_sampling_ratio=1.0, split_labels=False, add_negative_train_samples=True)
        with torch.random.fork_rng(devices=[]):
            python_state = random.getstate()  # PyG's negative sampling draws from Python's generator
            torch.manual_seed(split_seed)
            random.seed(split_seed)
            try:
                parts = transform(Data(x=data.x, edge_index=data.edge_index, num_nodes=data.num_nodes))
            finally:
                random.setstate(python_state)
        test_edges = parts[2].edge_index if opts.test_graph == "train_val" else parts[0].edge_index
        out = Data(x=data.x, edge_index=parts[0].edge_index, test_edge_index=test_edges, num_nodes=data.num_nodes)
        for name, part in zip(SPLITS, parts, strict=True):
            out[f"{name}_pairs"], out[f"{name}_labels"] = part.edge_label_index, part.edge_label
        return out, (f"random_link(val={opts.val_fraction},test={opts.test_fraction},neg=1.0,"
                     f"seed={split_seed},test_graph={opts.test_graph})")

    @staticmethod
    def pair_logits(model: torch.nn.Module, data: Data, pairs: torch.Tensor,
                    edge_index: torch.Tensor | None = None) -> torch.Tensor:
        """One logit per pair (``[2, P]``) with messages over ``edge_index`` (default: the training edges): the
        model's ``score_pairs``, else the embeddings' dot product."""
        edge_index = data.edge_index if edge_index is None else edge_index
        score_pairs = getattr(model, "score_pairs", None)
        if callable(score_pairs):
            return check_output(model, score_pairs(data.x, edge_index, pairs), pairs.size(1), (1,),
                                f"one logit per pair: ({pairs.size(1)},)", method="score_pairs")
        h = check_output(model, model(data.x, edge_index), data.num_nodes, (2,),
                         f"node embeddings of shape ({data.num_nodes}, channels)")
        return (h[pairs[0]] * h[pairs[1]]).sum(-1)

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, data: Data, splits: Iterable[str]) -> dict[str, dict[str, float]]:
        """Metrics of each split in eval mode, the pairs of the splits sharing a message graph scored in one pass:
        train and val on the training edges, test on ``test_edge_index``."""
        model.eval()
        splits = tuple(splits)
        metrics: dict[str, dict[str, float]] = {}
        for group in ([s for s in splits if s != "test"], [s for s in splits if s == "test"]):
            if group:
                edge_index = data.test_edge_index if group == ["test"] else data.edge_index
                pairs = [data[f"{s}_pairs"] for s in group]
                logits = self.pair_logits(model, data, torch.cat(pairs, 1), edge_index)
                for s, out in zip(group, logits.split([p.size(1) for p in pairs]), strict=True):
                    metrics[s] = self.pair_metrics(out, data[f"{s}_labels"])
        return {s: metrics[s] for s in splits}

    def pair_metrics(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """ROC-AUC, average precision, Hits@K and the binary cross-entropy of pair logits against 0/1 labels."""
        return {"roc_auc": roc_auc(logits, labels), "average_precision": average_precision(logits, labels),
                f"hits@{self.options.hits_k}": hits_at_k(logits, labels, self.options.hits_k),
                "loss": float(F.binary_cross_entropy_with_logits(logits, labels.float()))}

    def fit(self, model: torch.nn.Module, data: Data, train_hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext) -> FitResult:
        labels = data.train_labels.float()

        def loss() -> torch.Tensor:
            return F.binary_cross_entropy_with_logits(self.pair_logits(model, data, data.train_pairs), labels)

        return self.train_full_batch(model, loss, lambda: self.evaluate(model, data, ("val",))["val"],
                                     train_hparams, budget, ctx)


def hide_test(data: Data) -> Data:
    """A view for the training protocol without the test pairs, labels and message graph; it shares the other
    tensors with ``data``."""
    view = copy.copy(data)
    del view.test_pairs, view.test_labels, view.test_edge_index
    return view
