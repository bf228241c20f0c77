"""Graph tasks: the Errica et al. CV protocol, test graphs hidden from training, mini-batch training, TU data."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data

from gnnbench import hparams as hp
from gnnbench.data.collection import GraphCollection
from gnnbench.data.synthetic import dictionary_lookup, hetero_edge_count
from gnnbench.errors import ConfigError, DataError
from gnnbench.harness.runner import execute
from gnnbench.harness.suite import load_suite
from gnnbench.leaderboard.aggregate import leaderboard_frame, runs_frame
from gnnbench.registry import MODELS
from gnnbench.tasks.base import Budget, FitResult, RunContext
from gnnbench.tasks.graph import (
    GraphClassification,
    GraphOptions,
    GraphRegression,
    GraphSplits,
    InductiveNodeClassification,
    RegressionOptions,
)
from gnnbench.tasks.optim import LRSchedule
from gnnbench.tasks.splits import holdout, stratified_folds


def toy_graphs(count: int = 60, classes: int = 3) -> GraphCollection:
    """Graphs whose class is their size (3, 4 or 5 nodes on a path), so the label is learnable."""
    graphs = []
    for i in range(count):
        n = 3 + i % classes
        edges = torch.tensor([[j, j + 1] for j in range(n - 1)]).t()
        graphs.append(Data(x=torch.ones(n, 1), edge_index=torch.cat([edges, edges.flip(0)], 1),
                           y=torch.tensor([i % classes])))
    return GraphCollection(graphs)


def test_stratified_folds_partition_the_items_and_keep_class_proportions():
    y = torch.tensor([0] * 40 + [1] * 20 + [2] * 10)
    folds = stratified_folds(y, 10, seed=0)
    assert torch.equal(torch.cat(folds).sort().values, torch.arange(70))
    for fold in folds:
        assert torch.bincount(y[fold], minlength=3).tolist() == [4, 2, 1]
    assert [f.tolist() for f in folds] == [f.tolist() for f in stratified_folds(y, 10, seed=0)]
    assert [f.tolist() for f in folds] != [f.tolist() for f in stratified_folds(y, 10, seed=1)]


def test_holdout_is_stratified_and_disjoint():
    y = torch.tensor([0] * 50 + [1] * 30)
    rest, held = holdout(torch.arange(80), y, 0.1, seed=0)
    assert torch.bincount(y[held]).tolist() == [5, 3]
    assert set(rest.tolist()).isdisjoint(held.tolist()) and rest.numel() + held.numel() == 80


def test_holdout_holds_out_the_rounded_fraction_not_the_floor():
    rest, held = holdout(torch.arange(17), None, 0.1, seed=0)  # 1.7 -> 2
    assert held.numel() == 2 and rest.numel() == 15


def test_the_run_seed_is_the_fold_and_every_fold_is_tested_once():
    task = GraphClassification(GraphOptions(folds=5, val_fraction=0.2))
    data = toy_graphs()
    tests = []
    for fold in range(5):
        index, split_id = task.split(data, fold)
        assert split_id.endswith(f"fold={fold}")
        parts = [set(index[s].tolist()) for s in ("train", "val", "test")]
        assert all(a.isdisjoint(b) for a, b in ((parts[0], parts[1]), (parts[0], parts[2]), (parts[1], parts[2])))
        assert len(parts[1]) == 3 * round(0.2 * 16)  # per class: 16 training graphs of each of 3 classes
        tests += index["test"].tolist()
    assert sorted(tests) == list(range(60))
    with pytest.raises(ValueError, match="fold index"):
        task.split(data, 5)


def test_more_seeds_than_folds_is_an_error_when_the_suite_is_loaded(tmp_path):
    path = tmp_path / "cv.yaml"
    path.write_text("name: cv\nexperiments:\n  - task: {name: graph_classification, folds: 3}\n"
                    "    datasets: [MUTAG]\n    seeds: 4\n    models: [gin_pool]\n")
    with pytest.raises(ConfigError, match=r"cv.yaml: experiments\[0\].seeds: task 'graph_classification' cannot "
                                          r"run on dataset 'MUTAG': .* must be in 0..2; got seed 3 \(use seeds: 3\)"):
        load_suite(path)
    path.write_text(path.read_text().replace("seeds: 4", "seeds: [0, 5, 1]"))  # at the listed seed
    with pytest.raises(ConfigError, match=r"cv.yaml: experiments\[0\].seeds\[1\]: .* got seed 5"):
        load_suite(path)
    path.write_text(path.read_text().replace("seeds: [0, 5, 1]", "seeds: 4"))
    path.write_text(path.read_text().replace("seeds: 4", "seeds: 3"))
    assert [s.seed for s in load_suite(path).specs] == [0, 1, 2]


def test_training_sees_only_training_and_validation_graphs(monkeypatch):
    task = GraphClassification(GraphOptions(folds=5))
    seen = {}

    def spy(self, model, data, train_hparams, budget, ctx):
        seen["data"] = data
        return original(self, model, data, train_hparams, budget, ctx)

    original = GraphClassification.fit
    monkeypatch.setattr(GraphClassification, "fit", spy)
    torch.manual_seed(0)
    data = toy_graphs()
    result = task.run(MODELS.get("gin_pool"), data, {**GraphClassification.train_hparams, "hidden_channels": 16,
                                                      "num_layers": 2, "dropout": 0.0, "pool": "sum",
                                                      "train_eps": False},
                      Budget(epochs=60), RunContext(device=torch.device("cpu"), seed=2))
    splits: GraphSplits = seen["data"]
    assert set(vars(splits)) == {"train", "val"}
    assert len(splits.train) + len(splits.val) == 48 and result["data"]["num_test"] == 12
    val = result["history"]["val_accuracy"]
    assert result["metrics"]["val"]["accuracy"] == pytest.approx(max(val))  # the selected state is evaluated
    assert val[result["best_epoch"]] == max(val)


def test_reduced_tu_suite_records_fold_features_and_aggregates_over_folds(write_suite):
    suite = load_suite(write_suite("""\
        name: tu
        defaults: {seeds: [0, 1], epochs: 2, patience: null}
        experiments:
          - task: {name: graph_classification, folds: 10}
            datasets: [MUTAG, IMDB-BINARY]
            models: [{name: gin_pool, hparams: {hidden_channels: 16, num_layers: 2}}]
        """))
    records = [execute(spec) for spec in suite.specs]
    assert all(r["status"] == "ok" for r in records), [r.get("error") for r in records]
    by = {(r["spec"]["dataset"], r["spec"]["seed"]): r for r in records}
    assert by["MUTAG", 1]["split"] == "cv(folds=10,split_seed=0,val=0.1):fold=1"
    assert by["MUTAG", 0]["data"]["num_test"] + by["MUTAG", 0]["data"]["num_train"] \
        + by["MUTAG", 0]["data"]["num_val"] == 188
    assert by["IMDB-BINARY", 0]["data"]["node_features"].startswith("one-hot degree")
    assert by["MUTAG", 0]["data"]["node_features"] == "one-hot node labels (7)"
    json.dumps(records)
    board = leaderboard_frame(runs_frame(records))
    assert sorted(board["n"].tolist()) == [2, 2]


def test_dictionary_lookup_targets_are_the_matching_keys_values():
    data = dictionary_lookup(4, 20, seed=3)
    g = data[0]
    keys, queries = g.x[:4], g.x[4:]
    assert (g.y[:4] == -1).all() and queries[:, 4:].abs().sum() == 0
    for j in range(4):
        key = int(queries[j, :4].argmax())
        assert int(g.y[4 + j]) == int(keys[key, 4:].argmax())
    assert g.edge_index.size(1) == 16 and bool((g.edge_index[0] < 4).all() and (g.edge_index[1] >= 4).all())
    assert sum(len(v) for v in data.split_idx.values()) == 20


def test_sir_gcn_solves_dictionary_lookup_where_gcn_stays_at_chance():
    """The paper's expressivity claim, reduced: n = 5, 400 graphs, 1 layer, 60 epochs."""
    data = dictionary_lookup(5, 400, seed=0)
    task = InductiveNodeClassification(GraphOptions(split="dataset"))
    budget, ctx = Budget(epochs=60), RunContext(device=torch.device("cpu"), seed=0)
    train = {**InductiveNodeClassification.train_hparams, "batch_size": 64, "lr": 0.01}
    torch.manual_seed(0)
    sir = task.run(MODELS.get("sir_gcn"), data, {**train, "hidden_channels": 20, "num_layers": 1,
                                                 "activation": "relu_linear_relu", "norm": "none",
                                                 "residual": False, "readout_layers": 1}, budget, ctx)
    gcn = task.run(MODELS.get("gcn"), data, {**train, "hidden_channels": 20, "num_layers": 1, "dropout": 0.0},
                   budget, ctx)
    assert sir["metrics"]["test"]["accuracy"] >= 0.95
    assert abs(gcn["metrics"]["test"]["accuracy"] - 1 / 5) <= 0.05


def test_hetero_edge_count_counts_heterophilous_edges_of_the_authors_random_directed_graphs():
    """Their generator: n in [2, 50], n^2/4..n^2 distinct ordered pairs, self-loops allowed, the target a count
    (not a fraction, which varies too little between graphs to separate the models)."""
    data = hetero_edge_count(3, 40, seed=1)
    one_way = 0
    for g in data:
        n, colour = g.num_nodes, g.x.argmax(1)
        src, dst = g.edge_index
        assert 2 <= n <= 50 and n * n // 4 <= g.num_edges <= n * n
        pairs = set((src * n + dst).tolist())
        assert len(pairs) == g.num_edges  # no edge twice
        one_way += sum(d * n + s not in pairs for s, d in g.edge_index.t().tolist())  # directed: no reverse
        assert float(g.y) == float((colour[src] != colour[dst]).sum())
    assert max(float(g.y) for g in data) > 100 and one_way > 0
    task = GraphRegression(RegressionOptions(split="dataset"))
    result = task.run(MODELS.get("sir_gcn"), data, {**GraphRegression.train_hparams, "hidden_channels": 8,
                                                    "num_layers": 1, "pool": "mean"},
                      Budget(epochs=3), RunContext(device=torch.device("cpu"), seed=0))
    assert set(result["metrics"]["test"]) == {"mae", "mse", "loss"}


def test_regression_under_loss_mse_trains_selects_and_reports_the_squared_error(tmp_path: Path):
    task = GraphRegression(RegressionOptions(split="dataset", loss="mse"))
    out, target = torch.tensor([[0.0], [3.0]]), torch.tensor([[1.0], [1.0]])
    assert float(task.loss(out, target)) == 2.5 and task.metric == "mse"  # (1 + 4) / 2; MAE would be 1.5
    suite = tmp_path / "s.yaml"
    spec = ("name: s\nexperiments: [{task: {name: graph_regression, split: dataset%s}, datasets: [HeteroEdgeCount-2],"
            " models: [{name: gcn_pool, hparams: {hidden_channels: 8, num_layers: 1, pool: sum}}]}]\n"
            "defaults: {seeds: 1, epochs: 3, device: cpu}\n")
    runs = {}
    for loss in ("", ", loss: mse"):
        suite.write_text(spec % loss)
        [run] = load_suite(suite).specs
        runs[loss] = run
        record = execute(run)
        assert record["task_label"] == ("graph_regression(loss=mse)" if loss else "graph_regression")
        assert record["metric"] == ("mse" if loss else "mae")
        val = record["metrics"]["val"]
        assert val["loss"] == (val["mse"] if loss else val["mae"])  # the trained loss, and the selection's tie-break
    assert runs[""].run_id != runs[", loss: mse"].run_id
    assert "loss" not in runs[""].task_options  # the default leaves earlier runs' ids as they were


def test_a_regression_subclass_keeps_its_own_metric_and_may_have_options_without_loss():
    """A plugin task like graph_regression (docs/adding_a_task.md) that reports MSE through its class attribute,
    with options of its own: the loss option is graph_regression's, not every subclass's."""
    @dataclasses.dataclass(frozen=True)
    class Options(GraphOptions):
        note: str = ""

    class GraphMSE(GraphRegression):
        name, metric = "graph_mse", "mse"

    task = GraphMSE(Options(split="dataset"))
    assert (task.metric, task.label()) == ("mse", "graph_mse")
    out, target = torch.tensor([[0.0], [3.0]]), torch.tensor([[1.0], [1.0]])
    assert float(task.loss(out, target)) == 1.5  # L1, as graph_regression's default
    assert GraphMSE(RegressionOptions(split="dataset")).metric == "mse"  # its metric, not the l1 default's mae


def test_lr_schedule_warms_up_linearly_then_decays_on_a_training_loss_plateau():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=1.0)
    schedule = LRSchedule(optimizer, {"lr": 1.0, "warmup_epochs": 4, "lr_patience": 1, "lr_step": 0,
                                       "lr_factor": 0.5})
    lrs = []
    for epoch in range(8):
        lrs.append(schedule.current())
        schedule.step(epoch, train_loss=1.0)  # a flat loss: a plateau right after the warm-up
    assert lrs[:5] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert lrs[-1] < 1.0


def test_a_graph_run_is_never_stopped_during_its_learning_rate_warm_up():
    task, data = GraphRegression(RegressionOptions(split="dataset")), hetero_edge_count(3, 40, seed=1)
    hparams = hp.resolve(MODELS.get("sir_gcn"), GraphRegression, {"hidden_channels": 8, "num_layers": 1,
                                                                  "pool": "mean", "norm": "none", "warmup_epochs": 6,
                                                                  "lr": 0.0})
    result = task.run(MODELS.get("sir_gcn"), data, hparams, Budget(epochs=20, patience=2),
                      RunContext(device=torch.device("cpu"), seed=0))
    assert result["history"]["lr"][:6] == [0.0] * 6  # lr 0: the model never improves on its first epoch
    assert result["best_epoch"] == 0 and result["epochs_run"] == 6 + 2  # warm-up, then the patience


def test_lr_step_halves_the_rate_every_step_epochs_and_excludes_the_plateau_schedule():
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.01)
    hparams = {"lr": 0.01, "warmup_epochs": 0, "lr_patience": 0, "lr_step": 2, "lr_factor": 0.5}
    schedule = LRSchedule(optimizer, hparams)
    lrs = []
    for epoch in range(6):
        lrs.append(schedule.current())
        schedule.step(epoch, train_loss=1.0)
    assert lrs == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025])
    with pytest.raises(ValueError, match="two schedules"):
        LRSchedule(optimizer, {**hparams, "lr_patience": 3})


def test_an_optional_training_key_is_accepted_but_absent_from_runs_that_do_not_set_it():
    """So adding lr_step to the graph tasks kept every existing run id; and set to its off value it is the same
    run as unset, unless the model's defaults turn it on."""
    entry = MODELS.get("gin_pool")
    assert "lr_step" not in hp.resolve(entry, GraphClassification, {})
    assert hp.resolve(entry, GraphClassification, {"lr_step": 0}) == hp.resolve(entry, GraphClassification, {})
    stepped = dataclasses.replace(entry, defaults={**entry.defaults, "lr_step": 50})
    assert hp.resolve(stepped, GraphClassification, {"lr_step": 0})["lr_step"] == 0
    assert hp.resolve(entry, GraphClassification, {"lr_step": 50})["lr_step"] == 50
    with pytest.raises(hp.HparamError, match="expected an integer for .lr_step."):
        hp.resolve(entry, GraphClassification, {"lr_step": "50"})
    task, data = GraphRegression(RegressionOptions(split="dataset")), hetero_edge_count(3, 40, seed=1)
    hparams = {"hidden_channels": 8, "num_layers": 1, "pool": "mean"}
    ctx = RunContext(device=torch.device("cpu"), seed=0)
    for extra, rates in (({}, [0.01] * 4), ({"lr_step": 2}, [0.01, 0.01, 0.005, 0.005])):  # unset means off
        resolved = hp.resolve(MODELS.get("sir_gcn"), GraphRegression, {**hparams, "warmup_epochs": 0,
                                                                      "lr_patience": 0, "lr": 0.01, **extra})
        result = task.run(MODELS.get("sir_gcn"), data, resolved, Budget(epochs=4), ctx)
        assert result["history"]["lr"] == pytest.approx(rates)

    fitted = FitResult(best_epoch=0, epochs_run=1)

    class OwnFit(Pooled):  # a model whose own fit delegates to the task's: same optional keys
        def fit(self, task, data, hparams, budget, ctx):
            seen.update(hparams)
            return fitted

    seen: dict = {}
    assert task.fit_model(OwnFit(1, 1), data, {"lr": 0.01}, Budget(epochs=1), ctx) is fitted
    assert seen == {"lr": 0.01, "lr_step": 0}


def test_reference_graph_suites_parse_and_each_model_runs_in_reduced_form():
    """CI's form of the shipped suites: every model of configs/graph_classification.yaml, one MUTAG fold, 1 epoch."""
    root = Path(__file__).resolve().parents[1] / "configs"
    suite = load_suite(root / "graph_classification.yaml")
    assert {s.seed for s in suite.specs} == set(range(10))  # the 10 folds
    reduced = {s.model: dataclasses.replace(s, epochs=1, patience=None) for s in suite.specs
               if s.dataset == "MUTAG" and s.seed == 0}
    assert set(reduced) == {"gin_pool", "sir_gcn", "gcn_pool", "sage_pool", "kpath"}
    for spec in reduced.values():
        record = execute(spec)
        assert record["status"] == "ok", record.get("error")
        assert record["params"] < 100_000
    synthetic = {(s.dataset, s.model) for s in load_suite(root / "synthetic.yaml").specs}
    assert synthetic == {("DictionaryLookup-10", "sir_gcn"), ("DictionaryLookup-10", "gcn"),
                         ("HeteroEdgeCount-2", "sir_gcn"), ("HeteroEdgeCount-2", "gcn_pool"),
                         *((f"HeteroEdgeCount-{c}", "sir_gcn") for c in (4, 6, 8, 10))}


class Unpooled(torch.nn.Module):
    """A graph-level model that forgot to pool: one row per node."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(in_channels, out_channels)

    def forward(self, x, edge_index, batch=None):
        return self.lin(x)


def test_a_model_returning_the_wrong_shape_is_named_with_what_was_expected():
    from torch_geometric.data import Batch

    batch = Batch.from_data_list(list(toy_graphs(4)))  # 4 graphs of 3, 4, 5 and 3 nodes
    with pytest.raises(ValueError, match=r"^Unpooled returned \(15, 3\) \(forward at .*test_graph_task\.py:\d+\); "
                                         r"expected one row per graph, \(4, \.\.\.\) for this batch of 4 graphs and 15 "
                                         r"nodes \(pool the node states"):
        GraphClassification(GraphOptions()).predict(Unpooled(1, 3), batch)

    node_level = InductiveNodeClassification(GraphOptions())
    assert node_level.output(Unpooled(1, 3), batch).shape == (15, 3)  # one row per node is right there


class Pooled(Unpooled):
    """Mean-pooled class scores: a graph-level classifier that is right."""

    def forward(self, x, edge_index, batch=None):
        from torch_geometric.nn import global_mean_pool

        return global_mean_pool(self.lin(x), batch)


class FiveClasses(Pooled):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, 5)


class NaNWhenEvaluated(Pooled):
    def forward(self, x, edge_index, batch=None):
        out = super().forward(x, edge_index, batch)
        return out if self.training else out * float("nan")


class NoBatch(Unpooled):
    """A node model's forward, which a graph-level task cannot call."""

    def forward(self, x, edge_index):
        return self.lin(x)


#: what a graph-level run of :class:`NoBatch` says
NO_BATCH = (r"^NoBatch has a forward that cannot take \(x, edge_index, batch\): task 'graph_classification' calls "
            r"model\(x, edge_index, batch\) \(forward at .*test_graph_task\.py:\d+\)$")


def test_a_graph_level_run_of_a_model_whose_forward_takes_no_batch_names_the_call():
    """A run started from Python (a suite refuses the model when it loads): not a TypeError inside the task."""
    from gnnbench.registry import Entry

    with pytest.raises(ValueError, match=NO_BATCH):
        GraphClassification(GraphOptions(folds=5)).run(Entry("no_batch", NoBatch), toy_graphs(),
                                                        {**GraphClassification.train_hparams}, Budget(epochs=1),
                                                        RunContext(device=torch.device("cpu"), seed=0))


def test_a_compiled_model_s_forward_is_checked_on_the_module_compile_wraps():
    """``torch.compile``'s wrapper has ``forward(*input)``, which binds any call: the module it wraps is the one
    called."""
    with pytest.raises(ValueError, match=NO_BATCH):
        GraphClassification(GraphOptions()).fit_model(torch.compile(NoBatch(1, 3)), None, {}, Budget(epochs=1),
                                                      RunContext(device=torch.device("cpu"), seed=0))


@pytest.mark.parametrize(("model", "message"), [
    (FiveClasses, r"^FiveClasses returned \(32, 5\) \(forward at .*\); expected one row per graph, \(32, 3\): one "
                  r"column per class for this batch of 32 graphs and \d+ nodes$"),
    (NaNWhenEvaluated, r"^NaNWhenEvaluated returned NaN class scores in eval mode for \d+ graphs after training"),
])
def test_graph_scores_that_are_no_class_scores_fail_instead_of_being_ranked(model, message):
    """As for nodes: columns beyond the classes would train silently, and NaN rows (argmax reads class 0) be
    scored; the run fails, naming the model."""
    from gnnbench.registry import Entry

    task = GraphClassification(GraphOptions(folds=5))
    with pytest.raises(ValueError, match=message):
        task.run(Entry("odd", model), toy_graphs(), {**GraphClassification.train_hparams}, Budget(epochs=2),
                 RunContext(device=torch.device("cpu"), seed=0))


def test_the_dataset_split_needs_the_dataset_s_own_split_and_says_so_before_any_run():
    """A plugin's graph dataset without ``split_idx`` (its registration need not say ``ships_split``) is
    refused by ``check_data``, which the driver calls once per dataset before the first run."""
    shipped = hetero_edge_count(3, 40, seed=1)
    task = GraphRegression(RegressionOptions(split="dataset"))
    task.check_data(shipped)
    without = GraphCollection(list(shipped))
    with pytest.raises(DataError, match=r"split 'dataset' needs a dataset with split_idx \{train, val, test\}; "
                                        r"GraphCollection has none \(use split: cv\)"):
        task.check_data(without)
    GraphRegression(RegressionOptions(split="cv", folds=3)).check_data(without)  # its own folds: any dataset serves


@pytest.mark.parametrize(("change", "message"), [
    ({"train": torch.arange(0, 40)}, r"graph 30 is in split_idx\['train'\] and in split_idx\['val'\]; expected "
                                     r"each graph in one split at most"),
    ({"test": torch.tensor([35, 36, 36])}, r"split_idx\['test'\] lists graph 36 twice; expected each graph once"),
    ({"test": torch.tensor([35, 40])}, r"split_idx\['test'\] holds graph 40; the dataset has graphs 0..39"),
    ({"test": torch.tensor([], dtype=torch.long)}, r"split_idx\['test'\] is empty; expected the indices of its graphs"),
    ({"val": torch.tensor([30.0, 31.0])}, r"split_idx\['val'\] is a tensor of dtype float32 and shape \[2\]; "
                                          r"expected a 1-D integer tensor"),
    ({"valid": torch.tensor([30])}, r"split_idx holds test, train, val, valid; expected train, val and test graph "
                                    r"indices"),
])
def test_a_dataset_s_own_split_that_leaks_or_breaks_is_refused_before_any_run(change, message):
    """Node masks were checked this way, a plugin's graph split_idx only for its keys: training on every graph,
    test ones included, was recorded a success at test accuracy 1.0; an index past the end or an empty split
    failed each run with an IndexError naming no dataset."""
    shipped = hetero_edge_count(3, 40, seed=1)
    split = {"train": torch.arange(0, 30), "val": torch.arange(30, 35), "test": torch.arange(35, 40)}
    data = GraphCollection(list(shipped))
    data.split_idx = {**split, **change}
    task = GraphRegression(RegressionOptions(split="dataset"))
    with pytest.raises(DataError, match=message):
        task.check_data(data)
    data.split_idx = split
    task.check_data(data)


def test_more_folds_than_graphs_are_refused_before_any_run():
    """Every run would fail making its split; ``--dry-run`` says so once, at the dataset."""
    graphs = hetero_edge_count(3, 12, seed=1)
    GraphRegression(RegressionOptions(split="cv", folds=len(graphs))).check_data(graphs)
    with pytest.raises(DataError, match=rf"split cv with folds {len(graphs) + 1} needs a graph per fold at least; "
                                        rf"the dataset has {len(graphs)} graphs"):
        GraphRegression(RegressionOptions(split="cv", folds=len(graphs) + 1)).check_data(graphs)
