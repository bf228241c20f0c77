from __future__ import annotations

import torch

from gnnbench.harness import driver, runner
from gnnbench.harness.env import git_commit
from gnnbench.harness.executors import LocalExecutor, ProcessExecutor
from gnnbench.harness.store import RunStore
from gnnbench.harness.suite import load_suite

CRASHING_PLUGIN = """\
import os, signal
from torch import nn
from gnnbench import register_model

@register_model("dies", tasks=("node_classification",))
class Dies(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels)

    def forward(self, x, edge_index):
        os.kill(os.getpid(), signal.SIGKILL)  # like the kernel's OOM killer
"""


def metrics(records):
    return {r["spec"]["seed"]: r["metrics"]["test"] for r in records}


def test_process_pool_gives_the_same_records_as_local(tiny_suite, tmp_path):
    suite = load_suite(tiny_suite(models="gcn", seeds=3, epochs=8))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # what each of 2 workers gets on 2 cores
    try:
        local = list(LocalExecutor().map(suite.specs))
    finally:
        torch.set_num_threads(threads)
    pooled = list(ProcessExecutor(workers=2).map(suite.specs))
    assert all(r["status"] == "ok" for r in local + pooled)
    assert sorted(r["run_id"] for r in pooled) == sorted(r["run_id"] for r in local)
    assert metrics(pooled) == metrics(local)
    assert {r["env"]["threads"] for r in pooled} == {1}


def test_the_commit_is_read_when_the_run_starts_not_when_it_ends(tiny_suite, monkeypatch):
    """A commit made while a long run trains must not be credited with the code that run imported."""
    git_commit.cache_clear()
    read_before_training = []

    def training(*args, **kwargs):
        read_before_training.append(git_commit.cache_info().currsize == 1)
        raise RuntimeError("stop here")

    monkeypatch.setattr(runner, "seed_everything", training)
    record = runner.execute(load_suite(tiny_suite()).specs[0])
    assert record["error"]["message"] == "stop here" and read_before_training == [True]
    assert record["env"]["git_commit"] == git_commit()


def test_a_killed_worker_fails_only_its_run_and_the_driver_keeps_going(write_suite, tmp_path):
    (tmp_path / "dies.py").write_text(CRASHING_PLUGIN)
    suite = load_suite(write_suite("""\
        name: crash
        plugins: [dies.py]
        defaults: {seeds: 2, epochs: 2}
        executor: {type: process, workers: 1}
        experiments:
          - task: node_classification
            datasets: [Cora]
            models: [dies, mlp]
        """))
    store = RunStore(tmp_path / "results")
    summary = driver.run(suite, store, ProcessExecutor(workers=1))
    by_model = {}
    for r in store.records():
        by_model.setdefault(r["spec"]["model"], []).append(r)
    assert (summary.ok, summary.failed) == (2, 2)
    assert all(r["status"] == "failed" and "worker process died" in r["error"]["message"] for r in by_model["dies"])
    assert all(r["status"] == "ok" for r in by_model["mlp"])
