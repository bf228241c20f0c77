"""Named registries of models, datasets, tasks and scenarios.

One small generic :class:`Registry` serves every kind of component. Built-in entries are imported lazily
on first use (so ``import gnnbench`` stays cheap and free of import cycles); third-party packages add
models through the ``gnnbench.models`` entry-point group, and a suite can name plugin modules or files
under ``plugins:``::

    from gnnbench import register_model

    @register_model("my_gnn", paper="Me et al. 2026", tasks=("node_classification",), defaults={"lr": 0.01})
    class MyGNN(torch.nn.Module):
        def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64): ...
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from gnnbench.errors import GnnbenchError, did_you_mean, raised
from gnnbench.natural import natural_key

T = TypeVar("T")


class RegistryError(GnnbenchError):
    """An unknown or duplicate name."""


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered object and what users need to know about it."""

    name: str
    obj: T
    paper: str = ""
    tasks: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: dataset name -> defaults that apply on that dataset only (a method's official per-dataset settings)
    dataset_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """First paragraph of the object's docstring, on one line (a first sentence may wrap)."""
        doc = (getattr(self.obj, "__doc__", None) or "").strip()
        return " ".join(doc.split("\n\n")[0].split())


class Registry(Generic[T]):
    """Name -> :class:`Entry`, with duplicate detection and "did you mean" on unknown names.

    ``builtins`` is the module whose import registers the built-in entries; ``group`` is an entry-point
    group whose targets are imported (and so register themselves) on first lookup; ``meta_keys`` names the
    metadata this kind's entries may carry (key -> what it says), so a misspelt key is refused rather than
    silently ignored; ``check`` refuses an object that cannot serve as this kind (it raises
    :class:`RegistryError`), when it is registered rather than when a run first uses it.
    """

    def __init__(self, kind: str, builtins: str, group: str | None = None, meta_keys: Mapping[str, str] | None = None,
                 check: Callable[[str, T, Mapping[str, Any]], None] | None = None) -> None:
        self.kind = kind
        self._builtins = builtins
        self._group = group
        self.meta_keys = MappingProxyType(dict(meta_keys or {}))
        self._check = check
        self._entries: dict[str, Entry[T]] = {}
        self._discovered = False

    def register(
        self,
        name: str,
        *,
        paper: str = "",
        tasks: tuple[str, ...] | list[str] = (),
        defaults: Mapping[str, Any] | None = None,
        dataset_defaults: Mapping[str, Mapping[str, Any]] | None = None,
        **meta: Any,
    ) -> Callable[[T], T]:
        """Decorator adding ``obj`` under ``name``; registering a name twice is an error.

        ``dataset_defaults`` maps a dataset name to defaults that override ``defaults`` on that dataset.
        ``meta`` holds what tasks and listings read: only the keys of :attr:`meta_keys` (:data:`MODEL_META`,
        :data:`DATASET_META`, :data:`TASK_META`).
        """

        if callable(name):  # ``@register_dataset`` without its call: nothing would be registered
            raise RegistryError(f"{defined_in(name)}: a {self.kind} is registered under a name: "
                                f"@register_{self.kind}({getattr(name, '__name__', 'name')!r}, ...), not "
                                f"@register_{self.kind} alone")
        if not isinstance(name, str):
            raise RegistryError(f"register_{self.kind}({name!r}): expected the {self.kind}'s name as text")

        def decorator(obj: T) -> T:
            if name in self._entries:
                raise RegistryError(
                    f"{self.kind} '{name}' is already registered by {defined_in(self._entries[name].obj)}; "
                    f"cannot register it again from {defined_in(obj)}"
                )
            if isinstance(tasks, str) or not all(isinstance(t, str) for t in tasks):
                raise RegistryError(f"{defined_in(obj)}: {self.kind} '{name}' has tasks={tasks!r}; expected a tuple "
                                    f"of task names, e.g. tasks=({str(tasks)!r},)")
            if unknown := [key for key in meta if key not in self.meta_keys]:
                # suggested among every keyword, not the metadata alone: ``default=`` means ``defaults=``
                taken = [p.name for p in inspect.signature(self.register).parameters.values()
                         if p.kind is p.KEYWORD_ONLY] + list(self.meta_keys)
                hint = did_you_mean(unknown[0], taken) or f"; it takes {', '.join(taken)}"
                raise RegistryError(f"{defined_in(obj)}: {self.kind} '{name}' is registered with {unknown[0]}=, "
                                    f"which register_{self.kind} does not take{hint}")
            shown = {"paper": paper, **{k: meta[k] for k in ("source", "stats") if k in meta}}  # listed as text
            if (key := next((k for k, v in shown.items() if not isinstance(v, str)), None)) is not None:
                raise RegistryError(f"{defined_in(obj)}: {self.kind} '{name}' has {key}={shown[key]!r}; expected "
                                    f"text, which `gnnbench list {self.kind}s` shows")
            if self._check is not None:
                self._check(name, obj, meta)
            self._entries[name] = Entry(
                name=name,
                obj=obj,
                paper=paper,
                tasks=tuple(tasks),
                defaults=MappingProxyType(dict(defaults or {})),
                dataset_defaults=MappingProxyType({d: MappingProxyType(dict(v))
                                                   for d, v in (dataset_defaults or {}).items()}),
                meta=MappingProxyType(dict(meta)),
            )
            return obj

        return decorator

    def get(self, name: str) -> Entry[T]:
        """The entry for ``name``; an unknown name raises with the closest known one suggested."""
        self._discover()
        try:
            return self._entries[name]
        except KeyError:
            hint = did_you_mean(name, self._entries) or f"; known {self.kind}s: {', '.join(self.names())}"
            raise RegistryError(f"unknown {self.kind} '{name}'{hint}") from None

    def names(self) -> list[str]:
        """The registered names in :func:`~gnnbench.natural.natural_key` order (HeteroEdgeCount-2 before -10), as the
        leaderboards list them: what ``gnnbench list`` and the error messages naming them show."""
        self._discover()
        return sorted(self._entries, key=natural_key)

    def entries(self) -> list[Entry[T]]:
        return [self._entries[n] for n in self.names()]

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        importlib.import_module(self._builtins)
        if self._group:
            for ep in entry_points(group=self._group):
                try:
                    ep.load()
                except Exception as exc:  # a broken third-party plugin must not take the suite down
                    warnings.warn(f"could not load {self.kind} plugin '{ep.name}' ({ep.value}): {exc}",
                                  stacklevel=2)


#: The start of the module name a plugin file is imported under.
PLUGIN_PREFIX = "gnnbench_plugin_"


def defined_in(obj: object) -> str:
    """``module.QualName`` of a registered object, or ``path/to/file.py:QualName`` for one a plugin file defines
    (its module name is generated): where to look when its entry is at fault."""
    module = getattr(obj, "__module__", "?")
    qualname = getattr(obj, "__qualname__", repr(obj))
    if module.startswith(PLUGIN_PREFIX):
        return f"{getattr(sys.modules.get(module), '__file__', module)}:{qualname}"
    return f"{module}.{qualname}"


#: what a dataset's ``from_edges`` may name: what it computes from its edges
FROM_EDGES = ("features", "targets")
#: the metadata a model may be registered with
MODEL_META = {"kernels": "the message-passing backends it runs on (gnnbench.kernels.CONCRETE; default scatter only)"}
#: the metadata a dataset may be registered with
DATASET_META = {
    "files": "gnnbench's own datasets: the folder whose checksums in gnnbench/data/SHA256SUMS fingerprint the records",
    "source": "where the data comes from, shown by `gnnbench list datasets`",
    "stats": "its size in a few words, shown by `gnnbench list datasets`",
    "ships_split": "False when it has no train/val/test split of its own (`split: dataset` is then refused when the "
                   "suite loads; left unset, it is checked when a run loads the data)",
    "from_edges": f"what it computes from its edges, a tuple of {' and '.join(map(repr, FROM_EDGES))}, which a "
                  "scenario changing edges would not update",
    "tabular": "True for a table of results (NAS-Bench-Graph) rather than a graph",
}
#: the metadata a task may be registered with
TASK_META = {"like": "a task taking the same models and data (e.g. another metric), which models and datasets serve"}


def _check_model(name: str, obj: Any, meta: Mapping[str, Any]) -> None:
    """``kernels`` naming a backend that is not a concrete one (a misspelt one would fail every run asking for
    it): refused where it is registered."""
    from gnnbench.kernels import CONCRETE  # the kernels import torch_geometric: not at gnnbench's import

    kernels = meta.get("kernels", ("scatter",))
    if isinstance(kernels, str) or not isinstance(kernels, (tuple, list)) or not all(k in CONCRETE for k in kernels):
        raise RegistryError(f"{defined_in(obj)}: model '{name}' has kernels={kernels!r}; expected a tuple of "
                            f"{', '.join(map(repr, CONCRETE))}: the backends it runs on")


def dataset_loader(function: Callable[..., Any], *args: Any, doc: str, reads_root: bool = True) -> Callable[..., Any]:
    """A loader to register: ``function(*args, data_root)``, or ``function(*args)`` where the data needs no root
    (generated, or shipped in a wheel); ``doc`` is what ``gnnbench list datasets`` shows. It wraps ``function``
    (``__wrapped__``), so errors name it and a plugin's records name the file defining it, where the loading
    happens."""

    @functools.wraps(function)
    def load(data_root: str | Path | None = None) -> Any:
        return function(*args, data_root) if reads_root else function(*args)

    load.__doc__ = doc
    return load


def _check_dataset(name: str, obj: Any, meta: Mapping[str, Any]) -> None:
    """A loader that cannot be called, or a ``from_edges`` naming nothing in :data:`FROM_EDGES` (a misspelt one
    would let an edge-changing scenario through): refused where it is registered."""
    if not callable(obj):
        raise RegistryError(f"{defined_in(obj)}: dataset '{name}' is {type(obj).__name__}; expected a loader: a "
                            "function (or other callable) taking the data root and returning the data")
    derived = meta.get("from_edges", ())
    if isinstance(derived, str) or not isinstance(derived, (tuple, list)) or not all(d in FROM_EDGES for d in derived):
        raise RegistryError(f"{defined_in(obj)}: dataset '{name}' has from_edges={derived!r}; expected a tuple of "
                            f"{' and '.join(map(repr, FROM_EDGES))}: what it computes from its edges")


def _check_task(name: str, obj: Any, meta: Mapping[str, Any]) -> None:
    """A task class lacking what the harness reads, or ``like`` naming no task (or one that is itself ``like``
    another: :func:`serves` follows one step): refused where it is registered."""
    from gnnbench.tasks.base import task_class_problem  # the tasks import this module

    if problem := task_class_problem(name, obj):
        raise RegistryError(f"{defined_in(obj)}: task '{name}' {problem}")
    like = meta.get("like")
    if like is not None and like not in TASKS:
        hint = did_you_mean(like, TASKS.names()) or f"; known tasks: {', '.join(TASKS.names())}"
        raise RegistryError(f"{defined_in(obj)}: task '{name}' is registered like={like!r}, no task{hint}")
    if like is not None and (further := TASKS.get(like).meta.get("like")):
        raise RegistryError(f"{defined_in(obj)}: task '{name}' is registered like={like!r}, which is itself like "
                            f"{further!r}; name that one")


def _check_scenario(name: str, obj: Any, meta: Mapping[str, Any]) -> None:
    """A scenario class lacking what the harness reads: refused where it is registered."""
    from gnnbench.data.scenarios import scenario_class_problem  # the scenarios import this module

    if problem := scenario_class_problem(name, obj):
        raise RegistryError(f"{defined_in(obj)}: scenario '{name}' {problem}")


MODELS: Registry[Any] = Registry("model", builtins="gnnbench.models", group="gnnbench.models", meta_keys=MODEL_META,
                                  check=_check_model)
DATASETS: Registry[Any] = Registry("dataset", builtins="gnnbench.data", meta_keys=DATASET_META, check=_check_dataset)
TASKS: Registry[Any] = Registry("task", builtins="gnnbench.tasks", meta_keys=TASK_META, check=_check_task)
SCENARIOS: Registry[Any] = Registry("scenario", builtins="gnnbench.data.scenarios", check=_check_scenario)

register_model = MODELS.register
register_dataset = DATASETS.register
register_task = TASKS.register
register_scenario = SCENARIOS.register


def serves(entry: Entry[Any], task: str) -> bool:
    """Whether a model, dataset or scenario ``entry`` is for ``task``: named in its ``tasks``, or ``task`` is
    registered ``like`` a task that is (a task taking the same models and data, e.g. another metric)."""
    return task in entry.tasks or (task in TASKS and TASKS.get(task).meta.get("like") in entry.tasks)


def list_models(task: str | None = None) -> list[str]:
    """Names of the registered models, optionally only those supporting ``task``."""
    return [e.name for e in MODELS.entries() if task is None or serves(e, task)]


#: plugin spec -> what importing it registered (:func:`load_plugin`)
_loaded_plugins: dict[str, tuple[str, ...]] = {}


def load_plugin(spec: str, base_dir: Path | None = None) -> tuple[str, ...]:
    """Import a plugin given as a module path (``my_pkg.models``) or a ``.py`` file (relative to ``base_dir``);
    what it registered (``model 'my_gnn'``), none where its decorators are missing, which callers say.

    Importing registers whatever the plugin decorates. A module path is looked up from ``base_dir`` (the suite's
    folder) too, and a file can import the modules beside it, as a script run from its folder can (each folder
    goes first on ``sys.path``, as a script's does). Each plugin is imported once per process, so a suite listing
    it and a worker re-importing it never trip the duplicate-name check. The built-ins are registered
    first, so a plugin reusing a built-in name is the one blamed; a plugin that fails to import raises one
    :class:`RegistryError` naming it and the cause.
    """
    if spec in _loaded_plugins:
        return _loaded_plugins[spec]
    registries = (MODELS, DATASETS, TASKS, SCENARIOS)
    for registry in registries:
        registry._discover()
    before = {(registry.kind, name) for registry in registries for name in registry._entries}
    if spec.endswith(".py"):
        path = Path(spec)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        path = path.resolve()
        if not path.is_file():
            raise RegistryError(f"plugin file not found: {path}")
        _importable(path.parent)
        module_name = f"{PLUGIN_PREFIX}{path.stem}_{abs(hash(str(path))):x}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        with _import_errors(f"plugin file {path}"):
            module_spec.loader.exec_module(module)
    else:
        if base_dir is not None:
            _importable(base_dir)
        with _import_errors(f"plugin module '{spec}'"):
            module = importlib.import_module(spec)
    # added by the import, or defined in the module (imported before: by its entry point, by another plugin)
    _loaded_plugins[spec] = tuple(
        f"{registry.kind} '{entry.name}'" for registry in registries for entry in registry.entries()
        if (registry.kind, entry.name) not in before
        or f"{getattr(entry.obj, '__module__', '')}.".startswith(f"{module.__name__}."))
    return _loaded_plugins[spec]


def _importable(folder: Path) -> None:
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


@contextmanager
def _import_errors(plugin: str) -> Iterator[None]:
    """Whatever goes wrong importing ``plugin`` (a syntax error, a missing dependency, a ``sys.exit``) as one
    RegistryError naming it; gnnbench's own errors, such as a duplicate name, pass as they are."""
    try:
        yield
    except GnnbenchError:
        raise
    except SystemExit as exc:  # a script's guard or argument parsing run on import: gnnbench would exit silently
        raise RegistryError(f"{plugin} cannot be imported: it called sys.exit({exc.code!r}) while being imported "
                            "(code meant to run as a script belongs under `if __name__ == '__main__':`)") from None
    except SyntaxError as exc:  # its message names the file and line
        raise RegistryError(f"{plugin} cannot be imported: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # at the line that raised: the plugin's, or a module's it imports
        raise RegistryError(f"{plugin} cannot be imported: {raised(exc)}") from exc
