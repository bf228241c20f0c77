"""Every model runs one epoch on every task it is registered for: ``register_model(tasks=...)`` is what
``list models --task`` shows and what a suite accepts, so a task listed there that the model cannot run would
pass the suite's checks and fail every run (as DGMLP on inductive node classification did)."""

from __future__ import annotations

import pytest
import yaml

from gnnbench.harness.runner import execute
from gnnbench.harness.suite import load_suite
from gnnbench.registry import MODELS, TASKS

#: per task, a small registered dataset and the options that keep one epoch short
TASK_RUNS = {
    "node_classification": ("Cora", {}),
    "link_prediction": ("Cora", {}),
    "inductive_node_classification": ("DictionaryLookup-5", {}),
    "inductive_node_regression": ("Count-ER-triangle-node", {}),
    "graph_classification": ("MUTAG", {}),
    "graph_regression": ("Count-ER-triangle", {}),
    "ogb_graph_classification": ("ogbg-molbace", {}),
    "ogb_graph_regression": ("ogbg-molesol", {}),
    "temporal_link": ("PeriodicStream", {}),
    "sat_solving": ("SAT-3SAT", {"solvers": ["cadical195"], "policies": ["default", "neuroback"],
                                 "conflict_budget": 1000}),
    "architecture_search": ("Cora", {"budget": 2, "retrain_seeds": 1}),
}
#: hyperparameters that only make the run smaller (the fewest path lengths of the k-path GNN)
SMALLER = {"kpath": {"k": 1, "hidden_channels": 8}}
PAIRS = [(model, task) for model in sorted(MODELS.names()) for task in MODELS.get(model).tasks]


def test_every_task_a_model_names_is_a_task_this_test_runs():
    assert {task for _, task in PAIRS} <= set(TASK_RUNS) <= set(TASKS.names())


@pytest.mark.parametrize(("model", "task"), PAIRS, ids=[f"{m}-{t}" for m, t in PAIRS])
def test_a_registered_model_runs_on_each_of_its_tasks(model, task, write_suite):
    dataset, options = TASK_RUNS[task]
    experiment = {"task": {"name": task, **options}, "datasets": [dataset],
                  "models": [{"name": model, "hparams": SMALLER.get(model, {})}], "epochs": 1}
    suite = load_suite(write_suite(yaml.safe_dump({"name": "registered", "experiments": [experiment]})))
    record = execute(suite.specs[0])
    assert record["status"] == "ok", f"{record['error']['type']}: {record['error']['message']}"
    assert isinstance(record["metrics"]["test"][record["metric"]], float)
