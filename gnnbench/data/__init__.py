"""Datasets: importing this package registers the built-in loaders."""

from gnnbench.data import (  # noqa: F401
    nasbench,
    ogb_mol,
    planetoid,
    sat_benchmark,
    scenarios,
    substructure,
    synthetic,
    temporal,
    tu,
)
