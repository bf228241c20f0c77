"""One CDCL solve with python-sat: phases set before ``solve``, a conflict budget, statistics from the solver.

The budget is a number of conflicts (``conf_budget`` + ``solve_limited``): deterministic, unlike wall time on a
shared machine. A formula the solver does not decide within it is recorded as unsolved (``solved = False``,
``status = None``), counting the budget's conflicts and the other statistics as spent, never dropped.
Statistics are python-sat's ``accum_stats()`` (conflicts, decisions, propagations, restarts); a returned model
is checked against every clause.

The two solvers take phases differently (``SolverConfig.phases``; tested in ``tests/test_neuroback.py``):
CaDiCaL's ``phase(lit)`` is a *forced* phase, consulted before the target and saved phases on every decision,
like the patched Kissat's ``--neural_backbone_always``; Glucose's ``setPolarity`` writes the *saved* phase, so it
is the *initial* phase that phase saving then overwrites, as in NeuroBack's configuration
(``--neural_backbone_initial``, less Kissat's rephasing that re-injects it).

Every solve of one solver runs under the same options (``SolverConfig.options``), whatever the policy:
python-sat's CaDiCaL ``set_phases`` switches the "lucky" phase search off, so without that the ``default`` policy
(no phases) would run a differently configured solver and its conflicts would not be a baseline for the others.
``cadical195_stable`` is CaDiCaL in stable mode only (``stabilizeonly``), the mode NeuroBack's Kissat runs in
(``--stable=2``); the default ``cadical195`` alternates stable and focused mode.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gnnbench.data.dimacs import Formula


@dataclass(frozen=True)
class SolverConfig:
    """A python-sat solver (``pysat``), how it treats the phases given to ``set_phases`` (``phases``: forced or
    initial, module docstring), and the options set on every solve before any phase."""

    pysat: str
    phases: str
    options: Mapping[str, int] = field(default_factory=dict)

    def new(self, formula: Formula) -> Any:
        """The configured solver, loaded with ``formula``'s clauses (a context manager)."""
        from pysat.solvers import Solver

        sat = Solver(name=self.pysat, bootstrap_with=[list(c) for c in formula.clauses])
        if self.options:
            sat.configure(dict(self.options))
        return sat


#: The solvers a suite names, by name.
SOLVERS: dict[str, SolverConfig] = {
    "cadical195": SolverConfig("cadical195", "forced", {"lucky": 0}),
    "cadical195_stable": SolverConfig("cadical195", "forced", {"lucky": 0, "stabilizeonly": 1}),
    "glucose4": SolverConfig("glucose4", "initial"),
}
#: The solvers of a suite that names none.
DEFAULT_SOLVERS = ("cadical195", "glucose4")


@dataclass(frozen=True)
class SolveStats:
    solved: bool
    status: bool | None  # True SAT, False UNSAT, None undecided within the budget
    conflicts: int
    decisions: int
    propagations: int
    solve_s: float
    model: tuple[int, ...] | None = None


def solve(formula: Formula, phases: list[int], solver: str = "cadical195", conflict_budget: int = 0) -> SolveStats:
    """Solve ``formula`` with ``solver`` (a name in :data:`SOLVERS`) after ``set_phases(phases)``;
    ``conflict_budget <= 0`` means none. A solve that decides only past the budget is unsolved, and an unsolved
    solve counts the budget's conflicts (its decisions, propagations and time as spent): CaDiCaL and MiniSat stop at the
    budget, but Glucose overshoots it (a 150-variable formula decided after 4,104 conflicts under a budget of 1),
    and counting what it reached would give every solver another budget."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    with SOLVERS[solver].new(formula) as sat:
        if phases:
            sat.set_phases(phases)
        if conflict_budget > 0:
            sat.conf_budget(conflict_budget)
        started = time.perf_counter()
        status = sat.solve_limited()
        elapsed = time.perf_counter() - started
        stats = sat.accum_stats()
        model = tuple(sat.get_model()) if status else None
    if model is not None:
        assigned = set(model)
        unsatisfied = next((c for c in formula.clauses if not assigned.intersection(c)), None)
        if unsatisfied is not None:
            raise RuntimeError(f"{solver} returned a model violating clause {unsatisfied} of {formula.name}")
    conflicts = int(stats.get("conflicts", 0))
    if 0 < conflict_budget < conflicts:
        status = model = None
        conflicts = conflict_budget
    return SolveStats(solved=status is not None, status=status, conflicts=conflicts,
                      decisions=int(stats.get("decisions", 0)), propagations=int(stats.get("propagations", 0)),
                      solve_s=elapsed, model=model)
