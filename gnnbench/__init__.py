"""gnnbench: reproducible benchmark suites for graph neural networks.

A suite (YAML) expands into runs; every run yields one record; leaderboards are computed from the records.
"""

from gnnbench.registry import (
    DATASETS,
    MODELS,
    TASKS,
    list_models,
    register_dataset,
    register_model,
    register_task,
)

__version__ = "0.1.0"

__all__ = ["DATASETS", "MODELS", "TASKS", "__version__", "list_models", "register_dataset", "register_model",
           "register_task"]
