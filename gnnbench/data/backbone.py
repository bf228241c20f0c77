"""Backbones with python-sat: a literal is in the backbone iff it holds in every model of the formula.

Iterative SAT calls with assumptions (the method of CadiBack and of pysat's ``bbscan`` example, without
chunking): find one model; every literal of it is a candidate; for each remaining candidate ``l`` solve under
the assumption ``-l``: UNSAT proves ``l`` in the backbone (added as a unit clause to speed later calls), SAT
gives a model that rules out every candidate it falsifies. At most ``num_vars + 1`` calls, one incremental
solver.

Labels follow NeuroBack: ``0`` positive literal in the backbone, ``1`` negative literal in it, ``2`` not a
backbone variable (also every variable that occurs in no clause, since it is free in every model).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gnnbench.data.dimacs import Formula
from gnnbench.data.sat import NEGATIVE, NOT_BACKBONE, POSITIVE

SOLVER = "cadical195"


def backbone(formula: Formula, solver: str = SOLVER) -> tuple[set[int], tuple[int, ...]] | None:
    """The backbone literals of ``formula`` and one of its models, or None when it is unsatisfiable."""
    from pysat.solvers import Solver

    with Solver(name=solver, bootstrap_with=[list(c) for c in formula.clauses]) as sat:
        if not sat.solve():
            return None
        model = tuple(lit for lit in sat.get_model() if abs(lit) <= formula.num_vars)
        candidates = set(model)
        proved: set[int] = set()
        for lit in sorted(candidates, key=abs):
            if lit not in candidates:
                continue
            if sat.solve(assumptions=[-lit]):
                candidates &= set(sat.get_model())
            else:
                proved.add(lit)
                sat.add_clause([lit])
        return proved, model


def backbone_labels(formula: Formula, literals: set[int]) -> Tensor:
    """``y[v]`` for DIMACS variable ``v`` (index 0 unused, ``-1``): 0/1/2 as in the module docstring."""
    y = torch.full((formula.num_vars + 1,), NOT_BACKBONE, dtype=torch.long)
    y[0] = -1
    for lit in literals:
        y[abs(lit)] = POSITIVE if lit > 0 else NEGATIVE
    return y
