"""What every task shares: the selection rule, the training-protocol hook and the result of a run.

**Validation selects, test reports.** A task's training protocol sees data whose test labels are hidden, picks
the epoch on the validation metric (:class:`EarlyStopping`), and leaves the model in that epoch's state.
Only then does the task evaluate the test split, once.

**The protocol hook.** Plain backprop is the task's own :meth:`Task.fit`. A model whose training is
something else (layer-local learning, precomputed propagation, search, a solver loop) defines::

    fit_hparams = {"lr": 1e-3, ...}          # its training keys and their defaults

    def fit(self, task: Task, data, hparams: dict, budget: Budget, ctx: RunContext) -> FitResult:
        ...  # train however it must; train_epochs(...) selects on task.evaluate(...) as the tasks do

and the task calls it instead of its own loop. The test split, the metrics and the record stay the task's.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch_geometric.data.data import BaseData

from gnnbench.harness.measure import PeakMemory
from gnnbench.registry import Entry, RegistryError, defined_in
from gnnbench.units import UNITS, unit_by_name

if TYPE_CHECKING:  # for the annotation: importing gnnbench.data registers (and imports) every dataset loader
    from gnnbench.data.scenarios import Scenario


class NonFiniteLossError(RuntimeError):
    """Training diverged; the run is recorded as failed (a search child scores 0 instead)."""

    def __init__(self, loss: float, epoch: int) -> None:
        super().__init__(loss, epoch)  # both in args: the error pickles across worker processes
        self.loss, self.epoch = loss, epoch

    def __str__(self) -> str:
        return f"loss became {self.loss} at epoch {self.epoch}"


def check_output(model: torch.nn.Module, out: Any, rows: int, dims: tuple[int, ...], expected: str,
                 method: str = "forward", columns: int | None = None) -> torch.Tensor:
    """``out`` (what ``model.method`` returned) when it is a floating tensor of ``rows`` rows (and ``columns``
    columns, when given) and one of ``dims`` dimensions; otherwise a ValueError naming the model, what it
    returned, where ``method`` is defined and what was ``expected``: a plugin's wrong output is named where the
    task reads it, not by an indexing or loss error deep inside the task, nor ranked as if it were scores."""
    if (isinstance(out, torch.Tensor) and out.dim() in dims and out.size(0) == rows
            and (columns is None or out.size(-1) == columns) and out.is_floating_point()):
        return out
    shape = type(out).__name__
    if isinstance(out, torch.Tensor):  # the dtype only where it is what is wrong
        dtype = "" if out.is_floating_point() else " " + str(out.dtype).removeprefix("torch.")
        shape = f"{tuple(out.shape)}{dtype}"
    raise ValueError(f"{type(model).__name__} returned {shape}{_defined_at(model, method)}; expected {expected}")


def _defined_at(model: torch.nn.Module, method: str) -> str:
    """`` (forward at my_models.py:31)``: where the user's code is, since the error is raised in the task (the
    module ``torch.compile`` wraps, through decorators); nothing where it cannot be found, nor where the model has
    no such method (an abstract one is gnnbench's stub, not the user's code)."""
    function = _method(_compiled_from(model), method)
    if function is None:
        return ""
    try:
        function = inspect.unwrap(function)
    except Exception:  # a wrapper that cannot be unwrapped
        return ""
    where = _source_line(function)
    return f" ({method} at {where})" if where else ""


def _method(model: Any, name: str) -> Callable[..., Any] | None:
    """``model.name`` as a call finds it, on a model class or on one built (bound, or an attribute its
    ``__init__`` set: ``self.score_pairs = self.decoder.score``); None where it has none or only an abstract one:
    ``TemporalLinkModel``'s ``link_logits``, which ``nn.Module`` subclasses inherit without an error."""
    function = getattr(model, name, None)
    if not callable(function) or getattr(function, "__isabstractmethod__", False):
        return None
    return function


def _compiled_from(model: Any) -> Any:
    """The module ``torch.compile`` wrapped in ``model`` (its wrapper's ``forward(*input)`` binds any call), else
    ``model``."""
    return getattr(model, "_orig_mod", model)


def _source_line(function: Callable[..., Any]) -> str:
    """``my_models.py:31``, or nothing for a function without a file (defined in C, scripted, typed at a prompt):
    the message stands without it."""
    try:
        return f"{inspect.getsourcefile(function)}:{inspect.getsourcelines(function)[1]}"
    except (TypeError, OSError):
        return ""


@dataclass(frozen=True)
class Budget:
    """How long a run may train: at most ``epochs``, stopping after ``patience`` epochs without improvement."""

    epochs: int
    patience: int | None = None


@dataclass
class RunContext:
    """What a run needs besides its data and hyperparameters."""

    device: torch.device
    seed: int
    #: the suite's ``kernel:`` (a backend or ``auto``), put into effect by tasks listing backends in ``kernels``
    kernel: str = "scatter"
    on_epoch: Callable[[int, Mapping[str, float]], None] | None = None
    #: the run's peak-memory measurement, which a task may pause (:meth:`untracked`)
    memory: PeakMemory | None = None
    #: set by the task once its backend is in effect: recorded even when the run fails later
    kernel_choice: dict[str, Any] | None = None

    def untracked(self) -> contextlib.AbstractContextManager[None]:
        """A block whose allocations are not the run's peak memory (``auto`` timing other backends)."""
        return self.memory.paused() if self.memory is not None else contextlib.nullcontext()

    def report(self, epoch: int, values: Mapping[str, float]) -> None:
        if self.on_epoch is not None:
            self.on_epoch(epoch, values)


@dataclass
class FitResult:
    """What a training protocol reports: the selected epoch and a per-epoch history."""

    best_epoch: int
    epochs_run: int
    history: dict[str, list[float]] = field(default_factory=dict)
    epoch_times_s: list[float] = field(default_factory=list)
    #: a protocol that gathers batches from a feature store: mode, its loading time and share per epoch (means over
    #: the epochs after the first, which ``first_epoch_load_s`` keeps, as ``epoch_load_over`` says)
    loading: dict[str, Any] | None = None

    @property
    def epoch_time_s(self) -> float:
        """Mean seconds per training epoch (0 when nothing was trained)."""
        return sum(self.epoch_times_s) / max(len(self.epoch_times_s), 1)

    def record(self, model: torch.nn.Module) -> dict[str, Any]:
        """The record fields every task writes about training: selected epoch, history, time, parameters. The
        first epoch's time is kept beside the mean: it pays one-off costs (first touch of fresh buffers, the
        optimiser's state) that a later epoch does not, and the mean of a short run carries them. A model that ran
        with another value than a hyperparameter it was given (ForwardGNN-FF caps ``num_negatives`` at C - 1, as
        the official code does) says so in its ``effective_hparams`` (key -> value used), kept as the record's
        ``effective_hparams``: the spec keeps the value given, which is the run's identity."""
        first = {"first_epoch_time_s": self.epoch_times_s[0]} if self.epoch_times_s else {}
        used = getattr(model, "effective_hparams", None)
        return {"best_epoch": self.best_epoch, "epochs_run": self.epochs_run, "history": self.history,
                "epoch_time_s": self.epoch_time_s, **first, "params": sum(p.numel() for p in model.parameters()),
                **({"effective_hparams": dict(used)} if used else {})}


class EarlyStopping:
    """Keeps the state of the best validation epoch; ties on the metric go to the lower validation loss.

    ``patience`` counts epochs after the best one, and not before ``warmup`` epochs have run: a learning-rate
    warm-up is no plateau, so a run is never stopped before its rate has reached its full value. The best
    epoch is still chosen over every epoch, warm-up included. ``whole`` keeps a copy of the whole model rather
    than its state dict: a temporal model's memory of the events it has seen is state outside its parameters."""

    def __init__(self, direction: str, patience: int | None, warmup: int = 0, whole: bool = False) -> None:
        self.sign = 1.0 if direction == "max" else -1.0
        self.patience, self.warmup, self.whole = patience, warmup, whole
        self.best_epoch = -1
        self.best_key: tuple[float, float] = (-math.inf, -math.inf)
        self.best_state: Any = None

    def step(self, epoch: int, score: float, loss: float, model: torch.nn.Module) -> bool:
        """Record epoch ``epoch``; True when training should stop."""
        key = (self.sign * score, -loss)
        if key > self.best_key:
            self.best_key, self.best_epoch = key, epoch
            self.best_state = copy.deepcopy(model if self.whole else model.state_dict())
        return self.patience is not None and epoch - max(self.best_epoch, self.warmup - 1) >= self.patience

    def restore(self, model: torch.nn.Module) -> None:
        if self.best_state is None:
            return
        if self.whole:
            model.__dict__.update(self.best_state.__dict__)
        else:
            model.load_state_dict(self.best_state)


def train_epochs(model: torch.nn.Module, epoch_step: Callable[[int], Mapping[str, float]],
                 validate: Callable[[], Mapping[str, float]], task: Task, budget: Budget, ctx: RunContext, *,
                 warmup: int = 0, whole: bool = False,
                 report: Callable[[int, Mapping[str, float]], None] | None = None) -> FitResult:
    """The epoch loop every protocol shares, so selection, history and timing read the same in every record.

    Per epoch: ``epoch_step(epoch)`` trains and returns ``train_loss`` and any other per-epoch values for the
    history; its time, the device synchronised, is the epoch's time. Then ``validate()`` gives the task's metric
    and ``loss`` on the validation split (and any other metrics: each goes into the history as ``val_<name>``),
    :class:`EarlyStopping` selects on them, and at the end ``model`` is restored to the selected epoch.
    ``report`` replaces ``ctx.report`` for progress lines (a layer-wise protocol numbers its steps across
    layers)."""
    stopper = EarlyStopping(task.direction, budget.patience, warmup, whole)
    history: dict[str, list[float]] = {}
    times: list[float] = []
    epoch = -1
    for epoch in range(budget.epochs):
        start = time.perf_counter()
        logs = epoch_step(epoch)
        if ctx.device.type == "cuda":
            torch.cuda.synchronize(ctx.device)
        times.append(time.perf_counter() - start)
        val = validate()
        if epoch == 0:
            _check_keys(epoch_step, logs, ("train_loss",), "the epoch's values")
            _check_keys(validate, val, (task.metric, "loss"), "the validation metrics (task.evaluate(...)['val']; "
                        f"the task's metric = {task.metric!r}, set by {defined_in(type(task))})")
        for name, value in (*logs.items(), *((f"val_{k}", v) for k, v in val.items())):
            history.setdefault(name, []).append(value)
        (report or ctx.report)(epoch, {"loss": logs["train_loss"], f"val_{task.metric}": val[task.metric]})
        if stopper.step(epoch, val[task.metric], val["loss"], model):
            break
    stopper.restore(model)
    return FitResult(best_epoch=stopper.best_epoch, epochs_run=epoch + 1, history=history, epoch_times_s=times)


class Task(ABC):
    """Base class: subclasses load splits, build models, define the metric and the default protocol."""

    name: ClassVar[str]
    metric: ClassVar[str]
    direction: ClassVar[str]  # "max" or "min"
    #: The metric's unit (:mod:`gnnbench.units`): ``"fraction"`` for a value in [0, 1], shown in percent; ``""``
    #: shows it as recorded; None (a task naming none): the unit the metric's name implies (:meth:`metric_unit`).
    unit: ClassVar[str | None] = None
    #: Training keys of the default protocol and their defaults (a model's registry defaults override them).
    train_hparams: ClassVar[dict[str, Any]] = {}
    #: Training keys added after results existed, with the value that switches them off: a suite may set them,
    #: but a run's hyperparameters hold them only when set, so adding one never changes existing run ids.
    optional_train_hparams: ClassVar[dict[str, Any]] = {}
    #: Dataclass of the task's options (the ``task:`` mapping in a suite).
    Options: ClassVar[type]
    #: Message-passing backends the task can hand its models (``gnnbench.kernels``); others fail validation.
    kernels: ClassVar[tuple[str, ...]] = ("scatter",)
    #: The constructor arguments :meth:`run` fills from the data: a model whose constructor takes none of one is
    #: refused where a suite names it, not in each of its runs.
    model_args: ClassVar[tuple[str, ...]] = ("in_channels", "out_channels")
    #: The class every model of the task subclasses (what :meth:`run` builds and trains): a model registered as
    #: another (a class that is no ``torch.nn.Module``) is refused where a suite names it, not in each of its runs.
    model_base: ClassVar[type] = torch.nn.Module

    def __init__(self, options: Any, scenario: Scenario | None = None) -> None:
        self.options = options  # an instance of the task's ``Options``
        self.scenario = scenario  # perturbs the training data, or None: the clean data

    @classmethod
    def metric_unit(cls) -> str:
        """``unit``, or for a task that names none, the unit its metric's name implies, as records made before
        tasks named units were shown: a plugin task's ``accuracy`` stays in percent. Records carry it."""
        return cls.unit if cls.unit is not None else unit_by_name(cls.metric)

    def label(self) -> str:
        """The task's name in leaderboards: the name, plus the options that make results incomparable (a
        temporal task's setting and negative strategy), so such runs never share a row."""
        return self.name

    @classmethod
    def check_run(cls, options: Any, dataset: Entry, hparams: Mapping[str, Any], seed: int) -> None:
        """Reject, before anything runs, a run these options, hyperparameters and seed cannot make on
        ``dataset``: raise :class:`gnnbench.hparams.HparamError` when a hyperparameter is at fault,
        :class:`gnnbench.errors.SeedError` when the seed is, ValueError otherwise. Every combination is
        runnable unless a task says otherwise."""
        return None

    @classmethod
    def preset_model_args(cls, options: Any) -> dict[str, Any]:
        """The constructor arguments of ``model_args`` that its runs fill from these options alone, before any
        data (the link task's embedding width): a model's ``check_hparams`` sees them, so a width its layers
        cannot take is refused when the suite loads. None unless a task says otherwise."""
        return {}

    @classmethod
    def model_call(cls, model: Any) -> dict[str, tuple[str, ...]]:
        """What :meth:`run` calls on ``model`` (a model class, or one built): each method by name, with the
        arguments it passes in order: ``{"forward": ("x", "edge_index")}`` for ``model(x, edge_index)``. A model
        lacking one of them, or whose method cannot take its arguments, is refused where a suite names it
        (:func:`call_problem`), not by an AttributeError or TypeError inside each of its runs. Nothing is checked
        for a method left out (one the task calls in ways a tuple cannot say); nothing at all unless a task says
        otherwise."""
        return {}

    @classmethod
    def unread_hparams(cls, hparams: Mapping[str, Any], dataset: Entry) -> dict[str, str]:
        """The hyperparameters the others, or runs on ``dataset``, leave unread (key -> why): set in a suite away
        from the default the run resolves, each would make another run id for the same runs, and the leaderboard
        could name it as the selected setting, so the suite refuses it at its key where no point of the model
        entry's grid reads it, and runs it at its default at the points that leave it unread otherwise. None unless a
        task says otherwise."""
        return {}

    def check_data(self, data: Any) -> None:
        """Raise :class:`gnnbench.errors.DataError` where ``data`` (what the dataset's loader returned) cannot
        serve these options, e.g. a split the dataset does not ship. Checked once per dataset before any run
        starts (a plugin's dataset is known only once loaded), and by the run itself. Any data serves unless a
        task says otherwise."""
        return None

    @classmethod
    def check_call(cls, model: torch.nn.Module, calls: Mapping[str, tuple[str, ...]] | None = None) -> None:
        """A ValueError naming ``model`` (one built), the method of the task's calls (``calls``, by default its
        :meth:`model_call`) it lacks or that cannot take its arguments, and where that method is, if it has one
        (:func:`call_problem`). A run checks before it first calls the model (:meth:`fit_model` does; node
        classification before ``kernel: auto`` times a forward), so one started from Python, which no suite
        checked, fails with the suite's words, not a TypeError. A task's ``fit`` checks the calls it alone makes,
        which ``model_call`` leaves out for a model with a ``fit`` of its own: that ``fit`` may hand over to the
        task's (Todyformer's does)."""
        if found := call_problem(cls, model, calls):
            method, problem = found
            raise ValueError(f"{type(_compiled_from(model)).__name__} {problem}{_defined_at(model, method)}")

    @abstractmethod
    def run(self, entry: Entry, data: Any, hparams: Mapping[str, Any], budget: Budget, ctx: RunContext) -> dict:
        """Train ``entry``'s model on ``data`` and return the record's result fields."""

    def fit_model(self, model: torch.nn.Module, data: Any, train_hparams: Mapping[str, Any], budget: Budget,
                  ctx: RunContext) -> FitResult:
        """The protocol hook: the model's own ``fit`` when it has one, else the task's ``fit``. Either gets the
        optional keys a run does not set at their off values, so a model's ``fit`` that delegates to the task's
        trains under the same protocol. A model that cannot take the task's calls is named first
        (:meth:`check_call`), not by a TypeError inside the protocol."""
        self.check_call(model)
        hparams = {**self.optional_train_hparams, **train_hparams}
        own = own_fit(model)
        if own is None:
            with read_only(data):
                result, where = self.fit(model, data, hparams, budget, ctx), f"{type(self).__name__}.fit"
        else:
            with read_only(data):
                result, where = own(self, data, hparams, budget, ctx), f"{type(model).__name__}.fit"
            where += _defined_at(model, "fit")
            if not isinstance(result, FitResult):
                raise TypeError(f"{where} returned {type(result).__name__}; expected a FitResult (train_epochs "
                                "returns one)")
        if result.best_epoch < 0:  # the task would report the last state's test metric as if it had been selected
            raise ValueError(f"{where} selected no epoch (best_epoch {result.best_epoch} after {result.epochs_run} "
                             f"epochs: was every validation {self.metric} undefined?)")
        return result

    @abstractmethod
    def fit(self, model: torch.nn.Module, data: Any, train_hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext) -> FitResult:
        """The task's default protocol (plain backprop with validation-selected early stopping)."""

    def train_full_batch(self, model: torch.nn.Module, train_loss: Callable[[], torch.Tensor],
                         validate: Callable[[], Mapping[str, float]], train_hparams: Mapping[str, Any],
                         budget: Budget, ctx: RunContext) -> FitResult:
        """Adam with one full-batch step on ``train_loss()`` per epoch, then ``validate()`` (the task's metric
        and ``loss``); early stopping on them, and the selected epoch's state restored."""
        optimizer = torch.optim.Adam(model.parameters(), lr=train_hparams["lr"],
                                     weight_decay=train_hparams["weight_decay"])

        def epoch_step(epoch: int) -> dict[str, float]:
            model.train()
            optimizer.zero_grad()
            loss = train_loss()
            check_finite(loss, epoch)
            loss.backward()
            optimizer.step()
            return {"train_loss": loss.item()}

        return train_epochs(model, epoch_step, validate, self, budget, ctx)


def own_fit(model: Any) -> Callable[..., Any] | None:
    """The ``fit`` of ``model`` (a model class, or one built) that :meth:`Task.fit_model` hands the protocol to, or
    None where the task's ``fit`` trains it: what the task's ``fit`` alone calls need only be asked then."""
    fit = getattr(model, "fit", None)
    return fit if callable(fit) else None


def task_class_problem(name: str, cls: Any) -> str | None:
    """What a class registered as task ``name`` lacks of what the harness reads, or None. Checked when it is
    registered: a plugin task missing one would otherwise fail every run, and a misspelt ``direction`` would
    silently select each run's worst epoch."""
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        return "is not a subclass of gnnbench.tasks.base.Task"
    if inspect.isabstract(cls):
        return f"does not implement {', '.join(sorted(cls.__abstractmethods__))}"
    if getattr(cls, "name", None) != name:
        return (f"has name = {getattr(cls, 'name', None)!r}; expected name = {name!r}, the name it is registered "
                "under (leaderboards label its rows by it)")
    if not isinstance(getattr(cls, "metric", None), str) or not cls.metric:
        return (f"has metric = {getattr(cls, 'metric', None)!r}; expected a class attribute naming the key of the "
                "task's metrics that selects the epoch and is reported, e.g. metric = 'accuracy'")
    if getattr(cls, "direction", None) not in ("max", "min"):
        return (f"has direction = {getattr(cls, 'direction', None)!r}; expected 'max' (a higher metric is better) "
                "or 'min'")
    if getattr(cls, "unit", None) not in (*UNITS, None):
        return (f"has unit = {getattr(cls, 'unit', None)!r}; expected 'fraction' (a metric in [0, 1], shown in "
                "percent), '' (shown as recorded) or None (the unit the metric's name implies)")
    if not (isinstance(getattr(cls, "model_args", None), tuple) and all(isinstance(a, str) for a in cls.model_args)):
        return (f"has model_args = {getattr(cls, 'model_args', None)!r}; expected a tuple of the constructor "
                "arguments its run fills from the data, e.g. ('in_channels', 'out_channels')")
    if not isinstance(getattr(cls, "model_base", None), type):
        return (f"has model_base = {getattr(cls, 'model_base', None)!r}; expected the class its models subclass, "
                "e.g. torch.nn.Module")
    if (hooks := _hook_problem(cls)) is not None:
        return hooks
    if not dataclasses.is_dataclass(getattr(cls, "Options", None)) or not isinstance(cls.Options, type):
        return ("has no Options; expected a dataclass of the options a suite's task: mapping sets (one without "
                "fields where there are none)")
    return None


def call_problem(task_cls: type[Task], model: Any,
                 calls: Mapping[str, tuple[str, ...]] | None = None) -> tuple[str, str] | None:
    """The first method of ``calls`` (by default ``task_cls.model_call(model)``) that ``model`` (a model class, or
    one built; the module ``torch.compile`` wraps) lacks or cannot call with its arguments, and what is wrong, said
    of the model: ``("forward", "has a forward that cannot take (x, edge_index, batch): task 'graph_classification'
    calls model(x, edge_index, batch)")``. Methods are looked up as the run calls them (:func:`_method`: a built model's
    attributes count, an abstract method counts as lacking). A class lacking one is not refused where a suite
    loads: its ``__init__`` may set it, which only the built model shows (:meth:`Task.check_call`). None where
    every call can be made; a RegistryError naming the task and its file where its ``model_call`` returns other
    than a mapping of calls for ``model`` (:func:`_calls_problem`)."""
    model = _compiled_from(model)
    if calls is None:
        calls = task_cls.model_call(model)
        if problem := _calls_problem(calls, f" for {defined_in(model if isinstance(model, type) else type(model))}"):
            raise RegistryError(f"{defined_in(task_cls)}: task '{task_cls.name}' {problem}")
    for method, arguments in calls.items():
        listed = ", ".join(arguments)
        called = "model" if method == "forward" else f"model.{method}"  # forward: through the module's __call__
        call = f"task '{task_cls.name}' calls {called}({listed})"
        if _method(model, method) is None:
            if isinstance(model, type):  # known only once built
                continue
            return method, f"has no {method}: {call}"
        if not method_takes(model, method, arguments):
            article = "an" if method[0] in "aeiou" else "a"
            return method, f"has {article} {method} that cannot take ({listed}): {call}"
    return None


def method_takes(model: Any, method: str, call: tuple[str, ...]) -> bool:
    """Whether ``method`` of ``model`` (a model class, or one built: what a call finds on it, :func:`_method`) can
    take ``call``, as binding it to its signature tells (``*args``, defaults and keyword parameters counted); True
    where it has no such method (which :func:`call_problem` names) or no signature to check."""
    try:
        signature = inspect.signature(_method(model, method))
    except (TypeError, ValueError):  # no such method, or no signature to check
        return True
    self_first = (None,) if isinstance(model, type) else ()  # a class's function takes self; a bound one has it
    try:
        signature.bind(*self_first, *call)
    except TypeError:
        return False
    return True


def _hook_problem(cls: type) -> str | None:
    """A hook the harness calls on the class (``unread_hparams``, ``model_call``) that cannot take its arguments, or a
    ``model_call`` that returns other than a mapping of methods to argument names: a plugin written for another form
    (the one-argument ``unread_hparams``, an instance method) would otherwise fail each suite with a TypeError located
    in gnnbench, and a string would be read as a call of one argument per letter."""
    hooks = {"unread_hparams": (({}, None), "unread_hparams(cls, hparams, dataset): the hyperparameters its runs on "
                                            "that dataset (a registry entry) leave unread"),
             "model_call": ((cls.model_base,), "model_call(cls, model): what its run calls on a model")}
    for name, (arguments, expected) in hooks.items():
        try:
            inspect.signature(getattr(cls, name)).bind(*arguments)
        except TypeError:
            return f"has {name} taking other arguments; expected a classmethod {expected}"
        except ValueError:  # no signature to check
            pass
    return _calls_problem(cls.model_call(cls.model_base))


def _calls_problem(calls: Any, given: str = "") -> str | None:
    """What is wrong with ``calls``, what a ``model_call`` returned (given ``given``, where it was not the task's
    ``model_base``), or None where it is a mapping of method names to tuples of argument names (none at all
    included): checked where the task is registered and again wherever it is
    used, since a plugin may return another form for some models alone."""
    if isinstance(calls, Mapping) and all(isinstance(method, str) and isinstance(arguments, tuple)
                                          and all(isinstance(a, str) for a in arguments)
                                          for method, arguments in calls.items()):
        return None
    return (f"has model_call returning {calls!r}{given}; expected a mapping of each method its run calls on a model "
            "to the argument names it passes, e.g. {'forward': ('x', 'edge_index')}, or {} for nothing to check "
            "(which None said before)")


@contextlib.contextmanager
def read_only(data: Any) -> Iterator[None]:
    """The block (a training protocol given ``data``) leaves every tensor of ``data`` as it was: the data a task
    hands its protocol is a view sharing tensors with what the test split is scored on, so an in-place edit
    (``data.x += noise`` in a model's ``fit``) would reach the evaluation. A ValueError names each tensor edited."""
    tensors = _tensors(data)
    versions = {name: tensor._version for name, tensor in tensors.items()}
    yield
    edited = [name for name, tensor in tensors.items() if tensor._version != versions[name]]
    if edited:
        raise ValueError(f"training modified {', '.join(f'data.{name}' for name in edited)} in place; the data a "
                         "model trains on is shared with the evaluation: copy a tensor before changing it")


def _tensors(data: Any) -> dict[str, torch.Tensor]:
    """name -> tensor of a ``Data``/``TemporalData``, or of the ``Data`` fields of a dataclass (a temporal split);
    collections of graphs (the graph tasks' datasets) are left out."""
    if isinstance(data, BaseData):
        return {key: value for key, value in data.items() if isinstance(value, torch.Tensor)}
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return {f"{field.name}.{key}": tensor for field in dataclasses.fields(data)
                for key, tensor in _tensors(getattr(data, field.name)).items()}
    return {}


def _check_keys(function: Callable[..., Any], returned: Any, keys: tuple[str, ...], what: str) -> None:
    """A protocol's callback returned a mapping with ``keys``; otherwise a ValueError naming the callback and where
    it is, not a KeyError inside the loop."""
    if isinstance(returned, Mapping) and all(k in returned for k in keys):
        return
    name = getattr(function, "__qualname__", type(function).__name__)
    where = f" at {line}" if (line := _source_line(function)) else ""
    got = sorted(returned) if isinstance(returned, Mapping) else type(returned).__name__
    raise ValueError(f"{name}{where} returned {got}; expected {what} with the keys {', '.join(keys)}")


def check_finite(loss: torch.Tensor, epoch: int) -> None:
    if not torch.isfinite(loss):
        raise NonFiniteLossError(loss.item(), epoch)
