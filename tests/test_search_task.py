"""The architecture_search task: NAS-Bench-Graph tables read safely and keyed canonically, the tabular
search end to end through a suite, and trained children with constrained sharing, selection on validation and
retraining from scratch, without the search ever seeing test labels."""

from __future__ import annotations

import copy
import functools
import io
import itertools
import json
import pickle

import pandas as pd
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import stochastic_blockmodel_graph, to_undirected

from gnnbench.cli import main
from gnnbench.data.nasbench import BenchTable, TableUnpickler, load_table
from gnnbench.errors import ConfigError
from gnnbench.harness.suite import load_suite
from gnnbench.hparams import HparamError
from gnnbench.leaderboard.aggregate import COLUMNS
from gnnbench.registry import MODELS, register_model
from gnnbench.search import macro
from gnnbench.search.base import Proposal
from gnnbench.search.nasbench import bench_key, bench_space
from gnnbench.search.random_search import RandomSearch
from gnnbench.search.space import macro_space
from gnnbench.search.training import ChildTrainer
from gnnbench.tasks.base import Budget, NonFiniteLossError, RunContext
from gnnbench.tasks.node import NodeClassification, NodeOptions, hide_test
from gnnbench.tasks.search import ArchitectureSearch, SearchOptions

pytest.importorskip("nas_bench_graph")


@pytest.fixture(scope="module")
def cora_table():
    return load_table("cora")


def test_tables_load_with_a_restricted_unpickler_and_match_the_published_oracles(cora_table) -> None:
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with pytest.raises(pickle.UnpicklingError, match="builtins.print is not allowed"):
        TableUnpickler(io.BytesIO(pickle.dumps(Evil()))).load()
    assert len(cora_table.entries) == 26206
    oracles = {"cora": 0.826, "citeseer": 0.710, "pubmed": 0.756}
    for dataset, oracle in oracles.items():
        table = cora_table if dataset == "cora" else load_table(dataset)
        assert table.oracle() == pytest.approx(oracle, abs=5e-4)


def test_the_oracle_breaks_a_validation_tie_hidden_by_float_noise_on_test() -> None:
    """Equal fractions stored with different float noise are a tie (Cora's two best are 1229/1500 each)."""
    table = BenchTable("toy", {1: {"valid_perf": 1229 / 1500 + 2e-16, "perf": 0.80},
                               2: {"valid_perf": 1229 / 1500, "perf": 0.82},
                               3: {"valid_perf": 0.81, "perf": 0.90}})
    assert table.oracle() == 0.82


def test_tabular_search_compares_fractions_not_their_float_noise(cora_table) -> None:
    """Every entry 0.8 up to noise below 1e-13: all children tie, and the earliest is selected."""
    best_two = sorted(cora_table.entries, key=lambda k: -cora_table.entries[k]["valid_perf"])[:2]
    assert len({cora_table.entries[k]["valid_perf"] for k in best_two}) == 2  # Cora's 1229/1500, twice
    assert {cora_table.validation(k) for k in best_two} == {round(1229 / 1500, 9)}
    noisy = BenchTable("noisy", {k: {"valid_perf": 0.8 + (k % 97) * 1e-15, "perf": 0.5, "para": 0.1}
                                 for k in cora_table.entries})
    for algorithm in ("agnn", "random_search"):
        result = ArchitectureSearch(SearchOptions(budget=30)).run(MODELS.get(algorithm), noisy, {}, Budget(1, None),
                                                                  RunContext(torch.device("cpu"), seed=0))
        assert result["search"]["selected"]["child"] == 0 and result["metrics"]["val"]["accuracy"] == 0.8


def test_every_architecture_of_the_bench_space_has_a_table_entry(cora_table) -> None:
    """All 24 x 9^4 encodings, less the 24 all-skip cells, onto exactly the tables' 26,206 entries."""
    space = bench_space()
    valid = [arch for arch in itertools.product(*(range(len(f.choices)) for f in space.fields)) if space.is_valid(arch)]
    keys = {bench_key(arch) for arch in valid}
    assert len(valid) == 24 * (9**4 - 1) and keys <= cora_table.entries.keys() and len(keys) == 26_206
    skips = tuple(f.choices.index("skip") if f.kind == "op" else 0 for f in space.fields)
    assert not space.is_valid(skips)  # a cell of skips has no GNN and no entry


def test_tabular_search_through_a_suite(write_suite, tmp_path, cora_table) -> None:
    path = write_suite("""\
        name: search
        experiments:
          - task: {name: architecture_search, budget: 25}
            datasets: [nasbench-cora]
            seeds: 1
            models: [agnn, random_search, graphnas]
        """)
    assert main(["run", str(path), "--results", str(tmp_path), "-q"]) == 0
    records = [json.loads(line) for line in (tmp_path / "search" / "runs.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(r["status"] == "ok" for r in records)
    for r in records:
        trace = r["search"]["trace"]
        assert len(trace["val"]) == r["search"]["queries"] == 25
        best = max(range(25), key=lambda i: (trace["val"][i], -i))  # selected on validation
        entry = cora_table.entries[bench_key(tuple(trace["arch"][best]))]
        assert r["metrics"]["test"]["accuracy"] == entry["perf"] and r["search"]["selected"]["child"] == best
        assert r["search"]["oracle"] == pytest.approx(0.8263, abs=1e-4)
        assert r["history"]["val_best_so_far"][-1] == pytest.approx(max(trace["val"]), abs=1e-6)
    board = (tmp_path / "search" / "leaderboard.csv").read_text()
    assert all(f",{m}," in board for m in ("agnn", "random_search", "graphnas"))
    searches = pd.read_csv(tmp_path / "search" / "search.csv")
    assert list(searches.columns[len(COLUMNS):]) == ["search", "space", "budget", "ended_early", "search_seeds",
                                                     "oracle", "search_wall_s", "child_epochs", "inherited_children",
                                                     "skipped_children", "retrain_seeds", "retrain_s", "unit"]
    assert set(searches["unit"]) == {"fraction"}
    assert set(searches["model"]) == {"agnn", "random_search", "graphnas"}
    assert (searches["budget"] == 25).all() and (searches["oracle"] == 0.826333).all()
    assert (searches["ended_early"] == 0).all()
    assert searches["skipped_children"].isna().all() and searches["child_epochs"].isna().all()  # table rows
    assert "## Architecture search" in (tmp_path / "search" / "leaderboard.md").read_text()


def test_a_search_that_ran_out_of_new_children_is_recorded_and_marked_on_the_search_board(write_suite, tmp_path,
                                                                                            cora_table,
                                                                                            monkeypatch) -> None:
    """AGNN at a best whose neighbours are all evaluated proposes only repeats: the run is recorded with the
    children it evaluated, and the board says the search ended before its budget."""
    monkeypatch.setattr("gnnbench.search.base.MAX_WITHOUT_CHILD", 5)
    draws: list[Proposal] = []
    original = RandomSearch.propose

    def three_then_repeats(self: RandomSearch) -> Proposal:
        if len(draws) < 3:
            draws.append(original(self))
        return draws[-1]

    monkeypatch.setattr(RandomSearch, "propose", three_then_repeats)
    path = write_suite("""\
        name: short
        experiments:
          - {task: {name: architecture_search, budget: 25}, datasets: [nasbench-cora], seeds: 1,
             models: [random_search]}
        """)
    assert main(["run", str(path), "--results", str(tmp_path), "-q"]) == 0
    (record,) = [json.loads(line) for line in (tmp_path / "short" / "runs.jsonl").read_text().splitlines()]
    assert record["status"] == "ok" and record["search"]["queries"] == 3 and record["search"]["budget"] == 25
    assert record["search"]["repeated_proposals"] == record["search"]["trace"]["repeats_before"][-1] + 6
    assert pd.read_csv(tmp_path / "short" / "search.csv")["ended_early"].tolist() == [1]
    assert "| 25 (1 ended early¹) |" in (tmp_path / "short" / "leaderboard.md").read_text()


def test_a_trained_search_reports_skipped_children_and_the_final_selection_s_cost(write_suite, tmp_path) -> None:
    """Children over max_params spend budget untrained; retraining finalists is part of what a search costs."""
    path = write_suite("""\
        name: trained
        defaults: {epochs: 2, patience: null}
        experiments:
          - task: {name: architecture_search, budget: 4, retrain_seeds: 1, retrain_top: 2, finetune_epochs: 1,
                   max_params: 250000}
            datasets: [Cora]
            seeds: 2
            models: [random_search]
        """)
    assert main(["run", str(path), "--results", str(tmp_path), "-q"]) == 0
    records = [json.loads(line) for line in (tmp_path / "trained" / "runs.jsonl").read_text().splitlines()]
    skipped = [sum(map(bool, r["search"]["trace"].get("skipped", []))) for r in records]
    after_search = [r["timing"]["wall_s"] - r["timing"]["load_s"] - r["search"]["wall_s"] for r in records]
    assert 0 < sum(skipped) < 8 and min(after_search) > 0
    (row,) = pd.read_csv(tmp_path / "trained" / "search.csv").to_dict("records")
    assert row["skipped_children"] == sum(skipped) / 2 and row["retrain_s"] == pytest.approx(sum(after_search) / 2)
    assert row["child_epochs"] == sum(r["search"]["cost"]["child_epochs"] for r in records) / 2


def test_search_options_are_validated_with_the_key(write_suite) -> None:
    path = write_suite("""\
        name: bad
        experiments:
          - task: {name: architecture_search, budget: 0}
            datasets: [nasbench-cora]
            models: [agnn]
        """)
    with pytest.raises(ConfigError, match=r"experiments\[0\].task.budget: budget must be a positive integer"):
        load_suite(path)
    path.write_text(path.read_text().replace("budget: 0", "budget: 5, retrain_top: 6"))
    with pytest.raises(ConfigError, match=r"experiments\[0\].task.retrain_top: retrain_top \(6\) cannot exceed the "
                                          "budget"):
        load_suite(path)
    path.write_text(path.read_text().replace("budget: 5, retrain_top: 6", "budget: 5, finetune_epochs: 0"))
    with pytest.raises(ConfigError, match=r"experiments\[0\].task.finetune_epochs: finetune_epochs must be a "
                                          "positive integer, got 0"):
        load_suite(path)


def sbm_graph() -> Data:
    torch.manual_seed(0)
    edge_index = to_undirected(stochastic_blockmodel_graph([20, 20, 20], [[0.3, 0.02, 0.02], [0.02, 0.3, 0.02],
                                                                          [0.02, 0.02, 0.3]]))
    y = torch.arange(3).repeat_interleave(20)
    x = torch.randn(60, 8) + torch.nn.functional.one_hot(y, 8).float()
    masks = torch.arange(60) % 3
    return Data(x=x, edge_index=edge_index, y=y, train_mask=masks == 0, val_mask=masks == 1, test_mask=masks == 2)


def watch_training(trainer: ChildTrainer) -> tuple[list[dict[str, torch.Tensor]], list[dict[str, torch.Tensor]]]:
    """From now on, each child's weights as its training starts (after any inheritance) and as it ends."""
    starts, ends, train = [], [], trainer.train

    def spy(model: torch.nn.Module, budget: Budget) -> tuple[int, str | None]:
        starts.append(copy.deepcopy(model.state_dict()))
        outcome = train(model, budget)
        ends.append(copy.deepcopy(model.state_dict()))
        return outcome

    trainer.train = spy
    return starts, ends


def test_child_inherits_homogeneous_layers_and_is_only_fine_tuned() -> None:
    data = sbm_graph()
    space = macro_space(2)
    aggregation = space.indices("aggregation")  # sum -> mean: the same weight shapes
    parent = tuple(0 if i in aggregation else v for i, v in enumerate(space.sample(torch.Generator().manual_seed(0))))
    child = tuple(1 if i in aggregation else v for i, v in enumerate(parent))
    for sharing in (True, False):
        trainer = ChildTrainer(NodeClassification(NodeOptions()), data, space, {"lr": 0.01, "weight_decay": 0.0},
                               Budget(12, None), torch.device("cpu"), sharing=sharing, finetune_epochs=3, classes=3)
        trainer(Proposal(parent))
        starts, _ = watch_training(trainer)
        info = trainer(Proposal(child, parent=parent, kind="aggregation")).info
        assert info["inherited_layers"] == ([0, 1] if sharing else [])
        assert info["epochs"] == (3 if sharing else 12)
        if sharing:  # never longer than a child trained from scratch: --smoke's epochs, or a suite's, cap it
            short = ChildTrainer(NodeClassification(NodeOptions()), data, space, {"lr": 0.01, "weight_decay": 0.0},
                                 Budget(2, None), torch.device("cpu"), sharing=True, finetune_epochs=3, classes=3)
            short(Proposal(parent))
            assert short(Proposal(child, parent=parent, kind="aggregation")).info["epochs"] == 2
        if sharing:  # the child starts from the parent's weights at its validation-selected epoch
            convs = [k for k in starts[0] if ".conv." in k]
            assert convs and all(torch.equal(starts[0][k], trainer.parents[parent][k]) for k in convs)
        else:
            assert trainer.parents == {}


def test_with_sharing_a_child_that_inherits_nothing_trains_exactly_as_without() -> None:
    """Building the parent to compare layers must not move the child's random stream (its dropout masks)."""
    data = sbm_graph()
    space = macro_space(2)
    activation = space.indices("activation")  # a changed activation makes no layer homogeneous
    parent = space.sample(torch.Generator().manual_seed(0))
    child = tuple((v + 1) % len(space.fields[i].choices) if i in activation else v for i, v in enumerate(parent))
    trained = []
    for sharing in (True, False):
        trainer = ChildTrainer(NodeClassification(NodeOptions()), data, space, {"lr": 0.01, "weight_decay": 0.0},
                               Budget(12, None), torch.device("cpu"), sharing=sharing, classes=3)
        trainer(Proposal(parent))
        assert (parent in trainer.parents) == sharing
        _, ends = watch_training(trainer)
        evaluation = trainer(Proposal(child, parent=parent, kind="activation"))
        assert evaluation.info["inherited_layers"] == [] and evaluation.info["epochs"] == 12
        trained.append((evaluation.val, ends[0], torch.get_rng_state()))
    (val_shared, shared, state_shared), (val_alone, alone, state_alone) = trained
    assert val_shared == val_alone
    assert all(torch.equal(shared[k], alone[k]) for k in alone)  # the same dropout masks all along
    assert torch.equal(state_shared, state_alone)


def test_a_child_trainer_builds_the_class_count_it_is_given_not_its_view_s() -> None:
    """The unit under the task-level test below: ``ChildTrainer(classes=...)`` sizes the output layer, not the
    labels left in the test-hidden view it trains on."""
    data = sbm_graph()
    view = hide_test(data)
    view.y[view.y == 2] = -1  # class 2 now appears in test only
    space = macro_space(2)
    trainer = ChildTrainer(NodeClassification(NodeOptions()), view, space, {"lr": 0.01, "weight_decay": 0.0},
                           Budget(2, None), torch.device("cpu"), classes=NodeClassification.num_classes(data))
    model = trainer.build(space.sample(torch.Generator().manual_seed(0)))
    assert model(data.x, data.edge_index).size(-1) == 3


def test_the_search_task_gives_children_and_retrained_models_the_full_data_s_class_count(monkeypatch) -> None:
    """Children train on a view with test labels hidden; a class seen only in test still gets its output."""
    data = sbm_graph()
    data.train_mask[data.y == 2] = False
    data.val_mask[data.y == 2] = False
    data.test_mask[data.y == 2] = True  # class 2, the highest, appears in test only
    from gnnbench.search.macro import MacroGNN

    outputs: list[int] = []
    init = MacroGNN.__init__

    def spy(self, in_channels, out_channels, *args, **kwargs):
        outputs.append(out_channels)
        init(self, in_channels, out_channels, *args, **kwargs)

    monkeypatch.setattr(MacroGNN, "__init__", spy)
    task = ArchitectureSearch(SearchOptions(budget=2, retrain_seeds=1, max_params=10**9))
    result = task.run(MODELS.get("random_search"), data, {"lr": 0.01, "weight_decay": 0.0}, Budget(2, None),
                      RunContext(torch.device("cpu"), seed=0))
    assert outputs == [3, 3, 3]  # two children, one retrained model
    assert len(result["retrain"]) == 1


def test_a_childs_initialisation_and_reward_depend_on_the_search_seed_and_its_architecture_not_on_history(
        monkeypatch) -> None:
    data, space = sbm_graph(), macro_space(2)
    first, second = (space.sample(torch.Generator().manual_seed(s)) for s in (1, 2))
    initial: list[dict[str, torch.Tensor]] = []
    train = ChildTrainer.train

    def spy(self, model, budget):
        initial.append({k: v.clone() for k, v in model.state_dict().items()})
        return train(self, model, budget)

    monkeypatch.setattr(ChildTrainer, "train", spy)

    def evaluate(*archs, seed=0):
        trainer = ChildTrainer(NodeClassification(NodeOptions()), data, space, {"lr": 0.01, "weight_decay": 5e-4},
                               Budget(30, 10), torch.device("cpu"), seed=seed, classes=3)
        initial.clear()
        evaluations = [trainer(Proposal(arch)) for arch in archs]
        return evaluations[-1], initial[-1]

    alone, alone_init = evaluate(first)
    after, after_init = evaluate(second, first)  # the same child, evaluated after another one
    assert (alone.val, alone.info["epochs"]) == (after.val, after.info["epochs"])
    assert alone_init.keys() == after_init.keys()
    assert all(torch.equal(alone_init[k], after_init[k]) for k in alone_init)
    _, other_seed_init = evaluate(first, seed=1)  # another search seed draws other weights
    assert not all(torch.equal(alone_init[k], other_seed_init[k]) for k in alone_init)


def test_a_child_whose_training_diverges_scores_zero_counts_its_epochs_and_is_never_a_parent() -> None:
    data = sbm_graph()
    data.x[:, 0] = float("nan")  # every node: the first loss is NaN
    space = macro_space(2)
    trainer = ChildTrainer(NodeClassification(NodeOptions()), data, space, {"lr": 0.01, "weight_decay": 0.0},
                           Budget(12, None), torch.device("cpu"), sharing=True, classes=3)
    evaluation = trainer(Proposal(space.sample(torch.Generator().manual_seed(0))))
    assert evaluation.val == 0.0 and evaluation.info["diverged"] == "loss became nan at epoch 0"
    assert evaluation.info["epochs"] == 1 and trainer.epochs_trained == 1
    assert trainer.parents == {}
    error = pickle.loads(pickle.dumps(NonFiniteLossError(float("inf"), 3)))  # as a worker process sends it
    assert (str(error), error.epoch) == ("loss became inf at epoch 3", 3)


def test_trained_search_selects_on_validation_and_retrains_without_seeing_test(monkeypatch) -> None:
    data = sbm_graph()
    seen: list[tuple[tuple[str, ...], bool]] = []
    evaluate = NodeClassification.evaluate

    def spy(self, model, data, splits):
        seen.append((tuple(splits), bool((data.y >= 0).all())))
        return evaluate(self, model, data, splits)

    monkeypatch.setattr(NodeClassification, "evaluate", spy)
    task = ArchitectureSearch(SearchOptions(budget=4, retrain_seeds=2, finetune_epochs=2, max_params=20000))
    result = task.run(MODELS.get("agnn_ps"), data, {**MODELS.get("agnn_ps").defaults, "batch_size": 2, "lr": 0.01,
                                                    "weight_decay": 0.0},
                      Budget(6, None), RunContext(torch.device("cpu"), seed=0))
    trace = result["search"]["trace"]
    assert len(trace["val"]) == 4  # the trace rounds to 6 digits
    assert result["search"]["selected"]["val"] == pytest.approx(max(trace["val"]), abs=1e-6)
    assert len(result["retrain"]) == 2
    test_means = sum(r["test"] for r in result["retrain"]) / 2
    assert result["metrics"]["test"]["accuracy"] == pytest.approx(test_means)
    assert result["search"]["cost"]["child_trainings"] == 4
    with_test = [i for i, (splits, _) in enumerate(seen) if "test" in splits]
    # test is evaluated once per retraining seed, after the whole search (every child epoch evaluated val)
    assert len(with_test) == 2 and with_test[0] > sum(e for e in trace["epochs"] if e)
    assert all(not labels_visible for splits, labels_visible in seen if "test" not in splits)


def test_finalists_are_chosen_on_retrained_validation_and_only_the_chosen_one_sees_test(monkeypatch) -> None:
    data = sbm_graph()
    seen: list[tuple[str, ...]] = []
    evaluate = NodeClassification.evaluate

    def spy(self, model, data, splits):
        seen.append(tuple(splits))
        return evaluate(self, model, data, splits)

    monkeypatch.setattr(NodeClassification, "evaluate", spy)
    task = ArchitectureSearch(SearchOptions(budget=6, retrain_seeds=2, max_params=20000, retrain_top=3))
    entry = MODELS.get("random_search")
    result = task.run(entry, data, {"lr": 0.01, "weight_decay": 0.0}, Budget(8, None),
                      RunContext(torch.device("cpu"), seed=1))  # a seed where retraining overrules the search
    trace, finalists = result["search"]["trace"], result["search"]["finalists"]
    by_val = sorted(range(6), key=lambda i: (-trace["val"][i], i))[:3]
    assert [f["child"] for f in finalists] == by_val  # the search's three best, best first
    retrained = [f["retrained_val"] for f in finalists]
    chosen = finalists[retrained.index(max(retrained))]
    assert result["search"]["selected"]["child"] == chosen["child"] != by_val[0]  # here retraining overrules
    assert sum(r["val"] for r in result["retrain"]) / 2 == pytest.approx(chosen["retrained_val"])
    # 3 finalists x 2 seeds retrained, then test evaluated once per seed of the chosen finalist, last of all
    assert seen[-2:] == [("test",), ("test",)] and sum("test" in splits for splits in seen) == 2
    assert task.label() == "architecture_search(retrain_top=3)"


def test_a_child_skipped_over_max_params_is_never_a_finalist() -> None:
    """Its 0 is no measurement; retraining it would also ignore the limit it was skipped for."""
    data, entry, hparams = sbm_graph(), MODELS.get("random_search"), {"lr": 0.01, "weight_decay": 0.0}
    task = ArchitectureSearch(SearchOptions(budget=5, retrain_seeds=1, max_params=3000, retrain_top=5))
    result = task.run(entry, data, hparams, Budget(2, None), RunContext(torch.device("cpu"), seed=0))
    skipped = [bool(s) for s in result["search"]["trace"]["skipped"]]
    assert 0 < sum(skipped) < 5
    assert sorted(f["child"] for f in result["search"]["finalists"]) == [i for i in range(5) if not skipped[i]]
    task = ArchitectureSearch(SearchOptions(budget=2, retrain_seeds=1, max_params=1))
    with pytest.raises(RuntimeError, match=r"none of the 2 children trained to a score: 2 over max_params \(1; the "
                                           r"smallest \d+ parameters\), 0 diverged"):
        task.run(entry, data, hparams, Budget(2, None), RunContext(torch.device("cpu"), seed=0))


def test_a_diverged_child_is_never_a_finalist(monkeypatch) -> None:
    """It scores 0 like a skipped child; with every child a finalist candidate, only the trained ones remain."""
    calls = iter(range(100))
    train = ChildTrainer.train

    def every_other_diverges(self, model, budget):
        if next(calls) % 2:
            return 1, "loss became nan at epoch 0"
        return train(self, model, budget)

    monkeypatch.setattr(ChildTrainer, "train", every_other_diverges)
    task = ArchitectureSearch(SearchOptions(budget=4, retrain_seeds=1, max_params=10**9, retrain_top=4))
    result = task.run(MODELS.get("random_search"), sbm_graph(), {"lr": 0.01, "weight_decay": 0.0}, Budget(2, None),
                      RunContext(torch.device("cpu"), seed=0))
    diverged = [bool(d) for d in result["search"]["trace"]["diverged"]]
    assert diverged == [False, True, False, True]
    assert sorted(f["child"] for f in result["search"]["finalists"]) == [0, 2]
    monkeypatch.setattr(ChildTrainer, "train", lambda self, model, budget: (1, "loss became nan at epoch 0"))
    with pytest.raises(RuntimeError, match="none of the 4 children trained to a score: none over max_params, 4 "
                                           "diverged"):
        task.run(MODELS.get("random_search"), sbm_graph(), {"lr": 0.01, "weight_decay": 0.0}, Budget(2, None),
                 RunContext(torch.device("cpu"), seed=0))


def test_retrain_top_enters_the_run_id_only_when_set_above_one(tmp_path) -> None:
    def spec(options: str):
        path = tmp_path / "s.yaml"
        path.write_text(f"name: s\nexperiments:\n  - task: {{name: architecture_search{options}}}\n"
                        "    datasets: [Cora]\n    models: [random_search]\n")
        return load_suite(path).specs[0]

    plain, one, three = spec(""), spec(", retrain_top: 1"), spec(", retrain_top: 3")
    assert plain.run_id == one.run_id and "retrain_top" not in one.task_options  # the runs made before it
    assert three.run_id != plain.run_id and three.task_options["retrain_top"] == 3
    compact, graphnas = spec(", layer_form: compact"), spec(", layer_form: graphnas")
    assert compact.run_id == plain.run_id and "layer_form" not in compact.task_options
    assert graphnas.run_id != plain.run_id and graphnas.task_options["layer_form"] == "graphnas"
    label = ArchitectureSearch(SearchOptions(retrain_top=3, layer_form="graphnas")).label()
    assert label == "architecture_search(retrain_top=3,layer_form=graphnas)"


def test_layer_form_graphnas_builds_every_child_and_the_retrained_model_as_geolayer(monkeypatch) -> None:
    """The option reaches every network the search trains: the children and the selected architecture."""
    built: list[str] = []
    original = macro.MacroLayer.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        built.append(self.conv.form)

    monkeypatch.setattr(macro.MacroLayer, "__init__", spy)
    task = ArchitectureSearch(SearchOptions(budget=2, retrain_seeds=1, layer_form="graphnas"))
    task.run(MODELS.get("random_search"), sbm_graph(), {"lr": 0.01, "weight_decay": 0.0}, Budget(1, None),
             RunContext(torch.device("cpu"), seed=0))
    assert len(built) >= 6 and set(built) == {"graphnas"}  # two layers for each of 2 children and the retrain


def test_a_table_refuses_training_keys_away_from_the_search_algorithm_s_own_defaults(write_suite, tmp_path,
                                                                                      cora_table, monkeypatch) -> None:
    """A plugin algorithm registered with its own lr runs on a table at that lr (its run id holds it); only a
    setting away from it, which would be another run id for the same looked-up runs, is refused: by the suite,
    and with the same message by task.run called directly (the algorithm's registered default, else the task's)."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(
        "from gnnbench import register_model\n"
        "from gnnbench.search.random_search import RandomSearch\n"
        "register_model('my_search', tasks=('architecture_search',), defaults={'lr': 0.01})(RandomSearch)\n")
    suite = """\
        name: mine
        plugins: [mine.py]
        experiments:
          - {task: {name: architecture_search, budget: 5}, datasets: [nasbench-cora], models: [%s]}
        """
    (spec,) = load_suite(write_suite(suite % "my_search")).specs
    assert spec.hparams == {"lr": 0.01, "weight_decay": 5e-4}
    (same,) = load_suite(write_suite(suite % "{name: my_search, hparams: {lr: 0.01}}", "same.yaml")).specs
    assert same.run_id == spec.run_id
    task, entry = ArchitectureSearch(SearchOptions(budget=5)), MODELS.get("my_search")
    run = functools.partial(task.run, entry, cora_table, budget=Budget(1, None),
                            ctx=RunContext(torch.device("cpu"), seed=0))
    assert run(hparams=spec.hparams)["metrics"]["test"]["accuracy"] > 0  # lr 0.01, the algorithm's own
    for key, value in (("lr", 0.005), ("weight_decay", 0.0)):  # the task's lr; weight_decay away from the task's
        with pytest.raises(ConfigError) as suited:
            load_suite(write_suite(suite % f"{{name: my_search, hparams: {{{key}: {value}}}}}", "away.yaml"))
        assert suited.value.key == f"experiments[0].models[0].hparams.{key}"
        with pytest.raises(HparamError) as direct:
            run(hparams={**spec.hparams, key: value})
        assert direct.value.key == key
        assert suited.value.message.endswith(f": {direct.value}")
        assert f"task 'architecture_search' does not read '{key}' here: it sets the children's training" in str(
            direct.value)


def test_a_direct_run_resolves_the_defaults_of_the_name_a_table_is_registered_under(cora_table, monkeypatch) -> None:
    """A plugin's table under its own name gets the algorithm's defaults for that name, not for nasbench-<name>."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    register_model("my_search", tasks=("architecture_search",),
                   dataset_defaults={"my-bench": {"lr": 0.01}})(RandomSearch)
    table = BenchTable("my-bench", cora_table.entries)
    result = ArchitectureSearch(SearchOptions(budget=5)).run(MODELS.get("my_search"), table, {"lr": 0.01},
                                                             Budget(1, None), RunContext(torch.device("cpu"), seed=0))
    assert result["search"]["queries"] == 5


def test_parameter_sharing_or_retraining_on_a_table_is_a_clear_error(write_suite, cora_table) -> None:
    path = write_suite("""\
        name: bad
        experiments:
          - task: {name: architecture_search, budget: 12}
            datasets: [Cora, nasbench-cora]
            models: [random_search, agnn_ps]
        """)
    with pytest.raises(ConfigError, match=r"experiments\[0\].models\[1\]: model 'agnn_ps' cannot run on dataset "
                                          r"'nasbench-cora': parameter_sharing needs trained children"):
        load_suite(path)
    path.write_text(path.read_text().replace("budget: 12", "budget: 12, retrain_top: 2").replace(", agnn_ps", ""))
    with pytest.raises(ConfigError, match=r"experiments\[0\].task: task 'architecture_search' cannot run on "
                                          r"dataset 'nasbench-cora': retrain_top needs trained children"):
        load_suite(path)
    path.write_text(path.read_text().replace("retrain_top: 2", "layer_form: graphnas"))
    with pytest.raises(ConfigError, match=r"nasbench-cora': layer_form needs trained children"):
        load_suite(path)
    path.write_text(path.read_text().replace("[random_search]", "[{name: agnn, hparams: {batch_size: 11}}]"))
    with pytest.raises(ConfigError, match=r"models\[0\].hparams.batch_size: .*batch_size \(11\) leaves no batch "
                                          r"that ends before the last of the budget's 12 children.*at most 10 here"):
        load_suite(path)  # the first child starts; a batch of 11 ends on the 12th, too late to modify its best
    path.write_text(path.read_text().replace("batch_size: 11", "batch_size: 10"))
    with pytest.raises(ConfigError, match="layer_form needs trained children"):  # batch_size 10 passes
        load_suite(path)
    path.write_text(path.read_text().replace("[{name: agnn, hparams: {batch_size: 10}}]", "[random_search]"))
    previous = "layer_form: graphnas"
    for option in ("layers: 3", "retrain_seeds: 4", "finetune_epochs: 5", "max_params: 7"):  # a new run id, else
        path.write_text(path.read_text().replace(previous, option))
        previous = option
        with pytest.raises(ConfigError, match=rf"experiments\[0\].task: .*'nasbench-cora': {option.split(':')[0]} "
                                              "is read by trained children only"):
            load_suite(path)
    path.write_text(path.read_text().replace(", max_params: 7", "").replace("[random_search]",
                                                                            "[{name: agnn, hparams: {lr: 0.1}}]"))
    # Cora's trained children read lr; the table's run is the one of its default
    assert {(s.dataset, s.config) for s in load_suite(path).specs} == {("Cora", "lr=0.1"), ("nasbench-cora", "default")}
    path.write_text(path.read_text().replace("[Cora, nasbench-cora]", "[nasbench-cora]"))
    with pytest.raises(ConfigError, match=r"models\[0\].hparams.lr: .*'nasbench-cora': task 'architecture_search' "
                                          "does not read 'lr' here: it sets the children's training"):
        load_suite(path)
    # a run made outside a suite meets the same check
    task = ArchitectureSearch(SearchOptions(budget=5))
    entry = MODELS.get("agnn_ps")
    with pytest.raises(ValueError, match="parameter_sharing needs trained children"):
        task.run(entry, cora_table, dict(entry.defaults), Budget(1, None), RunContext(torch.device("cpu"), seed=0))
