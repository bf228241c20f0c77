"""Tasks over collections of graphs, trained in mini-batches: graph classification, graph regression, and
node classification and regression in many small graphs (inductive; e.g. DictionaryLookup, node-level
substructure counts).

**Splits.** ``split: cv`` is the protocol of Errica et al. ("A Fair Comparison of Graph Neural Networks for
Graph Classification", ICLR 2020): a stratified ``folds``-fold partition drawn once with ``split_seed`` (the same
folds for every model), and inside each training fold a stratified holdout of ``val_fraction`` for model
selection. **The run's seed is the fold index** (``seeds: 10`` runs folds 0..9, each also seeding the model's
initialisation), so a leaderboard's mean +- std over seeds is the mean +- std over the test folds; the record's
``split`` names the fold. ``split: dataset`` uses the split a dataset ships (``dataset.split_idx``).

**Selection.** As for node classification: the training protocol sees only the training and validation graphs,
the epoch is selected on the validation metric (ties: lower validation loss) with early stopping, and the test
graphs are evaluated once, with the selected state.

**Training.** Adam or AdamW on mini-batches (``batch_size``), optional linear warm-up and reduce-on-plateau of
the training loss (:mod:`gnnbench.tasks.optim`). Models are called ``model(x, edge_index, batch)`` for
graph-level targets (one output row per graph) and ``model(x, edge_index)`` for node-level targets (one row
per node).

**Model hooks** (all optional): ``graph_transform()`` returns a PyG transform applied once to every graph
before the run (a per-graph precomputation, e.g. path enumeration; its time is recorded as ``preprocess_s``);
``takes_batch = True`` makes the task call ``model(batch)`` with the whole mini-batch (at either level; a
constructor argument ``level`` receives ``"graph"`` or ``"node"``); ``auxiliary_loss(batch)``
is added to the training loss (e.g. a contrastive term).
"""

from __future__ import annotations

import inspect
import time
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Batch, Dataset
from torch_geometric.loader import DataLoader

from gnnbench import hparams as hp
from gnnbench.data.checks import check_graph_set, check_split_idx
from gnnbench.data.collection import GraphCollection
from gnnbench.data.scenarios import Scenario, perturbed_graphs
from gnnbench.errors import DataError, SeedError
from gnnbench.options import added_option
from gnnbench.registry import Entry, register_task
from gnnbench.tasks.base import (
    Budget,
    FitResult,
    RunContext,
    Task,
    check_finite,
    check_output,
    method_takes,
    train_epochs,
)
from gnnbench.tasks.metrics import check_scored, classification
from gnnbench.tasks.optim import LRSchedule, build_optimizer, check_hparams, unread_schedule
from gnnbench.tasks.splits import holdout, stratified_folds
from gnnbench.units import AS_RECORDED, FRACTION

SPLITS = ("train", "val", "test")
EVAL_BATCH = 512


@dataclass(frozen=True)
class GraphOptions:
    """``split: cv``: ``folds``-fold CV (the run seed is the fold) with an inner ``val_fraction`` holdout;
    ``split: dataset``: the dataset's own train/val/test graphs."""

    split: Literal["cv", "dataset"] = "cv"
    folds: int = 10
    val_fraction: float = 0.1
    split_seed: int = 0

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise ValueError(f"folds must be >= 2, got {self.folds}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")

    def unused(self) -> dict[str, str]:
        """Options this split never reads, with the reason (as :meth:`NodeOptions.unused`)."""
        if self.split == "dataset":
            return dict.fromkeys(("folds", "val_fraction", "split_seed"),
                                 "split 'dataset' uses the dataset's own train/val/test graphs (split: cv draws folds)")
        return {}


@dataclass(frozen=True)
class RegressionOptions(GraphOptions):
    """As :class:`GraphOptions`, plus the error the task trains, selects the epoch on and reports: ``l1`` (MAE)
    or ``mse`` (the SIR-GCN authors' synthetic-task protocol). The other error is recorded beside it."""

    loss: Literal["l1", "mse"] = added_option("l1")


def check_fold(options: GraphOptions, seed: int) -> None:
    """Under ``split: cv`` the run seed is the fold index."""
    if not 0 <= seed < options.folds:
        raise SeedError(f"with split 'cv' the seed is the fold index, so it must be in 0..{options.folds - 1}; "
                        f"got seed {seed} (use seeds: {options.folds})")


@dataclass
class GraphSplits:
    """What a training protocol gets: the training and validation graphs (never the test graphs)."""

    train: Dataset
    val: Dataset


class GraphTask(Task):
    """Mini-batch training over a dataset of graphs; subclasses set the target level, loss and metrics."""

    #: "graph": one target per graph (the model pools); "node": targets on nodes, ``y = -1`` where there is none
    level: ClassVar[str]
    #: whether the CV folds and the holdout are stratified by class
    stratified: ClassVar[bool]
    train_hparams = {"lr": 0.01, "weight_decay": 0.0, "batch_size": 32, "optimizer": "adam", "warmup_epochs": 0,
                     "lr_patience": 0, "lr_factor": 0.5}
    optional_train_hparams = {"lr_step": 0}
    Options = GraphOptions
    #: the run's class count (None for real targets), set by :meth:`run`: the columns a classifier's scores must
    #: have, and whether the selected model's scores are checked for NaN
    columns: int | None = None

    def run(self, entry: Entry, dataset: Dataset, hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext) -> dict:
        index, split_id = self.split(dataset, ctx.seed)
        model_kwargs, train_kwargs = hp.split(entry.obj, hparams)
        if "level" in inspect.signature(entry.obj).parameters:  # a model that reads out graphs or nodes
            model_kwargs = {**model_kwargs, "level": self.level}
        self.columns = self.classes(dataset)
        model = entry.obj(in_channels=dataset.num_features, out_channels=self.columns or self.out_channels(dataset),
                          **model_kwargs)  # a classifier's width is its class count, already read
        model = model.to(ctx.device)
        parts = {s: dataset[index[s]] for s in SPLITS}
        perturbed = None
        if self.scenario is not None:  # the training graphs only: validation and test stay clean
            graphs, perturbed = perturbed_graphs(self.scenario, list(parts["train"]), self.columns, ctx.seed,
                                                  self.level)
            parts["train"] = GraphCollection(graphs)
        started = time.perf_counter()
        parts = {s: self.prepare(model, part) for s, part in parts.items()}
        preprocess_s = time.perf_counter() - started
        fit = self.fit_model(model, GraphSplits(parts["train"], parts["val"]), train_kwargs, budget, ctx)
        metrics = {s: self.evaluate(model, self.loader(parts[s]), ctx.device, selected=True) for s in SPLITS}
        result = {
            "metrics": metrics,
            "split": split_id,
            **fit.record(model),
            "preprocess_s": preprocess_s,
            "data": {"num_graphs": len(dataset), **{f"num_{s}": len(parts[s]) for s in SPLITS},
                     "node_features": getattr(dataset, "node_features", "dataset features")},
        }
        if perturbed is not None:
            result["scenario"] = perturbed
        return result

    def classes(self, dataset: Dataset) -> int | None:
        """Number of classes of the targets (None for real-valued targets): what label scenarios need."""
        return None

    @classmethod
    def check_run(cls, options: GraphOptions, dataset: Entry, hparams: Mapping[str, Any], seed: int) -> None:
        check_hparams(hparams)
        if not isinstance(options, GraphOptions):  # OGB's tasks have the dataset's split
            return
        if options.split == "cv":
            check_fold(options, seed)
        elif dataset.meta.get("ships_split") is False:  # unknown (a plugin's dataset): checked when it loads
            raise ValueError(f"split 'dataset' needs a dataset that ships train/val/test graphs; {dataset.name} "
                             "ships none (use split: cv)")

    @classmethod
    def preset_model_args(cls, options: Any) -> dict[str, Any]:
        """The target level, which :meth:`run` hands to a model that takes ``level``: every model's hooks see it
        (SIR-GCN's ``pool`` is unread at node level)."""
        return {"level": cls.level}

    @classmethod
    def model_call(cls, model: Any) -> dict[str, tuple[str, ...]]:
        """``model(batch)`` with the whole mini-batch for a model that ``takes_batch``; else ``model(x, edge_index,
        batch)`` for graph targets (``batch``: each node's graph, for pooling), ``model(x, edge_index)`` for node
        targets (:meth:`output`). A model class says ``takes_batch`` by a bool class attribute; one it sets in
        ``__init__`` (or a property) is known once the model is built, so until then ``model(batch)`` is its call
        where its ``forward`` takes it: a ``forward`` taking neither call is refused when the suite loads, and
        :meth:`fit_model` checks the built model."""
        if not isinstance(model, type):
            takes_batch = getattr(model, "takes_batch", False)
        elif not isinstance(takes_batch := inspect.getattr_static(model, "takes_batch", None), bool):
            takes_batch = method_takes(model, "forward", ("batch",))
        if takes_batch:
            return {"forward": ("batch",)}
        return {"forward": ("x", "edge_index", "batch") if cls.level == "graph" else ("x", "edge_index")}

    @classmethod
    def unread_hparams(cls, hparams: Mapping[str, Any], dataset: Entry) -> dict[str, str]:
        return unread_schedule(hparams)

    def check_data(self, data: Dataset) -> None:
        """A dataset of graphs with features and targets (:func:`~gnnbench.data.checks.check_graph_set`);
        ``split: cv`` no more folds than graphs; ``split: dataset`` the dataset's own train/val/test graphs
        (``split_idx``)."""
        check_graph_set(data)
        if not isinstance(self.options, GraphOptions):
            return
        if self.options.split == "cv" and self.options.folds > len(data):
            raise DataError(f"split cv with folds {self.options.folds} needs a graph per fold at least; the dataset "
                            f"has {len(data)} graphs")
        if self.options.split != "dataset":
            return
        split_idx = getattr(data, "split_idx", None)
        if split_idx is None:
            raise DataError(f"split 'dataset' needs a dataset with split_idx {{train, val, test}}; "
                            f"{type(data).__name__} has none (use split: cv)")
        check_split_idx(split_idx, len(data))

    def split(self, dataset: Dataset, seed: int) -> tuple[dict[str, Tensor], str]:
        """Graph indices of each split for this run, and an id naming the split (and the fold)."""
        opts: GraphOptions = self.options
        if opts.split == "dataset":
            self.check_data(dataset)
            return dict(dataset.split_idx), "dataset"
        check_fold(opts, seed)
        y = self.targets(dataset) if self.stratified else None
        strata = y if y is not None else torch.zeros(len(dataset), dtype=torch.long)
        test = stratified_folds(strata, opts.folds, opts.split_seed)[seed]
        rest = torch.ones(len(dataset), dtype=torch.bool)
        rest[test] = False
        train, val = holdout(rest.nonzero().view(-1), y, opts.val_fraction, opts.split_seed * opts.folds + seed)
        split_id = f"cv(folds={opts.folds},split_seed={opts.split_seed},val={opts.val_fraction}):fold={seed}"
        return {"train": train, "val": val, "test": test}, split_id

    @staticmethod
    def prepare(model: torch.nn.Module, dataset: Dataset) -> Dataset:
        """The dataset with the model's ``graph_transform`` applied once to every graph (unchanged without one)."""
        if not hasattr(model, "graph_transform"):
            return dataset
        transform = model.graph_transform()
        prepared = GraphCollection([transform(graph.clone()) for graph in dataset])
        for attr in ("split_idx", "node_features"):
            if hasattr(dataset, attr):
                setattr(prepared, attr, getattr(dataset, attr))
        return prepared

    @staticmethod
    def targets(dataset: Dataset) -> Tensor:
        """Every target of the dataset, concatenated (one per graph for graph-level tasks)."""
        data = getattr(dataset, "_data", None)
        if data is None or getattr(dataset, "_indices", None) is not None:  # not collated, or a subset view
            return torch.cat([g.y for g in dataset])
        return data.y

    @staticmethod
    def loader(dataset: Dataset, batch_size: int = EVAL_BATCH, shuffle: bool = False,
               seed: int = 0) -> DataLoader:
        generator = torch.Generator().manual_seed(seed) if shuffle else None
        return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)

    def output(self, model: torch.nn.Module, batch: Batch) -> Tensor:
        """The model's output on a mini-batch: one row per graph, or per node for node-level targets. Another
        shape (a graph-level model that forgot to pool) is named here, not by a loss deep in the task."""
        if getattr(model, "takes_batch", False):
            out = model(batch)
        elif self.level == "graph":
            out = model(batch.x, batch.edge_index, batch.batch)
        else:
            out = model(batch.x, batch.edge_index)
        rows = batch.num_graphs if self.level == "graph" else batch.num_nodes
        unpooled = self.level == "graph" and isinstance(out, Tensor) and out.dim() and out.size(0) != rows
        pooled = " (pool the node states: forward(x, edge_index, batch))" if unpooled else ""
        shape = f"({rows}, {self.columns}): one column per class" if self.columns else f"({rows}, ...)"
        return check_output(model, out, rows, (2,) if self.columns else (1, 2),
                            f"one row per {self.level}, {shape} for this batch of {batch.num_graphs} graphs and "
                            f"{batch.num_nodes} nodes{pooled}", columns=self.columns)

    def predict(self, model: torch.nn.Module, batch: Batch) -> tuple[Tensor, Tensor]:
        """(model output, target) of the items that have a target (nodes without one have ``y = -1``)."""
        out = self.output(model, batch)
        if self.level == "graph":
            return out, batch.y
        has_target = batch.y >= 0
        return out[has_target], batch.y[has_target]

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, loader: DataLoader, device: torch.device,
                 selected: bool = False) -> dict[str, float]:
        """The metrics of one split, from every batch of ``loader`` in eval mode; the ``selected`` model's class
        scores are checked for NaN."""
        model.eval()
        outs, targets = [], []
        for batch in loader:
            out, target = self.predict(model, batch.to(device))
            outs.append(out)
            targets.append(target)
        out = torch.cat(outs)
        if selected and self.columns:
            check_scored(model, out, f"{self.level}s")
        return self.metrics(out, torch.cat(targets))

    def fit(self, model: torch.nn.Module, data: GraphSplits, train_hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext) -> FitResult:
        optimizer = build_optimizer(model.parameters(), train_hparams)
        schedule = LRSchedule(optimizer, train_hparams)
        train_loader = self.loader(data.train, train_hparams["batch_size"], shuffle=True, seed=ctx.seed)
        val_loader = self.loader(data.val)

        def epoch_step(epoch: int) -> dict[str, float]:
            lr = schedule.current()
            loss = self.train_epoch(model, train_loader, optimizer, ctx.device, epoch)
            schedule.step(epoch, loss)
            return {"train_loss": loss, "lr": lr}

        return train_epochs(model, epoch_step, lambda: self.evaluate(model, val_loader, ctx.device), self, budget,
                            ctx, warmup=schedule.warmup)

    def train_epoch(self, model: torch.nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer,
                    device: torch.device, epoch: int) -> float:
        """One pass over the training graphs; the mean training loss per target."""
        model.train()
        total, count = 0.0, 0
        for batch in loader:
            batch = batch.to(device)
            optimizer.zero_grad()
            out, target = self.predict(model, batch)
            loss = self.loss(out, target)
            if hasattr(model, "auxiliary_loss"):
                loss = loss + model.auxiliary_loss(batch)
            check_finite(loss, epoch)
            loss.backward()
            optimizer.step()
            total += loss.item() * target.size(0)
            count += target.size(0)
        return total / max(count, 1)

    @abstractmethod
    def out_channels(self, dataset: Dataset) -> int:
        """Width of the model's output."""

    @abstractmethod
    def loss(self, out: Tensor, target: Tensor) -> Tensor:
        """The training loss of a batch."""

    @abstractmethod
    def metrics(self, out: Tensor, target: Tensor) -> dict[str, float]:
        """Every metric of one split (``self.metric`` and ``loss`` among them)."""


class _Classification(GraphTask):
    metric = "accuracy"
    unit = FRACTION
    direction = "max"

    def classes(self, dataset: Dataset) -> int | None:
        return self.out_channels(dataset)

    def check_data(self, data: Dataset) -> None:
        """As every graph task's, with int64 class ids (what the loss takes) in the first graph's ``y``."""
        super().check_data(data)
        if (dtype := data[0].y.dtype) != torch.long:
            raise DataError(f"the first graph's y has dtype {str(dtype).removeprefix('torch.')}; expected int64 class "
                            "ids (y.long() converts integer ids)")

    def out_channels(self, dataset: Dataset) -> int:
        return int(self.targets(dataset).max()) + 1

    def loss(self, out: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(out, target)

    def metrics(self, out: Tensor, target: Tensor) -> dict[str, float]:
        return classification(out, target)


@register_task("graph_classification", paper="Errica et al., ICLR 2020 (arXiv 1912.09893): k-fold CV protocol")
class GraphClassification(_Classification):
    """One class per graph; accuracy (macro-F1 recorded), stratified 10-fold CV by default."""

    name = "graph_classification"
    level = "graph"
    stratified = True


@register_task("inductive_node_classification", paper="node targets in many graphs, split by graph")
class InductiveNodeClassification(_Classification):
    """Node classes in a collection of graphs (nodes without a target have ``y = -1``), split by graph."""

    name = "inductive_node_classification"
    level = "node"
    stratified = False


@register_task("graph_regression", paper="mini-batch graph regression (MAE, or MSE under loss: mse)")
class GraphRegression(GraphTask):
    """One real target per graph (``y`` of shape [1] or [1, t]). The option ``loss`` (default ``l1``) is the
    training loss and, as MAE or MSE, the metric that selects and reports; both errors are recorded."""

    name = "graph_regression"
    metric = "mae"
    unit = AS_RECORDED
    direction = "min"
    level = "graph"
    stratified = False
    Options = RegressionOptions

    def __init__(self, options: RegressionOptions, scenario: Scenario | None = None) -> None:
        super().__init__(options, scenario)
        # a plugin subclass may have options without ``loss``: it trains L1 and keeps its class's metric
        self.squared = getattr(options, "loss", "l1") == "mse"
        if self.squared:
            self.metric = "mse"

    def label(self) -> str:
        """MSE and MAE runs never share a leaderboard row."""
        return f"{self.name}(loss=mse)" if self.squared else self.name

    def out_channels(self, dataset: Dataset) -> int:
        y = dataset[0].y
        return 1 if y.dim() < 2 else y.size(-1)

    def predict(self, model: torch.nn.Module, batch: Batch) -> tuple[Tensor, Tensor]:
        """Every item has a target: the output and the target, shaped alike."""
        out = self.output(model, batch)
        return out, batch.y.view(out.shape).to(out.dtype)

    def loss(self, out: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(out, target) if self.squared else F.l1_loss(out, target)

    def metrics(self, out: Tensor, target: Tensor) -> dict[str, float]:
        return {"mae": float(F.l1_loss(out, target)), "mse": float(F.mse_loss(out, target)),
                "loss": float(self.loss(out, target))}


@register_task("inductive_node_regression",
               paper="real node targets in many graphs, split by graph (MAE, or MSE under loss: mse)")
class InductiveNodeRegression(GraphRegression):
    """One real target per node of every graph (``y`` of shape [n] or [n, t]), split by graph; ``loss`` as
    graph regression's."""

    name = "inductive_node_regression"
    level = "node"
