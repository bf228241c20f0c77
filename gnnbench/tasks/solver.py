"""One CDCL solve with python-sat: phases set before ``solve``, a conflict budget, statistics from the solver.

The budget is a number of conflicts (``conf_budget`` + ``solve_limited``): deterministic, unlike wall time on a
shared machine. A formula the solver does not decide within it is recorded as unsolved (``solved = False``,
``status = None``) with the statistics it reached, never dropped. Statistics are python-sat's
``accum_stats()`` (conflicts, decisions, propagations, restarts); a returned model is checked against every
clause.

The two solvers take phases differently (``PHASE_SEMANTICS``; tested in ``tests/test_neuroback.py``):
CaDiCaL's ``phase(lit)`` is a *forced* phase, consulted before the target and saved phases on every decision,
like the patched Kissat's ``--neural_backbone_always``; Glucose's ``setPolarity`` writes the *saved* phase, so it
is the *initial* phase that phase saving then overwrites, as in NeuroBack's configuration
(``--neural_backbone_initial``, less Kissat's rephasing that re-injects it).

Every solve of one solver runs under the same options (``SOLVER_OPTIONS``), whatever the policy: python-sat's
CaDiCaL ``set_phases`` switches the "lucky" phase search off, so without that the ``default`` policy (no
phases) would run a differently configured solver and its conflicts would not be a baseline for the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from gnnbench.data.dimacs import Formula

#: The solvers, and how each treats the phases given to ``set_phases`` (module docstring).
PHASE_SEMANTICS = {"cadical195": "forced", "glucose4": "initial"}
SOLVERS = tuple(PHASE_SEMANTICS)
#: Options set on every solve, before any phase: the configuration ``set_phases`` implies, for every policy.
SOLVER_OPTIONS: dict[str, dict[str, int]] = {"cadical195": {"lucky": 0}}


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
    """Solve ``formula`` with ``solver`` after ``set_phases(phases)``; ``conflict_budget <= 0`` means none."""
    from pysat.solvers import Solver

    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    with Solver(name=solver, bootstrap_with=[list(c) for c in formula.clauses]) as sat:
        if solver in SOLVER_OPTIONS:
            sat.configure(SOLVER_OPTIONS[solver])
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
    return SolveStats(solved=status is not None, status=status, conflicts=int(stats.get("conflicts", 0)),
                      decisions=int(stats.get("decisions", 0)), propagations=int(stats.get("propagations", 0)),
                      solve_s=elapsed, model=model)
