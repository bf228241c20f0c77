"""SAT solving with learned phases: train a backbone-phase predictor, then solve held-out formulas with a real
CDCL solver under phase policies (NeuroBack, Wang et al., ICLR 2024).

**Learning.** Each training formula contributes its component graphs (:mod:`gnnbench.data.sat`). The loss is
NeuroBack's class-weighted binary cross-entropy on the backbone variables only (``y`` in {0 positive, 1
negative}; non-backbone variables are masked), the weight of class c being ``u / (2 (u_c + 1))`` with ``u``
labelled variables in the batch, ``u_c`` of them of class c, recomputed per batch. The model's output is a logit
whose sigmoid is P(negative backbone). AdamW, gradient-norm clipping (``clip_norm``), mini-batches of
``batch_size`` graphs. The epoch is selected on validation **micro-F1** over backbone variables (threshold 0.5;
with two classes, micro-F1 is accuracy), ties to the lower validation loss, as in every gnnbench task. The
metrics also carry ``majority_micro_f1``: predicting, for every backbone variable, the training set's majority
phase.

**Solving** (the test formulas only, after training). Per formula the model predicts once, on CPU, all
components merged by variable id (``inference_s`` is that time); then every solver in ``solvers`` solves it
under every policy in ``policies`` (:mod:`gnnbench.tasks.phases`) with a conflict budget
(:mod:`gnnbench.tasks.solver`). The record's ``solving`` holds one entry per (formula, solver, policy):
family, formula, solver, policy, solved, status, conflicts, decisions, propagations, solve_s, inference_s,
and the policy's coverage (:func:`~gnnbench.tasks.phases.coverage`): variables, phased, phased_backbone,
phased_agree (column-wise lists). ``gnnbench/leaderboard/sat.py`` aggregates them per family.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.loader import DataLoader

from gnnbench import hparams as hp
from gnnbench.data.sat import merge_by_variable
from gnnbench.data.sat_benchmark import SatBenchmark, SatInstance
from gnnbench.registry import Entry, register_task
from gnnbench.tasks.base import Budget, FitResult, RunContext, Task, check_finite, train_epochs
from gnnbench.tasks.optim import build_optimizer, check_hparams
from gnnbench.tasks.phases import POLICIES, coverage, policy_phases
from gnnbench.tasks.solver import DEFAULT_SOLVERS, SOLVERS, solve
from gnnbench.units import FRACTION

SPLITS = ("train", "val", "test")
SOLVING_FIELDS = ("family", "formula", "solver", "policy", "solved", "status", "conflicts", "decisions",
                  "propagations", "solve_s", "inference_s", "variables", "phased", "phased_backbone", "phased_agree")


@dataclass(frozen=True)
class SatOptions:
    """``solvers`` and ``policies`` evaluated on the test formulas; ``cfd`` NeuroBack's confidence threshold;
    ``conflict_budget`` per solve (0: none)."""

    solvers: tuple[str, ...] = DEFAULT_SOLVERS
    policies: tuple[str, ...] = POLICIES
    cfd: float = 0.9
    conflict_budget: int = 100_000

    def __post_init__(self) -> None:
        object.__setattr__(self, "solvers", tuple(self.solvers))
        object.__setattr__(self, "policies", tuple(self.policies))
        if unknown := [s for s in self.solvers if s not in SOLVERS]:
            raise ValueError(f"unknown solvers {unknown}; known: {', '.join(SOLVERS)}")
        if unknown := [p for p in self.policies if p not in POLICIES]:
            raise ValueError(f"unknown policies {unknown}; known: {', '.join(POLICIES)}")
        for key in ("solvers", "policies"):  # a repeat would pool the same solves twice under one label
            listed = getattr(self, key)
            if repeated := sorted({name for name in listed if listed.count(name) > 1}):
                raise ValueError(f"{key} lists {', '.join(repeated)} more than once; expected each once")
        if not 0.5 <= self.cfd <= 1:
            raise ValueError(f"cfd must be in [0.5, 1], got {self.cfd}")
        if self.conflict_budget < 0:
            raise ValueError(f"conflict_budget counts conflicts per solve (0: no budget): expected at least 0, got "
                             f"{self.conflict_budget}")


@dataclass
class SatSplits:
    """What a training protocol gets: training and validation formulas (never the test formulas)."""

    train: list[SatInstance]
    val: list[SatInstance]


def class_weighted_bce(logits: Tensor, target: Tensor) -> Tensor:
    """NeuroBack's loss on labelled variables (``target`` in {0, 1}): BCE with weight ``u / (2 (u_c + 1))``."""
    u = target.numel()
    counts = torch.bincount(target, minlength=2).to(logits.dtype)
    weight = (u / (2 * (counts + 1)))[target]
    return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype), weight=weight)


@register_task("sat_solving", paper="Wang et al., ICLR 2024 (arXiv 2110.14053): NeuroBack")
class SatSolving(Task):
    """Backbone-phase prediction (micro-F1 on backbone variables), then CDCL solving under phase policies."""

    name = "sat_solving"
    metric = "micro_f1"
    unit = FRACTION
    direction = "max"
    train_hparams = {"lr": 1e-4, "weight_decay": 0.01, "batch_size": 2, "optimizer": "adamw", "clip_norm": 1.0}
    Options = SatOptions

    @classmethod
    def check_run(cls, options: SatOptions, dataset: Entry, hparams: Mapping[str, Any], seed: int) -> None:
        check_hparams(hparams)

    @classmethod
    def model_call(cls, model: Any) -> dict[str, tuple[str, ...]]:
        """``model(x, edge_index, edge_attr)`` on a formula's component graphs (:meth:`predict`, :meth:`scores`):
        ``edge_attr`` is each edge's polarity (:mod:`gnnbench.data.sat`)."""
        return {"forward": ("x", "edge_index", "edge_attr")}

    def run(self, entry: Entry, data: SatBenchmark, hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext) -> dict:
        model_kwargs, train_kwargs = hp.split(entry.obj, hparams)
        model = entry.obj(in_channels=1, out_channels=1, **model_kwargs).to(ctx.device)
        fit = self.fit_model(model, SatSplits(data.train, data.val), train_kwargs, budget, ctx)
        majority = self.majority_phase(data.train)
        metrics = {s: self.evaluate(model, getattr(data, s), ctx.device, majority) for s in SPLITS}
        return {
            "metrics": metrics,
            "split": "dataset",
            **fit.record(model),
            "solving": self.solve_all(model, data.test, ctx),
            "data": {"description": data.description,
                     **{f"num_{s}": len(getattr(data, s)) for s in SPLITS},
                     "test_families": sorted({i.family for i in data.test})},
        }

    @staticmethod
    def graphs(instances: list[SatInstance]) -> list:
        """The component graphs of the satisfiable instances (the only ones with backbone labels)."""
        return [g for inst in instances if inst.satisfiable for g in inst.graphs]

    @staticmethod
    def majority_phase(instances: list[SatInstance]) -> int:
        labels = torch.cat([inst.labels[1:] for inst in instances if inst.satisfiable])
        return int((labels == 1).sum() > (labels == 0).sum())

    @staticmethod
    def predict(model: torch.nn.Module, batch: Any) -> tuple[Tensor, Tensor]:
        """(logits, targets) of the batch's backbone variables."""
        logits = model(batch.x, batch.edge_index, batch.edge_attr)
        labelled = (batch.y == 0) | (batch.y == 1)
        return logits[labelled], batch.y[labelled]

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, instances: list[SatInstance], device: torch.device,
                 majority: int | None = None) -> dict[str, float]:
        """micro-F1 and loss over the backbone variables of ``instances`` (and the majority baseline's F1).

        One component at a time, as the official validation and as :meth:`scores` predicts for the solver: the
        relational GIN adds its self term once per relation present in what it is given, so a component without
        negative literals, say, scores otherwise when batched with others."""
        model.eval()
        logits, targets = [], []
        for graph in self.graphs(instances):
            out, target = self.predict(model, graph.to(device))
            logits.append(out)
            targets.append(target)
        if not targets or not sum(t.numel() for t in targets):
            return {"micro_f1": float("nan"), "loss": float("nan"), "backbone_vars": 0}
        out, target = torch.cat(logits), torch.cat(targets)
        metrics = {"micro_f1": float(((out > 0).long() == target).float().mean()),
                   "loss": float(class_weighted_bce(out, target)), "backbone_vars": int(target.numel()),
                   "negative_fraction": float(target.float().mean())}
        if majority is not None:
            metrics["majority_micro_f1"] = float((target == majority).float().mean())
        return metrics

    def fit(self, model: torch.nn.Module, data: SatSplits, train_hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext) -> FitResult:
        optimizer = build_optimizer(model.parameters(), train_hparams)
        generator = torch.Generator().manual_seed(ctx.seed)
        loader = DataLoader(self.graphs(data.train), batch_size=train_hparams["batch_size"], shuffle=True,
                            generator=generator)

        def epoch_step(epoch: int) -> dict[str, float]:
            model.train()
            total, count = 0.0, 0
            for batch in loader:
                logits, target = self.predict(model, batch.to(ctx.device))
                if not target.numel():
                    continue
                loss = class_weighted_bce(logits, target)
                check_finite(loss, epoch)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), train_hparams["clip_norm"])
                optimizer.step()
                total, count = total + loss.item() * target.numel(), count + target.numel()
            return {"train_loss": total / max(count, 1)}

        return train_epochs(model, epoch_step, lambda: self.evaluate(model, data.val, ctx.device), self, budget,
                            ctx)

    @torch.no_grad()
    def scores(self, model: torch.nn.Module, instance: SatInstance) -> Tensor:
        """P(negative backbone) per DIMACS variable (index 0 unused), one CPU forward pass per component."""
        model = model.cpu().eval()
        outs = [torch.sigmoid(model(g.x, g.edge_index, g.edge_attr)) for g in instance.graphs]
        return merge_by_variable(instance.graphs, outs, instance.formula.num_vars)

    def solve_all(self, model: torch.nn.Module, instances: list[SatInstance], ctx: RunContext) -> dict[str, list]:
        """Every test formula under every solver and policy, as column-wise lists (:data:`SOLVING_FIELDS`)."""
        columns: dict[str, list] = {k: [] for k in SOLVING_FIELDS}
        for instance in instances:
            started = time.perf_counter()
            scores = self.scores(model, instance) if "neuroback" in self.options.policies else None
            inference_s = time.perf_counter() - started
            for solver in self.options.solvers:
                for policy in self.options.policies:
                    phases = policy_phases(policy, instance, scores, self.options.cfd, ctx.seed)
                    stats = solve(instance.formula, phases, solver, self.options.conflict_budget)
                    covered = coverage(phases, instance.labels)
                    row = {"family": instance.family, "formula": instance.formula.name, "solver": solver,
                           "policy": policy, "solved": stats.solved, "status": stats.status,
                           "conflicts": stats.conflicts, "decisions": stats.decisions,
                           "propagations": stats.propagations, "solve_s": round(stats.solve_s, 6),
                           "inference_s": round(inference_s, 6) if policy == "neuroback" else 0.0,
                           "variables": instance.formula.num_vars, "phased": covered.phased,
                           "phased_backbone": covered.backbone, "phased_agree": covered.agree}
                    for key in SOLVING_FIELDS:
                        columns[key].append(row[key])
        model.to(ctx.device)
        return columns
