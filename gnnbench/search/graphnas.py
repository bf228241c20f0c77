r"""A GraphNAS-style controller (Gao et al., "GraphNAS: Graph Neural Architecture Search with Reinforcement
Learning", IJCAI 2020): every child is a full resample of one LSTM policy over all fields.

``reward: shaped`` (the default) trains the policy on :math:`R = \mathrm{clip}(\text{val} -
\overline{\text{top-}k}, -0.5, 0.5)`, the mean of the ``top_k`` best validation accuracies seen before this
child subtracted (0 before the first): ``TopAverage.get_reward`` of ``graphnas/utils/model_utils.py``, the
reward the paper notes describe. GraphNAS's released trainer computes that value but only logs it: its
``Trainer.get_reward`` takes ``reward[1]``, the validation accuracy itself, which ``reward: accuracy`` feeds the
policy. Either way ``entropy_coeff`` times the sample's entropy is added
(``entropy_mode='reward'``), and REINFORCE runs against an EMA baseline (decay 0.95), one Adam step per child
(lr 3.5e-4). Not reproduced from GraphNAS's trainer under either: the advantage rescaled by 0.5 over the
largest of the last ten advantages, the baseline restarted every 100 children, the entropy bonus per decision
rather than summed. At equal budget the final architecture is the best-validation child, like every other
algorithm here (GraphNAS re-samples 100 more architectures from the trained policy instead).
"""

from __future__ import annotations

from typing import Literal

import torch

from gnnbench.registry import register_model
from gnnbench.search.base import Proposal, SearchAlgorithm
from gnnbench.search.policy import LSTMPolicy, Reinforce
from gnnbench.search.space import Space

PAPER = "Gao et al., GraphNAS: Graph Neural Architecture Search with Reinforcement Learning (IJCAI 2020)"


@register_model("graphnas", paper=PAPER, tasks=("architecture_search",))
class GraphNAS(SearchAlgorithm):
    """GraphNAS-style search: one LSTM policy resamples every field; shaped (or raw) reward, REINFORCE."""

    #: ``reward`` came after the reference searches: at ``shaped`` it stays out of their run ids
    added_hparams = ("reward",)

    def __init__(self, lstm_size: int = 100, temperature: float = 5.0, tanh_constant: float = 2.5,
                 controller_lr: float = 3.5e-4, baseline_decay: float = 0.95, entropy_coeff: float = 1e-4,
                 top_k: int = 10, reward_clip: float = 0.5, reward: Literal["shaped", "accuracy"] = "shaped") -> None:
        self.policy_args = {"hidden": lstm_size, "temperature": temperature, "tanh_constant": tanh_constant}
        self.controller_lr, self.baseline_decay = controller_lr, baseline_decay
        self.entropy_coeff, self.top_k, self.reward_clip, self.reward = entropy_coeff, top_k, reward_clip, reward

    def start(self, space: Space, generator: torch.Generator) -> None:
        super().start(space, generator)
        self.policy = LSTMPolicy(space, **self.policy_args)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.controller_lr)
        self.reinforce = Reinforce(self.baseline_decay)
        self.top: list[float] = []

    def propose(self) -> Proposal:
        sample = self.policy.sample(range(len(self.space.fields)), self.generator)
        arch = tuple(sample.values[i] for i in range(len(self.space.fields)))
        return Proposal(arch, log_prob=sample.log_prob, entropy=sample.entropy)

    def controller_reward(self, val: float, entropy: float) -> float:
        """``clip(val - mean(top-k so far), ±reward_clip) + entropy_coeff * entropy`` (``val`` itself in place of
        the clipped difference under ``reward: accuracy``); updates the top-k."""
        average = sum(self.top) / len(self.top) if self.top else 0.0
        self.top = sorted([*self.top, val], reverse=True)[: self.top_k]
        score = val if self.reward == "accuracy" else max(-self.reward_clip, min(self.reward_clip, val - average))
        return score + self.entropy_coeff * entropy

    def observe(self, proposal: Proposal, reward: float) -> None:
        assert proposal.log_prob is not None and proposal.entropy is not None
        self.optimizer.zero_grad()
        fed = self.controller_reward(reward, float(proposal.entropy.detach()))
        self.reinforce.loss(proposal.log_prob, fed).backward()
        self.optimizer.step()


__all__ = ["GraphNAS"]
