from __future__ import annotations

import sys
from importlib.metadata import EntryPoint

import pytest
from torch import nn

from gnnbench import hparams
from gnnbench.errors import did_you_mean
from gnnbench.registry import DATASETS, MODELS, TASKS, Entry, Registry, RegistryError, list_models, load_plugin


def fresh() -> Registry:
    return Registry("widget", builtins="gnnbench.errors")


def test_register_get_and_metadata():
    reg = fresh()

    @reg.register("spinner", paper="Doe 2020", tasks=("node_classification",), defaults={"lr": 0.1})
    class Spinner:
        """Spins.

        More text."""

    entry = reg.get("spinner")
    assert entry.obj is Spinner
    assert (entry.paper, entry.tasks, dict(entry.defaults), entry.summary) == (
        "Doe 2020", ("node_classification",), {"lr": 0.1}, "Spins.")
    assert "spinner" in reg and reg.names() == ["spinner"] and len(reg) == 1


def test_a_summary_is_the_first_paragraph_on_one_line():
    class Wrapped:
        """A first sentence that a docstring
        wraps over two lines.

        Details that `gnnbench list` leaves out."""

    assert Entry(name="w", obj=Wrapped).summary == "A first sentence that a docstring wraps over two lines."


def test_duplicate_name_is_an_error_naming_both_sides():
    reg = fresh()
    reg.register("a")(int)
    with pytest.raises(RegistryError, match=r"widget 'a' is already registered by builtins.int.*builtins.str"):
        reg.register("a")(str)


def test_listed_metadata_that_is_no_text_is_refused_where_it_is_registered():
    """``gnnbench list`` crashed on ``paper=None`` or ``source=42``, which registration had accepted."""
    from gnnbench.registry import DATASETS

    reg = fresh()
    with pytest.raises(RegistryError, match=r"builtins.int: widget 'a' has paper=None; expected text, which "
                                            r"`gnnbench list widgets` shows"):
        reg.register("a", paper=None)(int)
    with pytest.raises(RegistryError, match=r"dataset 'qa_listed' has source=42; expected text"):
        DATASETS.register("qa_listed", source=42)(lambda root: None)
    assert "qa_listed" not in DATASETS.names()


def test_unknown_name_suggests_the_closest():
    reg = fresh()
    for name in ("graphsage", "gcn", "gat"):
        reg.register(name)(object)
    with pytest.raises(RegistryError, match=r"unknown widget 'gcm'; did you mean 'gcn'\?"):
        reg.get("gcm")
    with pytest.raises(RegistryError, match=r"known widgets: gat, gcn, graphsage"):
        reg.get("transformer")


def test_equally_close_names_suggest_the_natural_neighbours():
    """Names that differ only in a number are equally close to a typo of one: difflib's tie order put
    HeteroEdgeCount-8 first for HeteroEdgeCount-3. The nearest numbers are suggested, each tied one named."""
    assert did_you_mean("HeteroEdgeCount-3", DATASETS.names()) == (
        "; did you mean 'HeteroEdgeCount-2' or 'HeteroEdgeCount-4'?")
    assert did_you_mean("heteroedgecount-7", DATASETS.names()) == (
        "; did you mean 'HeteroEdgeCount-6' or 'HeteroEdgeCount-8'?")
    assert did_you_mean("Count-ER-cycle3", DATASETS.names()) == "; did you mean 'Count-ER-cycle4'?"
    assert did_you_mean("w-2", ["w-10", "w-8", "w-1"]) == "; did you mean 'w-1'?"
    assert did_you_mean("gcm", ["sgc", "gcn", "gat"]) == "; did you mean 'gcn'?"  # the typed prefix first
    # difflib rates 'HeteroEdgeCount-10' closest to -1 and '-2' to -12: the numbers are what was mistyped
    assert did_you_mean("HeteroEdgeCount-1", DATASETS.names()) == "; did you mean 'HeteroEdgeCount-2'?"
    assert did_you_mean("HeteroEdgeCount-12", DATASETS.names()) == "; did you mean 'HeteroEdgeCount-10'?"
    assert did_you_mean("forwardgnn_ff", MODELS.names()) == (  # difflib: 'forwardgnn_sf' alone
        "; did you mean 'forwardgnn_ff_la' or 'forwardgnn_ff_link' or 'forwardgnn_ff_vn'?")
    assert did_you_mean("cora", ["Cora", "CiteSeer"]) == "; did you mean 'Cora'?"
    assert did_you_mean("zzz", ["gcn"]) == "" and did_you_mean("gcn", []) == ""
    with pytest.raises(RegistryError, match=r"unknown dataset 'HeteroEdgeCount-5'; did you mean 'HeteroEdgeCount-4' "
                                            r"or 'HeteroEdgeCount-6'\?"):
        DATASETS.get("HeteroEdgeCount-5")


def test_names_are_listed_with_their_numbers_compared_as_numbers():
    """As the leaderboards list them: a plain string sort put ``w-10`` before ``w-2``, in ``gnnbench list`` and in
    the names an unknown one is told."""
    reg = fresh()
    for name in ("w-10", "w-2", "Cora", "w-4"):
        reg.register(name)(object)
    assert reg.names() == list(reg) == ["Cora", "w-2", "w-4", "w-10"]
    assert [e.name for e in reg.entries()] == reg.names()
    with pytest.raises(RegistryError, match=r"; known widgets: Cora, w-2, w-4, w-10$"):
        reg.get("transformer")


def test_builtin_baselines_are_registered_with_paper_defaults():
    assert {"gcn", "gat", "sage", "gin", "mlp"} <= set(list_models("node_classification"))
    task = TASKS.get("node_classification").obj
    gcn = hparams.defaults(MODELS.get("gcn"), task)
    assert gcn == {"hidden_channels": 16, "num_layers": 2, "dropout": 0.5, "lr": 0.01, "weight_decay": 5e-4}
    gat = hparams.defaults(MODELS.get("gat"), task)
    assert (gat["heads"], gat["hidden_channels"], gat["dropout"], gat["lr"]) == (8, 8, 0.6, 0.005)


def test_entry_point_plugins_are_discovered(tmp_path, monkeypatch):
    (tmp_path / "ep_plugin_mod.py").write_text(
        "from torch import nn\nfrom gnnbench import register_model\n"
        "@register_model('from_entry_point', tasks=('node_classification',))\n"
        "class M(nn.Module):\n    def __init__(self, in_channels, out_channels):\n        super().__init__()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    monkeypatch.setattr(MODELS, "_discovered", False)
    eps = [EntryPoint("toy", "ep_plugin_mod", "gnnbench.models")]
    monkeypatch.setattr("gnnbench.registry.entry_points",
                        lambda group: eps if group == "gnnbench.models" else [])
    assert MODELS.get("from_entry_point").obj.__name__ == "M"
    monkeypatch.delitem(sys.modules, "ep_plugin_mod")


def test_a_broken_entry_point_warns_instead_of_breaking_the_registry(monkeypatch, capsys):
    from gnnbench.cli import main

    monkeypatch.setattr(MODELS, "_discovered", False)
    monkeypatch.setattr("gnnbench.registry.entry_points",
                        lambda group: [EntryPoint("bad", "no_such_module_xyz", "gnnbench.models")])
    with pytest.warns(UserWarning, match="could not load model plugin 'bad'"):
        assert "gcn" in MODELS
    monkeypatch.setattr(MODELS, "_discovered", False)  # the command's one line: its prefix once
    assert main(["list", "models"]) == 0
    assert ("gnnbench: warning: could not load model plugin 'bad' (no_such_module_xyz): No module named "
            "'no_such_module_xyz'\n") in capsys.readouterr().err


def test_plugin_file_registers_once_even_when_loaded_twice(tmp_path, monkeypatch):
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    plugin = tmp_path / "my_model.py"
    plugin.write_text(
        "from torch import nn\nfrom gnnbench import register_model\n"
        "@register_model('file_plugin_model', tasks=('node_classification',))\n"
        "class Mine(nn.Module):\n    def __init__(self, in_channels, out_channels):\n        super().__init__()\n")
    load_plugin(str(plugin))
    load_plugin(str(plugin))
    assert issubclass(MODELS.get("file_plugin_model").obj, nn.Module)
    with pytest.raises(RegistryError, match="plugin file not found"):
        load_plugin(str(tmp_path / "missing.py"))
