"""Datasets: importing this package registers the built-in loaders."""

from gnnbench.data import planetoid, scenarios, substructure, synthetic, tu  # noqa: F401
