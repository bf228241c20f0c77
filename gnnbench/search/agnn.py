r"""AGNN's reinforced conservative controller (Zhou et al., "Auto-GNN: Neural Architecture Search of Graph
Neural Networks", arXiv 1909.03184).

* **Conservative explorer.** The best architecture so far, :math:`\mathcal A^*`, is the parent of every
  child; the first architecture is drawn uniformly.
* **Guided modifier.** One :class:`~gnnbench.search.policy.LSTMPolicy` per action class reads
  :math:`\mathcal A^*`'s fixed choices (its fields outside the class, as AutoGL's ``AGNNReinforceController``
  does) and samples new values for its class's fields (in every layer). The class to change is chosen from the
  controllers' entropies :math:`H_c`: the most uncertain (``guide="argmax"``) or a draw from
  :math:`\mathrm{softmax}(H)` (``guide="sample"``, AutoGL's default). With ``class_entropy="relative"`` (the
  default) :math:`H_c` is the mean over the class's fields of each decision's entropy divided by its maximum,
  :math:`\log |\text{choices}|`; ``"sum"`` sums the raw entropies, which favours the class with the most
  fields and values (on NAS-Bench-Graph, ``op``: 4 fields of 9 values against ``input``'s 3 fields of 2-4),
  so the link would rarely change. The child is :math:`\mathcal A^*` with that class's fields replaced, and
  nothing else.
* **RL trainer.** The chosen controller alone takes a REINFORCE step on
  :math:`-\log\pi_c(\text{fields})\,(R - b)`, with :math:`R` the child's validation accuracy (unshaped, as
  in AutoGL) plus ``entropy_coeff`` times the entropy of the sampled fields (AutoGL's ``entropy_weight``,
  1e-4), and :math:`b` an EMA baseline (decay 0.95) that restarts at :math:`\mathcal A^*`'s accuracy at the
  start of every batch (AutoGL's ``_train_controller``: ``baseline = best accuracy``).
* After every ``batch_size`` proposals (repeats answered from memory included), the best of them (by validation
  accuracy, without the entropy term) replaces :math:`\mathcal A^*` if, and only if, it is strictly better.

Choices the paper leaves open, named here: a sample building :math:`\mathcal A^*`'s network (equal in every
field of its class, or an isomorphic relabelling of it) is drawn again (at most ``max_redraws`` draws in all),
so a child is a real modification; ``batch_size`` is 10 (AutoGL's
100 is a third of the 300-query budget of the tabular comparison); ``class_entropy`` as above.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch

from gnnbench.hparams import HparamError
from gnnbench.registry import register_model
from gnnbench.search.base import Proposal, SearchAlgorithm
from gnnbench.search.policy import LSTMPolicy, Reinforce, check_controller
from gnnbench.search.space import Arch, Space

SEARCH = ("architecture_search",)
PAPER = "Zhou et al., Auto-GNN: Neural Architecture Search of Graph Neural Networks (arXiv 1909.03184)"


def guide(entropies: torch.Tensor, rule: str, generator: torch.Generator) -> int:
    """The index of the class to modify: the largest entropy (``argmax``) or a draw from their softmax."""
    if rule == "argmax":
        return int(entropies.argmax())
    return int(torch.multinomial(torch.softmax(entropies, 0), 1, generator=generator))


@register_model("agnn", paper=PAPER, tasks=SEARCH)
class AGNN(SearchAlgorithm):
    """AGNN: the best architecture so far, modified one action class at a time by entropy-guided LSTM
    controllers trained with REINFORCE; optional constrained parameter sharing."""

    def __init__(self, guide: Literal["sample", "argmax"] = "sample", batch_size: int = 10,
                 lstm_size: int = 100, temperature: float = 5.0, tanh_constant: float = 2.5,
                 controller_lr: float = 3.5e-4, baseline_decay: float = 0.95, entropy_coeff: float = 1e-4,
                 class_entropy: Literal["relative", "sum"] = "relative", max_redraws: int = 10,
                 parameter_sharing: bool = False) -> None:
        self.check_hparams(locals())
        self.guide, self.batch_size, self.max_redraws = guide, batch_size, max_redraws
        self.policy_args = {"hidden": lstm_size, "temperature": temperature, "tanh_constant": tanh_constant}
        self.controller_lr, self.baseline_decay = controller_lr, baseline_decay
        self.entropy_coeff, self.class_entropy = entropy_coeff, class_entropy
        self.parameter_sharing = parameter_sharing

    @staticmethod
    def check_hparams(hparams: Mapping[str, Any], device: str = "cpu") -> None:
        """Settings no search could use: a suite that sets one fails when it loads, naming the key."""
        if hparams["guide"] not in ("sample", "argmax"):
            raise HparamError("guide", f"guide must be 'sample' or 'argmax', got {hparams['guide']!r}")
        if hparams["class_entropy"] not in ("relative", "sum"):
            raise HparamError("class_entropy", f"class_entropy must be 'relative' or 'sum', got "
                                               f"{hparams['class_entropy']!r}")
        if hparams["batch_size"] < 1:
            raise HparamError("batch_size", f"batch_size must be >= 1, got {hparams['batch_size']}")
        if hparams["max_redraws"] < 1:
            raise HparamError("max_redraws", f"max_redraws (draws per child, the first included) must be >= 1, got "
                                             f"{hparams['max_redraws']}")
        check_controller(hparams)

    def start(self, space: Space, generator: torch.Generator) -> None:
        super().start(space, generator)
        self.controllers = {kind: LSTMPolicy(space, **self.policy_args) for kind in space.classes}
        self.optimizers = {kind: torch.optim.Adam(c.parameters(), lr=self.controller_lr)
                           for kind, c in self.controllers.items()}
        self.reinforce = Reinforce(self.baseline_decay)
        self.best: Arch | None = None
        self.best_reward = float("-inf")
        self.batch: list[tuple[Arch, float]] = []

    def propose(self) -> Proposal:
        if self.best is None:
            return Proposal(self.space.sample(self.generator))
        for _ in range(self.max_redraws):
            proposal = self.modify(self.best)
            if not self.space.same_network(proposal.arch, self.best):
                break
        return proposal

    def modify(self, best: Arch) -> Proposal:
        """Every class controller reads ``best`` and samples its fields; the guide picks one class."""
        samples = {kind: c.sample(self.space.indices(kind), self.generator, history=best)
                   for kind, c in self.controllers.items()}
        kinds = list(samples)
        entropies = [samples[k].relative_entropy if self.class_entropy == "relative"
                     else float(samples[k].entropy.detach()) for k in kinds]
        kind = kinds[guide(torch.tensor(entropies), self.guide, self.generator)]
        child = list(best)
        for index, value in samples[kind].values.items():
            child[index] = value
        return Proposal(tuple(child), parent=best, kind=kind, sample=samples[kind])

    def observe(self, proposal: Proposal, reward: float) -> None:
        if proposal.kind is None:  # the initial architecture: the first best, and the baseline's start
            self.best, self.best_reward = proposal.arch, reward
            self.reinforce.baseline = reward
            return
        assert proposal.sample is not None
        optimizer = self.optimizers[proposal.kind]
        optimizer.zero_grad()
        shaped = reward + self.entropy_coeff * float(proposal.sample.entropy.detach())
        self.reinforce.loss(proposal.sample.log_prob, shaped).backward()
        optimizer.step()
        self.batch.append((proposal.arch, reward))
        if len(self.batch) == self.batch_size:
            arch, value = max(self.batch, key=lambda item: item[1])  # ties: the earliest
            if value > self.best_reward:
                self.best, self.best_reward = arch, value
            self.batch = []
            self.reinforce.baseline = self.best_reward  # each batch's baseline starts at the best accuracy


#: the paper's "AGNN with parameter sharing" variant, as its own leaderboard row
register_model("agnn_ps", paper=PAPER, tasks=SEARCH, defaults={"parameter_sharing": True})(AGNN)

__all__ = ["AGNN", "guide"]
