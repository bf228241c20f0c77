r"""A GraphNAS-style controller (Gao et al., "GraphNAS: Graph Neural Architecture Search with Reinforcement
Learning", IJCAI 2020): every child is a full resample of one LSTM policy over all fields.

``reward: shaped`` (the default) trains the policy on :math:`R = \mathrm{clip}(\text{val} -
\overline{\text{top-}k}, -0.5, 0.5)`, the mean of the ``top_k`` best validation accuracies seen before this
child subtracted (0 before the first): ``TopAverage.get_reward`` of ``graphnas/utils/model_utils.py``, the
reward the paper notes describe. GraphNAS's released trainer computes that value but only logs it: its
``Trainer.get_reward`` takes ``reward[1]``, the validation accuracy itself, which ``reward: accuracy`` feeds the
policy. Either way ``entropy_coeff`` times entropy is added (``entropy_mode='reward'``), and REINFORCE runs
against an EMA baseline (decay 0.95), one Adam step per proposal (lr 3.5e-4).

``controller_update: summed`` (the default) adds the sample's summed entropy to one reward per child and
weighs the sample's summed log-probability by the advantage over one baseline for the whole search.
``controller_update: graphnas`` is the step of GraphNAS's ``Trainer.train_controller``: decision :math:`i`
gets its own reward :math:`R + c H_i` and its own EMA baseline, the baselines restart every
``baseline_restart`` proposals (its ``controller_max_step``, 100: one controller epoch), each advantage
vector is kept and the current one is multiplied by :math:`0.5 / m`, :math:`m` the largest entry of the last
ten (unscaled unless :math:`m = 0`; a negative :math:`m` flips its sign, as GraphNAS's ``scale`` does), and the
loss is :math:`-\sum_i \log \pi_i\, A_i`. With ``reward: accuracy`` that is GraphNAS's released trainer.

At equal budget the final architecture is the best-validation child, like every other algorithm here
(GraphNAS's trainer trains 100 more samples of the policy after each controller epoch instead).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, Literal

import torch
from torch import Tensor

from gnnbench.hparams import HparamError
from gnnbench.registry import register_model
from gnnbench.search.base import Proposal, SearchAlgorithm
from gnnbench.search.policy import LSTMPolicy, Reinforce, Sample, check_controller
from gnnbench.search.space import Space

PAPER = "Gao et al., GraphNAS: Graph Neural Architecture Search with Reinforcement Learning (IJCAI 2020)"


@register_model("graphnas", paper=PAPER, tasks=("architecture_search",))
class GraphNAS(SearchAlgorithm):
    """GraphNAS-style search: one LSTM policy resamples every field; shaped (or raw) reward, REINFORCE."""

    #: these came after the reference searches: at their defaults they stay out of those run ids
    added_hparams = ("reward", "controller_update", "baseline_restart")
    #: GraphNAS's ``scale``: advantages scaled to ``ADVANTAGE_SCALE`` over the largest of the last ``SCALE_WINDOW``
    ADVANTAGE_SCALE, SCALE_WINDOW = 0.5, 10

    def __init__(self, lstm_size: int = 100, temperature: float = 5.0, tanh_constant: float = 2.5,
                 controller_lr: float = 3.5e-4, baseline_decay: float = 0.95, entropy_coeff: float = 1e-4,
                 top_k: int = 10, reward_clip: float = 0.5, reward: Literal["shaped", "accuracy"] = "shaped",
                 controller_update: Literal["summed", "graphnas"] = "summed", baseline_restart: int = 100) -> None:
        self.check_hparams(locals())
        self.policy_args = {"hidden": lstm_size, "temperature": temperature, "tanh_constant": tanh_constant}
        self.controller_lr, self.baseline_decay = controller_lr, baseline_decay
        self.entropy_coeff, self.top_k, self.reward_clip, self.reward = entropy_coeff, top_k, reward_clip, reward
        self.controller_update, self.baseline_restart = controller_update, baseline_restart

    @staticmethod
    def check_hparams(hparams: Mapping[str, Any], device: str = "cpu") -> None:
        """Settings no search could use: a suite that sets one fails when it loads, naming the key."""
        check_controller(hparams)
        if hparams["top_k"] < 1:
            raise HparamError("top_k", f"top_k counts the best accuracies the shaped reward averages: expected at "
                                       f"least 1, got {hparams['top_k']}")
        if not hparams["reward_clip"] > 0:
            raise HparamError("reward_clip", f"reward_clip bounds the shaped reward: expected a positive number, got "
                                             f"{hparams['reward_clip']}")
        if hparams["baseline_restart"] < 1:
            raise HparamError("baseline_restart", f"baseline_restart must be at least 1 (proposals per controller "
                                                  f"epoch), got {hparams['baseline_restart']}")

    @staticmethod
    def unread_hparams(hparams: Mapping[str, Any]) -> dict[str, str]:
        """The shaped reward's settings under the raw one, GraphNAS's restarts under the summed update."""
        unread = {}
        if hparams["reward"] == "accuracy":
            unread |= dict.fromkeys(("top_k", "reward_clip"), "reward is 'accuracy' (no shaping)")
        if hparams["controller_update"] == "summed":
            unread["baseline_restart"] = "controller_update is 'summed' (one baseline, never restarted)"
        return unread

    def start(self, space: Space, generator: torch.Generator) -> None:
        super().start(space, generator)
        self.policy = LSTMPolicy(space, **self.policy_args)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.controller_lr)
        self.reinforce = Reinforce(self.baseline_decay)
        self.top: list[float] = []
        self.steps = 0  # proposals observed under controller_update: graphnas
        self.advantages: deque[Tensor] = deque(maxlen=self.SCALE_WINDOW)  # the last ones, unscaled

    def propose(self) -> Proposal:
        sample = self.policy.sample(range(len(self.space.fields)), self.generator)
        arch = tuple(sample.values[i] for i in range(len(self.space.fields)))
        return Proposal(arch, sample=sample)

    def score(self, val: float) -> float:
        """``clip(val - mean(top-k so far), ±reward_clip)``, or ``val`` itself under ``reward: accuracy``;
        updates the top-k."""
        average = sum(self.top) / len(self.top) if self.top else 0.0
        self.top = sorted([*self.top, val], reverse=True)[: self.top_k]
        return val if self.reward == "accuracy" else max(-self.reward_clip, min(self.reward_clip, val - average))

    def controller_loss(self, sample: Sample, val: float) -> Tensor:
        """The policy-gradient loss of one proposal whose child scored ``val`` (see the module docstring)."""
        if self.controller_update == "summed":
            reward = self.score(val) + self.entropy_coeff * float(sample.entropy.detach())
            return self.reinforce.loss(sample.log_prob, reward)
        if self.steps % self.baseline_restart == 0:
            self.reinforce.baseline = None  # each of GraphNAS's controller epochs starts without a baseline
        self.steps += 1
        advantage = self.reinforce.update(self.score(val) + self.entropy_coeff * sample.decision_entropies.detach())
        assert isinstance(advantage, Tensor)
        self.advantages.append(advantage)
        largest = float(torch.cat(tuple(self.advantages)).max())
        if largest != 0:
            advantage = self.ADVANTAGE_SCALE / largest * advantage
        return -(sample.decision_log_probs * advantage).sum()

    def observe(self, proposal: Proposal, reward: float) -> None:
        assert proposal.sample is not None
        self.optimizer.zero_grad()
        self.controller_loss(proposal.sample, reward).backward()
        self.optimizer.step()


__all__ = ["GraphNAS"]
