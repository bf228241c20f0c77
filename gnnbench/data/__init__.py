"""Datasets: importing this package registers the built-in loaders."""

from gnnbench.data import ogb_mol, planetoid, scenarios, substructure, synthetic, temporal, tu  # noqa: F401
