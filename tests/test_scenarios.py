"""Robustness scenarios change only the training data, at the requested rate, and are recorded per run."""

from __future__ import annotations

import dataclasses
import re
import signal
from dataclasses import dataclass

import pytest
import torch
from torch_geometric.data import Data

from gnnbench.data.scenarios import ClassImbalance, FewShot, LabelNoise, LabelScenario, StructureNoise
from gnnbench.errors import ConfigError
from gnnbench.harness.runner import execute
from gnnbench.harness.suite import load_suite
from gnnbench.leaderboard.aggregate import runs_frame
from gnnbench.options import added_option
from gnnbench.registry import SCENARIOS


def split_graph(classes: int = 4, per_class: int = 50, train_per_class: int = 20) -> Data:
    """A random undirected graph whose first ``train_per_class`` nodes of every class are training nodes,
    the next 10 validation and the rest test."""
    y = torch.arange(classes).repeat_interleave(per_class)
    rank = torch.arange(per_class).repeat(classes)
    generator = torch.Generator().manual_seed(0)
    edges = torch.randint(0, y.numel(), (2, 600), generator=generator)
    edges = edges[:, edges[0] != edges[1]]
    edge_index = torch.unique(torch.cat([edges, edges.flip(0)], 1), dim=1)
    val_end = train_per_class + 10
    return Data(x=torch.randn(y.numel(), 8), y=y, edge_index=edge_index, train_mask=rank < train_per_class,
                val_mask=(rank >= train_per_class) & (rank < val_end), test_mask=rank >= val_end)


def counts(data: Data) -> list[int]:
    return torch.bincount(data.y[data.train_mask], minlength=4).tolist()


@pytest.mark.parametrize("rate", [0.0, 0.2, 0.5, 1.0])
def test_label_noise_flips_exactly_the_rate_of_training_labels_and_nothing_else(rate):
    data = split_graph()
    noisy, info = LabelNoise(rate=rate).apply(data, seed=3)
    changed = noisy.y != data.y
    assert int(changed.sum()) == round(rate * 80) == info["flipped"]
    assert not changed[~data.train_mask].any()  # validation and test labels stay clean
    assert torch.equal(noisy.train_mask, data.train_mask) and torch.equal(noisy.edge_index, data.edge_index)
    assert noisy.y.max() < 4 and noisy.y.min() >= 0
    again, _ = LabelNoise(rate=rate).apply(data, seed=3)
    assert torch.equal(again.y, noisy.y)  # the run seed fixes the draw


def test_label_noise_draws_differ_between_seeds():
    data = split_graph()
    assert not torch.equal(LabelNoise(0.3).apply(data, 0)[0].y, LabelNoise(0.3).apply(data, 1)[0].y)


@pytest.mark.parametrize("ratio", [0.1, 0.25, 0.5])
def test_class_imbalance_yields_the_requested_ratio_on_the_minority_classes(ratio):
    data = split_graph()
    out, info = ClassImbalance(ratio=ratio).apply(data, seed=0)
    assert counts(out) == [20, 20, round(20 * ratio), round(20 * ratio)] == info["train_per_class"]
    assert min(counts(out)) / max(counts(out)) == pytest.approx(ratio)
    assert not (out.train_mask & ~data.train_mask).any()  # only training nodes are dropped, none added
    assert_dropped_unlabelled(data, out)
    assert int((out.y == -1).sum()) == 2 * (20 - round(20 * ratio))
    assert torch.equal(out.val_mask, data.val_mask)


def assert_dropped_unlabelled(data: Data, out: Data) -> None:
    """Training nodes dropped by a scenario have label -1; every other node keeps its label."""
    dropped = data.train_mask & ~out.train_mask
    assert bool((out.y[dropped] == -1).all())
    assert torch.equal(out.y[~dropped], data.y[~dropped])


@pytest.mark.parametrize("k", [1, 5, 20])
def test_few_shot_keeps_exactly_k_training_nodes_per_class(k):
    data = split_graph()
    out, info = FewShot(k=k).apply(data, seed=1)
    assert counts(out) == [k] * 4 == info["train_per_class"]
    assert not (out.train_mask & ~data.train_mask).any()
    assert_dropped_unlabelled(data, out)
    assert int((out.y == -1).sum()) == 80 - 4 * k  # every node not kept is unlabelled, and only those
    assert torch.equal(out.test_mask, data.test_mask)


def test_few_shot_with_too_few_training_nodes_names_the_classes():
    with pytest.raises(ValueError, match=r"k=21: classes \[0, 1, 2, 3\] have only \[20, 20, 20, 20\]"):
        FewShot(k=21).apply(split_graph(), seed=0)


def test_structure_noise_drops_and_adds_the_requested_numbers_of_undirected_edges():
    data = split_graph()
    before = {tuple(e) for e in data.edge_index.t().tolist() if e[0] < e[1]}
    out, info = StructureNoise(drop=0.2, add=0.1).apply(data, seed=0)
    after = {tuple(e) for e in out.edge_index.t().tolist() if e[0] < e[1]}
    assert len(before - after) == round(0.2 * len(before)) == info["dropped"]
    assert len(after - before) == round(0.1 * len(before)) == info["added"]
    assert torch.equal(out.edge_index, torch.unique(torch.cat([out.edge_index, out.edge_index.flip(0)], 1), dim=1))
    assert torch.equal(out.y, data.y) and torch.equal(out.train_mask, data.train_mask)


def undirected(pairs: list[list[int]], n: int) -> Data:
    edges = torch.tensor(pairs).t()
    return Data(edge_index=torch.unique(torch.cat([edges, edges.flip(0)], 1), dim=1), num_nodes=n)


@pytest.fixture
def deadline():
    """Fails a test still running after 10 s: sampling more non-edges than exist used to loop forever."""
    def expire(*_):
        raise TimeoutError("still running after 10 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_structure_noise_on_dense_graphs_adds_only_the_non_edges_there_are(deadline):
    complete = undirected(torch.combinations(torch.arange(5)).tolist(), 5)  # K5: no non-edge to add
    out, info = StructureNoise().apply_graphs([complete], None, seed=0)
    assert info == {"edges_before": 10, "dropped": 1, "added": 0, "graphs": 1}
    assert out[0].edge_index.size(1) == 2 * 9
    # K6 less two edges: 2 non-edges; add=0.5 wants 6, drop=0.5 frees 6 pairs that must not be re-added
    missing = {(0, 1), (2, 3)}
    near = undirected([p for p in torch.combinations(torch.arange(6)).tolist() if tuple(p) not in missing], 6)
    before = {tuple(e) for e in near.edge_index.t().tolist() if e[0] < e[1]}
    out, info = StructureNoise(drop=0.5, add=0.5).apply(near, seed=0)
    after = {tuple(e) for e in out.edge_index.t().tolist() if e[0] < e[1]}
    assert info == {"edges_before": 13, "dropped": 6, "added": 2}
    assert after - before == missing and len(before - after) == 6


SUITE = """\
name: robust
defaults: {seeds: 1, epochs: 3, patience: null}
experiments:
  - task: node_classification
    datasets: [Cora]
    models: [mlp]
    scenario: SCENARIO
"""


def test_a_suite_grid_over_scenarios_runs_and_records_each(write_suite):
    suite = load_suite(write_suite(SUITE.replace("SCENARIO", "[none, {name: label_noise, rate: 0.5}, few_shot]")))
    expected = [None, {"name": "label_noise", "rate": 0.5}, {"name": "few_shot", "k": 5}]
    assert [s.scenario for s in suite.specs] == expected
    assert len({s.run_id for s in suite.specs}) == 3
    record = execute(suite.specs[1])
    assert record["status"] == "ok" and record["scenario"] == {"flipped": 70, "train": 140}
    assert record["spec"]["scenario"] == {"name": "label_noise", "rate": 0.5}
    assert runs_frame([record])["scenario"].tolist() == ["label_noise(rate=0.5)"]  # a leaderboard row of its own


@dataclass(frozen=True)
class NoiseWithAnAddedOption(LabelNoise):
    """label_noise as it would be with an option added after its results existed."""

    per_class: bool = added_option(False)


def test_an_added_scenario_option_while_off_keeps_run_ids_and_draws(write_suite, monkeypatch):
    path = write_suite(SUITE.replace("SCENARIO", "[{name: label_noise, rate: 0.3}]"))
    (before,) = load_suite(path).specs
    monkeypatch.setitem(SCENARIOS._entries, "label_noise",
                        dataclasses.replace(SCENARIOS.get("label_noise"), obj=NoiseWithAnAddedOption))
    (after,) = load_suite(path).specs
    (off,) = load_suite(write_suite(SUITE.replace("SCENARIO", "[{name: label_noise, rate: 0.3, per_class: false}]"),
                                    "off.yaml")).specs
    (on,) = load_suite(write_suite(SUITE.replace("SCENARIO", "[{name: label_noise, rate: 0.3, per_class: true}]"),
                                   "on.yaml")).specs
    assert before.run_id == after.run_id == off.run_id != on.run_id
    assert off.scenario == {"name": "label_noise", "rate": 0.3} and on.scenario["per_class"] is True
    seeds = [s.generator(7).initial_seed() for s in (LabelNoise(0.3), NoiseWithAnAddedOption(0.3),
                                                     NoiseWithAnAddedOption(0.3, per_class=True))]
    assert seeds[0] == seeds[1] != seeds[2]


@pytest.mark.parametrize("scenario, key, message", [
    ("label_nosie", "experiments[0].scenario", "did you mean 'label_noise'"),  # where it was written
    ("{name: label_nosie}", "experiments[0].scenario.name", "did you mean 'label_noise'"),
    ("{name: label_noise, rat: 0.1}", "experiments[0].scenario.rat", "unknown option 'rat'"),
    ("{name: label_noise, rate: 1.5}", "experiments[0].scenario.rate", "rate must be in [0, 1]"),
    ("[few_shot, few_shot]", "experiments[0].scenario[1]", "listed twice (at [0] too)"),
    ("{name: label_noise, rate: [0.1, 0.2]}", "experiments[0].scenario.rate",
     "scenario options are no grid axis; list one scenario per value (scenario: [{name: label_noise, rate: 0.1}"),
    ("[{name: structure_noise, drop: 0}, {name: structure_noise, drop: 0.0}]", "experiments[0].scenario[1]",
     "listed twice (at [0] too)"),  # a whole number for a float option is that float: one scenario, one run_id
])
def test_bad_scenarios_are_located_errors(write_suite, scenario, key, message):
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE.replace("SCENARIO", scenario)))
    assert info.value.key == key and message in str(info.value)


@pytest.mark.parametrize("datasets, task, derived", [
    ("MUTAG, IMDB-BINARY", "graph_classification", "features"),
    ("Count-ER-triangle", "graph_regression", "features and targets"),
    ("HeteroEdgeCount-2", "graph_regression", "targets"),
])
def test_structure_noise_is_refused_where_features_or_targets_come_from_the_edges(write_suite, datasets, task,
                                                                                   derived):
    suite = SUITE.replace("node_classification", task).replace("Cora", datasets).replace("mlp", "gin_pool")
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(suite.replace("SCENARIO", "[none, structure_noise]")))
    assert info.value.key == "experiments[0].scenario[1]"
    assert f"dataset '{datasets.split(', ')[-1]}' computes its {derived} from them" in str(info.value)
    assert len(load_suite(write_suite(suite.replace("SCENARIO", "none"))).specs) > 0  # the clean data runs


def test_structure_noise_runs_where_features_come_with_the_data(write_suite):
    suite = SUITE.replace("node_classification", "graph_classification").replace("Cora", "MUTAG, PROTEINS")
    specs = load_suite(write_suite(suite.replace("mlp", "gin_pool").replace("SCENARIO", "structure_noise"))).specs
    assert [s.dataset for s in specs] == ["MUTAG", "PROTEINS"]


def toy_graph_set(count: int = 90, classes: int = 3):
    """Graphs whose class is their size (paths of 3, 4 or 5 nodes)."""
    from gnnbench.data.collection import GraphCollection

    graphs = []
    for i in range(count):
        n = 3 + i % classes
        edges = torch.tensor([[j, j + 1] for j in range(n - 1)]).t()
        graphs.append(Data(x=torch.ones(n, 1), edge_index=torch.cat([edges, edges.flip(0)], 1),
                           y=torch.tensor([i % classes])))
    return GraphCollection(graphs)


def test_graph_label_scenarios_flip_keep_and_subsample_training_graphs():
    graphs = list(toy_graph_set())
    y = torch.cat([g.y for g in graphs])
    noisy, info = LabelNoise(rate=0.3).apply_graphs(graphs, 3, seed=1)
    flipped = torch.cat([g.y for g in noisy]) != y
    assert len(noisy) == 90 and int(flipped.sum()) == 27 == info["flipped"]
    assert all(torch.equal(a.edge_index, b.edge_index) for a, b in zip(noisy, graphs, strict=True))
    few, _ = FewShot(k=4).apply_graphs(graphs, 3, seed=1)
    assert torch.bincount(torch.cat([g.y for g in few])).tolist() == [4, 4, 4]
    few_again, _ = FewShot(k=4).apply_graphs(graphs, 3, seed=1)
    assert [g.num_nodes for g in few] == [g.num_nodes for g in few_again]  # seeded
    skewed, info = ClassImbalance(ratio=0.2, minority_fraction=0.34).apply_graphs(graphs, 3, seed=1)
    assert info["train_per_class"] == [30, 30, 6] == torch.bincount(torch.cat([g.y for g in skewed])).tolist()
    with pytest.raises(ValueError, match="not classes"):
        LabelNoise(rate=0.1).apply_graphs(graphs, None, seed=0)


def test_graph_structure_noise_perturbs_every_training_graph_within_its_own_nodes():
    graphs = list(toy_graph_set(count=9))
    out, info = StructureNoise(drop=0.5, add=0.5).apply_graphs(graphs, 3, seed=0)
    assert info["graphs"] == 9 and info["dropped"] == sum(round(0.5 * (g.num_nodes - 1)) for g in graphs)
    for before, after in zip(graphs, out, strict=True):
        assert after.num_nodes == before.num_nodes and int(after.edge_index.max()) < before.num_nodes
        assert torch.equal(after.y, before.y)


def test_a_graph_task_applies_the_scenario_to_training_graphs_only(monkeypatch):
    from gnnbench.registry import MODELS
    from gnnbench.tasks.base import Budget, RunContext
    from gnnbench.tasks.graph import GraphClassification, GraphOptions

    data = toy_graph_set()
    seen = {}
    fit_model = GraphClassification.fit_model
    monkeypatch.setattr(GraphClassification, "fit_model",
                        lambda self, model, splits, *a: seen.update(train=splits.train, val=splits.val)
                        or fit_model(self, model, splits, *a))
    task = GraphClassification(GraphOptions(folds=5), scenario=FewShot(k=2))
    result = task.run(MODELS.get("gin_pool"), data, {**GraphClassification.train_hparams, "hidden_channels": 8},
                      Budget(epochs=1), RunContext(device=torch.device("cpu"), seed=0))
    assert len(seen["train"]) == 6 == result["data"]["num_train"] and result["scenario"]["train_per_class"] == [2] * 3
    assert len(seen["val"]) == result["data"]["num_val"] > 0  # validation graphs untouched
    noisy = GraphClassification(GraphOptions(folds=5), scenario=LabelNoise(rate=1.0))
    noisy.run(MODELS.get("gin_pool"), data, {**GraphClassification.train_hparams, "hidden_channels": 8},
              Budget(epochs=1), RunContext(device=torch.device("cpu"), seed=0))
    assert all(int(g.y) != g.num_nodes - 3 for g in seen["train"])  # every training label flipped
    assert all(int(g.y) == g.num_nodes - 3 for g in seen["val"])  # validation labels clean




@pytest.fixture
def fresh_scenarios(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations and plugin imports of one test are forgotten after it."""
    from gnnbench import registry

    monkeypatch.setattr(SCENARIOS, "_entries", dict(SCENARIOS._entries))
    monkeypatch.setattr(registry, "_loaded_plugins", {})


def test_the_documented_scenario_runs_from_a_plugin_file(documented, fresh_scenarios, write_suite, tmp_path):
    from gnnbench.harness import driver
    from gnnbench.harness.executors import LocalExecutor
    from gnnbench.harness.store import RunStore

    code = documented("adding_a_scenario.md", "my_scenarios.py")
    (tmp_path / "my_scenarios.py").write_text(code)
    suite = load_suite(write_suite("""\
        name: fewer_labels
        plugins: [my_scenarios.py]
        defaults: {seeds: 1, epochs: 2}
        experiments:
          - task: node_classification
            datasets: [Cora]
            models: [mlp]
            scenario: [none, {name: label_drop, rate: 0.8}]
        """))
    store = RunStore(tmp_path / "results")
    assert driver.run(suite, store, LocalExecutor()).ok == 2
    (dropped,) = [r for r in store.latest().values() if r["spec"]["scenario"]]
    assert dropped["scenario"] == {"kept": 28, "train": 140}  # of Cora's public split
    assert dropped["data"]["num_train"] == 28
    assert dropped["sources"]["scenario"]["file"] == str(tmp_path / "my_scenarios.py")


def _scenario(base: type = LabelNoise, **attributes) -> type:
    return dataclass(frozen=True)(type("Mine", (base,), {"__module__": __name__, "name": "mine", **attributes}))


@pytest.mark.parametrize(("cls", "expected"), [
    (type("Mine", (), {"name": "mine"}), "is not a subclass of gnnbench.data.scenarios.Scenario"),
    (_scenario(base=StructureNoise.__mro__[1]), "does not implement apply, apply_graphs"),
    (type("Mine", (LabelScenario,), {"__module__": __name__, "name": "mine", "perturb": LabelNoise.perturb}),
     "is not a dataclass"),
    (_scenario(name="mine_v2"), "has name = 'mine_v2'; expected name = 'mine', the name it is registered under"),
])
def test_a_scenario_class_lacking_what_the_harness_reads_is_refused_where_it_is_registered(fresh_scenarios, cls,
                                                                                           expected):
    from gnnbench.registry import RegistryError, register_scenario

    with pytest.raises(RegistryError, match=re.escape(expected)):
        register_scenario("mine", tasks=("node_classification",))(cls)
    assert "mine" not in SCENARIOS


def test_an_option_without_a_default_is_asked_for_at_the_scenario(fresh_scenarios, write_suite):
    from gnnbench.registry import register_scenario

    @register_scenario("mine", tasks=("node_classification",))
    @dataclass(frozen=True)
    class Mine(LabelScenario):
        strength: float
        name = "mine"

        def perturb(self, y, classes, generator):
            return y, torch.arange(y.numel()), {}

    with pytest.raises(ConfigError) as info:
        load_suite(write_suite("""\
            name: s
            experiments: [{task: node_classification, datasets: [Cora], models: [mlp], scenario: mine}]
            """))
    assert info.value.key == "experiments[0].scenario"
    assert info.value.message == "scenario 'mine' has no default for option 'strength'; set it (a mapping with name " \
                                 "and strength)"


@dataclass(frozen=True)
class _Cheating(LabelNoise):
    """Relabels every node: the validation and test ones too."""

    name = "cheating"

    def apply(self, data: Data, seed: int):
        return Data(**{**data.to_dict(), "y": torch.zeros_like(data.y)}), {}


@dataclass(frozen=True)
class _Rewiring(LabelNoise):
    """Reverses every edge's direction without saying it changes edges."""

    name = "rewiring"

    def apply(self, data: Data, seed: int):
        return Data(**{**data.to_dict(), "edge_index": data.edge_index.flip(0)}), {}

    def apply_graphs(self, graphs, classes, seed):
        return [Data(**{**g.to_dict(), "edge_index": g.edge_index[:, 1:]}) for g in graphs], {}


@dataclass(frozen=True)
class _Peeking(LabelNoise):
    """Trains on the validation nodes too, their labels and masks untouched."""

    name = "peeking"

    def apply(self, data: Data, seed: int):
        return Data(**{**data.to_dict(), "train_mask": data.train_mask | data.val_mask}), {}


@dataclass(frozen=True)
class _IndexedTraining(LabelNoise):
    """Returns the training nodes as indices, not as a boolean mask."""

    name = "indexed_training"

    def apply(self, data: Data, seed: int):
        return Data(**{**data.to_dict(), "train_mask": data.train_mask.nonzero().view(-1)}), {}


@pytest.mark.parametrize(("scenario", "message"), [
    (_Cheating(), "changed the labels or masks of validation or test nodes; a scenario perturbs the training data "
                  "only"),
    (_Rewiring(), "changed edges without declaring changes_edges = True"),
    (_Peeking(), "put 40 validation or test nodes in train_mask; a scenario may drop training nodes or add nodes of "
                 "no split, never a node it is judged on"),
    (_IndexedTraining(), "apply returned a train_mask that is a tensor of dtype int64 and shape [80]; expected a "
                         "boolean tensor of one entry per node (200)"),
])
def test_a_scenario_that_changes_more_than_it_declares_fails_its_run(scenario, message):
    """Scored against the labels it changed, a cheating scenario reads 100 %; one rewiring a graph whose features
    come from its edges would slip past the refusal."""
    from gnnbench.data.scenarios import perturbed

    with pytest.raises(ValueError, match=re.escape(f"scenario '{scenario.name}' ({__name__}.{type(scenario).__name__}) "
                                                   f"{message}")):
        perturbed(scenario, split_graph(), seed=0)
    assert perturbed(LabelNoise(rate=0.5), split_graph(), seed=0)[1]["flipped"] == 40  # a faithful one passes
    unsplit = split_graph()
    unsplit.test_mask[-1] = False  # a node of no split, which a scenario may add to training
    adding = _scenario(apply=lambda self, data, seed: (
        Data(**{**data.to_dict(), "train_mask": ~data.val_mask & ~data.test_mask}), {}))()
    assert int(perturbed(adding, unsplit, seed=0)[0].train_mask.sum()) == 81


def test_a_graph_scenario_that_changes_edges_undeclared_fails_its_run():
    from gnnbench.data.scenarios import perturbed_graphs

    graphs = list(toy_graph_set(count=6))
    with pytest.raises(ValueError, match="changed edges without declaring changes_edges = True"):
        perturbed_graphs(_Rewiring(), graphs, 3, seed=0)
    assert len(perturbed_graphs(FewShot(k=1), graphs, 3, seed=0)[0]) == 3  # a subset of the graphs as they were


def test_an_apply_returning_no_record_of_what_it_changed_is_named_at_the_scenario():
    from gnnbench.data.scenarios import perturbed, perturbed_graphs

    bare = _scenario(apply=lambda self, data, seed: data, apply_graphs=lambda self, graphs, classes, seed: graphs)()
    named = f"scenario 'mine' ({__name__}.Mine)"
    with pytest.raises(ValueError, match=re.escape(f"{named} apply returned Data; expected (data, info): the "
                                                   "perturbed Data and a dict of what it changed")):
        perturbed(bare, split_graph(), seed=0)
    with pytest.raises(ValueError, match=re.escape(f"{named} apply_graphs returned list; expected (graphs, info)")):
        perturbed_graphs(bare, list(toy_graph_set(count=6)), 3, seed=0)


def _without(data: Data, key: str) -> Data:
    return Data(**{k: v for k, v in data.to_dict().items() if k != key})


@pytest.mark.parametrize(("apply", "message"), [
    (lambda data: (data, {"flipped": torch.tensor(0)}),
     "apply returned info that cannot be recorded as JSON (Object of type Tensor is not JSON serializable at flipped "
     "(torch.Tensor)); expected numbers and text (.item() or .tolist() converts a tensor)"),
    (lambda data: (_without(data, "val_mask"), {}),
     "apply returned a val_mask that is missing; expected the val_mask of the data it was given"),
    (lambda data: (Data(**{**data.to_dict(), "x": data.x.double()}), {}),
     "apply returned data the task cannot read: x is a tensor of dtype float64 and shape [200, 8]; expected float32 "
     "features, as the models' weights (x.float() converts them)"),
])
def test_an_apply_returning_data_or_info_the_run_cannot_use_is_named_at_the_scenario(apply, message):
    """Rather than a JSON error named at the task, an AttributeError in this package, or a dtype mismatch inside the
    model: none names the scenario's file."""
    from gnnbench.data.scenarios import perturbed

    with pytest.raises(ValueError, match=re.escape(f"scenario 'mine' ({__name__}.Mine) {message}")):
        perturbed(_scenario(apply=lambda self, data, seed: apply(data))(), split_graph(), seed=0)


@pytest.mark.parametrize(("apply_graphs", "message"), [
    (lambda graphs: (graphs, {"graphs": torch.tensor(len(graphs))}),
     "apply_graphs returned info that cannot be recorded as JSON (Object of type Tensor is not JSON serializable at "
     "graphs (torch.Tensor))"),
    (lambda graphs: ([*graphs[:2], Data(**{**graphs[2].to_dict(), "x": graphs[2].x.double()})], {}),
     "apply_graphs returned graph 2 the task cannot read: x is a tensor of dtype float64 and shape [5, 1]; expected "
     "float32 features"),
])
def test_an_apply_graphs_returning_graphs_or_info_the_run_cannot_use_is_named_at_the_scenario(apply_graphs, message):
    from gnnbench.data.scenarios import perturbed_graphs

    scenario = _scenario(apply_graphs=lambda self, graphs, classes, seed: apply_graphs(graphs))()
    with pytest.raises(ValueError, match=re.escape(f"scenario 'mine' ({__name__}.Mine) {message}")):
        perturbed_graphs(scenario, list(toy_graph_set(count=6)), 3, seed=0)


@pytest.mark.parametrize(("returned", "message"), [
    (lambda y, c: (y, torch.arange(y.numel())),
     "returned 2 values (Tensor, Tensor); expected (labels, kept indices, info)"),
    (lambda y, c: (y, torch.arange(y.numel()), {"kept": torch.tensor(y.numel())}),
     "returned info that cannot be recorded as JSON (Object of type Tensor is not JSON serializable at kept "
     "(torch.Tensor))"),
    (lambda y, c: (y + c, torch.arange(y.numel()), {}),  # would widen the model to 2 * c classes
     "returned training label {c}; expected a class of 0..{last}"),
    (lambda y, c: (y - 1, torch.arange(y.numel()), {}), "returned training label -1"),
    (lambda y, c: (y.view(-1, 1), torch.arange(y.numel()), {}),
     "returned labels that are a tensor of dtype int64 and shape [{n}, 1]; expected int64 labels of the shape of y, "
     "[{n}]"),
    (lambda y, c: (y.float(), torch.arange(y.numel()), {}), "returned labels that are a tensor of dtype float32"),
    (lambda y, c: (y, torch.arange(y.numel() + 1), {}),
     "returned kept indices 0..{n}; expected an int64 vector of indices of the {n} items (0..{end})"),
    (lambda y, c: (y, torch.arange(y.numel()).float(), {}),
     "returned kept indices that are a tensor of dtype float32 and shape [{n}]; expected an int64 vector"),
])
def test_a_perturb_returning_what_the_harness_cannot_use_is_named_at_the_scenario(returned, message):
    """Rather than an unpacking or indexing error inside gnnbench, or labels silently cast, or a model widened to
    labels past the last class, on nodes and graphs alike."""
    scenario = _scenario(base=LabelScenario, perturb=lambda self, y, classes, generator: returned(y, classes))()
    for apply, n, classes in ((lambda: scenario.apply(split_graph(), 0), 80, 4),
                              (lambda: scenario.apply_graphs(list(toy_graph_set()), 3, 0), 90, 3)):
        expected = message.format(c=classes, last=classes - 1, n=n, end=n - 1)
        with pytest.raises(ValueError, match=re.escape(f"scenario 'mine' ({__name__}.Mine) perturb {expected}")):
            apply()


def test_a_plain_apply_writing_a_training_label_past_the_classes_is_named_at_the_scenario():
    """A ``Scenario`` of its own ``apply`` (not a LabelScenario): the node task counts the classes after the
    perturbation, so a training label of 4 on 4 classes would silently train a model of 5 outputs."""
    from gnnbench.data.scenarios import perturbed, perturbed_graphs

    def widened(self, data, seed):
        data.y[data.train_mask.nonzero()[0]] = int(data.y.max()) + 1
        return data, {}

    def relabelled(self, graphs, classes, seed):
        graphs[0].y = torch.full_like(graphs[0].y, -1)  # at graph level no "no target" marker
        return graphs, {}

    scenario = _scenario(apply=widened, apply_graphs=relabelled)()
    named = f"scenario 'mine' ({__name__}.Mine)"
    with pytest.raises(ValueError, match=re.escape(f"{named} apply returned training label 4; expected a class of "
                                                   "0..3")):
        perturbed(scenario, split_graph(), seed=0)
    with pytest.raises(ValueError, match=re.escape(f"{named} apply_graphs returned training label -1; expected a "
                                                   "class of 0..2")):
        perturbed_graphs(scenario, list(toy_graph_set(count=6)), 3, seed=0)
    # -1 marks a node without a target (inductive node classification): a scenario leaving it is no mistake
    nodes = [Data(x=torch.ones(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]), y=torch.tensor([0, -1, 1]))]
    shifted = _scenario(apply_graphs=lambda self, graphs, classes, seed: ([g.clone() for g in graphs], {}))()
    assert torch.equal(perturbed_graphs(shifted, nodes, 2, seed=0, level="node")[0][0].y, nodes[0].y)


@dataclass(frozen=True)
class _Untouched(LabelNoise):
    """Returns copies of the training graphs as they were."""

    name = "untouched"

    def apply_graphs(self, graphs, classes, seed):
        return [g.clone() for g in graphs], {}


def test_inductive_node_classification_hands_its_level_to_the_scenario_check():
    """Its nodes without a target are -1 (DictionaryLookup's key nodes): the task says so to the check, which
    would otherwise blame a scenario that left them as they were."""
    from gnnbench.registry import DATASETS, MODELS
    from gnnbench.tasks.base import Budget, RunContext
    from gnnbench.tasks.graph import GraphOptions, InductiveNodeClassification

    data = DATASETS.get("DictionaryLookup-5").obj(None)
    assert (data[0].y == -1).any()
    task = InductiveNodeClassification(GraphOptions(folds=5), scenario=_Untouched())
    record = task.run(MODELS.get("gcn"), data, dict(InductiveNodeClassification.train_hparams), Budget(epochs=1),
                      RunContext(device=torch.device("cpu"), seed=0))
    assert record["scenario"] == {}


@dataclass(frozen=True)
class _InPlace(LabelNoise):
    """Relabels every node of its input in place and returns it."""

    name = "in_place"

    def apply(self, data: Data, seed: int):
        data.y[:] = 0
        return data, {}


def test_the_tasks_check_the_scenario_they_apply_one_editing_its_input_in_place_too():
    """Through the task, not only the checking function: a task calling ``apply`` itself would score a cheating
    scenario; an in-place edit would also pass a check comparing the input with itself, and change the
    loader's data under later runs."""
    from gnnbench.registry import MODELS
    from gnnbench.tasks.base import Budget, RunContext
    from gnnbench.tasks.graph import GraphClassification, GraphOptions
    from gnnbench.tasks.node import NodeClassification, NodeOptions

    data, context = split_graph(), RunContext(device=torch.device("cpu"), seed=0)
    clean = data.y.clone()
    node = NodeClassification(NodeOptions(), scenario=_InPlace())
    with pytest.raises(ValueError, match="changed the labels or masks of validation or test nodes"):
        node.run(MODELS.get("mlp"), data, dict(NodeClassification.train_hparams), Budget(epochs=1), context)
    assert torch.equal(data.y, clean)
    graph = GraphClassification(GraphOptions(folds=5), scenario=_Rewiring())
    with pytest.raises(ValueError, match="changed edges without declaring changes_edges = True"):
        graph.run(MODELS.get("gin_pool"), toy_graph_set(), {**GraphClassification.train_hparams, "hidden_channels": 8},
                  Budget(epochs=1), context)
