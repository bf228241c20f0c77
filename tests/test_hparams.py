"""Hyperparameter checks against a constructor's annotations and a registry entry's defaults."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import pytest
import torch
import yaml

from gnnbench import hparams as hp
from gnnbench.registry import MODELS, TASKS, Entry
from gnnbench.tasks.node import NodeClassification


class Annotated:
    """A plugin constructor using generic annotations."""

    def __init__(self, in_channels: int, out_channels: int, layers: list[int], widths: Sequence[int] = (64,),
                 act: dict[str, float] | None = None, names: tuple[str, ...] = (), pair: tuple[int, str] = (1, "a"),
                 mode: Literal["a", "b"] = "a", seed: int | None = None, rate: float = 0.5) -> None:
        pass


@pytest.mark.parametrize(("key", "value"), [
    ("layers", [1, 2]), ("layers", []), ("layers", (3,)),
    ("widths", [32, 16]), ("widths", (8,)),
    ("act", None), ("act", {"a": 1, "b": 0.5}),
    ("names", ["x", "y"]), ("pair", [1, "a"]),
    ("mode", "b"), ("seed", None), ("seed", 3),
    ("rate", 1),  # an integer where a number is expected
])
def test_values_of_the_annotated_types_are_accepted(key, value):
    hp.check_kwargs(Annotated, {key: value}, "hyperparameter", "model 'toy'")


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("widths", 64, "a list (each item an integer)"),
    ("widths", "wide", "a list (each item an integer)"),
    ("widths", [32, "x"], "a list (each item an integer)"),
    ("widths", [True], "a list (each item an integer)"),
    ("layers", [["a"]], "a list (each item an integer)"),
    ("act", 3, "a mapping (each key a string, each value a finite number) or null"),
    ("act", {"a": "x"}, "a mapping (each key a string"),
    ("act", {1: 0.5}, "a mapping (each key a string"),
    ("names", "abc", "a list (each item a string)"),
    ("pair", [1], "a list of 2 items (an integer, a string)"),
    ("pair", [1, 2], "a list of 2 items (an integer, a string)"),
    ("mode", "c", "one of 'a', 'b'"),
    ("seed", 1.5, "an integer or null"),
])
def test_values_not_of_the_annotated_types_are_rejected_naming_the_type(key, value, expected):
    with pytest.raises(hp.HparamError) as info:
        hp.check_kwargs(Annotated, {key: value}, "hyperparameter", "model 'toy'")
    assert info.value.key == key
    assert f"expected {expected}" in str(info.value) and f"for '{key}', got {value!r}" in str(info.value)


class PartlyResolvable:
    """A plugin annotating one argument with a name imported only for type checkers."""

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int | None = None,
                 act: Activation | None = None) -> None:  # noqa: F821  (``Activation``: not importable here)
        pass


def test_an_annotation_that_does_not_resolve_leaves_the_other_arguments_checked():
    with pytest.raises(hp.HparamError, match="expected an integer or null for 'hidden_channels', got 'sixteen'"):
        hp.check_kwargs(PartlyResolvable, {"hidden_channels": "sixteen"}, "hyperparameter", "model 'p'")
    hp.check_kwargs(PartlyResolvable, {"act": "anything"}, "hyperparameter", "model 'p'")  # unresolved: unchecked


@pytest.mark.parametrize(("text", "expected", "number"), [
    ("1e-3", float, 0.001), ("5E-4", float, 5e-4), ("1e3", float, 1000.0), ("1.5e3", float | None, 1500.0),
    ("-.5", float, -0.5), ("1e3", int, 1000),
])
def test_a_number_yaml_reads_as_text_gets_a_hint_whose_forms_yaml_reads_as_that_number(text, expected, number):
    assert isinstance(yaml.safe_load(text), str)
    hint = hp.number_hint(text, expected)
    forms = re.fullmatch(rf" \(YAML reads {re.escape(text)} as text; write (.+)\)", hint).group(1).split(" or ")
    assert [yaml.safe_load(form) for form in forms] == [number] * len(forms)
    assert all(type(yaml.safe_load(form)) is type(number) for form in forms)


@pytest.mark.parametrize(("value", "expected"), [
    ("64", int),  # YAML reads 64 as a number: the quotes are the mistake, shown in the message
    ("wide", float), (64.0, int), ("1.5e-1", int), ("1e3", list[int]),
])
def test_no_number_hint_where_yaml_is_not_to_blame_or_no_number_would_do(value, expected):
    assert hp.number_hint(value, expected) == ""


class Toy(torch.nn.Module):
    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64) -> None:
        pass


@pytest.mark.parametrize(("defaults", "dataset_defaults", "where", "problem"), [
    ({"learning_rate": 0.01}, {}, "defaults", "unknown hyperparameter 'learning_rate' for model 'toy'"),
    ({"hidden_channels": "64"}, {}, "defaults", "expected an integer for 'hidden_channels', got '64'"),
    ({"lr": 0.1}, {"Cora": {"weight_decay": "5e-4"}}, "dataset_defaults['Cora']",
     "expected a finite number for 'weight_decay', got '5e-4'"),
])
def test_registry_defaults_are_checked_against_the_signature_and_the_task_keys(defaults, dataset_defaults,
                                                                               where, problem):
    entry = Entry(name="toy", obj=Toy, tasks=("node_classification",), defaults=defaults,
                  dataset_defaults=dataset_defaults)
    with pytest.raises(hp.HparamError) as info:
        hp.check_entry(entry, NodeClassification)
    message = str(info.value)
    assert message.startswith(f"the registry entry of model 'toy' ({__name__}.Toy) has {where} that task "
                              "'node_classification' cannot take")
    assert problem in message


def test_a_dataset_defaults_name_that_differs_from_a_run_s_in_case_is_refused_as_misspelt():
    """``citeseer`` left a suite's runs on CiteSeer at ``defaults``, silently; another unregistered name is kept,
    close or not, as a model may hold the settings of a dataset only a plugin registers (DGMLP's PubMed beside
    PubMed-raw; Cora-full is no misspelt Cora-raw)."""
    entry = Entry(name="toy", obj=Toy, dataset_defaults={"citeseer": {"lr": 0.1}, "PubMed": {"lr": 0.2},
                                                         "PubMed-raw": {"lr": 0.2}, "Cora-full": {"lr": 0.3}})
    with pytest.raises(hp.HparamError, match=re.escape(
            f"the registry entry of model 'toy' ({__name__}.Toy) has dataset_defaults['citeseer'], which names no "
            "registered dataset, so this suite's runs would not take them; did you mean 'CiteSeer'?")):
        hp.check_dataset_defaults(entry, ["Cora", "CiteSeer"])
    hp.check_dataset_defaults(entry, ["Cora-raw", "PubMed-raw"])
    with pytest.raises(hp.HparamError, match=r"dataset_defaults\['PubMed'\].*did you mean 'pub_med'\?"):
        hp.check_dataset_defaults(entry, ["pub_med"])


class ToyWithAnAddedArgument(Toy):
    """Toy as it would be with a constructor argument added after its results existed."""

    added_hparams = ("residual",)

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64, residual: float = 0.0) -> None:
        super().__init__(in_channels, out_channels, hidden_channels)


def test_an_added_constructor_argument_enters_the_hparams_only_when_set_away_from_off():
    before, after = Entry(name="toy", obj=Toy), Entry(name="toy", obj=ToyWithAnAddedArgument)
    assert hp.resolve(after, NodeClassification, {}) == hp.resolve(before, NodeClassification, {})
    assert "residual" not in hp.resolve(after, NodeClassification, {"residual": 0})  # 0 is the float 0.0: off
    assert hp.resolve(after, NodeClassification, {"residual": 0.5})["residual"] == 0.5


def test_added_hparams_must_name_arguments_with_an_off_value_and_keep_it_by_default():
    class Misnamed(ToyWithAnAddedArgument):
        added_hparams = ("residaul",)

    with pytest.raises(hp.HparamError, match=r"lists 'residaul' in added_hparams, .*\(their off value\); did you "
                                             r"mean 'residual'\?$"):
        hp.check_entry(Entry(name="toy", obj=Misnamed), NodeClassification)
    # a registry default away from off would drop an explicit off from the hyperparameters, and both would be
    # labelled "default": two configurations under one label
    for entry in (Entry(name="toy", obj=ToyWithAnAddedArgument, defaults={"residual": 0.5}),
                  Entry(name="toy", obj=ToyWithAnAddedArgument, dataset_defaults={"Cora": {"residual": 0.5}})):
        with pytest.raises(hp.HparamError, match="sets the added argument 'residual' to 0.5 in .*off value 0.0"):
            hp.check_entry(entry, NodeClassification)


def test_every_builtin_entry_has_valid_defaults_for_each_of_its_tasks():
    for entry in MODELS.entries():
        for task in entry.tasks:
            hp.check_entry(entry, TASKS.get(task).obj)


class KeywordOnly:
    """A plugin model whose hyperparameters are keyword-only."""

    def __init__(self, in_channels: int, out_channels: int, *, hidden_channels: int = 16) -> None:
        self.hidden_channels = hidden_channels


def test_a_keyword_only_constructor_argument_is_a_hyperparameter():
    entry = Entry(name="kw", obj=KeywordOnly)
    assert hp.resolve(entry, NodeClassification, {})["hidden_channels"] == 16
    assert hp.resolve(entry, NodeClassification, {"hidden_channels": 8})["hidden_channels"] == 8


@pytest.mark.parametrize(("value", "ok"), [(0.0, True), (1.0, True), (1.01, False), (-0.1, False)])
def test_the_dropout_range_is_closed(value, ok):
    assert (hp.range_problem("dropout", value) is None) == ok


class FitsItself(Toy):
    """A model with its own training loop: its keys replace the task's."""

    fit_hparams = {"rounds": 3}


def test_a_later_source_overrides_an_earlier_one_key_by_key():
    # constructor default < task training default < registry default < that dataset's default < the suite
    entry = Entry(name="toy", obj=Toy, defaults={"hidden_channels": 32, "lr": 0.05},
                  dataset_defaults={"Cora": {"hidden_channels": 8}})
    assert hp.resolve(entry, NodeClassification, {}) == {"hidden_channels": 32, "lr": 0.05, "weight_decay": 5e-4}
    assert hp.resolve(entry, NodeClassification, {}, "Cora") == {"hidden_channels": 8, "lr": 0.05,
                                                                 "weight_decay": 5e-4}
    assert hp.resolve(entry, NodeClassification, {}, "PubMed")["hidden_channels"] == 32  # another dataset's
    assert hp.resolve(entry, NodeClassification, {"hidden_channels": 4}, "Cora")["hidden_channels"] == 4
    assert hp.defaults(entry, NodeClassification, "Cora") == hp.resolve(entry, NodeClassification, {}, "Cora")


def test_a_model_with_its_own_fit_takes_its_training_keys_not_the_tasks():
    entry = Entry(name="own", obj=FitsItself)
    assert hp.resolve(entry, NodeClassification, {"rounds": 5}) == {"hidden_channels": 64, "rounds": 5}
    with pytest.raises(hp.HparamError, match="unknown hyperparameter 'lr' for model 'own'"):
        hp.resolve(entry, NodeClassification, {"lr": 0.1})


def test_hparams_split_into_constructor_and_training_arguments():
    built, train = hp.split(Toy, {"hidden_channels": 16, "lr": 0.1, "weight_decay": 0.0})
    assert built == {"hidden_channels": 16} and train == {"lr": 0.1, "weight_decay": 0.0}


def test_a_whole_number_for_a_float_is_that_float_so_both_writings_are_one_configuration():
    entry = Entry(name="toy", obj=Annotated)
    given = {"layers": [1], "rate": 1}
    one, other = hp.resolve(entry, NodeClassification, given), hp.resolve(entry, NodeClassification, {**given,
                                                                                                        "rate": 1.0})
    assert one == other and type(one["rate"]) is float
    assert type(hp.resolve(entry, NodeClassification, {**given, "seed": 3})["seed"]) is int  # an int stays
    assert type(hp.resolve(entry, NodeClassification, {**given, "lr": 1})["lr"]) is float  # a training key too


class Floats:
    """A plugin constructor with floats inside optionals and containers."""

    def __init__(self, in_channels: int, out_channels: int, scale: float | None = None, widths: list[float] = (1.0,),
                 act: dict[str, float] | None = None, pair: tuple[float, int] = (0.5, 1), either: int | float = 1
                 ) -> None:
        pass


def test_a_whole_number_for_a_float_is_that_float_in_an_optional_or_a_container_too():
    entry = Entry(name="toy", obj=Floats)
    whole = hp.resolve(entry, NodeClassification, {"scale": 1, "widths": [1, 2], "act": {"a": 1}, "pair": [1, 2]})
    assert whole == hp.resolve(entry, NodeClassification, {"scale": 1.0, "widths": [1.0, 2.0], "act": {"a": 1.0},
                                                           "pair": [1.0, 2]})
    assert [type(v) for v in (whole["scale"], *whole["widths"], whole["act"]["a"], *whole["pair"])] == \
        [float, float, float, float, float, int]
    assert hp.resolve(entry, NodeClassification, {"scale": None})["scale"] is None
    assert type(hp.resolve(entry, NodeClassification, {"either": 3})["either"]) is int  # an int or a float: kept


@pytest.mark.parametrize(("key", "value", "ok"), [
    ("lr", 0.0, True), ("lr", -1e-3, False), ("weight_decay", -1e-6, False),
    ("hidden_channels", 1, True), ("hidden_channels", 0, False), ("heads", 0, False), ("num_layers", 0, False),
    ("batch_size", 0, False), ("eval_batch_size", 1, True), ("warmup_epochs", 0, True), ("warmup_epochs", -1, False),
    ("seed", 2**32 - 1, True), ("seed", 2**32, False), ("split_seed", -1, False),
    ("K", 0, True), ("K", -1, False), ("lr_factor", 1.0, False), ("lr_factor", 0.5, True), ("lr_factor", 0.0, False),
    ("tau", 0.0, False), ("grad_max_norm", -1.0, False), ("num_negatives", 0, False),
    ("alpha", -5.0, True),  # no conventional range: not checked
    ("dropout", True, True),  # a bool is no number here; its type is checked elsewhere
])
def test_conventional_names_have_their_ranges(key, value, ok):
    assert (hp.range_problem(key, value) is None) == ok
