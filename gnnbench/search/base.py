"""What every search algorithm shares: proposals, the search loop and its trace.

An algorithm proposes an architecture, the loop has it evaluated, and the algorithm observes the reward
(the child's validation accuracy). The loop is the same for every algorithm, so a comparison at equal budget
is one of proposals only: the budget counts child evaluations, and the evaluator never reveals test numbers.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from gnnbench.search.space import Arch, Space

#: proposals outside the space (e.g. a cell of skips only) in a row before the search gives up
MAX_INVALID_IN_A_ROW = 1000


@dataclass
class Proposal:
    """A child to evaluate. ``parent`` is the architecture it was modified from (AGNN), whose trained weights
    it may inherit; ``kind`` is the action class that was modified; ``log_prob`` and ``entropy`` are the
    sampling policy's, kept for its update."""

    arch: Arch
    parent: Arch | None = None
    kind: str | None = None
    log_prob: Tensor | None = None
    entropy: Tensor | None = None


@dataclass(frozen=True)
class Evaluation:
    """An evaluated child: its validation accuracy (the reward), its cost and evaluator-specific details."""

    val: float
    cost_s: float
    info: dict[str, Any] = field(default_factory=dict)


Evaluator = Callable[[Proposal], Evaluation]


class SearchAlgorithm(ABC):
    """Configured by its hyperparameters; :meth:`start` binds it to a space and a random generator."""

    #: whether its children inherit trained weights from their parents (AGNN's constrained sharing)
    parameter_sharing: bool = False

    def start(self, space: Space, generator: torch.Generator) -> None:
        self.space, self.generator = space, generator

    @abstractmethod
    def propose(self) -> Proposal:
        """The next child to evaluate."""

    def observe(self, proposal: Proposal, reward: float) -> None:  # noqa: B027 - optional hook
        """Learn from the child's reward (nothing, by default)."""


def run_search(algorithm: SearchAlgorithm, space: Space, evaluate: Evaluator, budget: int,
               generator: torch.Generator) -> list[dict[str, Any]]:
    """Evaluate ``budget`` children proposed by ``algorithm``; return the trace, one entry per child.

    A proposal outside the space is not evaluated and not counted; the algorithm observes a reward of 0.
    """
    algorithm.start(space, generator)
    trace: list[dict[str, Any]] = []
    invalid = 0
    started = time.perf_counter()
    while len(trace) < budget:
        proposal = algorithm.propose()
        if not space.is_valid(proposal.arch):
            invalid += 1
            if invalid > MAX_INVALID_IN_A_ROW:
                raise RuntimeError(f"{type(algorithm).__name__} proposed {invalid} invalid architectures in a row")
            algorithm.observe(proposal, 0.0)
            continue
        invalid = 0
        evaluation = evaluate(proposal)
        algorithm.observe(proposal, evaluation.val)
        trace.append({"child": len(trace), "arch": list(proposal.arch), "val": evaluation.val,
                      "cost_s": evaluation.cost_s, "kind": proposal.kind,
                      "parent": None if proposal.parent is None else list(proposal.parent),
                      "wall_s": time.perf_counter() - started, **evaluation.info})
    return trace


def select(trace: list[dict[str, Any]]) -> dict[str, Any]:
    """The child with the best validation accuracy; ties go to the earliest."""
    return max(trace, key=lambda child: (child["val"], -child["child"]))


__all__ = ["Evaluation", "Evaluator", "Proposal", "SearchAlgorithm", "run_search", "select"]
