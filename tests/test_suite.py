from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from gnnbench.errors import QUOTED_MAX, ConfigError, quoted
from gnnbench.harness.plan import entry_note, notes_about
from gnnbench.harness.spec import RunSpec
from gnnbench.harness.suite import load_suite

BASE = """\
name: s
defaults: {seeds: 2, epochs: 7}
experiments:
  - task: node_classification
    datasets: [Cora, CiteSeer]
    models:
      - gcn
      - name: gat
        hparams: {lr: [0.005, 0.01], heads: [4, 8], dropout: 0.5}
"""


def test_expansion_is_the_full_product_with_resolved_hparams(write_suite):
    suite = load_suite(write_suite(BASE))
    # gcn: 2 datasets x 2 seeds; gat: 2 datasets x 2 seeds x (2 x 2 grid)
    assert len(suite.specs) == 4 + 16
    gat = [s for s in suite.specs if s.model == "gat"]
    assert {(s.hparams["lr"], s.hparams["heads"]) for s in gat} == {(0.005, 4), (0.005, 8), (0.01, 4), (0.01, 8)}
    assert all(s.hparams["dropout"] == 0.5 and s.hparams["hidden_channels"] == 8 for s in gat)
    assert {s.config for s in gat} == {"dropout=0.5,heads=4", "dropout=0.5,heads=4,lr=0.01",
                                       "dropout=0.5", "dropout=0.5,lr=0.01"}
    gcn = [s for s in suite.specs if s.model == "gcn"]
    assert all(s.config == "default" and s.epochs == 7 and s.patience is None for s in gcn)
    assert gcn[0].task_options == {"split": "public", "train_fraction": 0.6, "val_fraction": 0.2, "split_seed": None}
    assert len({s.run_id for s in suite.specs}) == len(suite.specs)


def test_a_whole_number_for_a_float_option_is_that_float_for_tasks_as_for_scenarios(write_suite):
    """``new_node_fraction: 0`` and ``0.0`` are one protocol: one run id, recorded as the float."""
    text = ("name: s\nexperiments: [{task: {name: temporal_link, new_node_fraction: %s}, datasets: [PeriodicStream],"
            " models: [edgebank]}]\n")
    whole, decimal = (load_suite(write_suite(text % v, f"{i}.yaml")).specs[0] for i, v in enumerate(("0", "0.0")))
    assert whole.run_id == decimal.run_id and type(whole.task_options["new_node_fraction"]) is float


def test_run_id_is_stable_and_only_depends_on_what_changes_results(write_suite):
    a = load_suite(write_suite(BASE)).specs
    b = load_suite(write_suite(BASE.replace("name: s", "name: renamed"), "other.yaml")).specs
    assert [s.run_id for s in a] == [s.run_id for s in b]  # labels are not hashed
    spec = a[0]
    assert RunSpec.from_dict(spec.to_dict()) == spec
    reordered = RunSpec.from_dict({**spec.to_dict(), "hparams": dict(reversed(list(spec.hparams.items())))})
    assert reordered.run_id == spec.run_id
    changed = RunSpec.from_dict({**spec.to_dict(), "hparams": {**spec.hparams, "lr": 0.02}})
    assert changed.run_id != spec.run_id
    assert RunSpec.from_dict({**spec.to_dict(), "seed": 99}).run_id != spec.run_id
    assert len(spec.run_id) == 16
    other = {"task": "link_prediction", "task_options": {"x": 1}, "dataset": "CiteSeer", "model": "gat",
             "epochs": 1234, "patience": 321, "device": "cuda", "kernel": "csr", "scenario": {"name": "label_noise"}}
    for field, value in other.items():  # every field that changes what a run computes changes its id
        assert RunSpec.from_dict({**spec.to_dict(), field: value}).run_id != spec.run_id, field
    for field, value in {"suite": "t", "experiment": "e", "config": "c", "plugins": ["p.py"]}.items():  # labels
        assert RunSpec.from_dict({**spec.to_dict(), field: value}).run_id == spec.run_id, field


def test_an_experiment_s_own_keys_win_over_the_suite_s_defaults(write_suite):
    suite = load_suite(write_suite("""\
        name: s
        defaults: {epochs: 100, seeds: 2, patience: 10}
        experiments:
          - {name: own, task: node_classification, datasets: [Cora], models: [mlp], epochs: 5, seeds: [7],
             patience: null}
          - {name: inherits, task: node_classification, datasets: [CiteSeer], models: [mlp]}
        """))
    assert [(s.experiment, s.seed, s.epochs, s.patience) for s in suite.specs] == [
        ("own", 7, 5, None), ("inherits", 0, 100, 10), ("inherits", 1, 100, 10)]


def test_seed_list_task_mapping_and_list_valued_hparam(write_suite):
    suite = load_suite(write_suite("""\
        name: s
        experiments:
          - task: {name: node_classification, split: random, train_fraction: 0.64, val_fraction: 0.16}
            datasets: Cora
            seeds: [3, 5]
            models: {name: mlp, hparams: {hidden_channels: 32}}
        executor: {type: process, workers: 2}
        """))
    assert [s.seed for s in suite.specs] == [3, 5]  # one dataset, one model: no list needed
    assert suite.specs[0].task_options["split"] == "random"
    assert suite.executor == {"type": "process", "workers": 2}


def test_a_schedule_setting_rides_along_a_grid_that_turns_the_schedule_off_at_its_default(write_suite):
    """``lr_factor`` (which the graph task leaves unread without a schedule) set beside a grid over
    ``lr_patience`` that includes 0: the point without a schedule runs at the default factor, the run unset
    ``lr_factor`` makes; where no point has a schedule it is refused."""
    text = """\
        name: s
        experiments: [{task: graph_classification, datasets: [MUTAG], models: [{name: gin_pool,
                       hparams: %s}]}]
        """
    off, on = load_suite(write_suite(text % "{lr_patience: [0, 10], lr_factor: 0.3}")).specs
    (unset,) = load_suite(write_suite(text % "{}", "unset.yaml")).specs
    assert (off.run_id, off.config, off.hparams["lr_factor"]) == (unset.run_id, "default", 0.5)
    assert on.config == "lr_factor=0.3,lr_patience=10"
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(text % "{lr_patience: 0, lr_factor: 0.3}", "none.yaml"))
    assert info.value.key == "experiments[0].models[0].hparams.lr_factor"
    assert info.value.message == ("model 'gin_pool' with lr_factor=0.3 cannot run on dataset 'MUTAG': task "
                                  "'graph_classification' does not read 'lr_factor' here: no schedule reads it "
                                  "(lr_patience and lr_step are 0; set one of them); remove it")


GRID = "name: s\nexperiments: [{task: node_classification, datasets: %s, models: [{name: %s, hparams: %s}]}]\n"


def test_a_width_beside_a_depth_grid_from_one_layer_runs_the_one_layer_point_at_the_default_width(write_suite):
    """The one-layer point of a grid over ``num_layers`` leaves the width unread: it runs at the default width,
    the one run it makes whatever the width (one spec, no duplicate-run error), with the run id and label of a
    suite setting ``num_layers: 1`` alone; the width grid runs at two layers."""
    (alone,) = load_suite(write_suite(GRID % ("[Cora]", "gcn", "{num_layers: 1}"), "alone.yaml")).specs
    specs = load_suite(write_suite(GRID % ("[Cora]", "gcn", "{num_layers: [1, 2], hidden_channels: [64, 128]}"))
                       ).specs
    assert [(s.hparams["num_layers"], s.hparams["hidden_channels"], s.config) for s in specs] == [
        (1, alone.hparams["hidden_channels"], "num_layers=1"), (2, 64, "hidden_channels=64"),
        (2, 128, "hidden_channels=128")]
    assert specs[0] == alone and specs[0].run_id == alone.run_id
    one, two = load_suite(write_suite(GRID % ("[Cora]", "gcn", "{num_layers: [1, 2], hidden_channels: 128}"),
                                      "scalar.yaml")).specs
    assert (one.run_id, two.config) == (alone.run_id, "hidden_channels=128")
    # GAT's width and heads at once: its four one-layer points are one run
    gat = load_suite(write_suite(GRID % ("[Cora]", "gat", "{num_layers: [1, 2], hidden_channels: [64, 128], "
                                                          "heads: [4, 8]}"), "gat.yaml")).specs
    assert [s.config for s in gat] == ["num_layers=1", "heads=4,hidden_channels=64", "heads=4,hidden_channels=128",
                                       "hidden_channels=64", "hidden_channels=128"]
    # a second entry naming the one-layer run again is still a run defined twice
    with pytest.raises(ConfigError, match=r"experiments\[0\].models\[1\]: 1 run is defined twice: gcn on Cora, "
                                          r"seed 0, num_layers=1, by experiments\[0\].models\[0\] too"):
        load_suite(write_suite(GRID.replace("models: [", "models: [{name: gcn, hparams: {num_layers: 1}}, ") % (
            "[Cora]", "gcn", "{num_layers: [1, 2], hidden_channels: 128}"), "twice.yaml"))


def test_a_suite_notes_each_model_entry_whose_points_run_a_key_at_its_default(write_suite):
    """What the run labels cannot show, said per model entry for the plan in a short line: which keys it sets run
    at their default where unread (on which datasets, when not on all) and how many runs its grid points make
    after merging, without the model's long reason. An entry whose points read all they set has no note; a plan
    shows only the notes about the runs it runs (``--only``'s experiments, those not recorded yet)."""
    suite = load_suite(write_suite("""\
        name: s
        experiments:
          - {name: a, task: node_classification, datasets: [Cora],
             models: [{name: gcn, hparams: {num_layers: [1, 2], hidden_channels: [16, 32, 64]}}]}
          - {name: b, task: node_classification, datasets: [CiteSeer], scenario: [none, {name: label_noise, rate: 0.2}],
             models: [{name: mlp, hparams: {lr: [0.01, 0.02]}},
                      {name: gat, hparams: {num_layers: [1, 2], hidden_channels: 16, heads: [2, 4]}}]}
        """))
    assert len(suite.specs) == 4 + 2 * 2 + 3 * 2
    a = "experiments[0].models[0] (gcn): 6 grid points -> 4 configs; default where unread: hidden_channels"
    b = "experiments[1].models[1] (gat): 4 grid points -> 3 configs; default where unread: heads, hidden_channels"
    assert notes_about(suite.notes, suite.specs) == [a, b]
    assert notes_about(suite.only(["b"]).notes, suite.only(["b"]).specs) == [b]
    gat_one_layer = [s for s in suite.specs if s.model == "gat" and s.config == "num_layers=1"]
    assert notes_about(suite.notes, gat_one_layer[1:]) == [b]  # one run of the entry left to run: its note
    assert notes_about(suite.notes, [s for s in suite.specs if s.model == "mlp"]) == []  # no noted entry's runs left
    assert load_suite(write_suite(BASE, "plain.yaml")).notes == ()
    table = load_suite(write_suite(
        "name: s\nexperiments: [{task: {name: architecture_search, budget: 5}, datasets: [nasbench-cora, Cora], "
        "models: [{name: random_search, hparams: {lr: [0.005, 0.01]}}]}]\n", "table.yaml"))
    assert notes_about(table.notes, table.specs) == [
        "experiments[0].models[0] (random_search): 2 grid points x 2 datasets -> 3 configs; default where unread: lr "
        "(on some)"]


def test_a_plan_note_fits_its_line_with_many_datasets_scenarios_and_keys(write_suite):
    """An entry on many datasets and scenarios still gets one line within 118 characters (120 as the plan indents
    it) where it can: the datasets where a key is unread are counted, else the key marked ``(on some)``, and keys
    past those that fit counted; a line that cannot fit takes the shortest form, which keeps the marks."""
    suite = load_suite(write_suite("""\
        name: s
        experiments:
          - {task: {name: architecture_search, budget: 5}, datasets: [nasbench-cora, nasbench-citeseer, Cora, CiteSeer],
             models: [{name: random_search, hparams: {lr: [0.005, 0.01], weight_decay: [0.0005, 0.001]}}]}
          - {task: node_classification, datasets: [Cora, CiteSeer, Cora-raw, CiteSeer-raw],
             scenario: [none, {name: label_noise, rate: 0.2}, {name: label_noise, rate: 0.4}],
             models: [{name: gat, hparams: {num_layers: [1, 2], hidden_channels: [16, 32], heads: [2, 4]}}]}
        """))
    assert notes_about(suite.notes, suite.specs) == [
        "experiments[0].models[0] (random_search): 4 grid points x 4 datasets -> 10 configs; default where unread: lr "
        "(on some) and 1 more",
        "experiments[1].models[0] (gat): 8 grid points x 4 datasets -> 20 configs; default where unread: heads, "
        "hidden_channels"]
    datasets = ["nasbench-cora", "nasbench-citeseer", "nasbench-pubmed", "Cora"]
    made = [SimpleNamespace(experiment="e", model="m", dataset=d, config="default") for d in datasets]

    def note(unread: dict[str, set[str]], key: str = "experiments[0].models[0]") -> str:
        line = entry_note(key, "m", 2, datasets, made, unread).line
        assert len(line) <= 118
        return line.split("unread: ")[1]

    assert note({"lr": {"nasbench-cora"}}) == "lr (on nasbench-cora)"
    assert note({"lr": set(datasets[:3]), "weight_decay": set(datasets[:2])}, key="e") == (
        "lr (on 3 of 4), weight_decay (on 2 of 4)")
    assert note({k: set(datasets) for k in ("lr", "weight_decay", "dropout", "hidden_channels", "heads", "num_layers",
                                             "batch_size")}, key="e") == "batch_size, dropout, heads and 4 more"
    # where even the counts do not fit, a key unread on only some datasets is still marked so, in a cut list too
    partly = {"lr": set(datasets[:3]), "weight_decay": set(datasets[:2]), "dropout": set(datasets)}
    assert note(partly, key="e") == "dropout, lr (on some), weight_decay (on some)"
    assert note({**partly, "heads": set(datasets)}, key="e") == "dropout, heads, lr (on some) and 1 more"


def test_the_run_cap_counts_the_runs_an_entry_makes_once_its_points_are_merged(write_suite, monkeypatch):
    """The suite's runs so far are counted as they run, merged points once; an entry's own grid is counted
    before merging (which takes resolving and checking every point: the work the cap spares), so the message
    says "up to"."""
    from gnnbench.harness import suite as suite_module

    monkeypatch.setattr(suite_module, "MAX_RUNS", 10)
    text = ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], seeds: %d, models: [{name: gcn, "
            "hparams: {num_layers: [1, 2], hidden_channels: [16, 32, 64]}}, {name: mlp, hparams: {lr: %s}}]}]\n")
    lrs = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06]
    assert len(load_suite(write_suite(text % (1, lrs))).specs) == 4 + 6  # the gcn grid's 6 points make 4 runs
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(text % (1, [*lrs, 0.07]), "over.yaml"))
    assert (info.value.key, info.value.message) == (
        "experiments[0].models[1]", "this model adds up to 7 runs (7 grid points x 1 datasets x 1 scenarios x 1 "
        "seeds, before merging the points that make one run), bringing the suite to 11; expected at most 10: split "
        "the study into suites")
    with pytest.raises(ConfigError, match="this model adds up to 12 runs"):  # 8 after merging: counted before
        load_suite(write_suite(text % (2, [0.01]), "seeds.yaml"))


def test_a_width_no_grid_point_reads_is_refused_as_before(write_suite):
    """Where no point reads a key set away from its default, setting it changes nothing: refused at its key,
    also beside another key that some points do read (DGMLP's width at ``mlp_layers: [1, 2]``, its temperature at
    ``K: 0``)."""
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(GRID % ("[Cora]", "gcn", "{num_layers: 1, hidden_channels: 128}")))
    assert info.value.key == "experiments[0].models[0].hparams.hidden_channels"
    assert info.value.message == ("model 'gcn' with hidden_channels=128,num_layers=1 cannot run on dataset 'Cora': "
                                  "model 'gcn' does not read 'hidden_channels' here: num_layers is 1 (one layer "
                                  "from the features to the outputs, no hidden layer); remove it")
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(GRID % ("[Cora]", "dgmlp", "{K: 0, mlp_layers: [1, 2], hidden_channels: 128, "
                                                          "temperature: 0.5}"), "dgmlp.yaml"))
    assert info.value.key == "experiments[0].models[0].hparams.temperature"
    assert "model 'dgmlp' does not read 'temperature' here: K is 0" in info.value.message


def test_a_key_run_at_its_default_takes_each_dataset_s_default(write_suite, monkeypatch):
    """A one-layer point runs at the width its dataset's defaults give (a registry entry's ``dataset_defaults``):
    on each dataset, the run of a suite setting ``num_layers: 1`` alone."""
    from gnnbench import register_model
    from gnnbench.models.baselines import GCN
    from gnnbench.registry import MODELS

    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    register_model("wide_gcn", tasks=("node_classification",),
                   dataset_defaults={"CiteSeer": {"hidden_channels": 32}})(GCN)
    (alone_cora, alone_citeseer) = load_suite(write_suite(GRID % ("[Cora, CiteSeer]", "wide_gcn", "{num_layers: 1}"),
                                                          "alone.yaml")).specs
    specs = load_suite(write_suite(GRID % ("[Cora, CiteSeer]", "wide_gcn",
                                           "{num_layers: [1, 2], hidden_channels: 128}"))).specs
    assert [s.run_id for s in specs[:2]] == [alone_cora.run_id, alone_citeseer.run_id]
    assert [s.hparams["hidden_channels"] for s in specs] == [16, 32, 128, 128]


def test_a_key_one_dataset_reads_runs_at_its_default_on_another(write_suite):
    """A table's search leaves the children's ``lr`` unread where a trained search on Cora reads it: the grid runs
    on Cora, and on the table once, at the default (not refused: removing ``lr`` would lose the Cora grid)."""
    text = ("name: s\nexperiments: [{task: {name: architecture_search, budget: 5}, datasets: [nasbench-cora, Cora], "
            "models: [{name: random_search, hparams: {lr: %s}}]}]\n")
    specs = load_suite(write_suite(text % "[0.005, 0.01]")).specs
    assert sorted((s.dataset, s.config) for s in specs) == [("Cora", "default"), ("Cora", "lr=0.01"),
                                                            ("nasbench-cora", "default")]
    with pytest.raises(ConfigError, match="does not read 'lr' here"):  # the table alone reads it nowhere
        load_suite(write_suite(text.replace(", Cora]", "]") % "[0.005, 0.01]", "table.yaml"))


def test_a_key_without_a_default_is_kept_where_it_is_unread(write_suite, monkeypatch):
    """A constructor argument the suite must set cannot run at a default: where a point leaves it unread it is
    kept, not refused (refusing it, or leaving it out, would both stop the suite)."""
    from gnnbench import register_model
    from gnnbench.registry import MODELS

    class NeedsWidth(torch.nn.Module):
        @staticmethod
        def unread_hparams(hparams):
            return {"width": "num_layers is 1"} if hparams["num_layers"] == 1 else {}

        def __init__(self, in_channels: int, out_channels: int, width: int, num_layers: int = 2) -> None:
            super().__init__()

    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    register_model("needs_width", tasks=("node_classification",))(NeedsWidth)
    for hparams, widths in (("{num_layers: 1, width: 32}", [32]), ("{num_layers: [1, 2], width: 32}", [32, 32])):
        assert [s.hparams["width"] for s in load_suite(write_suite(GRID % ("[Cora]", "needs_width", hparams))).specs
                ] == widths


def test_an_experiment_may_add_seeds_to_another_s_row(write_suite):
    suite = load_suite(write_suite("""\
        name: s
        experiments:
          - {name: first, task: node_classification, datasets: [Cora], models: [gcn], seeds: [0, 1]}
          - {name: more, task: node_classification, datasets: [Cora], models: [gcn], seeds: [2, 3]}
        """))
    assert [s.seed for s in suite.specs] == [0, 1, 2, 3] and len({s.config for s in suite.specs}) == 1


@pytest.mark.parametrize(("text", "key", "message"), [
    ("name: s\nexperiments: [\n", None, "invalid YAML at line 3"),
    # a control character: one located line, as other YAML errors (it was two, the second PyYAML's "in <unicode
    # string>, position 10")
    ("name: s\n\x00", None, "invalid YAML at line 2, column 1: character U+0000 is not allowed; YAML takes "
     "printable text only"),
    ("# nothing yet\n", None, "the file is empty (or only comments)"),
    # numbers out of the range their conventional names imply: every seed would fail, or train nothing
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: "
     "{dropout: [0.5, 1.5]}}]}]\n", "experiments[0].models[0].hparams.dropout[1]",
     "'dropout' is a probability: expected a number in [0, 1], got 1.5"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: "
     "{lr: -0.01}}]}]\n", "experiments[0].models[0].hparams.lr", "expected a learning rate of at least 0 for 'lr'"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: "
     "{hidden_channels: [16, 0]}}]}]\n", "experiments[0].models[0].hparams.hidden_channels[1]",
     "'hidden_channels' is a size: expected at least 1, got 0"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gat, hparams: "
     "{heads: -4}}]}]\n", "experiments[0].models[0].hparams.heads", "'heads' is a size: expected at least 1, got -4"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gat, hparams: "
     "{weight_decay: -1}}]}]\n", "experiments[0].models[0].hparams.weight_decay",
     "expected a weight decay of at least 0 for 'weight_decay', got -1"),
    # values that run, but otherwise than asked: a negative factor or clipping norm reverses the steps, a
    # negative K propagates as K = 0 under another run id
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG], models: [{name: gin_pool, hparams: "
     "{lr_step: 1, lr_factor: -1.0}}]}]\n", "experiments[0].models[0].hparams.lr_factor",
     "'lr_factor' scales the learning rate down: expected a number in (0, 1), got -1.0"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: forwardgnn_sf_top2loss, "
     "hparams: {grad_max_norm: -1.0}}]}]\n", "experiments[0].models[0].hparams.grad_max_norm",
     "'grad_max_norm' divides or bounds a scale: expected a positive number, got -1.0"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: sgc, hparams: "
     "{K: [2, -5]}}]}]\n", "experiments[0].models[0].hparams.K[1]",
     "'K' counts propagation steps: expected at least 0, got -5"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: forwardgnn_sf, hparams: "
     "{tau: 0}}]}]\n", "experiments[0].models[0].hparams.tau",
     "'tau' divides or bounds a scale: expected a positive number, got 0"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: forwardgnn_ff_la, "
     "hparams: {num_negatives: 0}}]}]\n", "experiments[0].models[0].hparams.num_negatives",
     "'num_negatives' is a count: expected at least 1, got 0"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: forwardgnn_sf_top2input, "
     "hparams: {test_time_steps: 2}}]}]\n", "experiments[0].models[0].hparams.test_time_steps",
     "test_time_steps must be >= 3 (inference reads steps 2..T-1), got 2"),
    # counts of the methods' own: a blind model recorded ok, or one model under two run ids (gin_layers 0 builds
    # the one layer of gin_layers 1); a width the heads cannot split is silently narrower
    ("name: s\nexperiments: [{task: temporal_link, datasets: [PeriodicStream], models: [{name: todyformer, hparams: "
     "{num_patches: 0}}]}]\n", "experiments[0].models[0].hparams.num_patches",
     "num_patches counts patches per window: expected at least 1, got 0"),
    ("name: s\nexperiments: [{task: temporal_link, datasets: [PeriodicStream], models: [{name: todyformer, hparams: "
     "{patch_size: -4}}]}]\n", "experiments[0].models[0].hparams.patch_size",
     "patch_size counts events per patch: expected at least 1, got -4"),
    ("name: s\nexperiments: [{task: sat_solving, datasets: [SAT-3SAT], models: [{name: neuroback, hparams: "
     "{gin_layers: 0}}]}]\n", "experiments[0].models[0].hparams.gin_layers",
     "gin_layers counts the relational GIN layers: expected at least 1, got 0"),
    ("name: s\nexperiments: [{task: temporal_link, datasets: [PeriodicStream], models: [{name: tgn, hparams: "
     "{num_neighbors: 0}}]}]\n", "experiments[0].models[0].hparams.num_neighbors",
     "num_neighbors counts the recent neighbours attended to: expected at least 1, got 0"),
    ("name: s\nexperiments: [{task: temporal_link, datasets: [PeriodicStream], models: [{name: tgn, hparams: "
     "{heads: 3}}]}]\n", "experiments[0].models[0].hparams.heads",
     "embedding_channels (100) must be divisible by heads (3)"),
    ("name: s\nexperiments: [{task: sat_solving, datasets: [SAT-3SAT], models: [{name: neuroback, hparams: "
     "{patches: -1}}]}]\n", "experiments[0].models[0].hparams.patches",
     "patches counts each node's tokens: expected at least 1, got -1"),
    ("name: s\nexperiments: [{task: architecture_search, datasets: [nasbench-cora], models: [{name: graphnas, "
     "hparams: {controller_lr: -0.1}}]}]\n", "experiments[0].models[0].hparams.controller_lr",
     "expected a learning rate of at least 0 for 'controller_lr', got -0.1"),
    ("name: s\nexperiments: [{task: architecture_search, datasets: [nasbench-cora], models: [{name: graphnas, "
     "hparams: {tanh_constant: 0.0}}]}]\n", "experiments[0].models[0].hparams.tanh_constant",
     "tanh_constant scales the policy's logits: expected a positive number, got 0.0"),
    ("name: s\nexperiments: [{task: architecture_search, datasets: [nasbench-cora], models: [{name: agnn, "
     "hparams: {max_redraws: 0}}]}]\n", "experiments[0].models[0].hparams.max_redraws",
     "max_redraws (draws per child, the first included) must be >= 1, got 0"),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG], models: [{name: kpath, hparams: "
     "{contrast_weight: -0.5}}]}]\n", "experiments[0].models[0].hparams.contrast_weight",
     "contrast_weight weighs the contrastive term (0: off): expected at least 0, got -0.5"),
    # SAT options: a solver or policy listed twice pooled the same solves twice; a negative budget meant none
    ("name: s\nexperiments: [{task: {name: sat_solving, solvers: [glucose4, glucose4]}, datasets: [SAT-3SAT], "
     "models: [neuroback]}]\n", "experiments[0].task.solvers", "solvers lists glucose4 more than once"),
    ("name: s\nexperiments: [{task: {name: sat_solving, policies: [default, default, neuroback]}, datasets: "
     "[SAT-3SAT], models: [neuroback]}]\n", "experiments[0].task.policies", "policies lists default more than once"),
    ("name: s\nexperiments: [{task: {name: sat_solving, conflict_budget: -5}, datasets: [SAT-3SAT], models: "
     "[neuroback]}]\n", "experiments[0].task.conflict_budget",
     "conflict_budget counts conflicts per solve (0: no budget): expected at least 0, got -5"),
    ("name: s\nexperiments: [{task: temporal_link, datasets: [PeriodicStream], models: [{name: todyformer, hparams: "
     "{node2vec_dim: 16, node2vec_walk_length: 0}}]}]\n", "experiments[0].models[0].hparams.node2vec_walk_length",
     "node2vec_walk_length is a count: expected at least 1, got 0"),
    # a model's setting that its other settings leave unread: another run id for the same runs
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: dgmlp, hparams: "
     "{K: 0, stationary: [random_walk, symmetric]}}]}]\n", "experiments[0].models[0].hparams.stationary",
     "model 'dgmlp' does not read 'stationary' here: K is 0 (the features themselves, no hops to weigh)"),
    ("name: s\nexperiments: [{task: temporal_link, datasets: [PeriodicStream], models: [{name: todyformer, hparams: "
     "{node2vec_epochs: [5, 50]}}]}]\n", "experiments[0].models[0].hparams.node2vec_epochs",
     "model 'todyformer' does not read 'node2vec_epochs' here: node2vec_dim is 0 (no positional encoding is "
     "fitted); remove it"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: dgmlp, hparams: "
     "{hidden_channels: [32, 256]}}]}]\n", "experiments[0].models[0].hparams.hidden_channels",
     "model 'dgmlp' does not read 'hidden_channels' here: mlp_layers is 1 (one linear map to the classes, no hidden "
     "layer); remove it"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: forwardgnn_sf_top2input, "
     "hparams: {num_layers: 1, alternating: false}}]}]\n", "experiments[0].models[0].hparams.alternating",
     "model 'forwardgnn_sf_top2input' does not read 'alternating' here: num_layers is 1"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: "
     "{hidden_channels: 40, num_layers: 1}}]}]\n", "experiments[0].models[0].hparams.hidden_channels",
     "model 'gcn' does not read 'hidden_channels' here: num_layers is 1 (one layer from the features to the outputs, "
     "no hidden layer); remove it"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gat, hparams: "
     "{num_layers: 1, heads: [4, 8]}}]}]\n", "experiments[0].models[0].hparams.heads",
     "model 'gat' does not read 'heads' here: num_layers is 1"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: forwardgnn_sf, hparams: "
     "{backbone: gat, hidden_channels: 130}}]}]\n", "experiments[0].models[0].hparams.hidden_channels",
     "the gat backbone needs a width divisible by 4 (its heads), got 130"),
    # a key that is no name, and a plugin list's item that is no path, located and named as what it is
    ("name: s\nexperiments: [{~: 3, task: node_classification, datasets: [Cora], models: [gcn]}]\n", "experiments[0]",
     "a key is null (~ or empty), not a name; expected keys among name, task, datasets"),
    ("name: s\nexperiments: [{task: {name: node_classification, ~: x}, datasets: [Cora], models: [gcn]}]\n",
     "experiments[0].task", "task 'node_classification' takes options by name; a key here is null (~ or empty)"),
    ("name: s\nplugins: [gcn_plugin.py, 3]\nexperiments: [{task: node_classification, datasets: [Cora], models: "
     "[gcn]}]\n", "plugins[1]", "expected a module path or .py file, got int 3"),
    # the link task sets its models' output width: one a gat backbone cannot split failed every run
    ("name: s\nexperiments: [{task: {name: link_prediction, embedding_channels: 130}, datasets: [Cora], models: "
     "[{name: forwardgnn_top2input_link, hparams: {backbone: gat}}]}]\n", "experiments[0].task",
     "model 'forwardgnn_top2input_link' with backbone=gat cannot run on dataset 'Cora' with these options (they "
     "set its out_channels): the gat backbone needs a width divisible by 4 (its heads), got 130 (out_channels)"),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG], models: [{name: kpath, hparams: "
     "{drop_rate: 0.5}}]}]\n", "experiments[0].models[0].hparams.drop_rate",
     "model 'kpath' does not read 'drop_rate' here: contrast_weight is 0 (no contrastive term); remove it"),
    ("name: s\nexperiments: [{task: architecture_search, datasets: [nasbench-cora], models: [{name: graphnas, "
     "hparams: {reward: accuracy, top_k: 5}}]}]\n", "experiments[0].models[0].hparams.top_k",
     "model 'graphnas' does not read 'top_k' here: reward is 'accuracy' (no shaping); remove it"),
    # where the mistake is: the repeated scenario, the unknown name (not its grid's first value), the empty name
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], scenario: [null, none]}]\n",
     "experiments[0].scenario[1]", "scenario none is listed twice (at [0] too)"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: "
     "{headz: [1, 2]}}]}]\n", "experiments[0].models[0].hparams.headz", "unknown hyperparameter 'headz'"),
    ("name: s\nexperiments: [{name: '', task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "experiments[0].name", "expected a non-empty string, got str ''"),
    # a long value is shown elided: one line, not the whole list
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], epochs: ["
     + ", ".join(["1"] * 20000) + "]}]\n", "experiments[0].epochs",
     "expected a positive integer number of epochs, got [1, 1, 1, 1, 1, 1, 1, 1, ...]"),
    # a YAML alias bomb: 9^7 items by reference, shown as one short line, not a MemoryError
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], epochs: "
     "&a6 [&a5 [&a4 [&a3 [&a2 [&a1 [&a0 [x, x, x, x, x, x, x, x, x], *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0], "
     + ", ".join("*a1" for _ in range(8)) + "], " + ", ".join("*a2" for _ in range(8)) + "], "
     + ", ".join("*a3" for _ in range(8)) + "], " + ", ".join("*a4" for _ in range(8)) + "], "
     + ", ".join("*a5" for _ in range(8)) + "]}]\n", "experiments[0].epochs",
     "got [[[...], [...], [...], [...], [...], [...], [...], [...], ...], [[...], [...], "),
    # ... and in a grid value, where a hyperparameter's check quotes it (a 17.5 MB line)
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: {dropout: "
     "[0.5, [&a [1, 1, 1, 1, 1, 1, 1, 1, 1], &b [" + ", ".join(["*a"] * 9) + "], &c [" + ", ".join(["*b"] * 9)
     + "], &d [" + ", ".join(["*c"] * 9) + "], &e [" + ", ".join(["*d"] * 9) + "], &f [" + ", ".join(["*e"] * 9)
     + "]]]}}]}]\n", "experiments[0].models[0].hparams.dropout[1]",
     "expected a finite number for 'dropout', got [[1, 1, 1, 1, 1, 1, 1, 1, ...], [[...], [...], "),
    # an octal number of 6,000 digits: elided, and the integer YAML reads it as (past Python's limit for writing
    # an integer as text: it raised ValueError) named by its size
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], epochs: 0" + "7" * 6000
     + "}]\n", None, "'0777777777777777777777777777777777777...77777777777777777777777777777777777777' is not a "
     "decimal integer: YAML 1.1 reads it as an integer of 18000 bits (octal"),
    # a decimal of 5,000 digits: past what Python reads as a number (PyYAML's ValueError was a traceback)
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], epochs: 1" + "0" * 4999
     + "}]\n", None, "an integer of 5,000 characters, past the 4,300 digits Python reads as a number"),
    # the same number quoted: text, refused as such (the hint that YAML read it as text raised the ValueError)
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], epochs: '1" + "0" * 5000
     + "'}]\n", "experiments[0].epochs", "expected a positive integer number of epochs, got '1000000000"),
    # a mapping missing the key that says what it is: named, with the keys it has
    ("name: s\nexecutor: {workers: 2}\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "executor.type", "missing; expected one of local, process, ray (the executor mapping has workers)"),
    ("name: s\nexperiments: [{task: {split: random}, datasets: [Cora], models: [gcn]}]\n", "experiments[0].task",
     "or a mapping with 'name', got a mapping with key split"),
    # a suite name makes a folder: no path of its own; a typo'd device is no device; patience 0 stops every run
    ('name: "a/../b"\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n', "name",
     "expected a suite name of letters, digits, '_', '.', '-', got 'a/../b'"),
    ('name: "a\\nb"\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n', "name",
     "expected a suite name of letters, digits"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], device: cpux}]\n",
     "experiments[0].device", "expected cpu, cuda, cuda:N or auto, got 'cpux'"),
    ('name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], device: "cuda:0x"}]\n',
     "experiments[0].device", "got 'cuda:0x'"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], patience: 0}]\n",
     "experiments[0].patience", "expected a positive integer or null (no early stopping), got 0"),
    # a grid value that resolves as an earlier one: pointed at, with the one it repeats
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: "
     "{lr: [0.1, 0.2], weight_decay: [0, 0.0]}}]}]\n", "experiments[0].models[0].hparams.weight_decay[1]",
     "0.0 is the same value as 0 at weight_decay[0]: the grid would define its runs twice; remove one"),
    # an experiment's key written at the top, on a model or under hparams: said where it goes
    ("name: s\nseed: 3\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n", "seed",
     "'seeds' is an experiment's key: set it in each experiment, or once under defaults"),
    ("name: s\ndatasets: [Cora]\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "datasets", "'datasets' is an experiment's key"),  # not "did you mean 'defaults'?"
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, seeds: 3}]}]\n",
     "experiments[0].models[0].seeds", "unknown key 'seeds' (allowed: name, hparams); 'seeds' is an experiment's "
     "key: set it on the experiment, or under defaults"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: "
     "{epochs: 10}}]}]\n", "experiments[0].models[0].hparams.epochs", "(accepted: dropout, hidden_channels, lr, "
     "num_layers, weight_decay); 'epochs' is an experiment's key: set it on the experiment, or under defaults"),
    # a name that is no text: pointed at where it stands, for a task, a scenario and a model alike
    ("name: s\nexperiments: [{task: {name: 3}, datasets: [Cora], models: [gcn]}]\n", "experiments[0].task.name",
     "expected a task name, got int 3"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], scenario: [{name: [a]}]}]\n",
     "experiments[0].scenario[0].name", "expected a scenario name, got list"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{hparams: {lr: 0.1}}]}]\n",
     "experiments[0].models[0]", "expected a model name or a mapping with name and hparams, got a mapping with key "
     "hparams"),
    # a setting no schedule reads: each value would be another run id for the same runs
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG], models: [{name: gin_pool, hparams: "
     "{lr_factor: [0.5, 0.1]}}]}]\n", "experiments[0].models[0].hparams.lr_factor",
     "task 'graph_classification' does not read 'lr_factor' here: no schedule reads it (lr_patience and lr_step "
     "are 0; set one of them); remove it"),
    # YAML 1.1 reads yes/no/on/off as booleans: refused, not "expected an integer, got True"
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: "
     "{num_layers: yes}}]}]\n", None, "'yes' is a boolean in YAML 1.1 (true); write true, or quote it for text"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], scenario: Off}]\n", None,
     "'Off' is a boolean in YAML 1.1 (false); write false, or quote it for text"),
    # YAML 1.1 reads 016 as octal 14, 0x10 as 16 and 1:30 as 90: refused, not read as another number
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: "
     "{hidden_channels: 016}}]}]\n", None, "'016' is not a decimal integer: YAML 1.1 reads it as 14"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], seeds: [0x10]}]\n", None,
     "'0x10' is not a decimal integer: YAML 1.1 reads it as 16"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], epochs: 1:30}]\n", None,
     "'1:30' is not a decimal integer: YAML 1.1 reads it as 90"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: "
     "{lr: 1:30.5}}]}]\n", None, "'1:30.5' is a base-60 number in YAML 1.1 (90.5)"),
    ("name: " + "a" * 101 + "\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n", "name",
     "expected a suite name of at most 100 characters (it names the results folder"),
    ("name: m.smoke\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n", "name",
     "'m.smoke' ends in '.smoke', which names the folder of suite 'm''s --smoke checks"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: []}]\n",
     "experiments[0].models", "expected a non-empty list of models, got an empty list"),
    ("name: s\nexperiments:\n  - {name: x, task: node_classification, datasets: [Cora], models: [gcn]}\n"
     "  - {name: x, task: node_classification, datasets: [Cora], models: [mlp]}\n",
     "experiments[1].name", "experiment name 'x' is taken by experiments[0]"),
    ("name: s\nname: t\nexperiments: []\n", None, "duplicate key 'name'"),
    # located at the second key, naming the first's line (it named the second's twice)
    ("name: s\nexperiments:\n  - task: node_classification\n    epochs: 3\n    datasets: [Cora]\n    epochs: 4\n"
     "    models: [gcn]\n", None, "invalid YAML at line 6, column 5: duplicate key 'epochs' (first given at line 4)"),
    ("name: s\n? [1]\n: x\nexperiments: []\n", None, "found unhashable key"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], seeds: [0, 4294967296]}]\n",
     "experiments[0].seeds[1]", "seeds go up to 4294967295 (NumPy's limit), got 4294967296"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], seeds: [0, 3, 0]}]\n",
     "experiments[0].seeds[2]", "seed 0 is listed twice (at [0] too)"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], seeds: [0, -3]}]\n",
     "experiments[0].seeds[1]", "expected a non-negative integer seed, got int -3"),
    # a YAML boolean is no seed and no count of seeds (bool is an int in Python: true would be 1 seed, seed 1)
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], seeds: true}]\n",
     "experiments[0].seeds", "expected a count of seeds (e.g. 10) or a list of non-negative integers, got True"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], seeds: [0, true]}]\n",
     "experiments[0].seeds[1]", "expected a non-negative integer seed, got bool True"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [1]}]\n",
     "experiments[0].models[0]", "expected a model name or a mapping with name and hparams, got int 1"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: {gcn: {lr: 0.01}}}]\n",
     "experiments[0].models.gcn", "unknown key 'gcn' (allowed: name, hparams); write {name: gcn, hparams: ...}"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, lr: 0.1}]}]\n",
     "experiments[0].models[0].lr", "unknown key 'lr' (allowed: name, hparams); a model's hyperparameters go under "
     "hparams: {name: gcn, hparams: {lr: ...}}"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparam: {}}]}]\n",
     "experiments[0].models[0].hparam", "unknown key 'hparam' (allowed: name, hparams); did you mean 'hparams'?"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora, 1], models: [gcn]}]\n",
     "experiments[0].datasets[1]", "expected a dataset name, got int 1"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora, Cora], models: [gcn]}]\n",
     "experiments[0].datasets[1]", "dataset 'Cora' is listed twice (at [0] too)"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], seeds: 4294967297}]\n",
     "experiments[0].seeds", "expected at most 1,000,000 seeds (a suite holds at most 1,000,000 runs), got "
     "4,294,967,297"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], seeds: 600000,"
     " models: [{name: gcn, hparams: {lr: [0.1, 0.01]}}]}]\n", "experiments[0].models[0]",
     "this model adds up to 1,200,000 runs (2 grid points x 1 datasets x 1 scenarios x 600,000 seeds, before "
     "merging the points that make one run), bringing the suite to 1,200,000; expected at most 1,000,000: split the "
     "study into suites"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: "
     f"{{hidden_channels: {list(range(1, 101))}, lr: {[i / 1000 for i in range(1, 101)]}, "
     f"dropout: {[i / 200 for i in range(101)]}}}}}]}}]\n", "experiments[0].models[0]",
     "this model adds up to 1,010,000 runs (1,010,000 grid points x 1 datasets"),
    ("name: s\nexperiments:\n- {task: node_classification, datasets: [Cora], models: [gcn], seeds: 600000}\n"
     "- {task: node_classification, datasets: [CiteSeer], models: [gcn], seeds: 600000}\n",
     "experiments[1].models[0]", "this model adds up to 600,000 runs (1 grid points x 1 datasets x 1 scenarios x "
     "600,000 seeds, before merging the points that make one run), bringing the suite to 1,200,000"),
    ("experiments: []\n", "name", "expected a suite name"),
    ("name: s\ndescription: [a, b]\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "description", "expected a line of text, got list"),
    ("name: s\nexperiments: []\n", "experiments", "non-empty list"),
    ("name: s\nexperimnts: []\n", "experimnts", "did you mean 'experiments'"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcm]}]\n",
     "experiments[0].models[0]", "unknown model 'gcm'; did you mean 'gcn'?"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcm}]}]\n",
     "experiments[0].models[0].name", "unknown model 'gcm'; did you mean 'gcn'?"),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG], models: [gin]}]\n",
     "experiments[0].models[0]", "model 'gin' does not support task 'graph_classification' (it supports: "
     "node_classification, inductive_node_classification, inductive_node_regression); models for task "
     "'graph_classification': "),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora],"
     " models: [{name: gcn, hparams: {hiden_channels: 8}}]}]\n",
     "experiments[0].models[0].hparams.hiden_channels",
     "unknown hyperparameter 'hiden_channels' for model 'gcn'; did you mean 'hidden_channels'?"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora],"
     " models: [{name: gcn, hparams: {learning_rate: 0.1}}]}]\n", "experiments[0].models[0].hparams.learning_rate",
     "unknown hyperparameter 'learning_rate' for model 'gcn'; did you mean 'lr'?"),  # another library's name for it
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora],"
     " models: [{name: gcn, hparams: {l2: 0.1}}]}]\n", "experiments[0].models[0].hparams.l2",
     "unknown hyperparameter 'l2' for model 'gcn'; did you mean 'weight_decay'?"),  # not 'lr', one letter away
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora],"
     " models: [{name: gcn, hparams: {L2: 0.1}}]}]\n", "experiments[0].models[0].hparams.L2",
     "unknown hyperparameter 'L2' for model 'gcn'; did you mean 'weight_decay'?"),  # in any case
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora],"
     " models: [{name: gcn, hparams: {hidden_channels: [16, wide]}}]}]\n",
     "experiments[0].models[0].hparams.hidden_channels[1]", "expected an integer for 'hidden_channels', got 'wide'"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora],"
     " models: [{name: gcn, hparams: {lr: []}}]}]\n", "experiments[0].models[0].hparams.lr", "empty grid"),
    ("name: s\nexperiments: [{task: {name: node_classification, split: random, train_fraction: [0.5, 0.6]},"
     " datasets: [Cora], models: [gcn]}]\n", "experiments[0].task.train_fraction",
     "got the list [0.5, 0.6]: task options are no grid axis; write one experiment per value"),
    ("name: s\nexperiments: [{task: {name: node_classification, trian_fraction: [0.5]},"
     " datasets: [Cora], models: [gcn]}]\n", "experiments[0].task.trian_fraction",
     "unknown option 'trian_fraction' for task 'node_classification'; did you mean 'train_fraction'?"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora],"
     " models: [{name: gcn, hparams: {lr: .nan}}]}]\n", "experiments[0].models[0].hparams.lr",
     "expected a finite number for 'lr'"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Coraa], models: [gcn]}]\n",
     "experiments[0].datasets[0]", "unknown dataset 'Coraa'; did you mean 'Cora'?"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [PubMed], models: [gcn]}]\n",
     "experiments[0].datasets[0]", "unknown dataset 'PubMed' (datasets for task 'node_classification': "),
    ("name: s\nexperiments: [{task: graph_regression, datasets: [HeteroEdgeCount-3], models: [gin_pool]}]\n",
     "experiments[0].datasets[0]", "HeteroEdgeCount-2, HeteroEdgeCount-4, HeteroEdgeCount-6, HeteroEdgeCount-8, "
     "HeteroEdgeCount-10)"),  # the task's datasets in natural order, as `gnnbench list` shows them
    ("name: s\nexperiments: [{task: node_clasification, datasets: [Cora], models: [gcn]}]\n",
     "experiments[0].task", "did you mean 'node_classification'?"),
    ("name: s\nexperiments: [{task: {name: node_classification, split: randm}, datasets: [Cora], models: [gcn]}]\n",
     "experiments[0].task.split", "expected one of 'public', 'random'"),
    ("name: s\nexperiments: [{task: {name: node_classification, train_fraction: 0.9, val_fraction: 0.2},"
     " datasets: [Cora], models: [gcn]}]\n", "experiments[0].task", "train + val < 1"),
    ("name: s\ndefaults: {seeds: -1}\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "defaults.seeds", "count of seeds"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], epochs: 0}]\n",
     "experiments[0].epochs", "positive integer"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], device: gpu}]\n",
     "experiments[0].device", "cpu, cuda, cuda:N or auto"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], kernel: csv}]\n",
     "experiments[0].kernel", "expected one of scatter"),
    ("name: s\nexperiments: [{task: {name: temporal_link, negative_seed: -1}, datasets: [CollegeMsg], "
     "models: [edgebank]}]\n", "experiments[0].task.negative_seed", "is a seed: expected an integer in [0, "),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG], models: [{name: gin_pool, hparams: "
     "{batch_size: 0}}]}]\n", "experiments[0].models[0].hparams.batch_size", "expected at least 1, got 0"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], kernel: [csr]}]\n",
     "experiments[0].kernel", "expected one of scatter"),  # one backend per experiment, not a grid
    ("name: s\nexperiments: [{task: {name: ogb_graph_classification, split: cv}, datasets: [ogbg-molhiv], "
     "models: [gin_pool]}]\n", "experiments[0].task.split", "unknown option 'split' for task "
     "'ogb_graph_classification' (it takes no options)"),
    ("name: s\nexecutor: threads\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "executor.type", "expected one of local, process"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn, gcn]}]\n",
     "experiments[0].models[1]", "1 run is defined twice: gcn on Cora, seed 0, default, by experiments[0].models[0] "
     "too"),
    ("experiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n", "name", "missing; expected a "
     "suite name"),
    ("name: s\nplugins: [nope_not_a_module]\n"
     "experiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "plugins[0]", "cannot be imported"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], scenario: []}]\n",
     "experiments[0].scenario", "or a non-empty list of them, got an empty list"),
    ("name: s\nexecutor: {type: [a]}\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "executor.type", "expected one of local, process, ray, got list ['a']"),
    ("name: s\nexecutor: {type: null}\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "executor.type", "expected one of local, process, ray, got nothing"),
    ("name: s\ndefaults: {kernel: }\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "defaults.kernel", "expected one of scatter, torch_scatter, csr, auto, got nothing"),
    ("name: s\ndefaults: {kernel: scater}\n"
     "experiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "defaults.kernel", "expected one of scatter, torch_scatter, csr, auto, got 'scater'; did you mean 'scatter'?"),
    # a YAML alias bomb (9^6 items by reference) where a name is expected: refused by its type, with no suggestion,
    # whose str() of the whole value took seconds and gigabytes
    *((f"name: s\n{where}: {{{name}: " + "[&a4 [&a3 [&a2 [&a1 [&a0 [x, x, x, x, x, x, x, x, x], "
       + ", ".join(["*a0"] * 8) + "], " + ", ".join(["*a1"] * 8) + "], " + ", ".join(["*a2"] * 8) + "], "
       + ", ".join(["*a3"] * 8) + "], " + ", ".join(["*a4"] * 8) + "]}\n"
       "experiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n", f"{where}.{name}",
       f"expected one of {choices}, got list [[[...], [...], [...], [...], [...], [...], [...], [...], ...], [[...], ")
      for where, name, choices in (("executor", "type", "local, process, ray"),
                                   ("defaults", "kernel", "scatter, torch_scatter, csr, auto"))),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: {1: 2}}]}]\n",
     "experiments[0].models[0].hparams.1", "expected a hyperparameter name, got int 1"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: []}]}]\n",
     "experiments[0].models[0].hparams", "expected a mapping of hyperparameters, got an empty list"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [{name: gcn, hparams: 0}]}]\n",
     "experiments[0].models[0].hparams", "expected a mapping of hyperparameters, got int 0"),
    # YAML 1.1 reads an exponent without a dot and a sign as text
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora],"
     " models: [{name: gcn, hparams: {lr: 1e-3}}]}]\n",
     "experiments[0].models[0].hparams.lr", "got '1e-3' (YAML reads 1e-3 as text; write 1.0e-3 or 0.001)"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora], models: [gcn], epochs: 1e3}]\n",
     "experiments[0].epochs", "got '1e3' (YAML reads 1e3 as text; write 1000)"),
    ("name: s\nexecutor: {type: ray, num_gpus: 5e-1}\n"
     "experiments: [{task: node_classification, datasets: [Cora], models: [gcn]}]\n",
     "executor.num_gpus", "got '5e-1' (YAML reads 5e-1 as text; write 5.0e-1 or 0.5)"),
    # values only the training protocol used to reject, when a run started
    ("name: s\nexperiments: [{task: {name: graph_classification, split: dataset}, datasets: [MUTAG],"
     " models: [gin_pool]}]\n", "experiments[0].task",
     "split 'dataset' needs a dataset that ships train/val/test graphs; MUTAG ships none (use split: cv)"),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG],"
     " models: [{name: gin_pool, hparams: {optimizer: adma}}]}]\n", "experiments[0].models[0].hparams.optimizer",
     "expected one of adam, adamw, got 'adma'"),
    # a grid's value wrong by itself is named by its index, as a value the suite's own checks refuse is
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG],"
     " models: [{name: gin_pool, hparams: {optimizer: [adam, adma]}}]}]\n",
     "experiments[0].models[0].hparams.optimizer[1]", "expected one of adam, adamw, got 'adma'"),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG],"
     " models: [{name: gin_pool, hparams: {lr_patience: 5, lr_step: 50}}]}]\n",
     "experiments[0].models[0].hparams.lr_step", "lr_patience (5) and lr_step (50) are two schedules: set one"),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG],"
     " models: [{name: sir_gcn, hparams: {lr_step: 50}}]}]\n",  # lr_patience 10 is sir_gcn's own default
     "experiments[0].models[0].hparams.lr_step", "lr_patience (10) and lr_step (50) are two schedules"),
    # options the chosen split never reads: the same runs under new run ids
    ("name: s\nexperiments: [{task: {name: node_classification, train_fraction: 0.5}, datasets: [Cora],"
     " models: [gcn]}]\n", "experiments[0].task.train_fraction",
     "task 'node_classification' does not read 'train_fraction' here: split 'public' uses the dataset's own masks"),
    ("name: s\nexperiments: [{task: {name: graph_regression, split: dataset, folds: 5}, datasets: [Count-ER-triangle],"
     " models: [gin_pool]}]\n", "experiments[0].task.folds",
     "does not read 'folds' here: split 'dataset' uses the dataset's own train/val/test graphs"),
    # combinations a model's constructor rejects (its check_hparams), defaults and off values counted
    ("name: s\nexperiments: [{task: temporal_link, datasets: [PeriodicStream],"
     " models: [{name: todyformer_m1, hparams: {causal: true}}]}]\n", "experiments[0].models[0].hparams.causal",
     "causal masks the global encoder's attention, so it needs global_encoder: true"),
    ("name: s\nexperiments: [{task: temporal_link, datasets: [PeriodicStream],"
     " models: [{name: todyformer, hparams: {global_encoder: false, node2vec_dim: 8}}]}]\n",
     "experiments[0].models[0].hparams.node2vec_dim",
     "node2vec_dim > 0 feeds a positional encoding to the global encoder, so it needs global_encoder: true"),
    ("name: s\nexperiments: [{task: temporal_link, datasets: [PeriodicStream],"
     " models: [{name: todyformer, hparams: {node2vec_dim: 8, node2vec_context_size: [10, 30]}}]}]\n",
     "experiments[0].models[0].hparams.node2vec_context_size",
     "node2vec_context_size (30) must not exceed node2vec_walk_length (20)"),
    ("name: s\nexperiments: [{task: temporal_link, datasets: [PeriodicStream],"
     " models: [{name: todyformer, hparams: {heads: 3}}]}]\n", "experiments[0].models[0].hparams.heads",
     "hidden_channels (64) must be divisible by heads (3)"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora],"
     " models: [{name: dgmlp, hparams: {K: -1}}]}]\n", "experiments[0].models[0].hparams.K",
     "'K' counts propagation steps: expected at least 0, got -1"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora],"
     " models: [{name: dgmlp, hparams: {temperature: 0}}]}]\n", "experiments[0].models[0].hparams.temperature",
     "'temperature' divides or bounds a scale: expected a positive number, got 0"),
    ("name: s\nexperiments: [{task: node_classification, datasets: [Cora],"
     " models: [{name: dgmlp, hparams: {mlp_layers: 0}}]}]\n", "experiments[0].models[0].hparams.mlp_layers",
     "mlp_layers must be >= 1, got 0"),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG],"
     " models: [{name: kpath, hparams: {k: 0}}]}]\n", "experiments[0].models[0].hparams.k",
     "k (the longest path) must be >= 1, got 0"),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG],"
     " models: [{name: kpath, hparams: {max_paths_per_node: 0}}]}]\n",
     "experiments[0].models[0].hparams.max_paths_per_node",
     "max_paths_per_node must be >= 1 (or null: every path), got 0"),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG],"
     " models: [{name: kpath, hparams: {contrast_weight: 0.1, drop_rate: 1.5}}]}]\n",
     "experiments[0].models[0].hparams.drop_rate",
     "drop_rate is a probability: expected a number in [0, 1], got 1.5"),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG],"
     " models: [{name: kpath, hparams: {paths: shortest_only}}]}]\n", "experiments[0].models[0].hparams.paths",
     "expected one of 'all', 'shortest', 'one_shortest'"),
    ("name: s\nexperiments: [{task: graph_classification, datasets: [MUTAG],"
     " models: [{name: sir_gcn, hparams: {readout_layers: 0}}]}]\n", "experiments[0].models[0].hparams.readout_layers",
     "readout_layers must be >= 1, got 0"),
    ("name: s\nexperiments: [{task: sat_solving, datasets: [SAT-3SAT],"
     " models: [{name: neuroback, hparams: {patches: 5}}]}]\n", "experiments[0].models[0].hparams.patches",
     "hidden_channels (48) must be divisible by patches (5)"),
    ("name: s\nexperiments: [{task: sat_solving, datasets: [SAT-3SAT],"
     " models: [{name: neuroback, hparams: {patches: 12}}]}]\n", "experiments[0].models[0]",
     "each patch's 4 channels (hidden_channels / patches) must be divisible by patch_heads (8)"),
    # the same row under another split or budget: its seeds would be averaged with the first's, same or not
    ("name: s\nexperiments:\n  - {task: node_classification, datasets: [Cora], models: [gcn]}\n"
     "  - {task: {name: node_classification, split: random}, datasets: [Cora], models: [gcn], epochs: 50}\n",
     "experiments[1]", "as experiments[0] does, but with epochs 200 vs 50; task_options.split public vs random: the "
     "leaderboard would average the two as one row's seeds. Expected separate suites"),
    # other models on one dataset under another split: one column, ranked together, each on its own split
    ("name: s\nexperiments:\n  - {task: node_classification, datasets: [Cora, CiteSeer], models: [gcn]}\n"
     "  - {task: {name: node_classification, split: random}, datasets: [CiteSeer], models: [mlp]}\n",
     "experiments[1]", "runs mlp on CiteSeer under other task options than experiments[0] runs gcn (task_options.split "
     "public vs random): the leaderboard would rank models scored under different protocols in one column"),
    ("name: s\nexperiments:\n"
     "  - {task: node_classification, datasets: [Cora], models: [gcn], seeds: [0, 1], patience: 10}\n"
     "  - {task: node_classification, datasets: [Cora], models: [gcn], seeds: [2, 3], patience: 5}\n",
     "experiments[1]", "as experiments[0] does, but with patience 10 vs 5"),
    # 0 for a float default is that default: the same run
    ("name: s\nexperiments:\n  - {task: graph_classification, datasets: [MUTAG], models: [gin_pool]}\n"
     "  - {task: graph_classification, datasets: [MUTAG], models: [{name: gin_pool, hparams: {weight_decay: 0}}]}\n",
     "experiments[1].models[0]", "1 run is defined twice: gin_pool on MUTAG, seed 0, default, by "
     "experiments[0].models[0] too"),
])
def test_errors_name_the_file_the_key_and_what_was_expected(write_suite, text, key, message):
    path = write_suite(text)
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    err = info.value
    assert err.file == str(path)
    assert err.key == key
    assert message in err.message
    assert "\n" not in str(err)


def test_a_value_an_error_quotes_is_cut_at_200_characters():
    """Each item and level is elided (reprlib), and what is left still has a bound: a YAML alias bomb's 9^7 items
    gave a 17.5 MB error line."""
    bomb = [1] * 9
    for _ in range(6):
        bomb = [bomb] * 9
    assert len(repr(bomb)) > 10**7
    shown = quoted(bomb)
    assert len(shown) == QUOTED_MAX + 1 and shown.startswith("[[[...], [...], ") and shown.endswith("…")
    assert quoted([["a"]]) == "[['a']]" and quoted(8**6000 - 1) == "an integer of 18000 bits"
    assert quoted(1 - 8**6000) == "a negative integer of 18000 bits"


def test_safe_load_only(write_suite):
    path = write_suite("name: !!python/object/apply:os.system ['echo hacked']\nexperiments: []\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_suite(path)


def test_a_suite_that_is_not_utf8_is_named(write_suite):
    path = write_suite("name: s\n")
    path.write_bytes("name: s\ndescription: caf\xe9\nexperiments: []\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8 text") as info:
        load_suite(path)
    assert info.value.file == str(path)


def test_yaml_merge_keys_share_settings_and_may_be_overridden(write_suite):
    """A merged key may be set again (that is what merging is for); a key written twice is still an error."""
    suite = load_suite(write_suite("""\
        name: s
        experiments:
          - &base {name: a, task: node_classification, datasets: [Cora], models: [gcn], seeds: 2}
          - {<<: *base, name: b, models: [mlp]}
        """))
    assert [(s.model, s.seed) for s in suite.specs] == [("gcn", 0), ("gcn", 1), ("mlp", 0), ("mlp", 1)]
    with pytest.raises(ConfigError, match="duplicate key 'name'"):
        load_suite(write_suite("""\
            name: s
            experiments:
              - &base {name: a, task: node_classification, datasets: [Cora], models: [gcn]}
              - {<<: *base, name: b, name: c}
            """))


@pytest.mark.parametrize("executor, key, expected", [
    ("{type: ray, num_gpus: -1}", "executor.num_gpus", "non-negative number"),
    ("{type: ray, num_cpus: 0}", "executor.num_cpus", "positive number"),
    ("{type: ray, max_retries: 1.5}", "executor.max_retries", "non-negative integer"),
    ("{type: process, address: 'h:1'}", "executor.address", "unknown key 'address'"),
    ("{type: rya}", "executor.type", "did you mean 'ray'"),
    # no worker would run anything; a YAML boolean is no count (bool is an int in Python)
    ("{type: process, workers: 0}", "executor.workers", "expected a positive integer, got 0"),
    ("{type: process, workers: true}", "executor.workers", "expected a positive integer, got True"),
    ("{type: ray, max_retries: false}", "executor.max_retries", "expected a non-negative integer, got False"),
    # an empty key reads as null: no type to name, so what the key takes
    ("", "executor", "expected an executor name (local, process, ray) or a mapping with its type and settings "
                     "({type: ray, address: HOST:PORT}), got nothing"),
    ("[ray]", "executor", "or a mapping with its type and settings ({type: ray, address: HOST:PORT}), got list"),
])
def test_executor_options_are_checked_per_type(write_suite, executor, key, expected):
    path = write_suite(f"name: s\nexecutor: {executor}\nexperiments:\n"
                       "  - {task: node_classification, datasets: [Cora], models: [mlp]}\n")
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    assert info.value.key == key and expected in str(info.value) and info.value.file == str(path)


def test_ray_executor_options_are_kept(write_suite):
    path = write_suite("name: s\nexecutor: {type: ray, address: 'h:1', num_cpus: 2, num_gpus: 0.5}\nexperiments:\n"
                       "  - {task: node_classification, datasets: [Cora], models: [mlp]}\n")
    assert load_suite(path).executor == {"type": "ray", "address": "h:1", "num_cpus": 2, "num_gpus": 0.5}


def test_the_smallest_worker_count_and_retry_count_are_kept(write_suite):
    for executor, kept in (("{type: process, workers: 1}", {"type": "process", "workers": 1}),
                           ("{type: ray, max_retries: 0}", {"type": "ray", "max_retries": 0})):
        path = write_suite(f"name: s\nexecutor: {executor}\nexperiments:\n"
                           "  - {task: node_classification, datasets: [Cora], models: [mlp]}\n")
        assert load_suite(path).executor == kept


@pytest.mark.parametrize("model", ["forwardgnn_sf_link", "forwardgnn_ff_link", "forwardgnn_top2input_link"])
def test_a_one_layer_link_model_refuses_a_width_and_builds_without_checking_it(write_suite, model):
    """At one layer the link models build no hidden layer (the one layer is as wide as the task's embedding): a
    suite's width would be another run id for the same runs, and a GAT width no layer has is not checked."""
    from gnnbench.registry import MODELS

    text = ("name: s\nexperiments: [{task: link_prediction, datasets: [Cora], models: ["
            f"{{name: {model}, hparams: {{backbone: gat, num_layers: 1%s}}}}]}}]\n")
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(text % ", hidden_channels: 130"))
    assert info.value.key == "experiments[0].models[0].hparams.hidden_channels"
    assert "does not read 'hidden_channels' here: num_layers is 1" in info.value.message
    MODELS.get(model).obj(in_channels=10, out_channels=128, backbone="gat", num_layers=1, hidden_channels=130)
