"""The ``ray`` executor: every RunSpec becomes a Ray task; records stream back to the driver as they finish.

Ray starts a local instance when no address is given and joins a running cluster otherwise
(``ray.init(address=...)``). Each task declares the suite's resources (``num_cpus``, ``num_gpus``, fractional
GPUs allowed) and runs :func:`gnnbench.harness.runner.execute` on the worker, which resolves datasets from the
same data root (a shared filesystem on a real cluster). Module plugins that are not installed packages (found
beside the suite file or on the driver's own ``PYTHONPATH``) travel with the job as Ray ``py_modules``, since a
worker's ``sys.path`` is not the driver's. The driver alone writes the store.

Failures:

* an exception inside a run is caught by ``execute`` and comes back as a failed record with its traceback;
  it is never retried (it would fail again);
* a worker process or node that dies mid-run raises a Ray system error on the driver, which resubmits the
  run, at most ``max_retries`` times; the record lists every attempt that was lost (``attempts``). Ray's own
  task retries are switched off so that no retry goes unrecorded;
* a run_id is yielded at most once, so a duplicate completion can never produce a second record.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import signal
import socket
import threading
import warnings
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import Any

import torch

from gnnbench.errors import ConfigError, GnnbenchError
from gnnbench.harness.env import plugin_sources
from gnnbench.harness.executors import worker_failure
from gnnbench.harness.runner import execute
from gnnbench.harness.spec import RunSpec
from gnnbench.harness.store import utc_now

#: The task's name: Ray titles the worker process ``ray::gnnbench_run`` while it runs one.
TASK_NAME = "gnnbench_run"


class RayLostError(GnnbenchError):
    """The driver's own Ray instance died mid-suite (its raylet killed, out of memory): nothing a run did, so no
    run is recorded as failed for it; the same command resumes."""

    exit_code = 75  # sysexits' EX_TEMPFAIL: try again


def gnnbench_run(spec: RunSpec, data_root: str | None, threads: int) -> dict[str, Any]:
    """Body of the Ray task: one run on whichever node Ray chose, with that node named in the record."""
    import ray

    torch.set_num_threads(threads)
    with _lost_on_sigterm():
        record = execute(spec, data_root)
    record["node"] = {"hostname": socket.gethostname(), "node_id": ray.get_runtime_context().get_node_id()}
    return record


class RayExecutor:
    """The runs as Ray tasks on a cluster (or a local Ray instance), each reserving ``num_cpus`` and ``num_gpus``
    and retried ``max_retries`` times when its worker dies."""

    name = "ray"
    runs_here = False  # the workers check their own devices
    in_process = False

    def __init__(self, address: str | None = None, num_cpus: float = 1, num_gpus: float = 0,
                 max_retries: int = 2, suite_file: str | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.max_retries = max_retries
        self.suite_file = suite_file  # whose ``executor:`` mapping a request no node can hold is refused at

    def map(self, specs: Iterable[RunSpec], data_root: str | None = None) -> Iterator[dict[str, Any]]:
        ray = _import_ray()
        specs = list(specs)
        if not self.num_gpus and (cuda := next((s.device for s in specs if s.device.startswith("cuda")), None)):
            warnings.warn(f"runs on device {cuda} reserve no GPU (the executor's num_gpus is 0): Ray schedules them "
                          "by CPUs alone, and recent Ray versions leave every GPU visible to such tasks, so they "
                          "share a node's GPUs unscheduled; set num_gpus (a fraction packs runs on one GPU)",
                          stacklevel=2)
        started_here = not ray.is_initialized()
        modules = travelling_modules(specs)
        if started_here:  # Ray uploads local modules for a whole job only, so they are named when it starts
            with _own_sigterm(), _joining(self.address):
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                         configure_logging=False, runtime_env={"py_modules": modules} if modules else None)
        elif modules:
            warnings.warn(f"Ray was started before gnnbench could name the suite's local plugin modules "
                          f"({', '.join(modules)}) in its runtime_env: unless the caller's runtime_env has them "
                          "in py_modules, every run of their models fails on the workers", stacklevel=2)
        nodes = ray.nodes()
        if unfit := _unfit(nodes, self.num_cpus, self.num_gpus):  # Ray would wait for such a node for ever
            if started_here:
                ray.shutdown()
            key, expected = unfit
            raise ConfigError(self.suite_file, key, f"a run asks for num_cpus {self.num_cpus:g} and num_gpus "
                                                    f"{self.num_gpus:g}, and no node of the Ray cluster has that many "
                                                    f"({_offered(nodes)}); expected {expected} (a cluster that adds "
                                                    "nodes on demand must have started one that can)")
        task = ray.remote(gnnbench_run).options(name=TASK_NAME, num_cpus=self.num_cpus, num_gpus=self.num_gpus,
                                                max_retries=0)
        threads = max(1, int(self.num_cpus))
        pending: dict[Any, tuple[RunSpec, list[str]]] = {}
        started: dict[str, str] = {}  # run_id -> first submission, the start of a run the driver records itself

        def submit(spec: RunSpec, lost: list[str]) -> None:
            started.setdefault(spec.run_id, utc_now())
            pending[task.remote(spec, data_root, threads)] = (spec, lost)

        for spec in specs:
            submit(spec, [])
        try:
            while pending:
                (ref,), _ = ray.wait(list(pending), num_returns=1)
                spec, lost = pending.pop(ref)
                attempts = len(lost) + 1  # the lost ones and this one
                try:
                    record = named_as_here(ray.get(ref))
                except ray.exceptions.RayTaskError as exc:  # the task body itself raised: retrying cannot help
                    record = worker_failure(spec, exc, started[spec.run_id], str(exc))
                except ray.exceptions.LocalRayletDiedError as exc:  # the driver lost Ray itself, not a worker
                    raise RayLostError(f"the Ray instance of this driver died ({type(exc).__name__}); the finished "
                                       "runs are recorded, and the same command resumes the rest") from None
                except ray.exceptions.RayError as exc:  # the worker or its node died
                    lost.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                    if len(lost) <= self.max_retries:
                        submit(spec, lost)
                        continue
                    times = "once" if len(lost) == 1 else f"{len(lost)} times"
                    record = worker_failure(spec, exc, started[spec.run_id], f"worker died {times}; last: {lost[-1]}")
                    attempts = len(lost)  # this one was lost too
                record["attempts"] = {"count": attempts, "lost": lost}
                yield record
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            if started_here:
                ray.shutdown()


def named_as_here(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with each plugin file named by the driver's path where the worker ran the same bytes: a worker
    imports a travelling plugin from Ray's temporary copy, a path of no use to whoever reads the record. Other
    bytes keep the worker's path: that is what ran."""
    here = plugin_sources(record["spec"]) if record.get("sources") else {}
    for part, source in record.get("sources", {}).items():
        if part in here and here[part]["sha256"] == source["sha256"]:
            source["file"] = here[part]["file"]
    return record


def _offered(nodes: list[dict[str, Any]]) -> str:
    """``host: 2 CPUs, 0 GPUs`` for each live node: what a refused request is told."""
    return "; ".join(f"{node.get('NodeManagerHostname', '?')}: {node.get('Resources', {}).get('CPU', 0):g} CPUs, "
                     f"{node.get('Resources', {}).get('GPU', 0):g} GPUs" for node in nodes if node.get("Alive", True))


@contextlib.contextmanager
def _joining(address: str | None) -> Iterator[None]:
    """``ray.init`` joining ``address``, its failure one line naming the address. A head that does not answer is
    found with one short connection first: Ray itself retries for minutes, printing only warnings."""
    if address not in (None, "auto") and not address.startswith("ray://"):
        host, port = address.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
        except OSError as exc:
            raise GnnbenchError(f"Ray address {address}: nothing answers there ({exc.strerror or exc}); is the head "
                                f"started (`ray start --head --port {port}`)?") from None
    try:
        yield
    except ConnectionError as exc:  # reached, not joined: authentication, another Ray version, no raylet here
        hint = (" (docs/cluster.md: the driver runs on a node of the cluster, and Authentication)"
                if address not in (None, "auto") else "")
        raise GnnbenchError(f"Ray address {address}: {str(exc).splitlines()[0]}{hint}") from None
    except ValueError as exc:
        if not (address or "").startswith("ray://"):
            raise
        raise GnnbenchError(f"Ray address {address}: {str(exc).splitlines()[0]}") from None  # no Ray Client


def _unfit(nodes: list[dict[str, Any]], cpus: float, gpus: float) -> tuple[str, str] | None:
    """None where some live node of the cluster offers a run's ``cpus`` and ``gpus``; else the ``executor:`` key at
    fault and what it expected: at most the most any node has, or (each fitting some node) both on one node."""
    live = [node.get("Resources", {}) for node in nodes if node.get("Alive", True)]
    if any(offer.get("CPU", 0) >= cpus and offer.get("GPU", 0) >= gpus for offer in live):
        return None
    for key, resource, asked in (("num_cpus", "CPU", cpus), ("num_gpus", "GPU", gpus)):
        most = max((offer.get(resource, 0) for offer in live), default=0)
        if asked > most:
            return f"executor.{key}", f"at most {most:g}, the most {resource}s a live node has"
    return "executor", "num_cpus and num_gpus that one node has together"


def travelling_modules(specs: Iterable[RunSpec]) -> list[str]:
    """Paths of the top-level modules (a package's folder, a lone module's file) of the specs' module plugins
    that no installed distribution provides: a worker cannot import them by itself, so Ray uploads them.
    Installed packages are every node's to install, as gnnbench is; ``.py`` file plugins are read from the
    shared filesystem, as the datasets are."""
    tops = sorted({p.split(".")[0] for spec in specs for p in spec.plugins if not p.endswith(".py")})
    if not tops:
        return []
    installed = importlib.metadata.packages_distributions()
    return [_source(importlib.import_module(top)) for top in tops if top not in installed]  # loaded with the suite


def _source(module: ModuleType) -> str:
    paths = list(getattr(module, "__path__", []))
    if len(paths) > 1:
        raise GnnbenchError(f"module plugin package '{module.__name__}' spans several folders ({paths}): Ray can "
                            "ship one; install it on every node instead")
    return paths[0] if paths else str(module.__file__)


@contextlib.contextmanager
def _own_sigterm() -> Iterator[None]:
    """Keep the driver's SIGTERM handler across ``ray.init``, which installs one that exits at once: a scheduler's
    SIGTERM then still rebuilds the leaderboard from the finished runs (``gnnbench.cli``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def _lost_on_sigterm() -> Iterator[None]:
    """A worker stopped from outside mid-run (``ray stop``, a drained or preempted node) dies, a lost attempt the
    driver retries. Ray's own handler raises SystemExit, which ``execute`` would record as the run's failure."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, handler if handler is not None else signal.SIG_DFL)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise GnnbenchError("the ray executor needs Ray: the ray extra, pip install -e '.[ray]' in the "
                            "checkout") from None
    return ray
