"""Runs and suites as the rest of gnnbench sees them: a fully resolved :class:`RunSpec` (its ``run_id`` the
hash of what can change its result) and the :class:`Suite` a file expands into (:mod:`gnnbench.harness.suite`
parses it). Free of torch and PyG, which cost the results commands seconds: ``leaderboard`` and ``compare``
import it (the store checks a record's run id with :attr:`RunSpec.run_id`); :meth:`RunSpec.build_task` looks the
task class up in the registry, which imports it."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnnbench.errors import ConfigError, did_you_mean
from gnnbench.harness.plan import PlanNote
from gnnbench.registry import SCENARIOS, TASKS
from gnnbench.settings import canonical_json

if TYPE_CHECKING:
    from gnnbench.tasks.base import Task  # imports torch and PyG


@dataclass(frozen=True)
class RunSpec:
    """One run, fully resolved. ``run_id`` hashes every field that can change the result (not the labels)."""

    task: str
    task_options: Mapping[str, Any]
    dataset: str
    model: str
    hparams: Mapping[str, Any]
    seed: int
    epochs: int
    patience: int | None
    device: str
    kernel: str
    #: a robustness scenario with its resolved options ({"name": ..., **options}); None: the clean data
    scenario: Mapping[str, Any] | None = None
    # labels: where the run came from; they do not change its result and are not hashed
    suite: str = ""
    experiment: str = ""
    config: str = "default"
    plugins: tuple[str, ...] = ()

    IDENTITY = ("task", "task_options", "dataset", "model", "hparams", "seed", "epochs", "patience", "device",
                "kernel")

    @functools.cached_property
    def run_id(self) -> str:
        """Hashed once per spec: the suite, the driver and the store each ask for it, over every run."""
        identity = {k: getattr(self, k) for k in self.IDENTITY}
        if self.scenario is not None:  # hashed only when set, so runs on clean data keep their ids
            identity["scenario"] = self.scenario
        return hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["task_options"], d["hparams"], d["plugins"] = dict(self.task_options), dict(self.hparams), list(self.plugins)
        d["scenario"] = None if self.scenario is None else dict(self.scenario)
        return {"run_id": self.run_id, **d}

    def build_task(self) -> Task:
        """The task with its options and scenario; cheap, so the suite and the driver can label runs."""
        task_cls = TASKS.get(self.task).obj
        scenario = None
        if self.scenario is not None:
            options = {k: v for k, v in self.scenario.items() if k != "name"}
            scenario = SCENARIOS.get(self.scenario["name"]).obj(**options)
        return task_cls(task_cls.Options(**self.task_options), scenario=scenario)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunSpec:
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs["plugins"] = tuple(kwargs.get("plugins", ()))
        return cls(**kwargs)


@dataclass(frozen=True)
class Suite:
    """A suite file expanded into its runs, with the key paths that locate an error found after parsing."""

    name: str
    path: Path
    specs: list[RunSpec]
    executor: dict[str, Any]
    description: str = ""
    plugins: tuple[str, ...] = ()
    #: (experiment, dataset name) -> the dataset's key path in that experiment, in suite order, for locating data
    #: errors found after parsing
    dataset_keys: dict[tuple[str, str], str] = field(default_factory=dict)
    #: device -> key path of its first use, for locating a device this machine lacks (found by the driver)
    device_keys: dict[str, str] = field(default_factory=dict)
    #: the run ids of the whole suite file, kept by :meth:`only`: a record outside them is stale, not merely
    #: of another experiment
    all_run_ids: frozenset[str] = frozenset()
    #: a note per model entry whose grid runs a key it sets at the default somewhere, so the plan says what its
    #: labels cannot (:mod:`gnnbench.harness.plan`)
    notes: tuple[PlanNote, ...] = ()

    def __post_init__(self) -> None:
        if not self.all_run_ids:
            object.__setattr__(self, "all_run_ids", frozenset(spec.run_id for spec in self.specs))

    def only(self, experiments: list[str]) -> Suite:
        """The suite restricted to the named experiments: a long suite run piece by piece into the same
        records (run ids do not depend on which experiments are selected)."""
        names = list(dict.fromkeys(s.experiment for s in self.specs))
        for name in experiments:
            if name not in names:
                raise ConfigError(str(self.path), "experiments", f"no experiment named {name!r}; the suite has "
                                  f"{', '.join(names)}{did_you_mean(name, names)}")
        return dataclasses.replace(self, specs=[s for s in self.specs if s.experiment in experiments])


def config_label(hparams: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    """``k=v,k=v`` of the values that differ from the model's defaults (``default`` when none do): a run's
    ``config``."""
    changed = [_label_item(k, v) for k, v in sorted(hparams.items()) if k not in defaults or defaults[k] != v]
    return ",".join(changed) or "default"


def label_names(config: str, key: str, value: Any) -> bool:
    """Whether a :func:`config_label` names ``key`` at ``value`` (the run's): a value the suite set away from the
    model's default. As a whole item between commas: ``k=1`` is not found in ``k=10`` or ``kk=1``."""
    return f",{_label_item(key, value)}," in f",{config},"


def _label_item(key: str, value: Any) -> str:
    shown = json.dumps(value, separators=(",", ":")) if isinstance(value, (list, dict)) else str(value)
    return f"{key}={shown}"


SMOKE_SUFFIX = ".smoke"


def smoke(suite: Suite, epochs: int) -> Suite:
    """A quick check that every run of ``suite`` can run: one run per configuration (each experiment, model,
    configuration, dataset and scenario, at its smallest seed) for at most ``epochs`` epochs, named
    ``<suite>.smoke`` so its records never mix with the suite's. Task options (a search's budget, a solver's)
    are kept."""
    first: dict[str, RunSpec] = {}
    for spec in suite.specs:
        group = canonical_json({**spec.to_dict(), "run_id": None, "seed": None})
        if group not in first or spec.seed < first[group].seed:
            first[group] = spec
    name = suite.name + SMOKE_SUFFIX
    specs = [dataclasses.replace(s, epochs=min(s.epochs, epochs), suite=name) for s in first.values()]
    return dataclasses.replace(suite, name=name, specs=specs, all_run_ids=frozenset())
