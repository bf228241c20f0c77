"""Architecture search as a task: a search algorithm (the suite's "model") spends a budget of child
evaluations, the final architecture is chosen on validation, and its test accuracy is reported once.

The dataset decides how children are evaluated:

* a NAS-Bench-Graph table (``nasbench-cora``, ...): the bench's cell space, each child's validation accuracy
  looked up (zero cost), and the selected architecture's tabulated test accuracy reported beside the table's
  oracle (the test accuracy of its best-validation architecture);
* a node-classification graph (``Cora``, ...): the GraphNAS/AGNN macro space with ``layers`` layers, each child
  trained by the node task's protocol on the public split with test labels hidden (budget: the run's
  ``epochs``/``patience``). The ``retrain_top`` best children by validation (the finalists) are retrained from
  scratch for ``retrain_seeds`` seeds each; the finalist with the best mean retrained validation accuracy is
  selected (the paper's final selection; with 1, the search's best child), and only its retrained models are
  evaluated on test. The record's metrics are the means over those seeds, with each seed's kept.

**The run's seed is the search seed.** The record keeps the whole trace (every child, its reward, its cost,
its parent), the budget, the wall time and the selected architecture; searched models get the same
leaderboard row format as hand-made ones (test accuracy of the validation-selected choice).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch_geometric import seed_everything
from torch_geometric.data import Data

from gnnbench import hparams as hp
from gnnbench.data.nasbench import BenchTable
from gnnbench.options import added_option, resolved_options
from gnnbench.registry import Entry, register_task
from gnnbench.search.base import Evaluation, Proposal, SearchAlgorithm, run_search, top
from gnnbench.search.layers import LayerForm
from gnnbench.search.space import Arch, Space, macro_space
from gnnbench.tasks.base import Budget, FitResult, RunContext, Task
from gnnbench.tasks.node import SPLITS, NodeClassification, NodeOptions, hide_test
from gnnbench.units import FRACTION


@dataclass(frozen=True)
class SearchOptions:
    """``budget`` child evaluations (distinct children unless ``count_repeats``); for trained children also
    the macro space's depth, the retraining seeds, the fine-tuning epochs of children that inherit weights, the
    largest child trained, the number of best children retrained before the final choice and the layers'
    aggregation form."""

    budget: int = 300
    #: False: a proposal repeating an evaluated architecture reuses its reward and is not counted
    count_repeats: bool = False
    layers: int = 2
    retrain_seeds: int = 10
    finetune_epochs: int = 20
    max_params: int = 5_000_000
    #: finalists retrained (``retrain_seeds`` each) before choosing on their mean retrained validation accuracy
    retrain_top: int = added_option(1)
    #: the macro layers' aggregation form: ``compact`` or GraphNAS's ``GeoLayer`` (:mod:`gnnbench.search.layers`)
    layer_form: LayerForm = added_option("compact")

    def __post_init__(self) -> None:
        for name in ("budget", "layers", "retrain_seeds", "finetune_epochs", "max_params", "retrain_top"):
            if getattr(self, name) < 1:  # located at its key, however many options are set
                raise hp.HparamError(name, f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.retrain_top > self.budget:
            raise hp.HparamError("retrain_top", f"retrain_top ({self.retrain_top}) cannot exceed the budget "
                                                f"({self.budget} children)")


#: task options only trained children read: a table's architectures are its own cells, looked up, never trained
TRAINED_ONLY = ("layers", "retrain_seeds", "finetune_epochs", "max_params")


def check_tabular(options: SearchOptions, hparams: Mapping[str, Any]) -> None:
    """A NAS-Bench-Graph table holds accuracies, not networks: nothing to inherit weights from, retrain or
    build in another layer form (its children's training keys are :meth:`ArchitectureSearch.unread_hparams`)."""
    defaults = SearchOptions()
    if option := next((k for k in TRAINED_ONLY if getattr(options, k) != getattr(defaults, k)), None):
        raise ValueError(f"{option} is read by trained children only; a NAS-Bench-Graph table's children are "
                         "looked up: remove it from this experiment's task options")
    if hparams.get("parameter_sharing"):
        raise hp.HparamError("parameter_sharing", "parameter_sharing needs trained children; "
                                                  "a NAS-Bench-Graph table has no weights")
    if options.retrain_top > 1:
        raise ValueError("retrain_top needs trained children; a NAS-Bench-Graph table has nothing to retrain")
    if options.layer_form != "compact":
        raise ValueError("layer_form needs trained children; a NAS-Bench-Graph table's cells are not macro layers")


@register_task("architecture_search", paper="AGNN protocol: Zhou et al. (arXiv 1909.03184); NAS-Bench-Graph: "
                                            "Qin et al., NeurIPS 2022")
class ArchitectureSearch(Task):
    """Search at a budget of child evaluations; select on validation; report the selected architecture's test."""

    name = "architecture_search"
    metric = "accuracy"
    unit = FRACTION
    direction = "max"
    #: children's training (GraphNAS's child defaults)
    train_hparams = {"lr": 0.005, "weight_decay": 5e-4}
    Options = SearchOptions
    #: its entries are search algorithms, built from their hyperparameters alone
    model_args = ()
    model_base = SearchAlgorithm

    def __init__(self, options: Any, scenario: Any = None) -> None:
        super().__init__(options, scenario)
        self.node = NodeClassification(NodeOptions())  # the public split; its protocol trains every child

    @classmethod
    def check_run(cls, options: SearchOptions, dataset: Entry, hparams: Mapping[str, Any], seed: int) -> None:
        batch, budget = hparams.get("batch_size", 0), options.budget  # an algorithm learning once per batch (AGNN)
        if budget > 2 and batch > budget - 2:  # the first child starts the search; a batch ends after it
            raise hp.HparamError("batch_size", f"batch_size ({batch}) leaves no batch that ends before the last of "
                                               f"the budget's {budget} children: what a batch teaches (AGNN's new "
                                               f"best) would never be used; at most {budget - 2} here")
        if dataset.meta.get("tabular"):
            check_tabular(options, hparams)

    @classmethod
    def unread_hparams(cls, hparams: Mapping[str, Any], dataset: Entry) -> dict[str, str]:
        """On a table, the children's training keys: a suite setting one away from the run's default (the search
        algorithm's registered one, else the task's) would make another run id for the same looked-up runs."""
        return cls.table_unread(hparams) if dataset.meta.get("tabular") else {}

    @classmethod
    def table_unread(cls, hparams: Mapping[str, Any]) -> dict[str, str]:
        """The children's training keys ``hparams`` holds, which a table leaves unread (key -> why)."""
        return dict.fromkeys((k for k in cls.train_hparams if k in hparams), "it sets the children's training, and "
                             "a NAS-Bench-Graph table's children are looked up, not trained")

    def label(self) -> str:
        """Choosing among several retrained finalists, or another layer form, is another protocol: its runs get
        their own rows."""
        changed = [f"{name}={value}" for name, value in resolved_options(self.options).items()
                   if name in ("retrain_top", "layer_form")]
        return f"{self.name}({','.join(changed)})" if changed else self.name

    def fit(self, model: torch.nn.Module, data: Data, train_hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext) -> FitResult:
        """Training one child or the selected architecture: the node task's protocol."""
        return self.node.fit(model, data, train_hparams, budget, ctx)

    def run(self, entry: Entry, data: Any, hparams: Mapping[str, Any], budget: Budget, ctx: RunContext) -> dict:
        algorithm_kwargs, train_kwargs = hp.split(entry.obj, hparams)
        algorithm: SearchAlgorithm = entry.obj(**algorithm_kwargs)
        generator = torch.Generator().manual_seed(ctx.seed)
        if isinstance(data, BenchTable):  # a run made outside a suite meets the suite's checks
            check_tabular(self.options, hparams)
            unread = {k: (f"task '{self.name}'", why) for k, why in self.table_unread(hparams).items()}
            hp.check_unread(unread, hparams, hp.defaults(entry, type(self), data.name))
            return self.tabular(algorithm, data, generator)
        return self.trained(algorithm, data, train_kwargs, budget, ctx, generator)

    def tabular(self, algorithm: SearchAlgorithm, table: BenchTable, generator: torch.Generator) -> dict:
        from gnnbench.search.nasbench import bench_key, bench_space  # needs the optional nas-bench-graph package

        space = bench_space()

        def lookup(proposal: Proposal) -> Evaluation:
            started = time.perf_counter()
            return Evaluation(table.validation(bench_key(proposal.arch)), time.perf_counter() - started)

        started = time.perf_counter()
        trace = run_search(algorithm, space, lookup, self.options.budget, generator, self.options.count_repeats)
        wall = time.perf_counter() - started
        chosen = top(trace)[0]
        key = bench_key(tuple(chosen["arch"]))
        row = table.entries[key]
        return {
            "metrics": {"val": {"accuracy": chosen["val"]}, "test": {"accuracy": row["perf"]}},
            "params": round(row["para"] * 1e6),
            "history": best_so_far(trace),
            "search": search_summary(algorithm, space.describe(tuple(chosen["arch"])), chosen, trace, wall,
                                     self.options.budget, space.name, oracle=table.oracle()),
        }

    def trained(self, algorithm: SearchAlgorithm, data: Data, train_kwargs: Mapping[str, Any], budget: Budget,
                ctx: RunContext, generator: torch.Generator) -> dict:
        # imported here: the macro model uses the models package, whose import registers the tasks
        from gnnbench.search.training import ChildTrainer

        opts: SearchOptions = self.options
        node = self.node
        space = macro_space(opts.layers)
        data = data.to(ctx.device)
        view = hide_test(data)
        trainer = ChildTrainer(node, view, space, train_kwargs, budget, ctx.device, algorithm.parameter_sharing,
                               opts.finetune_epochs, opts.max_params, seed=ctx.seed, classes=node.num_classes(data),
                               form=opts.layer_form)
        started = time.perf_counter()
        trace = run_search(algorithm, space, trainer, opts.budget, generator, opts.count_repeats)
        wall = time.perf_counter() - started
        trained = [c for c in trace if not c.get("skipped") and not c.get("diverged")]
        if not trained:
            skipped = [c["params"] for c in trace if c.get("skipped")]
            over = (f"{len(skipped)} over max_params ({opts.max_params}; the smallest {min(skipped)} parameters)"
                    if skipped else "none over max_params")
            raise RuntimeError(f"none of the {len(trace)} children trained to a score: {over}, "
                               f"{len(trace) - len(skipped)} diverged; there is no architecture to select")
        finalists = top(trained, opts.retrain_top)  # never a child that scored 0 untrained or diverged
        best: tuple[float, int, list[dict[str, Any]], list[torch.nn.Module]] | None = None
        retrained_val = []
        for rank, finalist in enumerate(finalists):
            runs, models = self.retrain(space, tuple(finalist["arch"]), view, node.num_classes(data), train_kwargs,
                                        budget, ctx)
            retrained_val.append(sum(r["val"] for r in runs) / len(runs))
            if best is None or retrained_val[-1] > best[0]:  # ties: the search's better child
                best = (retrained_val[-1], rank, runs, models)
        assert best is not None
        _, rank, retrained, models = best
        chosen = finalists[rank]
        for run, model in zip(retrained, models, strict=True):  # test, once per seed, of the chosen only
            run["test"] = node.evaluate(model, data, ("test",))["test"]["accuracy"]
        summary = search_summary(algorithm, space.describe(tuple(chosen["arch"])), chosen, trace, wall,
                                 opts.budget, space.name)
        summary["finalists"] = [{"child": f["child"], "val": f["val"], "retrained_val": v}
                                for f, v in zip(finalists, retrained_val, strict=True)]
        summary["cost"] = {"child_trainings": len(trace), "child_epochs": trainer.epochs_trained,
                           "inherited_children": sum(bool(c.get("inherited_layers")) for c in trace),
                           "search_s": wall}
        return {
            "metrics": {split: {"accuracy": sum(r[split] for r in retrained) / len(retrained)} for split in SPLITS},
            "params": sum(p.numel() for p in models[0].parameters()),
            "best_epoch": sum(r["best_epoch"] for r in retrained) / len(retrained),
            "epoch_time_s": sum(r["epoch_time_s"] for r in retrained) / len(retrained),
            "history": best_so_far(trace),
            "retrain": retrained,
            "search": summary,
        }

    def retrain(self, space: Space, arch: Arch, view: Data, classes: int, train_kwargs: Mapping[str, Any],
                budget: Budget, ctx: RunContext) -> tuple[list[dict[str, Any]], list[torch.nn.Module]]:
        """``arch`` trained from scratch once per retraining seed on the test-hidden view: each seed's
        training summary with its train and validation accuracy, and the trained models (for test, later)."""
        from gnnbench.search.macro import MacroGNN  # imported here, as in trained()

        runs, models = [], []
        for seed in range(self.options.retrain_seeds):
            seed_everything(seed)
            model = MacroGNN(view.num_features, classes, space, arch, form=self.options.layer_form).to(ctx.device)
            fit = self.fit(model, view, train_kwargs, budget, RunContext(ctx.device, seed))
            metrics = self.node.evaluate(model, view, ("train", "val"))
            runs.append({"seed": seed, "best_epoch": fit.best_epoch, "epochs_run": fit.epochs_run,
                         "epoch_time_s": fit.epoch_time_s,
                         **{split: metrics[split]["accuracy"] for split in ("train", "val")}})
            models.append(model)
        return runs, models


def best_so_far(trace: list[dict[str, Any]]) -> dict[str, list[float]]:
    """The best validation accuracy after each child (the search curve)."""
    curve, best = [], float("-inf")
    for child in trace:
        best = max(best, child["val"])
        curve.append(best)
    return {"val_best_so_far": curve}


def search_summary(algorithm: SearchAlgorithm, description: str, chosen: dict[str, Any],
                   trace: list[dict[str, Any]], wall: float, budget: int, space: str,
                   oracle: float | None = None) -> dict[str, Any]:
    """What a record says about the search: the budget and its cost, the choice, and the whole trace."""
    return {"algorithm": type(algorithm).__name__, "space": space, "budget": budget, "queries": len(trace),
            "repeated_proposals": trace[-1]["repeats_before"] + trace[-1].get("repeats_after", 0) if trace else 0,
            "wall_s": wall, "cost_s": sum(c["cost_s"] for c in trace), "oracle": oracle,
            "selected": {"child": chosen["child"], "arch": chosen["arch"], "description": description,
                         "val": chosen["val"]},
            "trace": columns(trace)}


def columns(trace: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The trace as one list per key (children in order), floats rounded to 6 digits: compact records."""
    keys = list(dict.fromkeys(k for child in trace for k in child))
    return {k: [round(v, 6) if isinstance(v, float) else v for v in (child.get(k) for child in trace)]
            for k in keys}


__all__ = ["ArchitectureSearch", "SearchOptions"]
