r"""The LSTM controller of GraphNAS (and of each AGNN class controller), over any :class:`Space`.

An ``LSTMCell`` reads one token per step: a start token, then the embedding of each decided field's value. At
a field to decide, the field's own linear decoder turns the hidden state into logits
:math:`c \tanh(z / T)` (temperature :math:`T` = 5, tanh constant :math:`c` = 2.5: GraphNAS/ENAS) and a value is
sampled. With a ``history`` (an architecture), its fields that are *not* being decided are read first, in
order, and then the fields to decide: AGNN's class controllers read the best architecture's fixed choices (the
fields outside their class) as context, as AutoGL's ``AGNNReinforceController.resample`` does, never the
current values of the fields they are about to replace.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnbench.hparams import HparamError
from gnnbench.search.space import Arch, Space


@dataclass
class Sample:
    """Decided values (field index -> choice index), each decision's log-probability and entropy in decision
    order, and the mean over the decided fields of entropy / log(choices) (1 for uniform decisions, whatever the
    field sizes)."""

    values: dict[int, int]
    log_probs: tuple[Tensor, ...]
    entropies: tuple[Tensor, ...]
    relative_entropy: float

    @property
    def log_prob(self) -> Tensor:
        """The decisions' summed log-probability (added in decision order, as every recorded search did)."""
        return sum(self.log_probs, torch.zeros(()))

    @property
    def entropy(self) -> Tensor:
        """The decisions' summed entropy."""
        return sum(self.entropies, torch.zeros(()))

    @property
    def decision_log_probs(self) -> Tensor:
        """Each decision's log-probability, one vector (GraphNAS's trainer weighs every decision on its own)."""
        return torch.stack(self.log_probs)

    @property
    def decision_entropies(self) -> Tensor:
        return torch.stack(self.entropies)


class LSTMPolicy(nn.Module):
    """One embedding per (field, value), one decoder per field, a shared ``LSTMCell``."""

    def __init__(self, space: Space, hidden: int = 100, temperature: float = 5.0,
                 tanh_constant: float = 2.5) -> None:
        super().__init__()
        sizes = [len(f.choices) for f in space.fields]
        self.offsets = [sum(sizes[:i]) + 1 for i in range(len(sizes))]  # token 0 is the start token
        self.embedding = nn.Embedding(sum(sizes) + 1, hidden)
        self.cell = nn.LSTMCell(hidden, hidden)
        self.decoders = nn.ModuleList(nn.Linear(hidden, n) for n in sizes)
        self.hidden, self.temperature, self.tanh_constant = hidden, temperature, tanh_constant

    def sample(self, decide: Sequence[int], generator: torch.Generator, history: Arch | None = None) -> Sample:
        """Read the fields of ``history`` outside ``decide`` (in order), then decide the fields ``decide``."""
        state, token = self.read(history, decide)
        values: dict[int, int] = {}
        log_probs: list[Tensor] = []
        entropies: list[Tensor] = []
        relative = 0.0
        for i in decide:
            state = self.cell(self.embedding(token), state)
            log_p = F.log_softmax(self.logits(i, state[0]), dim=-1)
            choice = int(torch.multinomial(log_p.detach().exp(), 1, generator=generator))
            values[i] = choice
            log_probs.append(log_p[choice])
            entropies.append(-(log_p.exp() * log_p).sum())
            relative += float(entropies[-1].detach()) / math.log(len(log_p)) if len(log_p) > 1 else 0.0
            token = torch.tensor([self.offsets[i] + choice])
        return Sample(values, tuple(log_probs), tuple(entropies), relative / max(len(values), 1))

    def log_prob(self, decide: Sequence[int], values: Sequence[int], history: Arch | None = None) -> Tensor:
        """The log-probability of deciding ``values`` for the fields ``decide`` after reading ``history``."""
        state, token = self.read(history, decide)
        total = torch.zeros(())
        for i, value in zip(decide, values, strict=True):
            state = self.cell(self.embedding(token), state)
            total = total + F.log_softmax(self.logits(i, state[0]), dim=-1)[value]
            token = torch.tensor([self.offsets[i] + value])
        return total

    def read(self, history: Arch | None, decide: Sequence[int]) -> tuple[tuple[Tensor, Tensor], Tensor]:
        """The LSTM state after reading the start token and ``history``'s fields outside ``decide``, and the
        token to feed next (the last field read; the start token when nothing was read)."""
        state = (torch.zeros(1, self.hidden), torch.zeros(1, self.hidden))
        token = torch.zeros(1, dtype=torch.long)
        skipped = set(decide)
        for i, value in enumerate(history or ()):
            if i in skipped:
                continue
            state = self.cell(self.embedding(token), state)
            token = torch.tensor([self.offsets[i] + value])
        return state, token

    def logits(self, field: int, hidden: Tensor) -> Tensor:
        """:math:`c \tanh(z / T)` of one field's decoder."""
        return self.tanh_constant * torch.tanh(self.decoders[field](hidden)[0] / self.temperature)


class Reinforce:
    """REINFORCE with an exponential-moving-average baseline: :math:`b \\leftarrow \\beta b + (1-\\beta) R`,
    loss :math:`-\\log \\pi \\,(R - b)`. The baseline starts at the first reward it sees. A reward may be a
    vector, one per decision (GraphNAS's trainer), with a baseline per decision."""

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self.baseline: float | Tensor | None = None

    def update(self, reward: float | Tensor) -> float | Tensor:
        """Move the baseline towards ``reward`` and return the advantage ``reward - b``."""
        self.baseline = reward if self.baseline is None else self.decay * self.baseline + (1 - self.decay) * reward
        return reward - self.baseline

    def loss(self, log_prob: Tensor, reward: float) -> Tensor:
        return -log_prob * self.update(reward)


def check_controller(hparams: Mapping[str, Any]) -> None:
    """The settings of a REINFORCE-trained LSTM controller (AGNN's and GraphNAS's) that train it otherwise than
    asked: logits scaled by a tanh constant not above 0 (0: a uniform policy; negative: the same family of
    policies under another run id), an EMA decay outside [0, 1], an entropy bonus below 0 (a penalty on
    exploring), an LSTM of no unit. The temperature and the learning rate follow the conventional ranges."""
    if hparams["lstm_size"] < 1:
        raise HparamError("lstm_size", f"lstm_size is the controller's width: expected at least 1, got "
                                       f"{hparams['lstm_size']}")
    if not hparams["tanh_constant"] > 0:
        raise HparamError("tanh_constant", f"tanh_constant scales the policy's logits: expected a positive number, "
                                           f"got {hparams['tanh_constant']}")
    if not 0 <= hparams["baseline_decay"] <= 1:
        raise HparamError("baseline_decay", f"baseline_decay is the reward baseline's moving-average decay: "
                                            f"expected a number in [0, 1], got {hparams['baseline_decay']}")
    if not hparams["entropy_coeff"] >= 0:
        raise HparamError("entropy_coeff", f"entropy_coeff weighs the policy's entropy bonus: expected at least 0, "
                                           f"got {hparams['entropy_coeff']}")


__all__ = ["LSTMPolicy", "Reinforce", "Sample", "check_controller"]
