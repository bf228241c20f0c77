"""Backbone labels agree with brute force; the generators are seeded and keep their promises."""

from __future__ import annotations

import itertools
import random

import pytest

from gnnbench.data.backbone import backbone, backbone_labels
from gnnbench.data.cnf_generators import GeneratedFamily
from gnnbench.data.dimacs import Formula

pytest.importorskip("pysat")
pytest.importorskip("cnfgen")
from pysat.examples.bbscan import BBScan  # noqa: E402
from pysat.formula import CNF  # noqa: E402


def brute_force_backbone(formula: Formula) -> set[int] | None:
    models = [bits for bits in itertools.product((False, True), repeat=formula.num_vars)
              if all(any(bits[abs(lit) - 1] == (lit > 0) for lit in clause) for clause in formula.clauses)]
    if not models:
        return None
    return {v if models[0][v - 1] else -v for v in range(1, formula.num_vars + 1)
            if len({m[v - 1] for m in models}) == 1}


def test_backbones_of_30_small_random_formulas_agree_with_brute_force() -> None:
    rng = random.Random(0)
    formulas = []
    while len(formulas) < 30:
        n = rng.randint(6, 10)
        clauses = tuple(tuple(v if rng.random() < 0.5 else -v for v in rng.sample(range(1, n + 1), 3))
                        for _ in range(rng.randint(2 * n, 5 * n)))
        formula = Formula(n, clauses)
        expected = brute_force_backbone(formula)
        found = backbone(formula)
        assert (found is None) == (expected is None)
        if found is not None:
            literals, model = found
            assert literals == expected == set(BBScan(CNF(from_clauses=[list(c) for c in clauses])).compute("core"))
            assert len(model) == n and all(any(lit in model for lit in c) for c in clauses)
        if expected is not None:
            formulas.append((formula, expected))
    assert sum(bool(bb) for _, bb in formulas) >= 20  # most have a non-empty backbone: the test has teeth
    formula, literals = next((f, b) for f, b in formulas if any(lit < 0 for lit in b) and any(lit > 0 for lit in b))
    y = backbone_labels(formula, literals)
    for v in range(1, formula.num_vars + 1):
        assert y[v] == (0 if v in literals else 1 if -v in literals else 2)


def test_generated_families_are_seeded_and_satisfiable() -> None:
    for kind, n in (("random", 30), ("planted", 40), ("colouring", 8)):
        family = GeneratedFamily(kind, n, count=3, seed=1, ratio=5.0 if kind == "planted" else 4.26)
        first, again = family.formulas(), GeneratedFamily(kind, n, count=2, seed=1, ratio=family.ratio).formulas()
        assert first[:2] == again and first[0] != GeneratedFamily(kind, n, 1, seed=2, ratio=family.ratio).formula(0)
        assert all(backbone(f) is not None for f in first)
    planted = GeneratedFamily("planted", 40, count=1, ratio=5.0).formula(0)
    assert len(planted.clauses) == 200 and all(len(c) == 3 for c in planted.clauses)
    colouring = GeneratedFamily("colouring", 8, count=1, colours=3).formula(0)
    assert colouring.num_vars == 8 * 3
