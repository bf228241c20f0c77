"""Random search: every child drawn uniformly from the space, independently of all rewards."""

from __future__ import annotations

from gnnbench.registry import register_model
from gnnbench.search.base import Proposal, SearchAlgorithm


@register_model("random_search", paper="Bergstra & Bengio, JMLR 2012; the baseline of every NAS comparison",
                tasks=("architecture_search",))
class RandomSearch(SearchAlgorithm):
    """Random search: uniform, independent draws from the space."""

    def propose(self) -> Proposal:
        return Proposal(self.space.sample(self.generator))


__all__ = ["RandomSearch"]
