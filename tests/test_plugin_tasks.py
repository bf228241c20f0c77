"""A one-file task added through ``plugins:`` runs the built-in models and datasets of the task it is ``like``; a
task class lacking what the harness reads is refused where it is registered; an edited task file is noticed."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from gnnbench import leaderboard, registry
from gnnbench.errors import ConfigError
from gnnbench.harness import driver
from gnnbench.harness.executors import LocalExecutor
from gnnbench.harness.store import RunStore
from gnnbench.harness.suite import load_suite
from gnnbench.registry import TASKS, RegistryError, register_task
from gnnbench.tasks.base import Task
from gnnbench.tasks.node import NodeClassification


@pytest.fixture
def fresh_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations and plugin imports of one test are forgotten after it."""
    monkeypatch.setattr(TASKS, "_entries", dict(TASKS._entries))
    monkeypatch.setattr(registry, "_loaded_plugins", {})


def test_the_documented_task_runs_the_models_and_datasets_of_the_task_it_is_like(documented, fresh_tasks, write_suite,
                                                                                 tmp_path, capsys):
    from gnnbench.cli import main

    code = documented("adding_a_task.md", "my_tasks.py")
    plugin = tmp_path / "my_tasks.py"
    plugin.write_text(code)
    path = write_suite("""\
        name: imbalanced
        plugins: [my_tasks.py]
        defaults: {seeds: 1, epochs: 3}
        experiments: [{task: node_macro_f1, datasets: [Cora], models: [gcn, mlp]}]
        """)
    store = RunStore(tmp_path / "results" / "imbalanced")
    assert driver.run(load_suite(path), store, LocalExecutor()).ok == 2
    records = list(store.latest().values())
    assert {r["metric"] for r in records} == {"macro_f1"}
    assert all(r["sources"] == {"task": {"file": str(plugin), "sha256": r["sources"]["task"]["sha256"]}}
               for r in records)  # gnnbench's own model and dataset are versioned by the commit
    board = leaderboard.build(store.directory).board
    assert set(board["task"]) == {"node_macro_f1"} and set(board["metric"]) == {"macro_f1"}
    assert list(board["mean"]) == [r["metrics"]["test"]["macro_f1"] for r in sorted(
        records, key=lambda r: -r["metrics"]["test"]["macro_f1"])]  # ranked on what the task reports

    assert main(["list", "models", "--task", "node_macro_f1", "--plugin", str(plugin)]) == 0
    listed = {line.split("\t")[0] for line in capsys.readouterr().out.splitlines()[1:]}
    assert {"gcn", "gat", "mlp"} <= listed and "kpath" not in listed  # kpath is a graph-level model
    with pytest.raises(ConfigError, match=r"models\[0\]: model 'kpath' does not support task 'node_macro_f1'"):
        load_suite(write_suite(path.read_text().replace("[gcn, mlp]", "[kpath]"), "kpath.yaml"))

    plugin.write_text(code + "\n# a fix\n")  # the task's code, not the model's, changed
    assert sorted(r["spec"]["model"] for r in driver.plan(load_suite(path), store).changed.values()) == ["gcn", "mlp"]
    assert main(["prune", str(path), "--results", str(tmp_path / "results"), "--dry-run"]) == 0
    assert f"made with another version of {plugin} (2 runs)" in capsys.readouterr().out


@pytest.mark.parametrize("edit", ["drop_like", "subclass"])
def test_a_task_subclass_registered_without_like_is_told_to_name_the_task_it_is_like(documented, fresh_tasks,
                                                                                     write_suite, tmp_path, edit):
    """Without ``like=``, Cora and gcn serve only the tasks they name: the suite said so, listing them, but not
    that the task's base class was what it meant. A subclass of a task that is itself like another names that
    one (``like=`` follows one step)."""
    code = documented("adding_a_task.md", "my_tasks.py")
    if edit == "drop_like":
        code = code.replace('like="node_classification", ', "")
        task, cls = "node_macro_f1", "NodeMacroF1"
    else:
        code += ('\n\n@register_task("node_macro_f1_again")\nclass Again(NodeMacroF1):\n'
                 '    name = "node_macro_f1_again"\n')
        task, cls = "node_macro_f1_again", "Again"
    (tmp_path / "my_tasks.py").write_text(code)
    hint = (f'; register the task with like="node_classification" (in {tmp_path / "my_tasks.py"}:{cls}) to take the '
            "models, datasets and scenarios of node_classification")
    suite = f"""\
        name: unlike
        plugins: [my_tasks.py]
        experiments: [{{task: {task}, datasets: [Cora], models: [gcn]}}]
        """
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(suite))
    assert info.value.key == "experiments[0].datasets[0]"
    assert info.value.message.startswith(f"dataset 'Cora' does not serve task '{task}' (it serves: node_classification")
    assert info.value.message.endswith(hint)
    with pytest.raises(ConfigError) as info:  # a dataset the base task does not serve: no hint
        load_suite(write_suite(suite.replace("Cora", "MUTAG"), "mutag.yaml"))
    assert "like=" not in info.value.message


def _task(**attributes) -> type:
    """A node classification task class with ``attributes`` set (None: deleted from the whole hierarchy)."""
    body = {"__module__": __name__, "name": "scored", "metric": "macro_f1", **attributes}
    cls = type("Scored", (NodeClassification,), {k: v for k, v in body.items() if v is not None})
    for key in (k for k, v in attributes.items() if v is None):
        setattr(cls, key, None)
    return cls


@pytest.mark.parametrize(("cls", "expected"), [
    (_task(direction="maximize"), "has direction = 'maximize'; expected 'max' (a higher metric is better) or 'min'"),
    (_task(metric=None), "has metric = None; expected a class attribute naming the key of the task's metrics"),
    (_task(metric=3), "has metric = 3; expected a class attribute naming the key"),
    (_task(name="scored_v2"), "has name = 'scored_v2'; expected name = 'scored', the name it is registered under"),
    (_task(name=None), "has name = None; expected name = 'scored'"),
    (_task(Options=None), "has no Options; expected a dataclass of the options a suite's task: mapping sets"),
    (_task(Options=dataclasses.dataclass), "has no Options"),
    (_task(model_args="in_channels"), "has model_args = 'in_channels'; expected a tuple of the constructor arguments"),
    (_task(model_base="torch.nn.Module"), "has model_base = 'torch.nn.Module'; expected the class its models subclass"),
    (_task(unread_hparams=classmethod(lambda cls, hparams: {})),
     "has unread_hparams taking other arguments; expected a classmethod unread_hparams(cls, hparams, dataset)"),
    (_task(model_call=lambda self, model: ("x", "edge_index")),  # an instance method: the suite calls it on the class
     "has model_call taking other arguments; expected a classmethod model_call(cls, model)"),
    (_task(model_call=classmethod(lambda cls, model: ("x", "edge_index"))),  # the form before it named methods
     "has model_call returning ('x', 'edge_index'); expected a mapping of each method its run calls on a model to "
     "the argument names it passes, e.g. {'forward': ('x', 'edge_index')}"),
    (_task(model_call=classmethod(lambda cls, model: None)),  # the old form's "nothing to check"
     "has model_call returning None; expected a mapping of each method its run calls on a model to the argument "
     "names it passes, e.g. {'forward': ('x', 'edge_index')}, or {} for nothing to check (which None said before)"),
    (_task(model_call=classmethod(lambda cls, model: {"forward": ("batch")})),  # a string: each letter an argument
     "has model_call returning {'forward': 'batch'}; expected a mapping"),
    (type("Scored", (Task,), {"__module__": __name__, "name": "scored"}), "does not implement fit, run"),
    (type("Scored", (), {"name": "scored", "metric": "f1", "direction": "max"}), "is not a subclass of gnnbench"),
])
def test_a_task_class_lacking_what_the_harness_reads_is_refused_where_it_is_registered(fresh_tasks, cls, expected):
    """Not when every run fails, nor (a misspelt direction) never: each run would select its worst epoch."""
    with pytest.raises(RegistryError) as info:
        register_task("scored")(cls)
    assert str(info.value).startswith(f"{__name__}.Scored: task 'scored' {expected}")
    assert "scored" not in TASKS


def test_a_task_like_no_task_is_refused_with_the_closest_name(fresh_tasks):
    with pytest.raises(RegistryError, match="task 'scored' is registered like='node_clasification', no task; did you "
                                            "mean 'node_classification'"):
        register_task("scored", like="node_clasification")(_task())
    register_task("scored", like="node_classification")(_task())
    assert TASKS.get("scored").meta["like"] == "node_classification"
    with pytest.raises(RegistryError, match="task 'rescored' is registered like='scored', which is itself like "
                                            "'node_classification'; name that one"):
        register_task("rescored", like="scored")(_task(name="rescored"))


def test_a_record_that_did_not_record_a_plugin_part_counts_as_made_with_another_version(documented, fresh_tasks,
                                                                                        tmp_path):
    """A record made before tasks were covered names its model's file alone: which version of the task ran is
    unknown, so ``prune`` sets it aside, as the leaderboard's warning about mixed versions says it would."""
    code = documented("adding_a_task.md", "my_tasks.py")
    plugin = tmp_path / "my_tasks.py"
    plugin.write_text(code)
    registry.load_plugin(str(plugin))
    spec = {"model": "mlp", "task": "node_macro_f1", "dataset": "Cora", "scenario": None}
    now = {"task": {"file": str(plugin), "sha256": hashlib.sha256(plugin.read_bytes()).hexdigest()}}
    records = {"current": {"spec": spec, "sources": now},
               "before tasks": {"spec": spec, "model_source": {"file": "/old/models.py", "sha256": "0" * 64}}}
    assert driver.edited_files(records, driver.DataDigests(None)) == {"current": [],
                                                                       "before tasks": ["/old/models.py", str(plugin)]}


def test_a_task_s_misspelt_metric_is_named_with_the_file_that_set_it(documented, fresh_tasks, write_suite, tmp_path):
    """Every run fails, as it must (no metric to select on), but the message names the plugin's class and its file,
    not only gnnbench's callback that returned the metrics."""
    code = documented("adding_a_task.md", "my_tasks.py").replace('metric = "macro_f1"', 'metric = "macrof1"')
    (tmp_path / "my_tasks.py").write_text(code)
    path = write_suite("""\
        name: misspelt
        plugins: [my_tasks.py]
        defaults: {seeds: 1, epochs: 2}
        experiments: [{task: node_macro_f1, datasets: [Cora], models: [mlp]}]
        """)
    summary = driver.run(load_suite(path), RunStore(tmp_path / "results" / "misspelt"), LocalExecutor())
    message = summary.failures[0]["error"]["message"]
    assert f"the task's metric = 'macrof1', set by {tmp_path / 'my_tasks.py'}:NodeMacroF1" in message


HOOKS = """\
from dataclasses import dataclass
from torch import nn
from gnnbench import register_model, register_scenario, register_task
from gnnbench.data.scenarios import LabelScenario
from gnnbench.tasks.node import NodeClassification

@register_model("hooked", tasks=("hooked_task",))
class Hooked(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()

    @staticmethod
    def check_hparams(hparams, device):
        {model}

@register_task("hooked_task", like="node_classification")
class HookedTask(NodeClassification):
    name = "hooked_task"

    @classmethod
    def check_run(cls, options, dataset, hparams, seed):
        {run}

    @classmethod
    def preset_model_args(cls, options):
        {preset}

    def check_data(self, data):
        {data}

@register_scenario("hooked_scenario", tasks=("hooked_task",))
@dataclass(frozen=True)
class HookedScenario(LabelScenario):
    name = "hooked_scenario"

    def __post_init__(self):
        {scenario}

    def perturb(self, y, classes, generator):
        return y, None, {{}}
"""


@pytest.mark.parametrize(("hook", "key", "message"), [
    ("model", "models[0]", "model 'hooked' failed checking a run on dataset 'Cora': KeyError: 'hidden'"),
    ("run", "task", "task 'hooked_task' failed checking a run on dataset 'Cora': TypeError: bad"),
    ("preset", "task", "task 'hooked_task' failed presetting its models' arguments: TypeError: bad"),
    ("data", "datasets[0]", "task 'hooked_task' failed checking dataset 'Cora': TypeError: bad"),
    ("scenario", "scenario[0]", "scenario 'hooked_scenario' failed checking its options: TypeError: bad"),
])
def test_a_plugin_hook_s_own_bug_is_one_line_naming_its_line_at_its_key(fresh_tasks, monkeypatch, write_suite,
                                                                        tmp_path, hook, key, message):
    """A hook that should refuse with a ValueError but fails otherwise (a KeyError, a TypeError) ends the
    suite's checks with one located line, as a plugin that cannot be imported does, not a traceback."""
    from gnnbench.registry import MODELS, SCENARIOS

    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    monkeypatch.setattr(SCENARIOS, "_entries", dict(SCENARIOS._entries))
    bugs = {"model": "return hparams['hidden']", "run": "raise TypeError('bad')", "data": "raise TypeError('bad')",
            "scenario": "raise TypeError('bad')", "preset": "raise TypeError('bad')"}
    code = HOOKS.format(**{part: bugs[part] if part == hook else "return {}" if part == "preset" else "pass"
                           for part in bugs})
    (tmp_path / "hooks.py").write_text(code)
    line = next(n for n, text in enumerate(code.splitlines(), 1) if bugs[hook] in text)
    path = write_suite("""\
        name: hooked
        plugins: [hooks.py]
        defaults: {seeds: 1, epochs: 1}
        experiments: [{task: hooked_task, datasets: [Cora], models: [hooked], scenario: [hooked_scenario]}]
        """)
    with pytest.raises(ConfigError) as info:
        driver.prepare(load_suite(path), RunStore(tmp_path / "results"), False, None, devices=False)
    assert info.value.key == f"experiments[0].{key}"
    assert info.value.message == f"{message} (at {tmp_path / 'hooks.py'}:{line})"


@pytest.mark.parametrize("returned", ["None", "{'hidden_channels': 7}"])
def test_a_task_presetting_what_it_does_not_fill_is_refused_at_the_task(fresh_tasks, monkeypatch, write_suite,
                                                                        tmp_path, returned):
    """A key outside ``model_args`` would replace a hyperparameter's value in what the model's checks see."""
    from gnnbench.registry import MODELS, SCENARIOS

    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    monkeypatch.setattr(SCENARIOS, "_entries", dict(SCENARIOS._entries))
    (tmp_path / "hooks.py").write_text(HOOKS.format(model="pass", run="pass", data="pass", scenario="pass",
                                                    preset=f"return {returned}"))
    path = write_suite("""\
        name: hooked
        plugins: [hooks.py]
        defaults: {seeds: 1, epochs: 1}
        experiments: [{task: hooked_task, datasets: [Cora], models: [hooked]}]
        """)
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    assert info.value.key == "experiments[0].task"
    assert info.value.message.startswith("task 'hooked_task': preset_model_args returned ")
    assert info.value.message.endswith("; expected a dict of some of its model_args or other data arguments "
                                       "(in_channels, out_channels, level, num_nodes)")


SOME_MODELS = """\
from gnnbench import register_task
from gnnbench.tasks.node import NodeClassification

@register_task("scored_some", like="node_classification")
class ScoredSome(NodeClassification):
    name = "scored_some"

    @classmethod
    def model_call(cls, model):
        return None if hasattr(model, "fit") else {"forward": ("x", "edge_index")}  # None: the form before
"""


def test_a_model_call_returning_another_form_for_some_models_is_refused_where_a_suite_names_one(fresh_tasks,
                                                                                               write_suite, tmp_path):
    """Registration checks ``model_call`` on ``model_base`` alone: the form a plugin returns for another model is
    named with the task's file where a suite names that model, not by an AttributeError inside gnnbench."""
    (tmp_path / "some.py").write_text(SOME_MODELS)
    suite = "name: s\nplugins: [some.py]\nexperiments: [{task: scored_some, datasets: [Cora], models: [%s]}]\n"
    load_suite(write_suite(suite % "mlp"))
    with pytest.raises(RegistryError) as info:
        load_suite(write_suite(suite % "sign", "sign.yaml"))
    assert str(info.value) == (
        f"{tmp_path / 'some.py'}:ScoredSome: task 'scored_some' has model_call returning None for "
        "gnnbench.models.sign.SIGN; expected a mapping of each method its run calls on a model to the argument names "
        "it passes, e.g. {'forward': ('x', 'edge_index')}, or {} for nothing to check (which None said before)")
