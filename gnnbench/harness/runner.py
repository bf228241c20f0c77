"""One run: a pure function from a :class:`RunSpec` to a record.

Every executor calls :func:`execute`; it never touches the store. Exceptions inside the run (a diverging
loss, out-of-memory, a bug in a model) become a failed record carrying the traceback, so one bad run never
stops a suite.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch_geometric import seed_everything

from gnnbench.data.digest import data_sha256_or_none
from gnnbench.data.sources import fingerprint
from gnnbench.errors import where
from gnnbench.harness.allocator import keep_freed_memory
from gnnbench.harness.env import environment, git_commit, plugin_sources
from gnnbench.harness.measure import PeakMemory
from gnnbench.harness.spec import RunSpec
from gnnbench.harness.speed_probe import speed_probe
from gnnbench.harness.store import SCHEMA, has_metric, utc_now
from gnnbench.kernels import candidates, model_kernels, scatter_provider
from gnnbench.kernels.auto import named_reason
from gnnbench.recordable import unrecordable
from gnnbench.registry import DATASETS, MODELS, TASKS, defined_in, load_plugin
from gnnbench.tasks.base import Budget, RunContext, Task

HISTORY_POINTS = 100

EpochCallback = Callable[[int, Mapping[str, float]], None]


def execute(spec: RunSpec, data_root: str | None = None, on_epoch: EpochCallback | None = None,
            concurrent_runs: int | None = None) -> dict[str, Any]:
    """Run ``spec`` and return its record (``status`` is ``ok`` or ``failed``). ``concurrent_runs``: how many runs
    its executor runs side by side on this machine, sharing its cores and memory bandwidth, which move epoch times
    as threads do (``env.concurrent_runs``; None where the executor cannot tell: Ray places runs by resources)."""
    started = time.perf_counter()
    keep_freed_memory()  # before the run allocates: its epochs reuse what the previous ones freed
    git_commit()  # the process's code is the checkout it imported: read the commit before this run can outlast one
    record: dict[str, Any] = {"schema": SCHEMA, "run_id": spec.run_id, "spec": spec.to_dict(),
                              "started_at": utc_now()}
    device = torch.device("cpu")
    ctx: RunContext | None = None
    try:
        for plugin in spec.plugins:
            load_plugin(plugin)
        task = spec.build_task()
        record.update(identity(task))  # first, so that every later failure counts in its leaderboard row
        if sources := plugin_sources(record["spec"]):
            record["sources"] = sources  # failed or not; the data's digest joins it once loaded
        device = resolve_device(spec.device)  # a device this machine has, so environment(device) cannot fail
        dataset = DATASETS.get(spec.dataset)
        seed_everything(spec.seed)  # a loader drawing from the global generators draws the same for every run of a seed
        data = dataset.obj(data_root)
        seed_everything(spec.seed)  # and training starts from the run's seed, whatever the loader drew or seeded
        if "dataset" in sources and (digest := data_sha256_or_none(data)):  # which data, not only which loader
            sources["dataset"]["data_sha256"] = digest
        loaded = time.perf_counter()
        with PeakMemory(device) as memory:
            ctx = RunContext(device=device, seed=spec.seed, kernel=spec.kernel, on_epoch=on_epoch, memory=memory)
            result = task.run(MODELS.get(spec.model), data, spec.hparams, Budget(spec.epochs, spec.patience), ctx)
        _check_result(task, result)
        result["history"] = downsample(result.get("history", {}))
        if "files" in dataset.meta:
            result.setdefault("data", {})["fingerprint"] = fingerprint(dataset.meta["files"])
        record.update(status="ok", **result, memory=memory.summary(), timing={"load_s": loaded - started})
    except (Exception, SystemExit) as exc:  # exit() in a plugin, argparse in a model: this run fails, not the suite
        record.update(status="failed", error={"type": type(exc).__name__, "message": str(exc),
                                              "where": where(exc), "traceback": traceback.format_exc()})
    record.setdefault("timing", {})["wall_s"] = time.perf_counter() - started
    # how fast the machine ran: after the run, whose first epoch it leaves alone, and outside its wall time
    probe = speed_probe(device) if record["status"] == "ok" else None
    record["kernel"] = {"backend": spec.kernel, **kernel_choice(spec, ctx.kernel_choice if ctx else None),
                        "scatter_provider": scatter_provider(device)}
    record["env"] = (environment(device) | ({"concurrent_runs": concurrent_runs} if concurrent_runs else {})
                     | ({"speed_probe": probe} if probe else {}))
    record["finished_at"] = utc_now()
    return record


def identity(task: Task) -> dict[str, str]:
    """What places a record, failed or not, in its leaderboard row: the task label, the metric, its direction and
    its unit (a model whose every run failed still gets a row, under the metric it would have had)."""
    return {"task_label": task.label(), "metric": task.metric, "direction": task.direction,
            "unit": task.metric_unit()}


def _check_result(task: Task, result: Any) -> None:
    """Fail the run, here, when the task's result is no record: not a dict, without its metric as a number under
    ``metrics.val`` and ``metrics.test`` (the run would be recorded ok, then skipped by every reader), without
    the ``scenario`` field a run under a scenario records (a task that ignores it: a ``like=`` task takes its
    base task's scenarios, and their clean numbers would fill perturbed rows), or not JSON
    (a tensor or NumPy scalar left in a metric or the history: in the driver the error would stop the whole suite,
    and every resume would meet it again)."""
    run = f"{type(task).__name__}.run ({defined_in(type(task))})"
    if not isinstance(result, dict):
        raise TypeError(f"{run} returned {type(result).__name__}; expected a dict of record fields")
    if (problem := unrecordable(result)) is not None:
        raise TypeError(f"{run} returned a result that cannot be recorded as JSON: {problem}")
    if not has_metric(task.metric, result.get("metrics")):
        raise ValueError(f"{run} returned metrics {result.get('metrics')!r}; expected {task.metric!r} as a number "
                         f"under 'val' and 'test', e.g. {{'val': {{'{task.metric}': 0.8}}, 'test': {{...}}}}")
    if task.scenario is not None and "scenario" not in result:  # clean numbers in a perturbed row otherwise
        raise ValueError(f"{run} ran under scenario '{task.scenario.name}' and returned no 'scenario' field: it did "
                         "not apply it; expected the task's run to perturb its training data with "
                         "gnnbench.data.scenarios.perturbed (or perturbed_graphs) and record what it changed, as "
                         "NodeClassification.run does")


def kernel_choice(spec: RunSpec, reported: Mapping[str, Any] | None) -> dict[str, Any]:
    """The backend that ran: as the task reported it, else what the spec and the task imply (None when a
    run failed before ``auto`` decided)."""
    if reported is not None:
        return dict(reported)
    if spec.task in TASKS and TASKS.get(spec.task).obj.kernels == ("scatter",):
        return {"chosen": "scatter", "reason": f"task '{spec.task}' hands its models edge_index"}
    if spec.kernel != "auto":
        runnable = (candidates(model_kernels(MODELS.get(spec.model)), TASKS.get(spec.task).obj.kernels)
                    if spec.model in MODELS and spec.task in TASKS else [])  # a plugin that failed to load: neither
        return {"chosen": spec.kernel, "reason": named_reason(spec.kernel, runnable)}
    return {"chosen": None, "reason": "the run failed before auto chose"}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    problem = device_problem(name)
    if problem is not None:
        raise RuntimeError(problem)
    return torch.device(name)


def device_problem(name: str) -> str | None:
    """Why this machine cannot run on device ``name`` (no CUDA, or no GPU of that ordinal); None when it can."""
    if not name.startswith("cuda"):  # cpu, and auto, which picks what exists
        return None
    device = torch.device(name)
    if not torch.cuda.is_available():
        return f"device '{name}' requested but CUDA is not available on this machine"
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        have = "cuda:0" if count == 1 else f"cuda:0 to cuda:{count - 1}"
        return f"device '{name}' requested but this machine has {count} CUDA device(s): {have}"
    return None


def downsample(history: Mapping[str, list[float]], points: int = HISTORY_POINTS) -> dict[str, list]:
    """At most ``points`` evenly spaced epochs of each curve and the last, with their epoch numbers."""
    length = max((len(v) for v in history.values()), default=0)
    if not length:
        return {}
    step = max(1, -(-length // points))
    epochs = sorted(set(range(0, length, step)) | {length - 1})
    out: dict[str, list] = {"epoch": epochs}
    for key, values in history.items():
        out[key] = [round(values[e], 6) for e in epochs if e < len(values)]
    return out

