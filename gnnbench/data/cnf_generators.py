"""Seeded CNF generators for training data beyond the vendored SATLIB families.

* ``random``: uniform random k-SAT (cnfgen's ``RandomKCNF``, clauses without repetition) with
  ``round(ratio * n)`` clauses; near the 3-SAT threshold (ratio ~4.26) about half are satisfiable, and
  ``satisfiable_only`` keeps drawing until the formula is (the backbone is defined for satisfiable formulas);
* ``planted``: random k-SAT whose every clause is satisfied by a planted uniform assignment (``RandomKCNF``'s
  ``planted_assignments``), satisfiable by construction at any ratio, a classic source of large backbones;
* ``colouring``: graph ``colours``-colouring of a G(n, p) graph (cnfgen's ``GraphColoringFormula``: one variable
  per vertex and colour, at least one colour per vertex, at most one, adjacent vertices differ), redrawn until
  satisfiable: structured instances, unlike uniform random ones.

Formula ``i`` of a family is drawn from seed ``(seed, i)`` alone, so a family's prefix does not depend on its
size.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gnnbench.data.dimacs import Formula

KINDS = ("random", "planted", "colouring")
MAX_DRAWS = 1000


@dataclass(frozen=True)
class GeneratedFamily:
    """``count`` formulas of one ``kind`` over ``n`` variables (vertices, for ``colouring``)."""

    kind: str
    n: int
    count: int
    seed: int = 0
    k: int = 3
    ratio: float = 4.26
    p: float = 0.3
    colours: int = 4
    satisfiable_only: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.n < self.k or self.count < 0:
            raise ValueError(f"need n >= k and count >= 0, got n={self.n}, k={self.k}, count={self.count}")

    @property
    def name(self) -> str:
        detail = f"p{self.p}-c{self.colours}" if self.kind == "colouring" else f"k{self.k}-r{self.ratio}"
        return f"gen-{self.kind}-n{self.n}-{detail}-s{self.seed}"

    def formulas(self) -> list[Formula]:
        return [self.formula(i) for i in range(self.count)]

    def formula(self, index: int) -> Formula:
        rng = random.Random(f"{self.name}/{index}")
        for _ in range(MAX_DRAWS):
            formula = self._draw(rng, f"{self.name}-{index:04d}")
            if self.kind == "planted" or not self.satisfiable_only or _satisfiable(formula):
                return formula
        raise RuntimeError(f"{self.name}: no satisfiable formula in {MAX_DRAWS} draws; lower ratio or p")

    def _draw(self, rng: random.Random, name: str) -> Formula:
        import cnfgen
        import networkx as nx  # here, not at import: a run that draws no formula does not load it

        if self.kind == "colouring":
            graph = nx.gnp_random_graph(self.n, self.p, seed=rng.randrange(2**31))
            cnf = cnfgen.GraphColoringFormula(graph, self.colours)
        else:
            planted = None
            if self.kind == "planted":
                planted = [[v if rng.random() < 0.5 else -v for v in range(1, self.n + 1)]]
            cnf = cnfgen.RandomKCNF(self.k, self.n, round(self.ratio * self.n), seed=rng.randrange(2**31),
                                    planted_assignments=planted)
        return Formula(num_vars=cnf.number_of_variables(), clauses=tuple(tuple(c) for c in cnf.clauses()), name=name)


def _satisfiable(formula: Formula) -> bool:
    from pysat.solvers import Solver

    with Solver(name="cadical195", bootstrap_with=[list(c) for c in formula.clauses]) as sat:
        return bool(sat.solve())
