"""Datasets: importing this package registers the built-in loaders."""

from gnnbench.data import nasbench, ogb_mol, planetoid, sat_benchmark, scenarios, substructure, synthetic, tu  # noqa: F401
