"""Phase policies: which initial phase each variable gets before a CDCL solver starts.

A policy returns the literals to pass to python-sat's ``set_phases`` (a variable absent from the list keeps the
solver's own default). How a solver then uses them differs (``gnnbench.tasks.solver.SOLVERS``): CaDiCaL
forces the phase on every decision on that variable (``Solver::phase``, lucky-phase detection off); Glucose's
``setPolarity`` sets the saved phase, an initial phase that phase saving overwrites, as in NeuroBack's Kissat
change (which also re-injects it at rephasing).

* ``default``: nothing set;
* ``neuroback``: the model's score (P(negative backbone)) through :func:`threshold_phases` with ``cfd``;
* ``random``: a uniform random phase per variable, seeded per (run seed, formula);
* ``all_true`` / ``all_false``: every variable positive / negative;
* ``backbone``: the true backbone literals only (what a perfect backbone predictor could give);
* ``oracle``: a full satisfying assignment (the upper bound; nothing set on unsatisfiable formulas).

:func:`coverage` says what a policy's phases amount to against the true backbone: how many variables it sets,
how many of those are backbone variables, and how many of these get the backbone's phase.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, NamedTuple

import torch
from torch import Tensor

if TYPE_CHECKING:  # for the annotation: importing gnnbench.data registers every dataset loader
    from gnnbench.data.sat_benchmark import SatInstance

POLICIES = ("default", "neuroback", "random", "all_true", "all_false", "backbone", "oracle")


def policy_phases(policy: str, instance: SatInstance, scores: Tensor | None, cfd: float, seed: int) -> list[int]:
    """The literals ``policy`` sets on ``instance`` (module docstring): ``scores`` are the model's, for
    ``neuroback``; ``seed`` is the run's, for ``random``."""
    n = instance.formula.num_vars
    if policy == "default":
        return []
    if policy == "neuroback":
        if scores is None:
            raise ValueError("the neuroback policy needs the model's scores")
        return threshold_phases(scores, cfd)
    if policy == "random":
        return random_phases(n, f"{seed}/{instance.formula.name}")
    if policy in ("all_true", "all_false"):
        sign = 1 if policy == "all_true" else -1
        return [sign * v for v in range(1, n + 1)]
    if policy == "backbone":
        labels = instance.labels
        return [] if labels is None else [v if labels[v] == 0 else -v for v in range(1, n + 1) if labels[v] < 2]
    if policy == "oracle":
        return list(instance.model or ())
    raise ValueError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")


def threshold_phases(scores: Tensor, cfd: float) -> list[int]:
    """NeuroBack's symmetric confidence threshold on ``scores[v]`` = P(variable v is a negative backbone):
    ``score >= cfd`` -> phase ``-v``; ``score < 1 - cfd`` -> ``+v``; otherwise (or NaN) unset. Index 0 unused."""
    phases = []
    for v in range(1, scores.numel()):
        score = float(scores[v])
        if math.isnan(score):
            continue
        if score >= cfd:
            phases.append(-v)
        elif score < 1 - cfd:
            phases.append(v)
    return phases


def random_phases(num_vars: int, seed: str) -> list[int]:
    rng = random.Random(seed)
    return [v if rng.random() < 0.5 else -v for v in range(1, num_vars + 1)]


class Coverage(NamedTuple):
    """``phased`` variables set by a policy; ``backbone`` of them in the backbone; ``agree`` of these with the
    backbone's phase (both None where the formula has no labels, i.e. is unsatisfiable)."""

    phased: int
    backbone: int | None
    agree: int | None


def coverage(phases: list[int], labels: Tensor | None) -> Coverage:
    """Compare ``phases`` (literals) with backbone ``labels`` (per variable: 0 positive, 1 negative, 2 none)."""
    if labels is None:
        return Coverage(len(phases), None, None)
    literals = torch.tensor(phases, dtype=torch.long)
    label = labels[literals.abs()]
    backbone = label < 2
    agree = label[backbone] == (literals[backbone] < 0).long()  # label 1 (negative) wants a negative literal
    return Coverage(len(phases), int(backbone.sum()), int(agree.sum()))
