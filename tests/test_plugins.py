"""A one-file model added through ``plugins:`` runs and is ranked beside the built-in models; a faulty one is
a located error."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnnbench import leaderboard, registry
from gnnbench.errors import ConfigError
from gnnbench.harness import driver
from gnnbench.harness.executors import LocalExecutor
from gnnbench.harness.store import RunStore
from gnnbench.harness.suite import load_suite
from gnnbench.registry import DATASETS, MODELS, SCENARIOS, register_dataset, register_model, register_scenario


def test_the_documented_plugin_is_ranked_beside_builtin_models(documented, write_suite, tmp_path):
    code = documented("adding_a_model.md", "my_models.py")
    (tmp_path / "my_models.py").write_text(code)
    suite = load_suite(write_suite("""\
        name: plugged
        plugins: [my_models.py]
        defaults: {seeds: 2, epochs: 15}
        experiments:
          - task: node_classification
            datasets: [Cora]
            models: [mlp, gcn_residual]
        """))
    store = RunStore(tmp_path / "results")
    summary = driver.run(suite, store, LocalExecutor())
    assert (summary.ok, summary.failed) == (4, 0)
    board = leaderboard.build(store.directory).board.set_index("model")
    assert set(board.index) == {"mlp", "gcn_residual"}
    assert sorted(board["rank"]) == [1, 2] and board.loc["gcn_residual", "n"] == 2
    assert board.loc["gcn_residual", "mean"] > board.loc["mlp", "mean"]  # the graph helps on Cora


def test_the_documented_model_with_its_own_fit_trains_through_train_epochs(documented, write_suite, tmp_path):
    code = documented("adding_a_model.md", "my_fit.py")
    (tmp_path / "my_fit.py").write_text(code)
    suite = load_suite(write_suite("""\
        name: own_fit
        plugins: [my_fit.py]
        defaults: {seeds: 1, epochs: 20}
        experiments:
          - task: node_classification
            datasets: [Cora]
            models: [{name: label_smoothed_gcn, hparams: {smoothing: [0.0, 0.2]}}]
        """))
    store = RunStore(tmp_path / "results")
    assert (driver.run(suite, store, LocalExecutor()).ok, len(suite.specs)) == (2, 2)
    records = {r["spec"]["hparams"]["smoothing"]: r for r in store.records()}
    assert all(len(r["history"]["train_loss"]) == 20 and "val_accuracy" in r["history"] for r in records.values())
    assert all(r["metrics"]["test"]["accuracy"] > 0.5 for r in records.values())  # 20 epochs of a GCN on Cora
    # the model's own loss ran: label smoothing puts a floor under the cross-entropy the task's loop would not
    assert records[0.2]["history"]["train_loss"][-1] > records[0.0]["history"]["train_loss"][-1]  # equal without


def test_the_documented_dataset_plugin_loads_dyglib_files_into_a_suite(documented, write_suite, tmp_path, monkeypatch):
    """docs/adding_a_dataset.md's Wikipedia loader, on a small ml_wikipedia.csv/.npy: EdgeBank ranks on it, its
    edge features reach the stream, and a missing file stops the suite before any run, at the dataset's key, naming
    the dataset and the loader's file, as any other failure of a plugin loader is."""
    (tmp_path / "my_datasets.py").write_text(documented("adding_a_dataset.md", "my_datasets.py"))
    data = tmp_path / "data"
    data.mkdir()
    events = 400  # 40 pairs, each recurring every 40 events: EdgeBank, which remembers them, beats chance
    pd.DataFrame({"u": np.arange(events) % 40, "i": 100 + np.arange(events) % 40, "ts": np.arange(events, dtype=float),
                  "label": 0, "idx": np.arange(1, events + 1)}).to_csv(data / "ml_wikipedia.csv")
    np.save(data / "ml_wikipedia.npy", np.random.default_rng(0).normal(size=(events + 1, 3)))  # row 0: padding
    monkeypatch.setenv("MY_DATA", str(data))
    suite = load_suite(write_suite("""\
        name: wikipedia
        plugins: [my_datasets.py]
        defaults: {seeds: 1}
        experiments:
          - {task: temporal_link, datasets: [Wikipedia], models: [edgebank]}
        """))
    assert DATASETS.get("Wikipedia").obj().msg.shape == (events, 3)
    store = RunStore(tmp_path / "results")
    assert driver.run(suite, store, LocalExecutor()).ok == 1
    board = leaderboard.build(store.directory).board
    assert board.loc[0, "dataset"] == "Wikipedia" and board.loc[0, "mean"] > 0.6
    monkeypatch.setenv("MY_DATA", str(tmp_path / "elsewhere"))
    with pytest.raises(ConfigError) as info:  # the registered name and the loader, not load_dyglib's argument
        driver.preflight(suite, suite.specs, None)
    assert info.value.key == "experiments[0].datasets[0]"
    assert info.value.message == (f"dataset 'Wikipedia' ({tmp_path / 'my_datasets.py'}:wikipedia) could not load: "
                                  f"file {tmp_path / 'elsewhere' / 'ml_wikipedia.csv'} is missing (TGN/DyGLib format "
                                  "ml_<name>.csv)")


MASKLESS = """\
import torch
from torch_geometric.data import Data
from gnnbench import register_dataset

@register_dataset("Maskless", tasks=("node_classification",))
def maskless(data_root=None):
    g = torch.Generator().manual_seed(0)
    return Data(x=torch.randn(60, 4, generator=g), edge_index=torch.randint(60, (2, 200), generator=g),
                y=torch.arange(60) % 3)
"""


def test_a_node_dataset_without_masks_is_refused_for_the_public_split_before_any_run(write_suite, tmp_path,
                                                                                       monkeypatch):
    """Its runs would each fail at ``data.test_mask``; the suite stops at the dataset instead, saying what to
    use, and the random split runs."""
    monkeypatch.setattr(DATASETS, "_entries", dict(DATASETS._entries))
    (tmp_path / "toy.py").write_text(MASKLESS)
    text = """\
        name: toy
        plugins: [toy.py]
        defaults: {{seeds: 1, epochs: 3}}
        experiments:
          - {{task: {task}, datasets: [Cora, Maskless], models: [mlp]}}
        """
    public = load_suite(write_suite(text.format(task="node_classification")))
    with pytest.raises(ConfigError) as info:
        driver.preflight(public, public.specs, None)
    assert info.value.key == "experiments[0].datasets[1]"
    # the dataset's first use, on a random split (with a scenario: a column of its own, as a split must be)
    second = load_suite(write_suite(text.replace("experiments:\n", "experiments:\n          - {{name: first, task: "
                                                 "{{name: node_classification, split: random}}, datasets: "
                                                 "[Maskless], models: [gcn], scenario: label_noise}}\n"
                                                 ).format(task="node_classification"), "second.yaml"))
    with pytest.raises(ConfigError) as info:  # at the experiment whose split needs masks, not the dataset's first use
        driver.preflight(second, second.specs, None)
    assert info.value.key == "experiments[1].datasets[1]"
    assert info.value.message == (f"task 'node_classification' cannot run on dataset 'Maskless' ({tmp_path / 'toy.py'}"
                                  ":maskless): split 'public' uses "
                                  "the dataset's own masks, and this dataset has no train_mask, val_mask, test_mask "
                                  "(a boolean tensor of one entry per node, 60 here); use split: random")
    random = load_suite(write_suite(text.format(task="{name: node_classification, split: random}")))
    assert driver.run(random, RunStore(tmp_path / "results"), LocalExecutor()).ok == 2


PLUGIN = """\
from torch import nn
from gnnbench import register_model

@register_model({name!r}, tasks=("node_classification",), {registration})
class Mine(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64):
        super().__init__()
"""
SUITE = """\
name: s
plugins: [mine.py]
experiments: [{task: node_classification, datasets: [Cora], models: [%s]}]
"""


@pytest.mark.parametrize(("registration", "message"), [
    ("defaults={'learning_rate': 0.01}", "has defaults that task 'node_classification' cannot take: unknown "
                                         "hyperparameter 'learning_rate' for model 'checked'"),
    ("defaults={'hidden_channels': '64'}", "has defaults that task 'node_classification' cannot take: expected an "
                                           "integer for 'hidden_channels', got '64'"),
    ("dataset_defaults={'Cora': {'lr': 'fast'}}", "has dataset_defaults['Cora'] that task 'node_classification' "
                                                   "cannot take: expected a finite number for 'lr', got 'fast'"),
    ("dataset_defaults={'cora': {'lr': 0.1}}", "has dataset_defaults['cora'], which names no registered dataset, so "
                                               "this suite's runs would not take them; did you mean 'Cora'?"),
])
def test_a_plugin_entry_with_bad_defaults_is_rejected_where_the_suite_uses_it(write_suite, tmp_path, monkeypatch,
                                                                              registration, message):
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(PLUGIN.format(name="checked", registration=registration))
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE % "checked"))
    assert info.value.key == "experiments[0].models[0]"  # where the suite names it
    assert info.value.message.startswith(f"the registry entry of model 'checked' ({tmp_path / 'mine.py'}:Mine)")
    assert message in info.value.message


ADDED = """\
from torch import nn
from gnnbench import register_model
from gnnbench.hparams import HparamError

@register_model("grown", tasks=("node_classification",))
class Grown(nn.Module):
    added_hparams = ("residual",)  # added after results existed: at its off value, no run's hparams hold it

    @staticmethod
    def check_hparams(hparams, device="cpu"):
        if hparams["residual"] and hparams["hidden_channels"] < 8:
            raise HparamError("residual", "a residual needs hidden_channels >= 8")

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64, residual: bool = False):
        super().__init__()
"""


def test_a_model_s_own_rules_see_its_added_hyperparameters_at_their_off_value(write_suite, tmp_path, monkeypatch):
    """A run's hyperparameters leave an added one out while it is off; the model's check_hparams reads every
    constructor argument, so the suite hands it that off value rather than a KeyError."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(ADDED)
    (spec,) = load_suite(write_suite(SUITE % "{name: grown, hparams: {hidden_channels: 4}}")).specs
    assert "residual" not in spec.hparams
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE % "{name: grown, hparams: {hidden_channels: 4, residual: true}}", "on.yaml"))
    assert info.value.key == "experiments[0].models[0].hparams.residual"


@pytest.mark.parametrize("hook", ["check_hparams", "unread_hparams"])
def test_a_plain_value_error_of_a_model_s_check_is_reported_at_the_model_not_the_task(write_suite, tmp_path,
                                                                                       monkeypatch, hook):
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(ADDED.replace('raise HparamError("residual", "a residual',
                                                    'raise ValueError("a residual').replace("check_hparams", hook))
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE % "{name: grown, hparams: {hidden_channels: 4, residual: true}}"))
    assert info.value.key == "experiments[0].models[0]"
    assert info.value.message.startswith("model 'grown' with hidden_channels=4,residual=True cannot run on dataset")
    assert info.value.message.endswith(": a residual needs hidden_channels >= 8")


def test_a_hyperparameter_without_a_default_is_named_in_every_configuration_label(write_suite, tmp_path,
                                                                                 monkeypatch):
    """A constructor that requires hidden_channels has no default to leave out of the label: each point of the
    grid must be named by its value, or every point reads ``default``: one leaderboard row for several settings,
    which the suite refuses."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(PLUGIN.replace("hidden_channels: int = 64", "hidden_channels: int")
                                      .format(name="required", registration=""))
    specs = load_suite(write_suite(SUITE % "{name: required, hparams: {hidden_channels: [8, 16]}}")).specs
    assert {s.config for s in specs} == {"hidden_channels=8", "hidden_channels=16"}


@pytest.mark.parametrize(("model", "key", "message"), [
    ("required", "experiments[0].models[0]", "hparams: hidden_channels is required"),
    ("{name: required, hparams: {lr: 0.1}}", "experiments[0].models[0].hparams", "hidden_channels is required"),
])
def test_a_hyperparameter_without_a_default_left_unset_is_reported_where_the_file_would_set_it(
        write_suite, tmp_path, monkeypatch, model, key, message):
    """Not at ``hparams.hidden_channels``, a key the file does not hold."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(PLUGIN.replace("hidden_channels: int = 64", "hidden_channels: int")
                                      .format(name="required", registration=""))
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE % model))
    assert (info.value.key, info.value.message) == (
        key, f"{message} (the constructor of model 'required' has no default for it)")


def test_a_flat_list_for_a_list_hyperparameter_is_told_it_is_a_grid(write_suite, tmp_path, monkeypatch):
    """``dims: [64, 32]`` sweeps 64 and 32; the error for 64 must not read as a contradiction ("expected a list,
    got 64") without saying how to give one list."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(PLUGIN.replace("hidden_channels: int = 64", "dims: tuple[int, ...] = (64,)")
                                      .format(name="listed", registration=""))
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE % "{name: listed, hparams: {dims: [64, 32]}}"))
    assert info.value.key == "experiments[0].models[0].hparams.dims[0]"
    assert info.value.message == ("expected a list (each item an integer) for 'dims', got 64; a list under hparams is "
                                  "a grid axis, one run per item: write [[64, 32]] for this one list value")
    (spec,) = load_suite(write_suite(SUITE % "{name: listed, hparams: {dims: [[64, 32]]}}")).specs
    assert spec.hparams["dims"] == [64, 32]


@pytest.mark.parametrize(("code", "cause"), [
    ("def f(:\n", "SyntaxError: invalid syntax (mine.py, line 1)"),
    ("import no_such_module_xyz\n", "ModuleNotFoundError: No module named 'no_such_module_xyz' (at {path}:1)"),
    ("x = 1\ny = undefined_name\n", "NameError: name 'undefined_name' is not defined (at {path}:2)"),
    ("import sys\nsys.exit(3)\n", "it called sys.exit(3) while being imported (code meant to run as a script "
                                  "belongs under `if __name__ == '__main__':`)"),
])
def test_a_plugin_that_fails_to_import_is_one_located_error(write_suite, tmp_path, code, cause):
    (tmp_path / "mine.py").write_text(code)
    cause = cause.format(path=tmp_path / "mine.py")
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE % "gcn"))
    assert info.value.key == "plugins[0]"
    assert info.value.message == f"plugin file {tmp_path / 'mine.py'} cannot be imported: {cause}"
    with pytest.raises(ConfigError) as info:  # one plugin may be written without the list, as one dataset may
        load_suite(write_suite((SUITE % "gcn").replace("plugins: [mine.py]", "plugins: mine.py")))
    assert info.value.key == "plugins"  # imported (and failing) as the list's one plugin, not refused as a string
    assert info.value.message == f"plugin file {tmp_path / 'mine.py'} cannot be imported: {cause}"


def test_a_plugin_file_imports_the_modules_beside_it_and_an_error_in_one_is_located_there(write_suite, tmp_path):
    """As a script run from its folder can: the suite's plugin file keeps its helpers in a module beside it,
    whatever folder gnnbench is started from; a helper that fails names its own line, not the plugin's."""
    (tmp_path / "my_layers_abc.py").write_text("WIDTH = 8\n")
    (tmp_path / "mine.py").write_text("from my_layers_abc import WIDTH\n" + PLUGIN.format(name="beside",
                                                                                       registration=""))
    path = write_suite(SUITE % "beside")
    code = "import sys\nfrom gnnbench.harness.suite import load_suite\nprint(load_suite(sys.argv[1]).specs[0].model)\n"
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         cwd=Path(sys.executable).parent)
    assert out.stdout.strip() == "beside"
    (tmp_path / "my_layers_abc.py").write_text("WIDTH = 8\nDEPTH = missing_name\n")
    code = code.replace("print(load_suite(sys.argv[1]).specs[0].model)", "load_suite(sys.argv[1])")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         cwd=Path(sys.executable).parent)
    assert f"NameError: name 'missing_name' is not defined (at {tmp_path / 'my_layers_abc.py'}:2)" in out.stderr


def test_a_plugin_reusing_a_builtin_name_is_blamed_at_its_own_key(write_suite, tmp_path):
    """In a fresh process, as from the command line: the plugin is imported before any model is looked up."""
    (tmp_path / "mine.py").write_text(PLUGIN.format(name="gcn", registration=""))
    path = write_suite(SUITE % "gcn")
    code = ("import sys\nfrom gnnbench.harness.suite import load_suite\n"
            "try:\n    load_suite(sys.argv[1])\nexcept Exception as exc:\n    print(exc.key, exc.message, sep='|')\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    key, message = out.stdout.strip().split("|")
    assert key == "plugins[0]"
    assert message == ("model 'gcn' is already registered by gnnbench.models.baselines.GCN; cannot register it "
                       f"again from {tmp_path / 'mine.py'}:Mine")  # the file, not the module name it gets


def test_a_plugin_that_registered_nothing_is_named_where_a_name_is_unknown(write_suite, tmp_path, monkeypatch,
                                                                           capsys):
    """A class without its @register_model: the suite called the name unknown, suggesting built-in models, and
    ``gnnbench list --plugin`` listed the built-ins without a word."""
    from gnnbench.cli import main

    (tmp_path / "mine.py").write_text(re.sub(r"@register_model\(.*\)\n", "", PLUGIN.format(name="", registration="")))
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE % "my_resgcn"))
    assert info.value.key == "experiments[0].models[0]"
    assert info.value.message.startswith("unknown model 'my_resgcn'")
    assert info.value.message.endswith("(plugins[0] mine.py registered nothing: is @register_model missing?)")
    (tmp_path / "nodeco.py").write_text((tmp_path / "mine.py").read_text())
    monkeypatch.chdir(tmp_path)
    assert main(["list", "datasets", "--plugin", "nodeco.py"]) == 0
    assert ("gnnbench: warning: --plugin nodeco.py registered nothing: is @register_dataset missing?\n"
            in capsys.readouterr().err)


def test_a_misspelt_task_in_a_registration_is_named_where_the_suite_uses_the_model(write_suite, tmp_path,
                                                                                   monkeypatch):
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(PLUGIN.format(name="typo", registration="").replace(
        '"node_classification"', '"node_clasification"'))
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE % "typo"))
    assert info.value.message == ("model 'typo' does not support task 'node_classification' (it supports: "
                                  f"node_clasification); its tasks=... (in {tmp_path / 'mine.py'}:Mine) names "
                                  "'node_clasification', which is no task; did you mean 'node_classification'?")


def test_a_model_that_is_no_module_is_refused_where_the_suite_names_it(write_suite, tmp_path, monkeypatch):
    """Registering it cannot tell (a search task's models are search algorithms, and a plugin task may be
    registered after the model); each of its runs would fail at ``model.to(device)``."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(PLUGIN.format(name="plain", registration="").replace("class Mine(nn.Module):",
                                                                                          "class Mine:"))
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE % "plain"))
    assert info.value.key == "experiments[0].models[0]"
    assert info.value.message == (f"model 'plain' ({tmp_path / 'mine.py'}:Mine) is not a subclass of "
                                  "torch.nn.Module; expected one: task 'node_classification' builds "
                                  "and trains its models as such")


@pytest.mark.parametrize("arguments", ["num_features: int, num_classes: int", "hidden_channels: int = 64"])
def test_a_constructor_without_in_and_out_channels_is_told_their_names(write_suite, tmp_path, monkeypatch,
                                                                       arguments):
    """Refused where the suite names the model, also when every argument it does take has a default (the
    suite resolves, and each run would fail building it)."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(PLUGIN.format(name="sizes", registration="").replace(
        "in_channels: int, out_channels: int, hidden_channels: int = 64", arguments))
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE % "sizes"))
    assert info.value.key == "experiments[0].models[0]"
    assert info.value.message == (f"model 'sizes' ({tmp_path / 'mine.py'}:Mine) takes no 'in_channels'; task "
                                  "'node_classification' builds its models with in_channels, out_channels (filled "
                                  "in from the data)")


FORWARD = """\
from torch import nn
from gnnbench import register_model

@register_model("appnp", tasks=({task!r},))
class APPNPNet(nn.Module):
    {attribute}
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()

    def forward(self, {arguments}):
        pass
"""


@pytest.mark.parametrize(("task", "dataset", "arguments", "call"), [
    ("graph_classification", "MUTAG", "x, edge_index", "(x, edge_index, batch)"),  # a node model: no pooling
    ("graph_classification", "MUTAG", "x, edge_index, *, batch", "(x, edge_index, batch)"),  # called positionally
    ("sat_solving", "SAT-3SAT", "x, edge_index", "(x, edge_index, edge_attr)"),
    ("node_classification", "Cora", "x", "(x, edge_index)"),
])
def test_a_forward_that_cannot_take_the_task_s_call_is_refused_where_the_suite_names_the_model(
        write_suite, tmp_path, monkeypatch, task, dataset, arguments, call):
    """Not by a TypeError inside each of its runs, after ``--dry-run`` counted them as runs to do."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(FORWARD.format(task=task, attribute="", arguments=arguments))
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(f"name: s\nplugins: [mine.py]\nexperiments: [{{task: {task}, datasets: [{dataset}], "
                               "models: [appnp]}]\n"))
    assert info.value.key == "experiments[0].models[0]"
    assert info.value.message == (f"model 'appnp' ({tmp_path / 'mine.py'}:APPNPNet) has a forward that cannot take "
                                  f"{call}: task '{task}' calls model{call}")


@pytest.mark.parametrize(("task", "attribute", "arguments"), [
    ("graph_classification", "", "x, edge_index, batch=None"),
    ("graph_classification", "", "x, *args"),
    ("graph_classification", "", "*args, **kwargs"),
    ("graph_classification", "takes_batch = True", "batch"),  # called model(batch) with the whole mini-batch
    ("inductive_node_classification", "", "x, edge_index"),
    ("sat_solving", "", "x, edge_index, edge_attr=None, batch=None"),
    ("link_prediction", "def score_pairs(self, x, edge_index, pairs): pass", "x, edge_index, pairs"),  # unused
])
def test_a_forward_that_can_take_the_task_s_call_is_not_refused(tmp_path, monkeypatch, task, attribute, arguments):
    """Binding the call accounts for defaults and ``*args``; a ``forward`` the task does not call is not checked."""
    from gnnbench.registry import TASKS, load_plugin
    from gnnbench.tasks.base import call_problem

    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(FORWARD.format(task=task, attribute=attribute, arguments=arguments))
    load_plugin(str(tmp_path / "mine.py"))
    assert call_problem(TASKS.get(task).obj, MODELS.get("appnp").obj) is None


METHODS = """\
from torch import nn
from gnnbench import register_model
from gnnbench.tasks.temporal_link import TemporalLinkModel

@register_model("mine", tasks=({task!r},))
class Mine({base}):
    def __init__(self, in_channels: int, out_channels: int, num_nodes: int = 0):
        super().__init__()

{methods}
"""
LINK_LOGITS = "    def link_logits(self, history, src, dst, t): pass\n"


@pytest.mark.parametrize(("task", "dataset", "base", "methods", "problem"), [
    ("link_prediction", "Cora", "nn.Module", "    def score_pairs(self, x, edge_index): pass\n",
     "has a score_pairs that cannot take (x, edge_index, pairs): task 'link_prediction' calls "
     "model.score_pairs(x, edge_index, pairs)"),
    ("temporal_link", "PeriodicStream", "TemporalLinkModel", "    def link_logits(self, history, src, dst): pass\n",
     "has a link_logits that cannot take (history, src, dst, t): task 'temporal_link' calls "
     "model.link_logits(history, src, dst, t)"),
    ("temporal_link", "PeriodicStream", "TemporalLinkModel", LINK_LOGITS + "    def observe(self): pass\n",
     "has an observe that cannot take (batch): task 'temporal_link' calls model.observe(batch)"),
])
def test_a_model_whose_method_cannot_take_its_task_s_call_is_refused_where_the_suite_names_it(
        write_suite, tmp_path, monkeypatch, task, dataset, base, methods, problem):
    """The link task's ``score_pairs`` and the temporal task's methods, as a ``forward``: not a TypeError inside
    each run."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(METHODS.format(task=task, base=base, methods=methods))
    suite = write_suite(f"name: s\nplugins: [mine.py]\nexperiments: [{{task: {task}, datasets: [{dataset}], "
                        "models: [mine]}]\n")
    with pytest.raises(ConfigError) as info:
        load_suite(suite)
    assert (info.value.file, info.value.key) == (str(suite), "experiments[0].models[0]")
    assert info.value.message == f"model 'mine' ({tmp_path / 'mine.py'}:Mine) {problem}"


@pytest.mark.parametrize(("task", "base", "methods", "init", "built"), [
    ("temporal_link", "TemporalLinkModel", "", "", ("link_logits", "has no link_logits: task 'temporal_link' calls "
                                                    "model.link_logits(history, src, dst, t)")),  # the base's, abstract
    ("temporal_link", "TemporalLinkModel", "", "self.link_logits = lambda history, src, dst, t: None", None),
    ("temporal_link", "nn.Module", LINK_LOGITS + "    def observe(self, batch): pass\n", "",
     ("reset_state", "has no reset_state: task 'temporal_link' calls model.reset_state()")),  # none to inherit
    ("temporal_link", "nn.Module", LINK_LOGITS + "    def observe(self, batch): pass\n    def fit(self, *args): pass\n",
     "", None),  # its own fit trains it: the task's, which calls reset_state, does not run
    ("link_prediction", "nn.Module", "", "self.score_pairs = lambda x, edge_index, pairs: None", None),
    ("link_prediction", "nn.Module", "", "self.score_pairs = lambda x, edge_index: None",
     ("score_pairs", "has a score_pairs that cannot take (x, edge_index, pairs): task 'link_prediction' calls "
                     "model.score_pairs(x, edge_index, pairs)")),  # the callable set is the one checked
    ("link_prediction", "nn.Module", "    def forward(self, x, edge_index, pairs): pass\n",
     "self.score_pairs = self.forward", None),  # its forward, which scores pairs, is called as its score_pairs
    ("link_prediction", "nn.Module", "    def forward(self, x, edge_index, pairs): pass\n", "",
     ("forward", "has a forward that cannot take (x, edge_index): task 'link_prediction' calls "
                 "model(x, edge_index)")),  # no score_pairs once built: its forward is called
])
def test_a_method_the_class_lacks_is_not_refused_at_load_but_checked_on_the_built_model(
        tmp_path, monkeypatch, task, base, methods, init, built):
    """A suite's load sees the class: a method its ``__init__`` sets (``self.score_pairs = self.decoder.score``) is
    not known there, so one the class lacks is not refused on a guess; ``fit_model`` checks what the built model
    has, as the run calls it."""
    from gnnbench.registry import TASKS, load_plugin
    from gnnbench.tasks.base import call_problem

    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    code = METHODS.format(task=task, base=base, methods=methods)
    (tmp_path / "mine.py").write_text(code.replace("super().__init__()", f"super().__init__()\n        {init}"))
    load_plugin(str(tmp_path / "mine.py"))
    task_cls, model = TASKS.get(task).obj, MODELS.get("mine").obj
    assert call_problem(task_cls, model) is None
    assert call_problem(task_cls, model(1, 2)) == built


@pytest.mark.parametrize(("attribute", "init", "arguments", "on_class", "built"), [
    ("", "self.takes_batch = True", "batch", None, None),  # known once built: called model(batch)
    ("takes_batch = property(lambda self: False)", "", "x, edge_index, batch", None, None),  # a property is no flag
    ("", "self.takes_batch = False", "x", None, "(x, edge_index, batch)"),  # model(batch) may be its call until built
    ("", "self.takes_batch = True", "x, edge_index", "(x, edge_index, batch)", "(batch)"),  # it takes neither call
])
def test_a_takes_batch_the_class_does_not_set_refuses_at_load_only_a_forward_taking_neither_call(
        tmp_path, monkeypatch, attribute, init, arguments, on_class, built):
    """At suite load the graph task sees the class: a ``takes_batch`` set in ``__init__`` or computed by a property
    is not known there, so a ``forward`` that takes ``model(batch)`` is not refused on a guess; ``fit_model``
    checks the built model (``call_problem`` on the instance)."""
    from gnnbench.registry import TASKS, load_plugin
    from gnnbench.tasks.base import call_problem

    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    code = FORWARD.format(task="graph_classification", attribute=attribute, arguments=arguments)
    (tmp_path / "mine.py").write_text(code.replace("super().__init__()", f"super().__init__()\n        {init}"))
    load_plugin(str(tmp_path / "mine.py"))
    task, model = TASKS.get("graph_classification").obj, MODELS.get("appnp").obj
    for problem, expected in ((call_problem(task, model), on_class), (call_problem(task, model(1, 2)), built)):
        assert problem == (expected and ("forward", f"has a forward that cannot take {expected}: task "
                                                    f"'graph_classification' calls model{expected}"))


def test_runs_of_an_edited_plugin_model_are_named_and_pruned_for_a_rerun(documented, write_suite, tmp_path, capsys,
                                                                          monkeypatch):
    """The run id hashes the spec, not the plugin's code: the record's sources say which file ran."""
    from gnnbench.cli import main

    monkeypatch.setattr(MODELS, "_entries", {k: v for k, v in MODELS._entries.items() if k != "gcn_residual"})

    code = documented("adding_a_model.md", "my_models.py")
    plugin = tmp_path / "my_models.py"
    plugin.write_text(code)
    path = write_suite("""\
        name: edited
        plugins: [my_models.py]
        defaults: {epochs: 2}
        experiments: [{task: node_classification, datasets: [Cora], models: [mlp, gcn_residual]}]
        """)
    store = RunStore(tmp_path / "results" / "edited")
    assert driver.run(load_suite(path), store, LocalExecutor()).ok == 2
    sources = {r["spec"]["model"]: r.get("sources", {}).get("model") for r in store.latest().values()}
    assert sources["mlp"] is None and sources["gcn_residual"]["file"] == str(plugin)  # gnnbench's: git_commit
    assert driver.plan(load_suite(path), store).changed == {}
    plugin.write_text(code + "\n# a fix\n")
    plan = driver.plan(load_suite(path), store)
    assert [r["spec"]["model"] for r in plan.changed.values()] == ["gcn_residual"] and plan.done == 2
    assert main(["run", str(path), "--results", str(tmp_path / "results"), "--dry-run", "-q"]) == 0
    assert f"1 run (gcn_residual on Cora: 1) recorded in {store.path} was made with another version of {plugin}" in (
        capsys.readouterr().err)
    assert main(["prune", str(path), "--results", str(tmp_path / "results")]) == 0
    assert "set aside 1 run (gcn_residual on Cora: 1)" in capsys.readouterr().out
    assert [s.model for s in driver.plan(load_suite(path), store).todo] == ["gcn_residual"]
    assert "**Incomplete: 1 of the 2 runs of suite edited" in (store.directory / "leaderboard.md").read_text()


def test_a_plugin_switched_between_two_versions_takes_each_version_s_runs_back_running_nothing(
        documented, write_suite, tmp_path, monkeypatch):
    """Pruned under each version in turn, a run has a record of each in stale.jsonl: every switch back takes
    that version's record back (and only it: the other stays aside for its own return), not a rerun."""
    monkeypatch.setattr(MODELS, "_entries", {k: v for k, v in MODELS._entries.items() if k != "gcn_residual"})
    code = {1: documented("adding_a_model.md", "my_models.py")}
    code[2] = code[1] + "\n# version 2\n"
    plugin = tmp_path / "my_models.py"
    path = write_suite("""\
        name: switched
        plugins: [my_models.py]
        defaults: {epochs: 1, seeds: [0]}
        experiments: [{task: node_classification, datasets: [Cora], models: [gcn_residual]}]
        """)
    store = RunStore(tmp_path / "results" / "switched")
    made, ran = {}, []
    for version in (1, 2, 1, 2):
        plugin.write_text(code[version])
        suite = load_suite(path)
        store.set_aside(driver.changed_code(suite, store.latest(), driver.DataDigests(None)))  # as prune does
        ran.append(driver.run(suite, store, LocalExecutor()).ok)
        [record] = store.latest().values()
        assert record == made.setdefault(version, record)  # the record this version's one run made, taken back
    assert ran == [1, 1, 0, 0]
    assert len(store.records()) == 1 and len(store.records("stale.jsonl")) == 1


FILED = """\
from pathlib import Path
import numpy as np
import torch
from torch_geometric.data import Data
from gnnbench import register_dataset

@register_dataset("Filed", tasks=("node_classification",))
def filed(data_root=None):
    arrays = np.load(Path(data_root) / "graph.npz")
    return Data(x=torch.from_numpy(arrays["x"]).float(), edge_index=torch.from_numpy(arrays["edges"]).long(),
                y=torch.from_numpy(arrays["y"]).long())
"""


def test_runs_of_a_plugin_dataset_whose_data_changed_are_named_and_pruned(write_suite, tmp_path, capsys,
                                                                            monkeypatch):
    """The loader's file is unchanged, the file it reads is rebuilt: the records of the old data are not runs of
    the new, though their run ids are the same."""
    from gnnbench.cli import main
    from gnnbench.data.digest import data_sha256
    from gnnbench.leaderboard.aggregate import leaderboard_frame, runs_frame

    monkeypatch.setattr(DATASETS, "_entries", dict(DATASETS._entries))
    (tmp_path / "filed.py").write_text(FILED)
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)

    def write_graph() -> None:
        np.savez(data / "graph.npz", x=rng.standard_normal((60, 4)), edges=rng.integers(0, 60, (2, 200)),
                 y=np.arange(60) % 3)

    write_graph()
    path = write_suite("""\
        name: filed
        plugins: [filed.py]
        defaults: {seeds: 2, epochs: 2}
        experiments: [{task: {name: node_classification, split: random}, datasets: [Filed], models: [mlp]}]
        """)
    store = RunStore(tmp_path / "results" / "filed")
    assert driver.run(load_suite(path), store, LocalExecutor(), data_root=str(data)).ok == 2
    loaded = data_sha256(DATASETS.get("Filed").obj(str(data)))
    assert {r["sources"]["dataset"]["data_sha256"] for r in store.latest().values()} == {loaded}
    assert driver.plan(load_suite(path), store, data_root=str(data)).changed == {}

    write_graph()  # other data, the same loader
    plan = driver.plan(load_suite(path), store, data_root=str(data))
    assert len(plan.changed) == 2 and list(plan.edited.values()) == [["the data of dataset 'Filed'"]] * 2
    digests = []  # per seed in a command, a load and one more confirming the change: not again for its note
    monkeypatch.setattr(driver, "data_sha256_or_none", lambda data: digests.append(1) or data_sha256(data))
    assert main(["run", str(path), "--results", str(tmp_path / "results"), "--data-root", str(data), "--dry-run"]) == 0
    note = capsys.readouterr().err
    assert "made with another version of the data of dataset 'Filed'" in note and len(digests) == 4
    assert f"--data-root {data}` sets them aside" in note  # the prune it suggests can load the data too
    seeded = [dict(r) for r in store.latest().values()]  # each seed its own data, as a loader seeded per run gives
    seeded[0]["sources"] = {"dataset": {**seeded[0]["sources"]["dataset"], "data_sha256": "0" * 64}}
    with warnings.catch_warnings():  # no mixture: run and prune tell changed data, loading it seed by seed
        warnings.simplefilter("error")
        leaderboard_frame(runs_frame(seeded))
    argv = ["--results", str(tmp_path / "results"), "--data-root", str(data)]
    assert main(["prune", str(path), *argv]) == 0
    assert "set aside 2 runs (mlp on Filed: 2): made with another version of the data of dataset 'Filed'" in (
        capsys.readouterr().out)
    assert len(driver.plan(load_suite(path), store, data_root=str(data)).todo) == 2


def maskless_variant(write_suite, tmp_path, name: str, draw: str, epochs: int = 2):
    """A suite of two seeds of the MLP on MASKLESS registered as ``name``, its generator line replaced by
    ``draw`` (how the loader draws its random graph)."""
    (tmp_path / f"{name.lower()}.py").write_text(MASKLESS.replace('"Maskless"', f'"{name}"').replace(
        "    g = torch.Generator().manual_seed(0)\n", draw))
    return load_suite(write_suite(f"""\
        name: {name.lower()}
        plugins: [{name.lower()}.py]
        defaults: {{seeds: 2, epochs: {epochs}}}
        experiments: [{{task: {{name: node_classification, split: random, split_seed: 0}}, datasets: [{name}],
                       models: [mlp]}}]
        """))


def test_a_loader_drawing_from_the_global_generators_or_failing_now_is_no_data_change(write_suite, tmp_path,
                                                                                      monkeypatch):
    """Its graph depends on the run's seed, so the driver loads it seeded as each record's run was: the same
    code and seed give the same data, not a change every run. A loader that cannot load now (its data root not
    given, a file moved) cannot tell which data the records used: they are not called changed, and a prune
    does not set them aside. A digest that fails does not fail the run."""
    from gnnbench.data import digest
    from gnnbench.harness import runner

    monkeypatch.setattr(DATASETS, "_entries", dict(DATASETS._entries))
    suite = maskless_variant(write_suite, tmp_path, "Drawn", "    g = None\n    assert data_root, 'no data root'\n")
    store = RunStore(tmp_path / "results")
    assert driver.run(suite, store, LocalExecutor(), data_root=str(tmp_path)).ok == 2
    digests = {r["sources"]["dataset"]["data_sha256"] for r in store.latest().values()}
    assert len(digests) == 2  # one graph per seed
    assert driver.plan(suite, store, data_root=str(tmp_path)).changed == {}
    unrooted = driver.plan(suite, store)  # cannot load without its root: unknown, not changed, and said
    assert unrooted.changed == {}
    assert "could not be loaded here (does it need --data-root?)" in unrooted.unchecked["Drawn"]

    def unwalkable(data):
        raise TypeError("cannot walk this")

    monkeypatch.setattr(digest, "data_sha256", unwalkable)
    record = runner.execute(suite.specs[0], str(tmp_path))
    assert record["status"] == "ok" and "data_sha256" not in record["sources"]["dataset"]


def test_a_loader_drawing_from_the_os_randomness_is_said_to_be_unchecked_not_changed(write_suite, tmp_path,
                                                                                      monkeypatch, capsys):
    """Other data on every load: calling it a change would set its runs aside, and their reruns, on every command.
    A second load with the same seed tells such a loader from changed data, and the commands say so."""
    from gnnbench.cli import main

    monkeypatch.setattr(DATASETS, "_entries", dict(DATASETS._entries))
    draw = "    g = torch.Generator().manual_seed(int.from_bytes(__import__('os').urandom(4), 'little'))\n"
    suite = maskless_variant(write_suite, tmp_path, "Entropic", draw)
    store = RunStore(tmp_path / "results" / "entropic")
    assert driver.run(suite, store, LocalExecutor()).ok == 2
    plan = driver.plan(suite, store)
    assert plan.changed == {} and "loads other data each time with the same seed" in plan.unchecked["Entropic"]
    capsys.readouterr()
    assert main(["prune", str(suite.path), "--results", str(tmp_path / "results")]) == 0
    out = capsys.readouterr()
    assert "whether the data of dataset 'Entropic' changed since its records were made cannot be told" in out.err
    assert "every record" in out.out and store.latest().keys() == {s.run_id for s in suite.specs}


def test_a_loader_that_seeds_the_global_generator_leaves_each_run_its_own_seed(write_suite, tmp_path, monkeypatch):
    """A loader that fixes its random graph with ``torch.manual_seed(0)`` would otherwise reset every run to the
    same initialisation: the seeds' results identical, a spread of 0 reported over n of them."""
    monkeypatch.setattr(DATASETS, "_entries", dict(DATASETS._entries))
    suite = maskless_variant(write_suite, tmp_path, "Seeded", "    torch.manual_seed(0)\n    g = None\n", epochs=3)
    store = RunStore(tmp_path / "results")
    assert driver.run(suite, store, LocalExecutor()).ok == 2
    losses = {r["spec"]["seed"]: r["history"]["train_loss"] for r in store.latest().values()}
    assert losses[0] != losses[1]


@pytest.fixture
def broken_plugin(documented, write_suite, tmp_path, monkeypatch):
    """A suite of the documented plugin model with a bug (it raises); ``fix()`` restores the documented code and
    forgets the imported plugin, as the next command would import it afresh. Yields (suite path, fix)."""
    def forget() -> None:
        monkeypatch.setattr(MODELS, "_entries", {k: v for k, v in MODELS._entries.items() if k != "gcn_residual"})
        monkeypatch.setattr(registry, "_loaded_plugins", {})

    forget()
    code = documented("adding_a_model.md", "my_models.py")
    plugin = tmp_path / "my_models.py"
    plugin.write_text(code.replace("        x = F.dropout(x, self.dropout, self.training)\n",
                                   "        raise RuntimeError('not yet')\n", 1))
    path = write_suite("""\
        name: edited
        plugins: [my_models.py]
        defaults: {seeds: 1, epochs: 3}
        experiments: [{task: node_classification, datasets: [Cora], models: [gcn_residual]}]
        """)

    def fix() -> None:
        plugin.write_text(code)
        forget()

    return path, fix


def test_a_smoke_check_after_editing_a_plugin_checks_the_new_code(broken_plugin, tmp_path, capsys):
    """A failing model, fixed: the next --smoke runs it again (failed runs are retried, runs made with the old
    file are set aside), so the check says whether the fix works."""
    from gnnbench.cli import main

    path, fix = broken_plugin
    argv = ["run", str(path), "--results", str(tmp_path / "results"), "--smoke", "-q"]
    assert main(argv) == 1 and "RuntimeError: not yet" in capsys.readouterr().err
    fix()
    assert main([*argv[:-1], "--dry-run"]) == 0  # what the check will do: run it again
    assert "edited.smoke: 1 run, 0 recorded, 0 failed (kept), 1 to run" in capsys.readouterr().out
    assert main(argv) == 0
    assert "set aside 1 run (gcn_residual on Cora: 1) of an earlier smoke check" in capsys.readouterr().err
    records = RunStore(tmp_path / "results" / "edited.smoke").latest()
    assert [r["status"] for r in records.values()] == ["ok"] and not (tmp_path / "results" / "edited").exists()


def test_a_run_that_failed_with_an_older_plugin_file_is_retried_without_asking(broken_plugin, tmp_path, capsys):
    """A failure of the old code is no verdict on the fix: the next plain run retries it (no --rerun-failed),
    and no note calls its record one that counts as done."""
    from gnnbench.cli import main

    path, fix = broken_plugin
    argv = ["run", str(path), "--results", str(tmp_path / "results"), "-q"]
    assert main(argv) == 1
    capsys.readouterr()
    fix()
    assert main(argv) == 0
    assert "another version" not in capsys.readouterr().err
    assert [r["status"] for r in RunStore(tmp_path / "results" / "edited").latest().values()] == ["ok"]


class _Loader:
    """A dataset loader that is a callable instance."""

    def __call__(self, data_root=None):
        return None


def _load(data_root=None, size=3):
    return None


@pytest.mark.parametrize("loader", [functools.partial(_load, size=5), _Loader(),
                                    registry.dataset_loader(_load, doc="A loader through dataset_loader.")],
                         ids=["partial", "instance", "dataset_loader"])
def test_a_loader_registered_as_a_partial_or_an_instance_is_traced_to_its_file(loader, monkeypatch):
    """Its edits would otherwise go unnoticed: inspect finds no file for either."""
    from gnnbench.harness.env import plugin_sources

    monkeypatch.setattr(DATASETS, "_entries", dict(DATASETS._entries))
    register_dataset("Traced", tasks=("node_classification",))(loader)
    spec = {"model": "mlp", "task": "node_classification", "dataset": "Traced"}
    assert plugin_sources(spec)["dataset"]["file"] == __file__


@pytest.mark.parametrize(("loader", "meta", "expected"), [
    (_load, {"from_edges": "features"}, "has from_edges='features'; expected a tuple of 'features' and 'targets'"),
    (_load, {"from_edges": ("festures",)}, "has from_edges=('festures',); expected a tuple"),
    ("data.pt", {}, "is str; expected a loader: a function (or other callable) taking the data root"),
])
def test_a_dataset_entry_that_cannot_serve_is_refused_where_it_is_registered(loader, meta, expected, monkeypatch):
    """A misspelt from_edges would let a scenario that changes edges through to features computed from them."""
    from gnnbench.registry import RegistryError

    monkeypatch.setattr(DATASETS, "_entries", dict(DATASETS._entries))
    with pytest.raises(RegistryError, match=re.escape(f"dataset 'Checked' {expected}")):
        register_dataset("Checked", tasks=("node_classification",), **meta)(loader)
    assert "Checked" not in DATASETS


@pytest.mark.parametrize(("register", "meta", "expected"), [
    (register_model, {"kernel": ("csr",)}, "model 'Misspelt' is registered with kernel=, which register_model does "
                                           "not take; did you mean 'kernels'?"),
    (register_model, {"default": {"K": 10}}, "model 'Misspelt' is registered with default=, which register_model "
                                             "does not take; did you mean 'defaults'?"),
    (register_model, {"papr": "Me 2026"}, "registered with papr=, which register_model does not take; did you mean "
                                          "'paper'?"),
    (register_model, {"task": ("node_classification",)}, "with task=, which register_model does not take; did you "
                                                         "mean 'tasks'?"),
    (register_model, {"kernels": ("csrr",)}, "model 'Misspelt' has kernels=('csrr',); expected a tuple of 'scatter', "
                                             "'torch_scatter', 'csr'"),
    (register_model, {"kernels": "csr"}, "model 'Misspelt' has kernels='csr'; expected a tuple"),
    (register_dataset, {"ship_split": False}, "dataset 'Misspelt' is registered with ship_split=, which "
                                              "register_dataset does not take; did you mean 'ships_split'?"),
    (register_scenario, {"like": "x"}, "scenario 'Misspelt' is registered with like=, which register_scenario does "
                                       "not take; it takes paper, tasks, defaults, dataset_defaults"),
])
def test_metadata_a_kind_does_not_take_is_refused_where_it_is_registered(register, meta, expected, monkeypatch):
    """A misspelt key was kept and never read: ``kernel=("csr",)`` left the model on scatter alone, silently. The
    closest name is suggested among every keyword, not the metadata alone (``default=`` was told of kernels)."""
    from gnnbench.registry import RegistryError

    for kind in (MODELS, DATASETS, SCENARIOS):
        monkeypatch.setattr(kind, "_entries", dict(kind._entries))
    with pytest.raises(RegistryError, match=re.escape(expected)):
        register("Misspelt", tasks=("node_classification",), **meta)(_Loader)
    assert all("Misspelt" not in kind for kind in (MODELS, DATASETS, SCENARIOS))


BAD_LOADER = """\
import os
import torch
from torch_geometric.data import Data
from gnnbench import register_dataset

@register_dataset("Bad", tasks=("{task}",))
def bad(data_root=None):
    g = torch.Generator().manual_seed(0)
    x, edge_index, y = torch.randn(60, 4, generator=g), torch.randint(60, (2, 200), generator=g), torch.arange(60) % 3
    graphs = [Data(x=x[:6], edge_index=edge_index[:, :0], y=y[:1]) for _ in range(10)]
    {body}
"""


@pytest.mark.parametrize(("task", "body", "message"), [
    ("node_classification", "return {'x': x, 'edge_index': edge_index, 'y': y}",
     "the loader returned dict; expected a torch_geometric.data.Data with x, edge_index and y"),
    ("node_classification", "return Data(x=x, edge_index=edge_index, y=y.float())",
     "y is a tensor of dtype float32 and shape [60]; expected an int64 tensor of one class id per node (60 here)"),
    ("node_classification", "return Data(x=x, edge_index=edge_index, y=y.int())",
     "y is a tensor of dtype int32 and shape [60]; expected an int64 tensor"),
    ("node_classification", "return Data(x=x, edge_index=edge_index, y=y.view(-1, 1))",
     "y is a tensor of dtype int64 and shape [60, 1]; expected an int64 tensor of one class id per node"),
    ("node_classification", "return Data(edge_index=edge_index, y=y, num_nodes=60)",
     "x is missing; expected a float32 tensor of one row of features per node (or integer ids"),
    ("node_classification", "return Data(x=x.double(), edge_index=edge_index, y=y)",
     "x is a tensor of dtype float64 and shape [60, 4]; expected float32 features, as the models' weights"),
    ("node_classification", "x[3, 2] = x[7, 0] = float('nan')\n    return Data(x=x, edge_index=edge_index, y=y)",
     "x holds NaN or infinite features in 2 nodes (first: node 3); expected finite features"),
    ("node_classification", "return Data(x=x[0], edge_index=edge_index, y=y)", "x is a tensor of dtype float32 and "
                                                                               "shape [4]; expected a float32 tensor"),
    ("node_classification",  # split: public, the default
     "m = torch.arange(60) < 40\n    return Data(x=x, edge_index=edge_index, y=y, train_mask=m, val_mask=~m, "
     "test_mask=m)",
     "40 nodes are in both train_mask and test_mask; expected disjoint splits"),
    ("node_classification",
     "m = torch.arange(60)\n    return Data(x=x, edge_index=edge_index, y=torch.where(m < 50, y, -1), "
     "train_mask=m < 20, val_mask=(m >= 20) & (m < 40), test_mask=m >= 40)",
     "10 nodes of the public split have y = -1; expected a class id for every node in train_mask"),
    ("link_prediction", "return Data(x=x, edge_index=edge_index + 5, y=y)",
     "edge_index holds node ids 5..64; expected ids of the 60 nodes of x (0..59)"),
    ("node_classification", "return torch.load(os.environ['MY_DATA_FOR_GNNBENCH_TESTS'])",
     "could not load: KeyError: 'MY_DATA_FOR_GNNBENCH_TESTS'"),
    ("graph_classification", "return graphs",
     "the loader returned list; expected a torch_geometric dataset of graphs (wrap a list of Data in "
     "gnnbench.data.collection.GraphCollection)"),
    ("graph_classification", "from gnnbench.data.collection import GraphCollection\n"
                             "    return GraphCollection([Data(x=g.x, edge_index=g.edge_index) for g in graphs])",
     "its first graph has no y; expected every graph's target in y"),
    ("graph_classification", "from gnnbench.data.collection import GraphCollection\n"
                             "    return GraphCollection([Data(x=g.x, edge_index=g.edge_index, y=g.y.float()) "
                             "for g in graphs])",
     "the first graph's y has dtype float32; expected int64 class ids"),
    ("temporal_link", "from torch_geometric.data import TemporalData\n"
                      "    return TemporalData(src=edge_index[0], dst=edge_index[1], t=torch.arange(200).flip(0), "
                      "msg=torch.zeros(200, 1))",
     "t is not sorted: event 1 (t=198) comes after t=199; expected events in time order"),
    ("graph_classification", "from gnnbench.data.collection import GraphCollection\n"
                             "    graphs[2].x = graphs[2].x.clone()\n    graphs[2].x[1, 1] = float('inf')\n"
                             "    return GraphCollection(graphs)",
     "graph 2 holds NaN or infinite features; expected finite features"),
    ("graph_classification", "from gnnbench.data.collection import GraphCollection\n"
                             "    graphs[4] = Data(x=graphs[4].x, edge_index=torch.tensor([[0, 1], [1, 6]]), y=y[:1])\n"
                             "    return GraphCollection(graphs)",  # past its own 6 nodes, inside the 60 of all
     "bad.py:bad): graph 4: edge_index holds node ids 0..6; expected ids of the 6 "
     "nodes of x (0..5)"),
    ("temporal_link", "from gnnbench.data.temporal import stream\n    m = torch.zeros(200, 1)\n"
                      "    m[7] = float('nan')\n    return stream(edge_index[0], edge_index[1], torch.arange(200), m)",
     "msg holds NaN or infinite features in 1 event (first: event 7); expected finite features"),
    ("temporal_link", "return Data(x=x, edge_index=edge_index, y=y)",
     "the loader returned Data; expected a torch_geometric.data.TemporalData"),
])
def test_a_plugin_loader_returning_what_its_task_cannot_read_is_one_line_before_any_run(task, body, message,
                                                                                          write_suite, tmp_path,
                                                                                          monkeypatch):
    """Not a torch error in every run, deep in a model ('dict' has no attribute 'clone', an index out of bounds
    in a convolution), nor a traceback for the loader's own KeyError."""
    monkeypatch.setattr(DATASETS, "_entries", dict(DATASETS._entries))
    monkeypatch.delenv("MY_DATA_FOR_GNNBENCH_TESTS", raising=False)
    (tmp_path / "bad.py").write_text(BAD_LOADER.format(task=task, body=body))
    model = {"graph_classification": "gin_pool", "link_prediction": "gcn", "temporal_link": "edgebank"}.get(task, "mlp")
    suite = load_suite(write_suite(f"""\
        name: bad
        plugins: [bad.py]
        experiments: [{{task: {task}, datasets: [Bad], models: [{model}]}}]
        """))
    with pytest.raises(ConfigError) as info:
        driver.preflight(suite, suite.specs, None)
    assert info.value.key == "experiments[0].datasets[0]"
    assert message in info.value.message


def test_a_bare_decorator_or_a_dataset_naming_no_task_says_how_to_register(write_suite, tmp_path, monkeypatch):
    """``@register_dataset`` without its call registered nothing, and the suite then called the dataset unknown;
    a dataset registered without ``tasks=`` was refused with an empty list of the tasks it serves, and a model with
    ``(it supports: none)``."""
    from gnnbench.registry import RegistryError

    def bare(data_root=None):
        return None

    monkeypatch.setattr(DATASETS, "_entries", dict(DATASETS._entries))
    with pytest.raises(RegistryError, match=r"a dataset is registered under a name: @register_dataset\('bare', "
                                            r"\.\.\.\), not @register_dataset alone"):
        register_dataset(bare)
    with pytest.raises(RegistryError, match=r"register_dataset\(3\): expected the dataset's name as text"):
        register_dataset(3)
    source = BAD_LOADER.format(task="node_classification", body="return Data(x=x, edge_index=edge_index, y=y)")
    (tmp_path / "untasked.py").write_text(source.replace('tasks=("node_classification",)', ""))
    with pytest.raises(ConfigError, match=r"dataset 'Bad' does not serve task 'node_classification' \(it names no "
                                          r"task: register it with tasks=\('node_classification',\) in "):
        load_suite(write_suite("""\
            name: untasked
            plugins: [untasked.py]
            experiments: [{task: node_classification, datasets: [Bad], models: [mlp]}]
            """))
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(PLUGIN.format(name="m_notasks", registration="")
                                      .replace('tasks=("node_classification",), ', ""))
    with pytest.raises(ConfigError) as info:  # a model, as a dataset, is told how
        load_suite(write_suite(SUITE % "m_notasks"))
    assert info.value.message == ("model 'm_notasks' does not support task 'node_classification' (it names no task: "
                                  f"register it with tasks=('node_classification',) in {tmp_path / 'mine.py'}:Mine)")


def test_integer_features_are_ids_a_model_may_embed(write_suite, tmp_path, monkeypatch):
    """Atom types and other categorical features come as integer x; a model embedding them must not be refused."""
    monkeypatch.setattr(DATASETS, "_entries", dict(DATASETS._entries))
    (tmp_path / "ids.py").write_text(BAD_LOADER.format(task="node_classification", body=(
        "m = torch.arange(60)\n    return Data(x=(x > 0).long(), edge_index=edge_index, y=y, train_mask=m < 20, "
        "val_mask=(m >= 20) & (m < 40), test_mask=m >= 40)")))
    suite = load_suite(write_suite("""\
        name: ids
        plugins: [ids.py]
        experiments: [{task: node_classification, datasets: [Bad], models: [mlp]}]
        """))
    driver.preflight(suite, suite.specs, None)
