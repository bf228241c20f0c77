"""SIGN: the precomputed hops are powers of the normalised adjacency, training reads only the feature store
(in batches, with loading time recorded per epoch), and a bad load mode is a clear error."""

from __future__ import annotations

import dataclasses
import math
import time

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from gnnbench.errors import ConfigError
from gnnbench.harness.suite import load_suite
from gnnbench.hparams import HparamError
from gnnbench.loading import FeatureStore, LoadingUnavailableError
from gnnbench.models.sign import SIGN, resolve_mode
from gnnbench.tasks.base import Budget, RunContext
from gnnbench.tasks.node import NodeClassification, NodeOptions

CPU = torch.device("cpu")


def small_graph(n: int = 40, seed: int = 0) -> Data:
    g = torch.Generator().manual_seed(seed)
    edge_index = to_undirected(torch.randint(0, n, (2, 3 * n), generator=g), num_nodes=n)
    y = torch.randint(0, 3, (n,), generator=g)
    masks = torch.zeros(3, n, dtype=torch.bool)
    masks[torch.arange(n) % 3, torch.arange(n)] = True
    return Data(x=torch.randn(n, 5, generator=g), edge_index=edge_index, y=y, train_mask=masks[0], val_mask=masks[1],
                test_mask=masks[2])


def test_precomputed_hops_are_powers_of_the_normalised_adjacency_each_with_its_own_weights() -> None:
    data = small_graph()
    model = SIGN(5, 3, K=3)
    model.preprocess(data.x, data.edge_index, CPU)
    a = torch.zeros(40, 40)
    a[data.edge_index[1], data.edge_index[0]] = 1.0
    d = a.sum(1).pow(-0.5).nan_to_num(posinf=0.0)
    a_hat = d[:, None] * a * d[None, :]
    expected = torch.cat([torch.linalg.matrix_power(a_hat, k) @ data.x for k in range(4)], dim=-1)
    torch.testing.assert_close(model.store.host, expected, atol=1e-5, rtol=1e-5)
    model.eval()
    per_hop = [theta(hop) for theta, hop in zip(model.hops, expected.split(5, dim=1), strict=True)]
    torch.testing.assert_close(model(data.x), model.out(torch.relu(torch.cat(per_hop, 1))), atol=1e-5, rtol=1e-5)


def test_training_reads_batches_from_the_store_and_records_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    data, gathered = small_graph(), []
    real = FeatureStore.gather

    def spy(store: FeatureStore, index: torch.Tensor, mode: str = "cpu"):
        gathered.append((index.numel(), mode))
        return real(store, index, mode)

    monkeypatch.setattr(FeatureStore, "gather", spy)
    model = SIGN(5, 3)
    task = NodeClassification(NodeOptions())
    fit = model.fit(task, data, {"lr": 0.01, "weight_decay": 0.0, "batch_size": 4, "load_mode": "auto"},
                    Budget(epochs=3), RunContext(device=CPU, seed=0))
    train = int(data.train_mask.sum())
    per_epoch = [(4, "cpu")] * (train // 4) + ([(train % 4, "cpu")] if train % 4 else []) + [(40, "cpu")]
    assert sorted(gathered) == sorted(per_epoch * 3)  # training batches, then one evaluation read, per epoch
    assert len(fit.history["load_s"]) == 3 and all(0 <= s <= 1 for s in fit.history["load_share"])
    assert fit.loading["mode"] == "cpu" and fit.loading["row_bytes"] == 3 * 5 * 4
    assert math.isclose(fit.loading["epoch_load_s"], sum(fit.history["load_s"][1:]) / 2)


def test_the_recorded_loading_is_the_steady_rate_with_the_first_epoch_s_one_off_cost_apart(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The first gather of a run pays one-off costs (on the CPU the first touch of its output; docs/loading.md
    gives what the reference records show). Made 1 s here against 1 ms for every other gather, it is
    ``first_epoch_load_s`` alone: the means are the later epochs', which a run of one epoch does not have."""
    real, gathers = FeatureStore.gather, []

    def first_slow(store: FeatureStore, index: torch.Tensor, mode: str = "cpu"):
        out, stats = real(store, index, mode)
        gathers.append(index.numel())
        cost = 1.0 if len(gathers) == 1 else 0.001
        return out, dataclasses.replace(stats, seconds=cost, cpu_seconds=cost / 2)

    monkeypatch.setattr(FeatureStore, "gather", first_slow)
    data, hparams = small_graph(), {"lr": 0.01, "weight_decay": 0.0, "batch_size": 4, "load_mode": "cpu"}
    batches = -(-int(data.train_mask.sum()) // 4)
    fit = SIGN(5, 3).fit(NodeClassification(NodeOptions()), data, hparams, Budget(epochs=3),
                         RunContext(device=CPU, seed=0))
    assert fit.loading["epoch_load_s"] == pytest.approx(batches * 0.001)
    assert fit.loading["epoch_load_cpu_s"] == pytest.approx(batches * 0.0005)
    assert fit.loading["first_epoch_load_s"] == pytest.approx(1.0 + (batches - 1) * 0.001)
    assert fit.loading["epoch_load_share"] == pytest.approx(sum(fit.history["load_share"][1:]) / 2)
    assert fit.loading["epoch_load_over"] == "after_first_epoch"
    gathers.clear()
    one = SIGN(5, 3).fit(NodeClassification(NodeOptions()), data, hparams, Budget(epochs=1),
                         RunContext(device=CPU, seed=0))
    assert one.loading["first_epoch_load_s"] == pytest.approx(1.0 + (batches - 1) * 0.001)
    assert all(math.isnan(one.loading[k]) for k in ("epoch_load_s", "epoch_load_share", "epoch_load_cpu_s"))


def test_device_mode_uploads_the_table_before_the_first_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-time upload of the whole table is set-up: neither epoch 0's loading time nor its epoch time."""
    stores: list[FeatureStore] = []
    real_init, real_to = FeatureStore.__init__, torch.Tensor.to

    def init(store: FeatureStore, *args, **kwargs) -> None:
        real_init(store, *args, **kwargs)
        stores.append(store)

    def slow_upload(tensor: torch.Tensor, *args, **kwargs):
        if stores and tensor is stores[-1].host:
            time.sleep(0.3)
        return real_to(tensor, *args, **kwargs)

    monkeypatch.setattr(FeatureStore, "__init__", init)
    monkeypatch.setattr(torch.Tensor, "to", slow_upload)
    fit = SIGN(5, 3).fit(NodeClassification(NodeOptions()), small_graph(),
                         {"lr": 0.01, "weight_decay": 0.0, "batch_size": 4, "load_mode": "device"},
                         Budget(epochs=2), RunContext(device=CPU, seed=0))
    assert fit.loading["mode"] == "device"
    assert fit.history["load_s"][0] < 0.3 and fit.epoch_times_s[0] < 0.3


def test_load_modes_resolve_or_fail_clearly(write_suite) -> None:
    assert resolve_mode("auto", CPU) == "cpu" and resolve_mode("device", CPU) == "device"
    hparams = {"lr": 0.01, "weight_decay": 0.0, "batch_size": 4}
    with pytest.raises(HparamError, match="load_mode: expected one of cpu, gpu_direct, device or auto, got 'pinned'"):
        SIGN(5, 3).fit(NodeClassification(NodeOptions()), small_graph(), {**hparams, "load_mode": "pinned"},
                       Budget(epochs=1), RunContext(device=CPU, seed=0))
    # a suite that asks for what no run could do fails when it loads, at the grid's value: the value's own error,
    # without the grid point and the dataset, which have nothing to do with it
    for mode, message in (("zero_copy", "expected one of cpu, gpu_direct, device or auto, got 'zero_copy'"),
                          ("gpu_direct", "gpu_direct gathers on a GPU (CUDA and Triton); this run's device is cpu")):
        path = write_suite(f"""
name: bad_mode
experiments:
  - name: e
    task: node_classification
    datasets: [Cora]
    models: [{{name: sign, hparams: {{load_mode: [cpu, {mode}]}}}}]
""")
        with pytest.raises(ConfigError) as info:
            load_suite(path)
        assert (info.value.key, info.value.message) == ("experiments[0].models[0].hparams.load_mode[1]", message)
    model = SIGN(5, 3)
    model.preprocess(torch.randn(6, 5), torch.tensor([[0, 1], [1, 0]]), CPU)
    model.load_mode = "gpu_direct"
    with pytest.raises(LoadingUnavailableError):
        model(torch.randn(6, 5))


def test_a_sign_run_records_its_loading(write_suite) -> None:
    from gnnbench.harness.runner import execute
    from gnnbench.harness.suite import load_suite

    suite = load_suite(write_suite("name: s\ndefaults: {seeds: 1, epochs: 3, patience: null}\nexperiments:\n"
                                   "  - {task: node_classification, datasets: [Cora], models: [sign]}\n"))
    record = execute(suite.specs[0])
    assert record["status"] == "ok" and record["loading"]["mode"] == "cpu"
    assert 0 <= record["loading"]["epoch_load_share"] <= 1 and len(record["history"]["load_s"]) == 3
    # the suite names no kernel: its default, scatter, is the only backend SIGN runs, which chose it
    assert record["kernel"]["backend"] == "scatter"
    assert record["kernel"]["reason"].startswith("the only backend supported here (scatter): the model has no ")
