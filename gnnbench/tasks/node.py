"""Transductive node classification, full-batch, with OGB's model-selection rules.

Splits: the dataset's public split (Planetoid: 20 per class / 500 / 1,000) or seeded class-stratified random
splits (fractions per class). Metric: accuracy, with macro-F1 recorded beside it. The default protocol is
Adam on the cross-entropy of the training nodes, the epoch selected on validation accuracy (ties: lower
validation loss) with early stopping, and the test split evaluated once, at the selected epoch.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch_geometric.data import Data

from gnnbench import hparams as hp
from gnnbench.data import scenarios
from gnnbench.data.checks import check_classes, check_graph, described_value
from gnnbench.errors import DataError
from gnnbench.kernels import CONCRETE, candidates, model_kernels
from gnnbench.kernels.adjacency import graph_of, with_graph
from gnnbench.kernels.auto import use_kernel
from gnnbench.registry import Entry, register_task
from gnnbench.tasks.base import Budget, FitResult, RunContext, Task, check_output
from gnnbench.tasks.metrics import check_scored, classification
from gnnbench.tasks.splits import check_fractions, stratified_masks
from gnnbench.units import FRACTION

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class NodeOptions:
    """``split: public`` uses the dataset's masks; ``split: random`` draws per-class fractions."""

    split: Literal["public", "random"] = "public"
    train_fraction: float = 0.6
    val_fraction: float = 0.2
    split_seed: int | None = None  # None: every seed draws its own split

    def __post_init__(self) -> None:
        check_fractions(self.train_fraction, self.val_fraction)

    def unused(self) -> dict[str, str]:
        """Options this split never reads, with the reason: a suite setting one is told so, rather than getting new
        run ids for the same runs."""
        if self.split == "public":
            return dict.fromkeys(("train_fraction", "val_fraction", "split_seed"),
                                 "split 'public' uses the dataset's own masks (split: random draws fractions)")
        return {}


@register_task("node_classification", paper="OGB rules: Hu et al., NeurIPS 2020")
class NodeClassification(Task):
    """Transductive node classification; accuracy (macro-F1 recorded), validation-selected epoch."""

    name = "node_classification"
    metric = "accuracy"
    unit = FRACTION
    direction = "max"
    train_hparams = {"lr": 0.01, "weight_decay": 5e-4}
    Options = NodeOptions
    kernels = CONCRETE  # full-batch on one fixed graph: the adjacency is built once per run
    #: the run's class count, set by :meth:`run`: the columns a model's scores must have (as GraphTask's)
    columns: int | None = None

    def run(self, entry: Entry, data: Data, hparams: Mapping[str, Any], budget: Budget, ctx: RunContext) -> dict:
        data, split_id = self.with_split(data, ctx.seed)
        perturbed = None
        if self.scenario is not None:  # training labels / mask / graph only; evaluation below uses clean labels
            data, perturbed = scenarios.perturbed(self.scenario, data, ctx.seed)
        model_kwargs, train_kwargs = hp.split(entry.obj, hparams)
        self.columns = self.num_classes(data)
        model = entry.obj(in_channels=data.num_features, out_channels=self.columns, **model_kwargs)
        self.check_call(model)  # before kernel: auto times a forward
        model, data = model.to(ctx.device), data.to(ctx.device)
        num_edges = data.num_edges
        graph, kernel = use_kernel(ctx.kernel, candidates(model_kernels(entry), self.kernels), model, data.x,
                                   data.edge_index, ctx.device, ctx.untracked)
        ctx.kernel_choice = kernel.to_record()
        data = with_graph(data, graph)
        fit = self.fit_model(model, hide_test(data), train_kwargs, budget, ctx)
        metrics = self.evaluate(model, data, SPLITS)
        result = {
            "metrics": metrics,
            "split": split_id,
            **fit.record(model),
            "data": {"num_nodes": data.num_nodes, "num_edges": num_edges,
                     **{f"num_{s}": int(data[f"{s}_mask"].sum()) for s in SPLITS}},
        }
        if perturbed is not None:
            result["scenario"] = perturbed
        if fit.loading is not None:
            result["loading"] = fit.loading
        return result

    @classmethod
    def model_call(cls, model: Any) -> dict[str, tuple[str, ...]]:
        """``model(x, edge_index)`` (:func:`node_scores`; ``edge_index`` in the form of the run's backend)."""
        return {"forward": ("x", "edge_index")}

    def check_data(self, data: Data) -> None:
        """One graph with features and a class id per node (:mod:`~gnnbench.data.checks`); ``split:
        public`` needs the dataset's own masks (:meth:`check_masks`)."""
        check_graph(data)
        check_classes(data.y, data.num_nodes, "node")
        if self.options.split == "public":
            self.check_masks(data)

    @staticmethod
    def check_masks(data: Data) -> None:
        """The public split: one boolean per node for each split, none empty, no node in two, every node in one
        labelled. An empty split would train on nothing (a NaN loss) or record a NaN metric as a result. Checked by
        every run that uses it, which the rest of :meth:`check_data` (once, before any run) is not."""
        masks = {s: getattr(data, f"{s}_mask", None) for s in SPLITS}
        if missing := [f"{s}_mask" for s, m in masks.items() if m is None]:
            raise DataError(f"split 'public' uses the dataset's own masks, and this dataset has no "
                            f"{', '.join(missing)} (a boolean tensor of one entry per node, {data.num_nodes} here); "
                            "use split: random")
        for split, mask in masks.items():
            if not (isinstance(mask, torch.Tensor) and mask.dtype == torch.bool
                    and tuple(mask.shape) == (data.num_nodes,)):
                raise DataError(f"{split}_mask is {described_value(mask)}; expected a boolean tensor of one entry per "
                                f"node ({data.num_nodes} here)")
            if not mask.any():
                raise DataError(f"{split}_mask selects no node; expected at least one node in each of train_mask, "
                                "val_mask and test_mask")
        for i, a in enumerate(SPLITS):  # a node in two splits would be trained on and then scored
            for b in SPLITS[i + 1:]:
                if shared := int((masks[a] & masks[b]).sum()):
                    raise DataError(f"{shared} nodes are in both {a}_mask and {b}_mask; expected disjoint splits")
        if unlabelled := int((data.y[masks["train"] | masks["val"] | masks["test"]] < 0).sum()):
            raise DataError(f"{unlabelled} nodes of the public split have y = -1; expected a class id for every node "
                            "in train_mask, val_mask and test_mask")

    def with_split(self, data: Data, seed: int) -> tuple[Data, str]:
        """``data`` with train/val/test masks for this run, and an id naming the split."""
        opts: NodeOptions = self.options
        if opts.split == "public":
            self.check_masks(data)
            return data, "public"
        split_seed = seed if opts.split_seed is None else opts.split_seed
        data = data.clone()
        data.train_mask, data.val_mask, data.test_mask = stratified_masks(
            data.y, opts.train_fraction, opts.val_fraction, split_seed)
        return data, f"random(train={opts.train_fraction},val={opts.val_fraction},seed={split_seed})"

    @staticmethod
    def num_classes(data: Data) -> int:
        return int(data.y.max()) + 1

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, data: Data, splits: Iterable[str]) -> dict[str, dict[str, float]]:
        """Loss, accuracy and macro-F1 on each split from one forward pass in eval mode."""
        model.eval()
        splits = tuple(splits)
        out = node_scores(model, data, self.columns)
        if "test" in splits:  # the selected model, whose scores on the splits' nodes are ranked
            check_scored(model, out[torch.stack([data[f"{split}_mask"] for split in splits]).any(0)], "nodes")
        return self.metrics(out, data, splits)

    def metrics(self, out: torch.Tensor, data: Data, splits: Iterable[str]) -> dict[str, dict[str, float]]:
        """Loss, accuracy and macro-F1 of the logits ``out`` (one row per node) on each split."""
        return {split: classification(out[data[f"{split}_mask"]], data.y[data[f"{split}_mask"]]) for split in splits}

    def fit(self, model: torch.nn.Module, data: Data, train_hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext, train_logits: Callable[[], torch.Tensor] | None = None) -> FitResult:
        """Adam on the training nodes' cross-entropy. ``train_logits`` computes the training nodes' logits
        (default: a full forward restricted to ``train_mask``); a model whose nodes are independent once its
        propagation is precomputed passes a cheaper one."""
        def loss() -> torch.Tensor:
            out = (train_logits() if train_logits is not None else
                   node_scores(model, data, self.columns)[data.train_mask])
            return F.cross_entropy(out, data.y[data.train_mask])

        return self.train_full_batch(model, loss, lambda: self.evaluate(model, data, ("val",))["val"],
                                     train_hparams, budget, ctx)


def node_scores(model: torch.nn.Module, data: Data, classes: int | None = None) -> torch.Tensor:
    """The model's class scores, one row per node (and one column per class, given ``classes``): a model
    returning another shape is named here, not by an indexing error deep in the task, nor ranked on columns that
    are no classes."""
    return check_output(model, model(data.x, graph_of(data)), data.num_nodes, (2,),
                        f"class scores of shape ({data.num_nodes}, {classes or 'classes'}): one row per node"
                        + (" and one column per class" if classes else ""), columns=classes)


def hide_test(data: Data) -> Data:
    """A view for the training protocol: test labels replaced by -1 and no test mask, so nothing can select on test.
    The view shares every other tensor with ``data`` (a copy of the features would double the largest tensor of
    the run): only the labels are copied."""
    view = copy.copy(data)
    view.y = data.y.clone()
    view.y[data.test_mask] = -1
    del view.test_mask
    return view
