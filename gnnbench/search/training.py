"""Children of the macro space trained for real on a node-classification dataset, with AGNN's constrained
parameter sharing as a switch.

Every child is trained by the node task's own protocol (Adam, validation-selected epoch, early stopping) on
data whose test labels are hidden; its reward is the selected epoch's validation accuracy. With sharing on, a
child whose parent was trained inherits the parent's homogeneous layers (:func:`gnnbench.search.sharing.inherit`)
and is fine-tuned for ``finetune_epochs`` instead of the full budget (for no more epochs than the budget's,
which ``--smoke`` or a suite may set below ``finetune_epochs``). Only children that set a new best
validation accuracy are kept as possible parents (AGNN's parent is always the best so far). Children above
``max_params`` parameters are not trained (GraphNAS's ``max_param``) and score 0; so does a child whose
training loss turns non-finite, which is recorded as ``diverged`` and never becomes a parent: one unstable
architecture is a poor child, not a failed search.

Each child is initialised and trained from its own seed, drawn from the search seed and its architecture, not
from the random state the children before it left. Without sharing a child's reward is therefore a function of
the search seed and the architecture alone (on the CPU: CUDA's scatter kernels are not deterministic):
algorithms that propose the same child get the same reward, a comparison at equal budget is one of proposals
only, and a change to one layer form changes the rewards of the children that use it and of no others. With
sharing, inherited weights carry the parent's history; a child that inherits nothing trains exactly as without
sharing (the parent's network, built to compare layers, is initialised on a forked random state).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any

import torch
from torch_geometric import seed_everything
from torch_geometric.data import Data

from gnnbench.search.base import Evaluation, Proposal
from gnnbench.search.layers import LayerForm
from gnnbench.search.macro import MacroGNN
from gnnbench.search.sharing import inherit
from gnnbench.search.space import Arch, Space
from gnnbench.tasks.base import Budget, NonFiniteLossError, RunContext
from gnnbench.tasks.node import NodeClassification


class ChildTrainer:
    """The evaluator of :func:`gnnbench.search.base.run_search` for trained children."""

    def __init__(self, task: NodeClassification, data: Data, space: Space, train_hparams: Mapping[str, Any],
                 budget: Budget, device: torch.device, sharing: bool = False, finetune_epochs: int = 20,
                 max_params: int = 5_000_000, seed: int = 0, *, classes: int, form: LayerForm = "compact") -> None:
        """``classes`` comes from the full data: ``data`` hides the test labels, and the highest class, if seen
        only in test, would otherwise be missing from every child's output, which the retrained model has."""
        self.task, self.data, self.space, self.train_hparams = task, data, space, dict(train_hparams)
        self.classes, self.form = classes, form
        self.seed = seed
        self.budget, self.device, self.sharing = budget, device, sharing
        self.finetune = Budget(min(finetune_epochs, budget.epochs), budget.patience)
        self.max_params = max_params
        self.parents: dict[Arch, dict[str, torch.Tensor]] = {}
        self.record = float("-inf")
        self.epochs_trained = 0

    def build(self, arch: Arch) -> MacroGNN:
        return MacroGNN(self.data.num_features, self.classes, self.space, arch, form=self.form).to(self.device)

    def train(self, model: MacroGNN, budget: Budget) -> tuple[int, str | None]:
        """Train with the node task's protocol: the epochs run, and why training diverged if it did."""
        try:
            fit = self.task.fit(model, self.data, self.train_hparams, budget, RunContext(self.device, seed=0))
        except NonFiniteLossError as error:
            return error.epoch + 1, str(error)
        return fit.epochs_run, None

    def child_seed(self, arch: Arch) -> int:
        """The seed of a child's initialisation and training: a function of the search seed and ``arch`` only."""
        return int.from_bytes(hashlib.sha256(repr((self.seed, tuple(arch))).encode()).digest()[:4], "little")

    def __call__(self, proposal: Proposal) -> Evaluation:
        started = time.perf_counter()
        seed_everything(self.child_seed(proposal.arch))
        model = self.build(proposal.arch)
        params = sum(p.numel() for p in model.parameters())
        if params > self.max_params:
            return Evaluation(0.0, time.perf_counter() - started, {"params": params, "skipped": True})
        inherited: list[int] = []
        if self.sharing and proposal.parent in self.parents:
            with torch.random.fork_rng(devices=[]):  # its throwaway initialisation leaves the child's stream
                parent = self.build(proposal.parent)
            parent.load_state_dict(self.parents[proposal.parent])
            inherited = inherit(model, parent)
        epochs, diverged = self.train(model, self.finetune if inherited else self.budget)
        self.epochs_trained += epochs
        info = {"params": params, "epochs": epochs, "inherited_layers": inherited}
        if diverged:
            info["diverged"] = diverged
        val = 0.0 if diverged else self.task.evaluate(model, self.data, ("val",))["val"]["accuracy"]
        if self.sharing and not diverged and val > self.record:
            self.parents[proposal.arch] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.record = max(self.record, val)
        return Evaluation(val, time.perf_counter() - started, info)


__all__ = ["ChildTrainer"]
