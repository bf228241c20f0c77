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

from gnnbench.search.policy import Sample
from gnnbench.search.space import Arch, Space

#: proposals that are not new children (invalid or, unless counted, repeated), in a row, before the search ends
MAX_WITHOUT_CHILD = 1000


@dataclass
class Proposal:
    """A child to evaluate. ``parent`` is the architecture it was modified from (AGNN), whose trained weights
    it may inherit; ``kind`` is the action class that was modified; ``sample`` is the sampling policy's draw
    (log-probabilities and entropies), kept for its update."""

    arch: Arch
    parent: Arch | None = None
    kind: str | None = None
    sample: Sample | None = None


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
               generator: torch.Generator, count_repeats: bool = False) -> list[dict[str, Any]]:
    """Evaluate ``budget`` children proposed by ``algorithm``; return the trace, one entry per child.

    A proposal outside the space is not evaluated and not counted; the algorithm observes a reward of 0. A
    proposal building the same network as an earlier child (:meth:`Space.key`) is, unless ``count_repeats``,
    answered with that child's reward from the trace, without an evaluation and without counting: the budget
    is then a number of distinct children, as a search that remembers what it trained would spend it.

    The search ends before its budget after :data:`MAX_WITHOUT_CHILD` proposals in a row that are no new child:
    AGNN at a best whose one-class neighbours are all evaluated (its explorer proposes nothing else), or a
    budget near the size of the space. The trace is then shorter than the budget, which the record's
    ``queries`` and the search leaderboard say, and its last child notes the repeats that came after it
    (``repeats_after``); what was evaluated is kept, not thrown away with the run.
    """
    algorithm.start(space, generator)
    trace: list[dict[str, Any]] = []
    known: dict[Any, float] = {}
    repeats = without_child = 0
    started = time.perf_counter()
    while len(trace) < budget:
        proposal = algorithm.propose()
        key = space.network_key(proposal.arch)
        if key is None or (not count_repeats and key in known):
            without_child += 1
            repeats += key is not None
            if without_child > MAX_WITHOUT_CHILD and not trace:
                raise RuntimeError(f"{type(algorithm).__name__} proposed {without_child} invalid architectures in a "
                                   "row, and no valid one")
            if without_child > MAX_WITHOUT_CHILD:
                trace[-1]["repeats_after"] = repeats - trace[-1]["repeats_before"]
                break
            algorithm.observe(proposal, 0.0 if key is None else known[key])
            continue
        without_child = 0
        evaluation = evaluate(proposal)
        known[key] = evaluation.val
        algorithm.observe(proposal, evaluation.val)
        trace.append({"child": len(trace), "arch": list(proposal.arch), "val": evaluation.val,
                      "cost_s": evaluation.cost_s, "kind": proposal.kind,
                      "parent": None if proposal.parent is None else list(proposal.parent),
                      "repeats_before": repeats, "wall_s": time.perf_counter() - started, **evaluation.info})
    return trace


def top(trace: list[dict[str, Any]], k: int = 1) -> list[dict[str, Any]]:
    """The ``k`` children with the best validation accuracy, best first; ties go to the earliest."""
    return sorted(trace, key=lambda child: (-child["val"], child["child"]))[:k]


__all__ = ["Evaluation", "Evaluator", "Proposal", "SearchAlgorithm", "run_search", "top"]
