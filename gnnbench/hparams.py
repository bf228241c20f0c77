"""Hyperparameters: what a model accepts, its defaults, and type checks against its signature.

A run's hyperparameters are one flat mapping. Architecture keys go to the model's constructor; training keys
(``lr``, ``weight_decay``, ...) go to the task's training protocol, or to the model's own ``fit`` when it
overrides the protocol. Defaults come from, in increasing priority: the constructor's signature, the task's
training defaults, the model's ``fit_hparams``, the registry entry's ``defaults``, the entry's
``dataset_defaults`` for the run's dataset (a method's official per-dataset settings), and finally the suite.
"""

from __future__ import annotations

import inspect
import math
import sys
import types
import typing
from collections import abc
from collections.abc import Mapping
from typing import Any

import yaml

from gnnbench.errors import did_you_mean, quoted
from gnnbench.registry import DATASETS, Entry, defined_in

#: Constructor arguments the task fills from the data, never from a suite (``level``: graph- or node-level
#: targets, passed by the graph tasks to models that can read out either; ``num_nodes``: the node count of
#: an event stream, passed by the temporal task).
DATA_ARGS = ("in_channels", "out_channels", "level", "num_nodes")


class HparamError(ValueError):
    """``key`` is the offending hyperparameter; the suite turns this into a located ConfigError."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class OptionError(HparamError):
    """The value of ``key`` alone is wrong (on the run's device): no dataset and no other hyperparameter bears on it.
    A suite reports :attr:`problem` at the key it sets, without the grid point and the dataset that an error of a
    combination names; the text itself names the key (``load_mode: expected ...``) for a caller outside a suite."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(key, f"{key}: {problem}")
        self.problem = problem


class MissingHparam(HparamError):
    """A constructor argument without a default that neither the suite nor the registry sets: the suite has no
    key of it to point at."""


def constructor_params(model_cls: type) -> dict[str, inspect.Parameter]:
    """The constructor's named parameters a suite may set."""
    sig = inspect.signature(model_cls.__init__)
    return {
        name: p
        for name, p in list(sig.parameters.items())[1:]
        if name not in DATA_ARGS and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def training_defaults(entry: Entry, task_cls: type) -> dict[str, Any]:
    """Training-protocol keys and their defaults: the task's, or the model's own when it overrides ``fit``."""
    own = getattr(entry.obj, "fit_hparams", None)
    return dict(own) if own is not None else dict(getattr(task_cls, "train_hparams", {}))


def training_keys(entry: Entry, task_cls: type) -> dict[str, Any]:
    """Every training key a suite may set: the defaults plus the task's optional keys (absent unless set)."""
    return {**optional_training_keys(entry, task_cls), **training_defaults(entry, task_cls)}


def optional_training_keys(entry: Entry, task_cls: type) -> dict[str, Any]:
    """The task's optional training keys at their off values (none for a model that trains itself)."""
    return {} if getattr(entry.obj, "fit_hparams", None) is not None else getattr(
        task_cls, "optional_train_hparams", {})


def defaults(entry: Entry, task_cls: type, dataset: str | None = None) -> dict[str, Any]:
    """Every hyperparameter with a default, as a run on ``dataset`` would get it when the suite sets nothing."""
    merged = constructor_defaults(entry.obj)
    merged.update(training_defaults(entry, task_cls))
    merged.update(entry.defaults)
    if dataset is not None:
        merged.update(entry.dataset_defaults.get(dataset, {}))
    return merged


def set_away(keys: abc.Iterable[str], hparams: Mapping[str, Any], default: Mapping[str, Any]) -> list[str]:
    """Those of ``keys`` that ``hparams`` sets away from ``default``, what the run resolves when nothing sets them:
    at it, an unread key makes no other run; away from it, another run id for the same runs."""
    return [k for k in keys if k in hparams and hparams[k] != default.get(k)]


def check_unread(unread: Mapping[str, tuple[str, str]], hparams: Mapping[str, Any], default: Mapping[str, Any]
                 ) -> None:
    """Refuse the first key of ``unread`` (key -> (who leaves it unread, why)) that ``hparams`` sets away from
    ``default`` (:func:`set_away`): it would make another run id for the same runs, which the leaderboard could
    name as the selected setting."""
    if away := set_away(unread, hparams, default):
        key = away[0]
        reader, why = unread[key]
        raise HparamError(key, f"{reader} does not read '{key}' here: {why}; remove it")


def _public_name(cls: type) -> str:
    """``torch.nn.Module`` for ``torch.nn.modules.module.Module``: the name users write, where the package exports
    the class, else its defining module's."""
    package = cls.__module__.split(".")
    for depth in range(1, len(package) + 1):
        if getattr(sys.modules.get(".".join(package[:depth])), cls.__qualname__, None) is cls:
            return f"{'.'.join(package[:depth])}.{cls.__qualname__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def check_entry(entry: Entry, task_cls: type) -> None:
    """The entry's ``defaults`` and each of its ``dataset_defaults`` mappings hold only keys a suite could set,
    of the declared types: they are hashed into run ids, so a misspelt key must not be ignored silently, nor a
    mistyped value fail every run; ``added_hparams`` names constructor arguments with an off value. Training keys
    depend on the task, so this runs when a suite resolves. The constructor takes every argument the task fills
    from the data (``model_args``), each method the task calls that the class defines takes the task's arguments
    (``model_call``; a missing one is found once the model is built, :meth:`Task.check_call`), and the model is a
    class of the task's ``model_base``."""
    from gnnbench.tasks.base import call_problem  # the tasks import this module

    base = task_cls.model_base
    if not (isinstance(entry.obj, type) and issubclass(entry.obj, base)):
        raise HparamError("", f"model '{entry.name}' ({defined_in(entry.obj)}) is not a subclass of "
                              f"{_public_name(base)}; expected one: task '{task_cls.name}' builds and "
                              "trains its models as such")
    params = constructor_params(entry.obj)
    signature = inspect.signature(entry.obj.__init__).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.values())
    for name in task_cls.model_args:
        if name not in signature and not takes_any:
            raise HparamError(name, f"model '{entry.name}' ({defined_in(entry.obj)}) takes no '{name}'; task "
                                    f"'{task_cls.name}' builds its models with {', '.join(task_cls.model_args)} "
                                    "(filled in from the data)")
    if found := call_problem(task_cls, entry.obj):
        raise HparamError("", f"model '{entry.name}' ({defined_in(entry.obj)}) {found[1]}")
    sources = {"defaults": entry.defaults,
               **{f"dataset_defaults[{d!r}]": values for d, values in entry.dataset_defaults.items()}}
    for name in added_hparams(entry.obj):
        if name not in params or params[name].default is params[name].empty:
            defaulted = [k for k, p in params.items() if p.default is not p.empty]
            raise HparamError(name, f"model '{entry.name}' ({defined_in(entry.obj)}) lists '{name}' in "
                                    "added_hparams, which name constructor arguments with a default (their off "
                                    f"value){'' if name in params else did_you_mean(name, defaulted)}")
        for where, values in sources.items():
            if name in values and values[name] != params[name].default:  # its runs would not be the old ones
                raise HparamError(name, f"the registry entry of model '{entry.name}' ({defined_in(entry.obj)}) "
                                        f"sets the added argument '{name}' to {quoted(values[name])} in {where}; an "
                                        f"added argument keeps its off value {quoted(params[name].default)} by default")
    train = training_keys(entry, task_cls)
    for where, values in sources.items():
        try:
            check_kwargs(entry.obj, values, "hyperparameter", f"model '{entry.name}'", extra=train)
        except HparamError as exc:
            raise HparamError(exc.key, f"the registry entry of model '{entry.name}' ({defined_in(entry.obj)}) has "
                                       f"{where} that task '{task_cls.name}' cannot take: {exc}") from None


def check_dataset_defaults(entry: Entry, datasets: abc.Collection[str]) -> None:
    """A ``dataset_defaults`` name that is no registered dataset but one of ``datasets`` (those a suite runs the
    model on) written in other case or punctuation (``cora`` or ``Cora_`` for ``Cora``) is misspelt: those runs
    would take ``defaults`` with no word. It is checked when the suite resolves, after its plugins have registered
    their datasets. Any other name is kept, close or not, since a model may hold the official settings of a
    dataset that only a plugin registers (DGMLP's ``PubMed`` beside ``PubMed-raw``; ``Cora-full`` is no misspelt
    ``Cora-raw``)."""
    runs = {_folded(d): d for d in datasets}
    for name in entry.dataset_defaults:
        if name not in DATASETS and (meant := runs.get(_folded(str(name)), name)) != name:
            raise HparamError("", f"the registry entry of model '{entry.name}' ({defined_in(entry.obj)}) has "
                                  f"dataset_defaults[{name!r}], which names no registered dataset, so this suite's "
                                  f"runs would not take them; did you mean {meant!r}?")


def _folded(name: str) -> str:
    """``name`` without case or punctuation: ``ogbn_arxiv`` and ``ogbn-Arxiv`` are one name misspelt."""
    return "".join(c for c in name.casefold() if c.isalnum())


def resolve(entry: Entry, task_cls: type, overrides: Mapping[str, Any], dataset: str | None = None) -> dict[str, Any]:
    """Defaults (those of ``dataset`` included) updated by ``overrides``, every key known and every value of
    the declared type; an argument in the model's ``added_hparams``, and a task's optional training key the
    model's defaults do not set, are left out while at their off value: setting one to it is the same run."""
    params = constructor_params(entry.obj)
    train = training_keys(entry, task_cls)
    check_kwargs(entry.obj, overrides, "hyperparameter", f"model '{entry.name}'", extra=train)
    base = defaults(entry, task_cls, dataset)
    resolved = {**base, **overrides}
    missing = [n for n in params if n not in resolved]
    if missing:
        raise MissingHparam(missing[0], f"{missing[0]} is required (the constructor of model '{entry.name}' has no "
                                        "default for it)")
    off = {name: params[name].default for name in added_hparams(entry.obj)}
    off |= {k: v for k, v in optional_training_keys(entry, task_cls).items() if k not in base}
    return {k: v for k, v in as_declared(entry.obj, resolved, train).items() if not (k in off and v == off[k])}


def constructor_defaults(model_cls: type) -> dict[str, Any]:
    """The constructor's arguments that have a default, at that default."""
    return {n: p.default for n, p in constructor_params(model_cls).items() if p.default is not p.empty}


def as_built(model_cls: type, hparams: Mapping[str, Any]) -> dict[str, Any]:
    """``hparams`` with the constructor's defaults for the arguments they leave out (an added argument at its
    off value): every argument the model is built with."""
    return {**constructor_defaults(model_cls), **hparams}


def added_hparams(model_cls: type) -> tuple[str, ...]:
    """Constructor arguments added after results existed (the class attribute ``added_hparams``). Each one's
    default is its off value, the behaviour before it existed, and a run's hyperparameters hold it only when set
    to something else, so adding one never changes existing run ids (as ``added_option`` for task and scenario
    options)."""
    return tuple(getattr(model_cls, "added_hparams", ()))


def as_declared(target: type, values: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``values`` with a whole number given for a float parameter of ``target`` (or ``extra`` key) made that
    float, within an optional or a container too (``float | None``, ``list[float]``, ``dict[str, float]``): 0 and
    0.0 are one configuration, with one run_id and one leaderboard row."""
    expected = _expected_types(target, dict(extra or {}))
    return {key: _declared(value, expected.get(key)) for key, value in values.items()}


def _declared(value: Any, expected: Any) -> Any:
    """``value`` (checked against ``expected`` by :func:`check_kwargs`) with each whole number where the
    annotation takes a float and no integer made that float; anything else as it is."""
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        fitting = [a for a in args if _matches(value, a)]
        if type(value) is int:
            return float(value) if float in fitting and int not in fitting else value
        return _declared(value, fitting[0]) if len(fitting) == 1 else value
    if type(value) is int:
        return float(value) if expected is float else value
    container = origin or expected
    if not (args and isinstance(container, type)):
        return value
    if isinstance(value, list) and _is_sequence(container):
        items = args if _fixed_length(container, args) else [args[0]] * len(value)
        return [_declared(v, a) for v, a in zip(value, items, strict=True)]
    if isinstance(value, dict) and issubclass(container, abc.Mapping):
        return {k: _declared(v, args[1]) for k, v in value.items()}
    return value


#: other libraries' names for a conventional hyperparameter that are too unlike gnnbench's for a spelling match
#: to suggest it (``learning_rate`` for ``lr``; ``l2`` would be read as ``lr``)
SYNONYMS = {"learning_rate": "lr", "wd": "weight_decay", "l2": "weight_decay"}


def check_kwargs(target: type, values: Mapping[str, Any], what: str, owner: str,
                 extra: Mapping[str, Any] | None = None) -> None:
    """Every key of ``values`` is a parameter of ``target`` (or of ``extra``) and has the declared type, and a
    number under a conventional name lies in that name's range (:func:`range_problem`).

    Types come from the constructor's annotations, else from the type of the default (so ``extra``
    keys, which have no annotations, are checked against their default values).
    """
    params = constructor_params(target)
    extra = dict(extra or {})
    known = set(params) | set(extra)
    types = _expected_types(target, extra)
    for key, value in values.items():
        if key not in known:
            accepted = f"accepted: {', '.join(sorted(known))}" if known else f"it takes no {what}s"
            meant = synonym if (synonym := SYNONYMS.get(key.casefold())) in known else key
            raise HparamError(key, f"unknown {what} '{key}' for {owner}{did_you_mean(meant, known)} ({accepted})")
        expected = types[key]
        if expected is not None and not _matches(value, expected):
            raise HparamError(key, f"expected {_describe(expected)} for '{key}', got {quoted(value)}"
                                   f"{number_hint(value, expected)}")
        if problem := range_problem(key, value):
            raise HparamError(key, problem)


#: NumPy's largest seed: every seed a run draws from (its own, a split's, a negative sampler's) stays within it.
MAX_SEED = 2**32 - 1


def range_problem(key: str, value: Any) -> str | None:
    """What is wrong with a number under a name whose meaning is conventional: a dropout probability outside
    [0, 1], a negative learning rate (``lr``, ``*_lr``) or weight decay, a width (``*channels``), head count
    (``*heads``), ``num_layers``, ``*batch_size`` or a count of ``num_negatives`` below 1, a ``*_epochs`` count
    below 0, a ``*seed`` outside [0, :data:`MAX_SEED`], propagation steps ``K`` or a schedule's
    ``lr_patience``/``lr_step`` below 0, an ``lr_factor`` outside (0, 1) (negative, it reverses the steps; above
    1 it raises the rate), a ``tau``, ``temperature`` or ``grad_max_norm`` not above 0 (a negative clipping norm
    reverses the gradient). Every seed of such a run would fail, or train silently otherwise than asked, so the
    suite says so before anything runs. None when the value is fine."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if key.endswith("seed") and not 0 <= value <= MAX_SEED:
        return f"'{key}' is a seed: expected an integer in [0, {MAX_SEED}] (NumPy's limit), got {quoted(value)}"
    if key.endswith("batch_size") and not value >= 1:
        return f"'{key}' is a size: expected at least 1, got {quoted(value)}"
    if key.endswith("_epochs") and not value >= 0:
        return f"'{key}' counts epochs: expected at least 0, got {quoted(value)}"
    if key.endswith("dropout") and not 0 <= value <= 1:
        return f"'{key}' is a probability: expected a number in [0, 1], got {quoted(value)}"
    if (key == "lr" or key.endswith("_lr")) and not value >= 0:
        return f"expected a learning rate of at least 0 for '{key}', got {quoted(value)}"
    if key == "weight_decay" and not value >= 0:
        return f"expected a weight decay of at least 0 for 'weight_decay', got {quoted(value)}"
    if key.endswith(("channels", "heads")) or key == "num_layers":
        return None if value >= 1 else f"'{key}' is a size: expected at least 1, got {quoted(value)}"
    if key == "num_negatives" and not value >= 1:
        return f"'{key}' is a count: expected at least 1, got {quoted(value)}"
    if key in ("K", "lr_patience", "lr_step") and not value >= 0:
        what = "propagation steps" if key == "K" else "epochs (0: off)"
        return f"'{key}' counts {what}: expected at least 0, got {quoted(value)}"
    if key == "lr_factor" and not 0 < value < 1:
        return f"'lr_factor' scales the learning rate down: expected a number in (0, 1), got {quoted(value)}"
    if key in ("tau", "temperature", "grad_max_norm") and not value > 0:
        return f"'{key}' divides or bounds a scale: expected a positive number, got {quoted(value)}"
    return None


def number_hint(value: Any, expected: Any) -> str:
    """Why a number of type ``expected`` may have arrived as text: YAML 1.1 floats need a dot and a signed
    exponent, so unquoted ``1e-3`` and ``1e3`` are strings. Empty unless ``value`` is such a string."""
    if not isinstance(value, str):
        return ""
    try:
        number = float(value)
    except ValueError:
        return ""
    try:
        unquoted = yaml.safe_load(value)
    except ValueError:  # an integer past the digits Python reads from text: unquoted, YAML reads it as a number
        return ""
    if not isinstance(unquoted, str):  # a quoted number: the quotes are the mistake, in plain sight
        return ""
    if _matches(number, expected):
        written = repr(number)
        mantissa, _, exponent = value.strip().lower().partition("e")
        if exponent:
            mantissa = mantissa if "." in mantissa else f"{mantissa}.0"
            written = f"{mantissa}e{exponent if exponent[0] in '+-' else '+' + exponent} or {written}"
    elif number.is_integer() and _matches(int(number), expected):
        written = str(int(number))
    else:
        return ""
    return f" (YAML reads {value} as text; write {written})"


def declared_fit(target: type, key: str, value: Any) -> bool:
    """Whether ``value`` has the type ``target`` declares for its argument ``key`` (False where it declares none)."""
    expected = _expected_types(target, {}).get(key)
    return expected is not None and _matches(value, expected)


def split(model_cls: type, hparams: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(constructor kwargs, training kwargs)."""
    params = constructor_params(model_cls)
    return ({k: v for k, v in hparams.items() if k in params}, {k: v for k, v in hparams.items() if k not in params})


def _expected_types(target: type, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The type each parameter of ``target`` (and each ``extra`` key) must have: its annotation, else its
    default's type (None when neither says). Read once per call, not once per key."""
    params, hints = constructor_params(target), _type_hints(target)
    defaults = {**extra, **{name: p.default for name, p in params.items()}}
    return {key: hints.get(key) or _type_of_default(default) for key, default in defaults.items()}


def _type_hints(model_cls: type) -> dict[str, Any]:
    """The constructor's annotations, each resolved on its own: one that cannot be (a name imported only for type
    checkers) leaves its argument to its default's type, and every other argument checked."""
    init = model_cls.__init__
    try:
        return typing.get_type_hints(init)
    except Exception:  # some annotation does not resolve: resolve them one at a time
        pass
    hints = {}
    namespace = getattr(init, "__globals__", {})
    for name, annotation in inspect.get_annotations(init).items():
        try:
            hints[name] = eval(annotation, namespace) if isinstance(annotation, str) else annotation
        except Exception:  # any error of an unresolvable expression: this argument alone goes unchecked
            continue
    return hints


def _type_of_default(default: Any) -> Any:
    if default is None or default is inspect.Parameter.empty:
        return None
    return type(default) if isinstance(default, (bool, int, float, str)) else None


def _matches(value: Any, expected: Any) -> bool:
    """Whether ``value`` (as YAML gives it: lists for sequences) fits the annotation ``expected``, checking the
    items of containers too; what cannot be checked (type variables, forward references) passes."""
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if expected is Any:
        return True
    if origin is typing.Literal:
        return value in args
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in args)
    if expected is type(None):
        return value is None
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    container = origin or expected
    if not isinstance(container, type):
        return True
    if _is_sequence(container):
        if not isinstance(value, abc.Sequence) or isinstance(value, (str, bytes)):
            return False
        if _fixed_length(container, args):
            return len(value) == len(args) and all(_matches(v, a) for v, a in zip(value, args, strict=True))
        return not args or all(_matches(v, args[0]) for v in value)
    if issubclass(container, abc.Mapping):
        return isinstance(value, abc.Mapping) and (not args or all(
            _matches(k, args[0]) and _matches(v, args[1]) for k, v in value.items()))
    return isinstance(value, container)


def _is_sequence(container: type) -> bool:
    """A list-like annotation (``list``, ``tuple``, ``Sequence``...); text is a sequence too, but not a list."""
    return issubclass(container, abc.Sequence) and not issubclass(container, (str, bytes))


def _fixed_length(container: type, args: tuple[Any, ...]) -> bool:
    """``tuple[int, str]``: one type per position (``tuple[int, ...]`` is any length, as a list)."""
    return container is tuple and bool(args) and args[-1] is not Ellipsis


def _describe(expected: Any) -> str:
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if expected is type(None):
        return "null"
    container = origin or expected
    if isinstance(container, type) and _is_sequence(container):
        if _fixed_length(container, args):
            return f"a list of {len(args)} items ({', '.join(_describe(a) for a in args)})"
        return "a list" + (f" (each item {_describe(args[0])})" if args else "")
    if isinstance(container, type) and issubclass(container, abc.Mapping):
        return "a mapping" + (f" (each key {_describe(args[0])}, each value {_describe(args[1])})" if args else "")
    name = getattr(expected, "__name__", str(expected))
    return {"int": "an integer", "float": "a finite number", "bool": "true or false", "str": "a string"}.get(name, name)
