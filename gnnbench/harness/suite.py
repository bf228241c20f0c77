"""Suites: a YAML file parsed, validated and expanded into fully resolved :class:`RunSpec` objects.

::

    name: node_classification          # results go to results/<name>/
    plugins: [my_models.py]            # optional: modules or files that register models
    defaults: {seeds: 10, epochs: 1000, patience: 100, device: cpu, kernel: scatter}
    #          scenario: {name: label_noise, rate: 0.2}   # or a list of scenarios (a grid axis); none: clean
    executor: local                    # or {type: process, workers: 2}, or {type: ray, address: HOST:PORT}
    experiments:
      - name: planetoid
        task: node_classification      # or {name: node_classification, split: random, train_fraction: 0.6}
        datasets: [Cora, CiteSeer]
        models:
          - gcn
          - name: gat
            hparams: {lr: [0.005, 0.01]}   # a list is a grid axis; write [[a, b]] for a list-valued value

Every experiment key can be set under ``defaults``. Every error names the file, the key path
(``experiments[0].models[1].hparams.lr``) and what was expected. The YAML is read strictly
(:mod:`gnnbench.harness.suite_yaml`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from gnnbench import hparams as hp
from gnnbench.errors import ConfigError, GnnbenchError, SeedError, did_you_mean, not_one_of, quoted, raised
from gnnbench.harness.executors import ray_address_problem
from gnnbench.harness.plan import PlanNote, entry_note
from gnnbench.harness.spec import SMOKE_SUFFIX, RunSpec, Suite, config_label
from gnnbench.harness.suite_yaml import read_yaml
from gnnbench.kernels import BACKENDS, candidates, model_kernels, require
from gnnbench.options import resolved_options
from gnnbench.registry import DATASETS, MODELS, SCENARIOS, TASKS, Entry, Registry, defined_in, load_plugin, serves
from gnnbench.settings import RUN_FIELDS, canonical_json, described, flatten, run_setting

T = TypeVar("T")

SUITE_KEYS = ("name", "description", "plugins", "defaults", "experiments", "executor")
EXPERIMENT_KEYS = ("name", "task", "datasets", "models", "seeds", "epochs", "patience", "device", "kernel",
                   "scenario")
#: executor type -> the keys its mapping may set
EXECUTORS = {"local": ("type",), "process": ("type", "workers"),
             "ray": ("type", "address", "num_cpus", "num_gpus", "max_retries")}
DEFAULT_BUDGET = {"epochs": 200, "patience": None, "device": "cpu", "kernel": "scatter"}
#: the most runs a suite may define: past it a typo'd count (``seeds: 100000000``) would fill the memory while
#: the suite loads, where a clear error costs nothing (split a larger study into suites)
MAX_RUNS = 1_000_000
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: the longest suite name: a folder name, well within a filesystem's 255 bytes
MAX_NAME = 100
DEVICE_RE = re.compile(r"^(cpu|auto|cuda(:\d+)?)$")
#: one grid point of a model: dataset -> (resolved hyperparameters, config label)
Point = dict[str, tuple[dict[str, Any], str]]


class _Settled(NamedTuple):
    """A grid point on one dataset as it runs (:meth:`_Expander.settled_points`)."""

    hparams: dict[str, Any]
    config: str
    dropped: set[str]  # the keys the suite set that it runs at their default, where unread
    read: set[str]  # the keys the suite set that it reads


def load_suite(path: str | Path) -> Suite:
    """Parse, validate and expand a suite file; raise :class:`ConfigError` on the first problem."""
    path = Path(path)
    return _Expander(str(path), path.parent.resolve()).suite(read_yaml(path), path)


class _Expander:
    """Walks the parsed YAML, raising located errors, and builds the run specs."""

    def __init__(self, file: str, base_dir: Path) -> None:
        self.file = file
        self.base_dir = base_dir
        self.runs = 0  # the suite's runs so far: at most MAX_RUNS
        self.notes: list[PlanNote] = []  # per model entry that runs a key at its default
        self.idle_plugins: list[str] = []  # ``plugins[i] file.py`` of each plugin that registered nothing

    def fail(self, key: str | None, message: str) -> ConfigError:
        return ConfigError(self.file, key, message)

    def idle_hint(self, kind: str) -> str:
        """For an unknown ``kind`` name: the suite's plugins that registered nothing, whose decorator is the likely
        thing missing; ``''`` when every plugin registered something."""
        if not self.idle_plugins:
            return ""
        return f" ({' and '.join(self.idle_plugins)} registered nothing: is @register_{kind} missing?)"

    def description(self, value: Any) -> str:
        if value is None or isinstance(value, str):  # `description:` left empty
            return value or ""
        raise self.fail("description", f"expected a line of text, got {_kind(value)}")

    def mapping(self, value: Any, key: str | None, allowed: tuple[str, ...],
                hint: Callable[[str], str] | None = None) -> dict:
        """``value``, checked to be a mapping of ``allowed`` keys; an unknown key gets ``hint(key)``, or else the
        closest allowed key."""
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {_kind(value)}")
        for k in value:
            if not isinstance(k, str):  # YAML's ~, a number or a list as a key: no name to show or suggest from
                raise self.fail(key, f"a key is {'null (~ or empty)' if k is None else _kind(k)}, not a name; "
                                     f"expected keys among {', '.join(allowed)}")
            if k not in allowed:
                suggestion = (hint(str(k)) if hint else "") or did_you_mean(str(k), allowed)
                raise self.fail(_join(key, str(k)), f"unknown key '{k}' (allowed: {', '.join(allowed)}){suggestion}")
        return value

    def suite(self, raw: Any, path: Path) -> Suite:
        if raw is None:
            raise self.fail(None, "the file is empty (or only comments); expected a suite: name, experiments, ...")
        raw = self.mapping(raw, None, SUITE_KEYS, lambda k: _experiment_key_hint(k, "in each experiment, or once"))
        name = raw.get("name")
        if "name" not in raw:
            raise self.fail("name", "missing; expected a suite name of letters, digits, '_', '.', '-' (it names "
                                    "the results folder)")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise self.fail("name", f"expected a suite name of letters, digits, '_', '.', '-', got {quoted(name)}")
        if len(name) > MAX_NAME:
            raise self.fail("name", f"expected a suite name of at most {MAX_NAME} characters (it names the results "
                                    f"folder, and with '{SMOKE_SUFFIX}' its smoke checks' folder), got {len(name)}")
        if name.endswith(SMOKE_SUFFIX):
            raise self.fail("name", f"{quoted(name)} ends in '{SMOKE_SUFFIX}', which names the folder of suite "
                                    f"'{name.removesuffix(SMOKE_SUFFIX)}''s --smoke checks (the two would take each "
                                    "other's records); expected another name")
        plugins = self.plugins(raw.get("plugins", []))
        defaults = self.mapping(raw.get("defaults", {}), "defaults", EXPERIMENT_KEYS[1:])
        experiments = raw.get("experiments")
        if not isinstance(experiments, list) or not experiments:
            raise self.fail("experiments", f"expected a non-empty list of experiments, got {_kind(experiments)}")
        specs: list[RunSpec] = []
        dataset_keys: dict[tuple[str, str], str] = {}
        device_keys: dict[str, str] = {}
        keys: list[str] = []  # per spec, the key of its experiment
        entries: list[str] = []  # per spec, the key of its model entry
        names: dict[str, str] = {}  # experiment name -> the key that named it first
        for i, exp in enumerate(experiments):
            made = self.experiment(exp, f"experiments[{i}]", defaults, name, plugins, dataset_keys, device_keys)
            exp_name = made[0][0].experiment  # every experiment makes runs: its datasets, models and seeds are lists
            if exp_name in names:  # --only would pick both
                raise self.fail(f"experiments[{i}].name", f"experiment name '{exp_name}' is taken by "
                                f"{names[exp_name]}; expected a name of its own")
            names[exp_name] = f"experiments[{i}]"
            specs.extend(spec for spec, _ in made)
            entries.extend(entry for _, entry in made)
            keys.extend([f"experiments[{i}]"] * len(made))
        duplicates = _duplicate_ids(specs)
        if duplicates:
            first, again = duplicates[0]
            s, n = specs[again], len(duplicates)
            run = f"{s.model} on {s.dataset}, seed {s.seed}, {s.config}"
            where = "earlier in the same entry" if entries[first] == entries[again] else f"by {entries[first]} too"
            raise self.fail(entries[again], (f"{n} runs are defined twice, e.g. {run}" if n > 1 else
                                          f"1 run is defined twice: {run}") + f", {where}; remove the repeated "
                                         "model, experiment or grid value")
        labels = _task_labels(specs)
        pooled = _pooled(specs, labels)
        if pooled is not None:
            first, second = specs[pooled[0]], specs[pooled[1]]
            same_options = canonical_json(first.task_options) == canonical_json(second.task_options)
            raise self.fail(keys[pooled[1]], f"runs {second.model} on {second.dataset} ({second.config}) as "
                            f"{keys[pooled[0]]} does, but with {_differences(first, second)}: the leaderboard "
                            "would average the two as one row's seeds. Expected "
                            + ("different hyperparameters (a row of their own) or " if same_options else "")
                            + "separate suites")
        mixed = _mixed_column(specs, labels)
        if mixed is not None:
            first, second = specs[mixed[0]], specs[mixed[1]]
            options = described([flatten({"task_options": dict(s.task_options)}) for s in (first, second)])
            raise self.fail(keys[mixed[1]], f"runs {second.model} on {second.dataset} under other task options than "
                            f"{keys[mixed[0]]} runs {first.model} ({options}): the leaderboard would rank models "
                            "scored under different protocols in one column. Expected the same task options for "
                            "every model on a dataset, or separate suites")
        return Suite(name=name, path=path, specs=specs, executor=self.executor(raw.get("executor", "local")),
                     description=self.description(raw.get("description", "")), plugins=plugins,
                     dataset_keys=dataset_keys,
                     device_keys=device_keys, notes=tuple(self.notes))

    def plugins(self, value: Any) -> tuple[str, ...]:
        """One module path or .py file, or a list of them (as ``datasets:`` takes one name or a list)."""
        one = isinstance(value, str)
        value = [value] if one else value
        if not isinstance(value, list):
            raise self.fail("plugins", f"expected a list of module paths or .py files, got {_kind(value)}")
        if (bad := next((i for i, p in enumerate(value) if not isinstance(p, str)), None)) is not None:
            raise self.fail(f"plugins[{bad}]", f"expected a module path or .py file, got {_kind(value[bad])}")
        resolved = []
        for i, written in enumerate(value):
            key = "plugins" if one else f"plugins[{i}]"
            spec = str((self.base_dir / written).resolve()) if written.endswith(".py") else written
            try:
                registered = load_plugin(spec, self.base_dir)
            except GnnbenchError as exc:
                raise self.fail(key, str(exc)) from None
            if not registered:
                self.idle_plugins.append(f"{key} {written}")
            resolved.append(spec)
        return tuple(resolved)

    def executor(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            value = {"type": value}
        if not isinstance(value, dict):  # an empty ``executor:`` included: no type to name
            raise self.fail("executor", f"expected an executor name ({', '.join(EXECUTORS)}) or a mapping with "
                                        f"its type and settings ({{type: ray, address: HOST:PORT}}), got "
                                        f"{_kind(value)}")
        if not isinstance(value.get("type"), str) or value["type"] not in EXECUTORS:
            if "type" not in value:
                raise self.fail("executor.type", f"missing; expected one of {', '.join(EXECUTORS)} (the executor "
                                                 f"mapping has {', '.join(map(str, value)) or 'no keys'})")
            got = value["type"]
            raise self.fail("executor.type", not_one_of(got, EXECUTORS))
        value = dict(self.mapping(value, "executor", EXECUTORS[value["type"]]))
        for key in ("workers", "max_retries"):
            if key in value and not _is_int(value[key], minimum=1 if key == "workers" else 0):
                raise self.fail(f"executor.{key}", f"expected a {'positive' if key == 'workers' else 'non-negative'} "
                                                   f"integer, got {quoted(value[key])}"
                                                   f"{hp.number_hint(value[key], int)}")
        for key in ("num_cpus", "num_gpus"):
            if key in value and not _is_number(value[key], positive=key == "num_cpus"):
                raise self.fail(f"executor.{key}", f"expected a {'positive' if key == 'num_cpus' else 'non-negative'} "
                                                   f"number (fractions allowed), got {quoted(value[key])}"
                                                   f"{hp.number_hint(value[key], float)}")
        if "address" in value and (problem := ray_address_problem(value["address"])):
            raise self.fail("executor.address", problem)
        return value

    def experiment(self, raw: Any, key: str, defaults: dict, suite: str, plugins: tuple[str, ...],
                   dataset_keys: dict[tuple[str, str], str], device_keys: dict[str, str]
                   ) -> list[tuple[RunSpec, str]]:
        """The experiment's runs, each with the key of the model entry that defines it."""
        raw = self.mapping(raw, key, EXPERIMENT_KEYS)

        def get(k: str, fallback: Any = None) -> tuple[Any, str]:
            if k in raw:
                return raw[k], _join(key, k)
            if k in defaults:
                return defaults[k], _join("defaults", k)
            return fallback, _join(key, k)

        exp_name = raw.get("name", key)
        if not isinstance(exp_name, str) or not exp_name.strip():
            raise self.fail(_join(key, "name"), f"expected a non-empty string, got {_kind(exp_name)}")
        task_value, task_key = get("task")
        task_name, task_options = self.task(task_value, task_key)
        located = self.datasets(*get("datasets"), task_name)
        dataset_keys.update({(exp_name, name): item_key for name, item_key in located.items()})
        datasets = list(located)
        seeds_value, seeds_key = get("seeds", [0])
        seeds = self.seeds(seeds_value, seeds_key)
        listed = {seed: f"{seeds_key}[{i}]" for i, seed in enumerate(seeds)} if isinstance(seeds_value, list) else {}
        epochs, epochs_key = get("epochs", DEFAULT_BUDGET["epochs"])
        if not _is_int(epochs, minimum=1):
            raise self.fail(epochs_key, f"expected a positive integer number of epochs, got {quoted(epochs)}"
                                        f"{hp.number_hint(epochs, int)}")
        patience, patience_key = get("patience", DEFAULT_BUDGET["patience"])
        if patience is not None and not _is_int(patience, minimum=1):
            raise self.fail(patience_key, f"expected a positive integer or null (no early stopping), got "
                                          f"{quoted(patience)}{hp.number_hint(patience, int)}")
        device, device_key = get("device", DEFAULT_BUDGET["device"])
        if not isinstance(device, str) or not DEVICE_RE.match(device):
            raise self.fail(device_key, f"expected cpu, cuda, cuda:N or auto, got {quoted(device)}")
        device_keys.setdefault(device, device_key)
        kernel, kernel_key = get("kernel", DEFAULT_BUDGET["kernel"])
        self.kernel(kernel, kernel_key, task_name)
        scenarios = self.scenarios(*get("scenario"), task_name, datasets)
        models_value, models_key = get("models")
        one = isinstance(models_value, (str, dict))  # one model, as `datasets: Cora` is one dataset
        models_value = [models_value] if one else models_value
        if not isinstance(models_value, list) or not models_value:
            raise self.fail(models_key, f"expected a non-empty list of models, got {_kind(models_value)}")
        specs, models = [], []
        for j, model_raw in enumerate(models_value):
            model_key = models_key if one else f"{models_key}[{j}]"
            model, grid = self.model(model_raw, model_key, task_name, datasets, (scenarios, seeds))
            self.model_kernel(model, model_key, kernel, kernel_key)
            models.append(model)
            points, unread = self.settled_points(task_name, task_options, task_key, model, model_key, grid, seeds,
                                                 lambda seed: listed.get(seed, seeds_key), device)
            made = [RunSpec(task=task_name, task_options=task_options, dataset=dataset, model=model, hparams=hparams,
                            seed=seed, epochs=epochs, patience=patience, device=device, kernel=kernel,
                            scenario=scenario, suite=suite, experiment=exp_name, config=config, plugins=plugins)
                    for point in points for dataset, (hparams, config) in point.items()
                    for scenario, seed in itertools.product(scenarios, seeds)]
            self.runs += len(made)
            if unread:  # the plan says so: the labels alone would not (a point left out, a value not in its label)
                self.notes.append(entry_note(model_key, model, len(grid), datasets, made, unread))
            specs.extend((spec, model_key) for spec in made)
        self.installed(kernel, kernel_key, task_name, models)
        return specs

    def check_budget(self, points: int, datasets: int, scenarios: int, seeds: int, key: str) -> None:
        """Raises where the unmerged grid of ``key`` would take the suite past :data:`MAX_RUNS`: checked before the
        grid is expanded (merging its points resolves and checks every one, the work a typo'd grid must not
        cost); :meth:`experiment` adds the runs each model entry makes once merged."""
        runs = points * datasets * scenarios * seeds
        if self.runs + runs > MAX_RUNS:
            raise self.fail(key, f"this model adds up to {runs:,} runs ({points:,} grid points x {datasets} datasets "
                                 f"x {scenarios} scenarios x {seeds:,} seeds, before merging the points that make "
                                 f"one run), bringing the suite to {self.runs + runs:,}; expected at most "
                                 f"{MAX_RUNS:,}: split the study into suites")

    def kernel(self, kernel: Any, key: str, task: str) -> None:
        """A known backend that this task can hand its models (whether it is installed: :meth:`installed`)."""
        if not isinstance(kernel, str) or kernel not in BACKENDS:
            raise self.fail(key, not_one_of(kernel, BACKENDS))
        task_kernels = TASKS.get(task).obj.kernels
        if kernel != "auto" and kernel not in task_kernels:
            raise self.fail(key, f"task '{task}' cannot run kernel '{kernel}' (it runs: "
                                 f"{', '.join(task_kernels)}, or auto)")

    def model_kernel(self, model: str, model_key: str, kernel: str, kernel_key: str) -> None:
        """The model must support the experiment's backend (``auto`` picks among those it supports)."""
        supported = model_kernels(MODELS.get(model))
        if kernel != "auto" and kernel not in supported:
            raise self.fail(model_key, f"model '{model}' cannot run with kernel '{kernel}' (set at {kernel_key}); "
                                       f"it supports: {', '.join(supported)}, or auto")

    def installed(self, kernel: str, key: str, task: str, models: list[str]) -> None:
        """The experiment's backend must be installed here; the error suggests instead only the backends that its
        task and every one of its ``models`` can run (the key sets the backend of them all)."""
        runnable = [candidates(model_kernels(MODELS.get(model)), TASKS.get(task).obj.kernels) for model in models]
        try:
            require(kernel, [k for k in runnable[0] if all(k in other for other in runnable[1:])])
        except GnnbenchError as exc:
            raise self.fail(key, str(exc)) from None

    def settled_points(self, task: str, options: dict[str, Any], task_key: str, model: str, model_key: str,
                       grid: list[tuple[dict[str, Any], dict[str, str], Point]], seeds: list[int],
                       seed_key: Callable[[int], str], device: str) -> tuple[list[Point], dict[str, set[str]]]:
        """The grid points (each with the hyperparameters it sets, as written, and their keys) as they run, and the
        keys they run at their default -> datasets (the plan's note: :func:`plan.entry_note`). A hyperparameter the
        suite sets away from its default and a point leaves unread on a dataset (:meth:`Task.unread_hparams` there,
        a model's ``unread_hparams(hparams)``) runs at its default at that point where another point, on any of the
        datasets, reads it (the one-layer point of a grid over ``num_layers`` that sets a width): the same run as
        had the suite not set it, and a point that thereby repeats an earlier one is left out on that dataset. Where
        no point reads it, it would only be another run id for the same runs: refused. A key without a default (a
        constructor argument the suite must set) is kept where it is unread. Every point then passes the task's
        :meth:`Task.check_run` with every seed and the model's ``check_hparams(hparams, device)`` where it has one
        (the model's hooks are given every constructor argument, those a run leaves out included, and those the
        task's options preset: :meth:`Task.preset_model_args`); the error names the hyperparameter's key when the
        point sets it (a value wrong by itself, :class:`~gnnbench.hparams.OptionError`, at the value:
        ``load_mode[1]`` for a grid's), the model's when a default is at fault, else the task's (a preset argument
        included)."""
        task_cls = TASKS.get(task).obj
        task_options = task_cls.Options(**options)
        entry = MODELS.get(model)
        check_model = getattr(entry.obj, "check_hparams", None)
        model_unread = getattr(entry.obj, "unread_hparams", None)
        try:
            preset = task_cls.preset_model_args(task_options)
        except Exception as exc:  # a plugin task's own bug, located at the task
            raise self.fail(task_key, f"task '{task}' failed presetting its models' arguments: {raised(exc)}"
                            ) from exc
        data_args = dict.fromkeys((*task_cls.model_args, *hp.DATA_ARGS))  # never a hyperparameter
        if not isinstance(preset, dict) or not set(preset) <= set(data_args):  # another key would replace a
            # hyperparameter's value in what the model's checks see
            raise self.fail(task_key, f"task '{task}': preset_model_args returned {quoted(preset)}; expected a dict "
                                      f"of some of its model_args or other data arguments ({', '.join(data_args)})")
        defaults = {dataset: hp.defaults(entry, task_cls, dataset) for dataset in grid[0][2]}

        def settle(values: dict[str, Any], value_keys: dict[str, str], hparams: dict[str, Any], config: str,
                   dataset: str, refused: Collection[str] = ()) -> _Settled:
            """A point on ``dataset`` that sets ``values`` (each at its ``value_keys`` key), as it runs. A key it
            leaves unread away from its default runs at the default, unless it is ``refused``: then it is
            refused."""
            dropped: set[str] = set()
            checking = task_key  # whose hook runs: a plugin's own bug in it is located there
            try:
                data_entry = DATASETS.get(dataset)
                while True:  # a key run at its default may leave others unread
                    checking = task_key
                    unread = {k: (f"task '{task}'", why)
                              for k, why in task_cls.unread_hparams(hparams, data_entry).items()}
                    checking = model_key
                    built = hp.as_built(entry.obj, hparams) | preset
                    if model_unread is not None:
                        unread |= {k: (f"model '{model}'", why) for k, why in _model_hook(model_unread, built).items()}
                    unread = {k: reader for k, reader in unread.items() if k in values and k in defaults[dataset]}
                    away = hp.set_away(unread, built, defaults[dataset])
                    hp.check_unread({k: unread[k] for k in away if k in refused}, built, defaults[dataset])
                    if not away:
                        break
                    dropped.update(away)
                    values = {k: v for k, v in values.items() if k not in away}
                    hparams = hp.resolve(entry, task_cls, values, dataset)
                    config = config_label(hparams, defaults[dataset])
                checking = task_key
                for seed in seeds:  # the one check a seed can fail; the others are asked once
                    task_cls.check_run(task_options, data_entry, hparams, seed)
                checking = model_key
                if check_model is not None:
                    _model_hook(check_model, built, device)
            except hp.HparamError as exc:
                which = f"model '{model}'" + ("" if config == "default" else f" with {config}")
                if exc.key in preset:  # the task's options set it
                    raise self.fail(task_key, f"{which} cannot run on dataset '{dataset}' with these options "
                                              f"(they set its {exc.key}): {exc}") from None
                if isinstance(exc, hp.OptionError) and exc.key in values:  # the value alone: its key says it all
                    raise self.fail(_join(model_key, f"hparams.{value_keys[exc.key]}"), exc.problem) from None
                key = _join(model_key, f"hparams.{exc.key}") if exc.key in values else model_key
                raise self.fail(key, f"{which} cannot run on dataset '{dataset}': {exc}") from None
            except SeedError as exc:  # at the seed, where it is written (a list's item, or the count)
                raise self.fail(seed_key(seed), f"task '{task}' cannot run on dataset '{dataset}': {exc}") from None
            except ValueError as exc:
                raise self.fail(task_key, f"task '{task}' cannot run on dataset '{dataset}': {exc}") from None
            except Exception as exc:
                which = f"model '{model}'" if checking == model_key else f"task '{task}'"
                raise self.fail(checking, f"{which} failed checking a run on dataset '{dataset}': "
                                          f"{raised(exc)}") from exc
            return _Settled(hparams, config, dropped, set(values) - set(unread))

        settled = [{dataset: settle(values, value_keys, hparams, config, dataset)
                    for dataset, (hparams, config) in point.items()} for values, value_keys, point in grid]
        read = set().union(*(done.read for point in settled for done in point.values()))
        for (values, value_keys, point), done in zip(grid, settled, strict=True):  # a key no point reads: only
            for dataset, (hparams, config) in point.items():  # another run id
                if refused := done[dataset].dropped - read:
                    settle(values, value_keys, hparams, config, dataset, refused)  # raises at the first of them
        runs: dict[str, set[str]] = {dataset: set() for dataset in defaults}  # each dataset's runs so far
        defaulted: dict[str, set[str]] = {}  # key -> the datasets where a point runs it at its default
        points = []
        for point in settled:
            kept = {}
            for dataset, done in point.items():
                for key in done.dropped:
                    defaulted.setdefault(key, set()).add(dataset)
                if (run := canonical_json(done.hparams)) not in runs[dataset]:  # else an earlier point's run again
                    runs[dataset].add(run)
                    kept[dataset] = (done.hparams, done.config)
            if kept:
                points.append(kept)
        return points, defaulted

    def named(self, value: Any, key: str, registry: Registry[Any], expected: str
              ) -> tuple[Entry[Any], dict[str, Any], str]:
        """The entry a task, scenario or model names, written as its name or as a mapping with ``name``: (the
        entry, the mapping, the key of the name itself, where an error about the name points). ``expected`` says
        what ``key`` takes, for a value that is neither."""
        if isinstance(value, str):
            value, name_key = {"name": value}, key
        elif isinstance(value, dict) and "name" in value:
            name_key = _join(key, "name")
            if not isinstance(value["name"], str):
                raise self.fail(name_key, f"expected a {registry.kind} name, got {_kind(value['name'])}")
        else:
            raise self.fail(key, f"expected {expected}, got {_kind(value)}")
        try:
            return registry.get(value["name"]), value, name_key
        except GnnbenchError as exc:
            raise self.fail(name_key, f"{exc}{self.idle_hint(registry.kind)}") from None

    def task(self, value: Any, key: str) -> tuple[str, dict[str, Any]]:
        """(task name, its options resolved to the full dataclass, less added options left off)."""
        entry, value, _ = self.named(value, key, TASKS,
                                     f"a task name (one of {', '.join(TASKS.names())}) or a mapping with 'name'")
        options = {k: v for k, v in value.items() if k != "name"}
        return entry.name, self.options(entry.obj.Options, options, key, "task", entry.name,
                                        lambda name, k, v: "write one experiment per value")

    def options(self, owner: type, options: dict[str, Any], key: str, kind: str, name: str,
                one_per_value: Callable[[str, str, list[Any]], str]) -> dict[str, Any]:
        """``options`` of the ``kind`` (task or scenario) ``name`` (``owner``: a task's options dataclass, a
        scenario class), checked and resolved: a whole
        number given for a float option made that float (``0`` and ``0.0`` are one run), added options at their
        off value left out. A list where the option takes one value is no grid axis, as it is under hparams
        (``one_per_value(name, option, list)`` says what to write instead). An option that the others make unread
        (``owner(...).unused()``) is an error, not a new run id for the same runs. A value ``owner`` rejects is
        located at its option when only one is set."""
        what = f"{kind} '{name}'"
        if (odd := next((k for k in options if not isinstance(k, str)), "")) != "":
            raise self.fail(key, f"{what} takes options by name; a key here is "
                                 f"{'null (~ or empty)' if odd is None else _kind(odd)}")
        required = [f.name for f in dataclasses.fields(owner) if f.init and f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING and f.name not in options]
        if required:
            raise self.fail(key, f"{what} has no default for option '{required[0]}'; set it (a mapping with name "
                                 f"and {required[0]})")
        for k, v in options.items():
            if isinstance(v, list) and k in hp.constructor_params(owner) and not hp.declared_fit(owner, k, v):
                raise self.fail(_join(key, k), f"expected one value for {kind} option '{k}', got the list "
                                               f"{quoted(v)}: {kind} options are no grid axis; "
                                               f"{one_per_value(name, k, v)}")
        try:
            hp.check_kwargs(owner, options, "option", what)
            options = hp.as_declared(owner, options)
            built = owner(**options)
            unused = getattr(built, "unused", dict)()
            if unread := next((option for option in options if option in unused), None):
                raise hp.HparamError(unread, f"{what} does not read '{unread}' here: {unused[unread]}; remove it")
            return resolved_options(built)
        except hp.HparamError as exc:
            raise self.fail(_join(key, exc.key), str(exc)) from None
        except ValueError as exc:  # rejecting a value, or a combination of values
            raise self.fail(_join(key, next(iter(options))) if len(options) == 1 else key, str(exc)) from None
        except Exception as exc:  # a plugin's own bug in checking them
            raise self.fail(key, f"{what} failed checking its options: {raised(exc)}") from exc

    def datasets(self, value: Any, key: str, task: str) -> dict[str, str]:
        """Each dataset name with its key path, in the order given."""
        one = isinstance(value, str)
        value = [value] if one else value
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"expected a non-empty list of dataset names, got {_kind(value)}")
        keys: dict[str, str] = {}
        for i, name in enumerate(value):
            item_key = key if one else f"{key}[{i}]"
            if not isinstance(name, str):
                raise self.fail(item_key, f"expected a dataset name, got {_kind(name)}")
            if name in value[:i]:
                raise self.fail(item_key, f"dataset '{name}' is listed twice (at [{value.index(name)}] too)")
            if name not in DATASETS:  # suggest among the task's datasets: 'PubMed' is not 'nasbench-pubmed'
                serving = [d.name for d in DATASETS.entries() if serves(d, task)]
                raise self.fail(item_key, f"unknown dataset '{name}'{did_you_mean(name, serving)} (datasets "
                                          f"for task '{task}': {', '.join(serving)}){self.idle_hint('dataset')}")
            entry = DATASETS.get(name)
            if not serves(entry, task):
                raise self.fail(item_key, f"dataset '{name}' does not serve task '{task}'"
                                          f"{_why_not(entry, task, 'serves')}")
            keys[name] = item_key
        return keys

    def scenarios(self, value: Any, key: str, task: str, datasets: list[str]) -> list[dict[str, Any] | None]:
        """Each scenario resolved to ``{"name": ..., **options}`` (all but added ones left off); a list is a grid
        axis; none: clean data. A scenario that changes edges is refused on a dataset computing features or
        targets from them: those would still describe the clean graph."""
        if isinstance(value, list) and not value:
            raise self.fail(key, "expected a scenario, 'none' (the clean data) or a non-empty list of them, "
                                 "got an empty list")
        values = value if isinstance(value, list) else [value]
        resolved: list[dict[str, Any] | None] = []
        for i, item in enumerate(values):
            item_key = f"{key}[{i}]" if isinstance(value, list) else key
            if item is None or item == "none":
                resolved.append(None)
                continue
            entry, item, name_key = self.named(
                item, item_key, SCENARIOS,
                f"a scenario name (one of {', '.join(SCENARIOS.names())}), 'none' or a mapping with 'name' and options")
            if not serves(entry, task):
                raise self.fail(name_key, f"scenario '{entry.name}' does not apply to task '{task}'"
                                          f"{_why_not(entry, task, 'applies to')}")
            for name in datasets if entry.obj.changes_edges else ():
                if derived := DATASETS.get(name).meta.get("from_edges", ()):
                    raise self.fail(name_key,
                                    f"scenario '{entry.name}' changes edges, but dataset '{name}' computes its "
                                    f"{' and '.join(derived)} from them, and they would not follow; "
                                    "run it on another dataset")
            options = {k: v for k, v in item.items() if k != "name"}
            resolved.append({"name": entry.name,
                             **self.options(entry.obj, options, item_key, "scenario", entry.name,
                                            _one_scenario_per_value)})
        seen: dict[str, int] = {}
        for i, scenario in enumerate(resolved):
            first = seen.setdefault(canonical_json(scenario), i)
            if first != i:
                shown = "none" if scenario is None else canonical_json(scenario)
                raise self.fail(f"{key}[{i}]", f"scenario {shown} is listed twice (at [{first}] too)")
        return resolved

    def seeds(self, value: Any, key: str) -> list[int]:
        if _is_int(value, minimum=1):
            if value > MAX_RUNS:
                raise self.fail(key, f"expected at most {MAX_RUNS:,} seeds (a suite holds at most {MAX_RUNS:,} "
                                     f"runs), got {value:,}")
            return list(range(value))
        if isinstance(value, list) and value:
            for i, seed in enumerate(value):
                if not _is_int(seed, minimum=0):
                    raise self.fail(f"{key}[{i}]", f"expected a non-negative integer seed, got {_kind(seed)}"
                                                   f"{hp.number_hint(seed, int)}")
                if seed > hp.MAX_SEED:
                    raise self.fail(f"{key}[{i}]", f"seeds go up to {hp.MAX_SEED} (NumPy's limit), got {seed}")
                if seed in value[:i]:
                    raise self.fail(f"{key}[{i}]", f"seed {seed} is listed twice (at [{value.index(seed)}] too)")
            return list(value)
        raise self.fail(key, f"expected a count of seeds (e.g. 10) or a list of non-negative integers, got "
                             f"{quoted(value)}{hp.number_hint(value, int)}")

    def model(self, value: Any, key: str, task: str, datasets: list[str], repeats: tuple[list[Any], list[int]]
              ) -> tuple[str, list[tuple[dict[str, Any], dict[str, str], Point]]]:
        """(model name, for every grid point: (the hyperparameters it sets, as written; each one's key under
        ``hparams``, ``lr[1]`` for a grid's value; dataset -> (resolved hparams, config label))). ``repeats`` (the
        experiment's scenarios and seeds) run every point: they count towards :data:`MAX_RUNS`.

        A point resolves per dataset because a model may have per-dataset defaults; the config label is
        relative to the defaults on that dataset, so a method run with its official settings is ``default``.
        """
        def hint(k: str) -> str:
            if suggestion := _experiment_key_hint(k, "on the experiment, or") or did_you_mean(k, ("name", "hparams")):
                return suggestion
            if "name" in value:
                return f"; a model's hyperparameters go under hparams: {{name: {value['name']}, hparams: {{{k}: ...}}}}"
            return f"; write {{name: {k}, hparams: ...}}" if k in MODELS else ""

        if isinstance(value, dict):  # its keys first: {gcn: {lr: 0.01}} is a model name written as a key
            self.mapping(value, key, ("name", "hparams"), hint)
        entry, value, name_key = self.named(value, key, MODELS, "a model name or a mapping with name and hparams")
        name = entry.name
        if not serves(entry, task):  # how to register it, else the models that would do
            others = f"; models for task '{task}': {', '.join(m.name for m in MODELS.entries() if serves(m, task))}"
            raise self.fail(name_key, f"model '{name}' does not support task '{task}'"
                                      f"{_why_not(entry, task, 'supports', others)}")
        hparams_key = _join(key, "hparams")
        overrides = value.get("hparams")
        overrides = {} if overrides is None else overrides  # `hparams:` with every line commented out
        if not isinstance(overrides, dict):
            raise self.fail(hparams_key, f"expected a mapping of hyperparameters, got {_kind(overrides)}")
        for k in overrides:
            if not isinstance(k, str):
                raise self.fail(_join(hparams_key, str(k)), f"expected a hyperparameter name, got {_kind(k)}")
        task_cls = TASKS.get(task).obj
        try:
            hp.check_entry(entry, task_cls)
            hp.check_dataset_defaults(entry, datasets)
        except hp.HparamError as exc:
            raise self.fail(name_key, str(exc)) from None
        defaults = {dataset: hp.defaults(entry, task_cls, dataset) for dataset in datasets}
        axes = []
        for k in sorted(overrides):
            v = overrides[k]
            if isinstance(v, list) and not v:
                raise self.fail(_join(hparams_key, k), "an empty grid; give at least one value")
            # each value with its key: ``lr[1]`` for a grid's element, so an error points at the value itself
            axes.append([(k, x, f"{k}[{i}]") for i, x in enumerate(v)] if isinstance(v, list) else [(k, v, k)])
        scenarios, seeds = repeats
        self.check_budget(math.prod(len(axis) for axis in axes), len(datasets), len(scenarios), len(seeds), key)
        grid = []
        points: dict[str, dict[str, tuple[Any, str]]] = {}  # resolved grid point -> each key's value as written
        for point in itertools.product(*axes):
            chosen = {k: x for k, x, _ in point}
            value_keys = {k: value_key for k, _, value_key in point}
            resolved = {}
            for dataset in datasets:
                try:
                    hparams = hp.resolve(entry, task_cls, chosen, dataset)
                except hp.MissingHparam as exc:  # no key of it in the file: at the hparams it goes under, else
                    if "hparams" in value:         # at the model
                        raise self.fail(hparams_key, str(exc)) from None
                    raise self.fail(key, f"hparams: {exc}") from None
                except hp.HparamError as exc:
                    value = overrides.get(exc.key)
                    axis = isinstance(value, list) and hp.declared_fit(entry.obj, exc.key, value)
                    hint = (f"; a list under hparams is a grid axis, one run per item: write [{quoted(value)}] for "
                            "this one list value") if axis else ""
                    known = exc.key in hp.constructor_params(entry.obj) or exc.key in hp.training_keys(entry, task_cls)
                    where = value_keys.get(exc.key, exc.key) if known else exc.key  # an unknown name: not its values
                    if not known:
                        hint = _experiment_key_hint(exc.key, "on the experiment, or")
                    raise self.fail(_join(hparams_key, where), f"{exc}{hint}") from None
                resolved[dataset] = (hparams, config_label(hparams, defaults[dataset]))
            written = {k: (x, value_key) for k, x, value_key in point}
            earlier = points.setdefault(canonical_json({d: h for d, (h, _) in resolved.items()}), written)
            if earlier is not written:  # two values that resolve alike (0 and 0.0; an added argument's off value)
                k = next(k for k in written if written[k][1] != earlier[k][1])
                raise self.fail(_join(hparams_key, written[k][1]),
                                f"{quoted(written[k][0])} is the same value as {quoted(earlier[k][0])} at "
                                f"{earlier[k][1]}: the grid would define its runs twice; remove one")
            grid.append((chosen, value_keys, resolved))
        return name, grid


def _duplicate_ids(specs: list[RunSpec]) -> list[tuple[int, int]]:
    """(first, again) positions of every run defined a second time."""
    seen: dict[str, int] = {}
    dupes = []
    for i, s in enumerate(specs):
        if s.run_id in seen:
            dupes.append((seen[s.run_id], i))
        seen.setdefault(s.run_id, i)
    return dupes


def _task_labels(specs: list[RunSpec]) -> list[str]:
    """Each run's task label (:meth:`Task.label`), built once per task and options."""
    built: dict[tuple[str, str], str] = {}
    labels = []
    for s in specs:
        key = (s.task, canonical_json(s.task_options))
        if key not in built:
            built[key] = s.build_task().label()
        labels.append(built[key])
    return labels


def _mixed_column(specs: list[RunSpec], labels: list[str]) -> tuple[int, int] | None:
    """Positions of two runs ranked in one leaderboard column (task label, dataset, scenario) under different
    task options: options the task's label leaves out (node classification's public or random split) would make
    a column of models each scored on another split. None when there are none."""
    seen: dict[tuple[str, ...], tuple[int, str]] = {}
    for i, (s, label) in enumerate(zip(specs, labels, strict=True)):
        options = canonical_json(s.task_options)
        first, first_options = seen.setdefault((label, s.dataset, canonical_json(s.scenario)), (i, options))
        if options != first_options:
            return first, i
    return None


def _pooled(specs: list[RunSpec], labels: list[str]) -> tuple[int, int] | None:
    """Positions of two runs that would share a leaderboard row but differ in more than their seed: a row is
    (task label, dataset, model, config, scenario), so runs differing in a task option the label leaves out, or
    in the budget, device or kernel, would be averaged as one configuration's seeds, whether their seeds are
    the same or not. Runs differing only in the seed are one configuration's seeds (an experiment may add seeds
    to another's). None when there are none."""
    seen: dict[tuple[Any, ...], tuple[int, str]] = {}
    for i, (s, label) in enumerate(zip(specs, labels, strict=True)):
        key = (label, s.dataset, s.model, s.config, canonical_json(s.scenario))
        # the setting as one string, so a row's seeds are told alike without describing them (a million seeds)
        setting = canonical_json({k: dict(v) if isinstance(v, Mapping) else v
                                  for k, v in ((k, getattr(s, k)) for k in RUN_FIELDS)})
        first, first_setting = seen.setdefault(key, (i, setting))
        if setting != first_setting and _differences(specs[first], s):
            return first, i
    return None


def _differences(a: RunSpec, b: RunSpec) -> str:
    """What tells apart two runs of one row besides the seed, key by key (``task_options.split public vs random;
    epochs 200 vs 50``)."""
    return described([run_setting(s.to_dict()) for s in (a, b)])


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_number(value: Any, positive: bool) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    return value > 0 if positive else value >= 0


def _model_hook(hook: Callable[..., T], *args: Any) -> T:
    """A model's ``check_hparams`` or ``unread_hparams``: a plain ValueError it raises names no hyperparameter,
    and is the model's, so it becomes an HparamError of no key, which the suite reports at the model rather than
    at the task."""
    try:
        return hook(*args)
    except hp.HparamError:
        raise
    except ValueError as exc:
        raise hp.HparamError("", str(exc)) from None


def _join(prefix: str | None, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _experiment_key_hint(key: str, where: str) -> str:
    """``; 'seeds' is an experiment's key: set it {where} under defaults`` for a key that names an experiment's
    setting (``seed`` for ``seeds``) written where it is unknown: at the top of the suite, on a model, under
    ``hparams``; ``''`` for any other key."""
    meant = next((k for k in (key, f"{key}s", key.removesuffix("s")) if k in EXPERIMENT_KEYS[1:]), None)
    return f"; '{meant}' is an experiment's key: set it {where} under defaults" if meant else ""


def _why_not(entry: Entry[Any], task: str, verb: str, otherwise: str = "") -> str:
    """For a model, dataset or scenario ``entry`` that is not for ``task``: how to register it where it names no
    task, else `` (it {verb}: ...)`` and what in a registration would make it serve (:func:`_unknown_tasks`,
    :func:`_like_hint`), or ``otherwise`` where nothing would."""
    if not entry.tasks:
        return f" (it names no task: register it with tasks=('{task}',) in {defined_in(entry.obj)})"
    return f" (it {verb}: {', '.join(entry.tasks)}){_unknown_tasks(entry) + _like_hint(entry, task) or otherwise}"


def _like_hint(entry: Entry[Any], task: str) -> str:
    """``; register the task with like="node_classification" ...`` where ``task``, registered without ``like=``,
    subclasses the class of a task that ``entry`` is for: ``like=`` would make every model, dataset and scenario of
    that task serve it; ``''`` otherwise."""
    task_entry = TASKS.get(task)
    if task_entry.meta.get("like"):
        return ""
    # a base registered like another: the one to name (like= follows one step)
    bases = {e.obj: e.meta.get("like") or e.name for e in TASKS.entries() if e.name != task}
    base = next((bases[c] for c in task_entry.obj.__mro__[1:] if bases.get(c) in entry.tasks), None)
    if base is None:
        return ""
    return (f"; register the task with like=\"{base}\" (in {defined_in(task_entry.obj)}) to take the models, "
            f"datasets and scenarios of {base}")


def _unknown_tasks(entry: Entry[Any]) -> str:
    """A hint for each name in the ``tasks=...`` an entry was registered with that is no task (a typo there)."""
    return "".join(f"; its tasks=... (in {defined_in(entry.obj)}) names '{t}', which is no task"
                   f"{did_you_mean(t, TASKS.names())}" for t in entry.tasks if t not in TASKS)


def _one_scenario_per_value(name: str, option: str, values: list[Any]) -> str:
    """What to write for a list under a scenario option: a list of scenarios, one per value."""
    first = quoted(values[0]) if values else "..."
    return f"list one scenario per value (scenario: [{{name: {name}, {option}: {first}}}, ...])"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (dict, list)) and not value:
        return f"an empty {type(value).__name__}"
    if isinstance(value, dict):
        return f"a mapping with key{'s' * (len(value) > 1)} {', '.join(map(str, value))}"
    return f"{type(value).__name__} {quoted(value)}" if not isinstance(value, list) else "list"
