"""gnnbench: reproducible benchmark suites for graph neural networks.

A suite (YAML) expands into runs; every run yields one record; leaderboards are computed from the records.
"""

from importlib.metadata import PackageNotFoundError, version

from gnnbench.registry import (
    DATASETS,
    MODELS,
    TASKS,
    list_models,
    register_dataset,
    register_model,
    register_scenario,
    register_task,
)

try:
    __version__ = version("gnnbench")  # pyproject.toml's, the one place it is written
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["DATASETS", "MODELS", "TASKS", "__version__", "list_models", "register_dataset", "register_model",
           "register_scenario", "register_task"]
