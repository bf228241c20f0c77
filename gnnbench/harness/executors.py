"""Executors run specs and yield records as they finish; they never write the store (the driver does).

``local`` runs in this process, one run after another. ``process`` keeps N worker processes busy (spawned, never forked,
so each worker starts with clean torch and CUDA state); each worker gets ``cores // N`` threads. Each record a run makes
says how many runs its executor ran side by side (``env.concurrent_runs``: 1 for ``local``, N for ``process``), since
they share the machine. When a worker dies (killed, out of memory) every run in flight loses its worker, and the pool
cannot say whose process it was: each of them reruns alone in a fresh worker, and only a run whose worker dies while it
runs alone becomes a failed record. The pool is restarted for the rest, also when the death is noticed only at the next
submission.
``ray`` (:mod:`gnnbench.harness.ray_executor`) runs each spec as a Ray task on a cluster; it is imported only
when asked for, so the local executors never import Ray.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import TYPE_CHECKING, Any

import torch

from gnnbench.errors import GnnbenchError
from gnnbench.harness.env import cpu_count, host_environment
from gnnbench.harness.runner import execute, identity
from gnnbench.harness.spec import RunSpec
from gnnbench.harness.store import SCHEMA, utc_now

if TYPE_CHECKING:  # driver imports this module's executors' users; the Protocol is for annotations only
    from gnnbench.harness.driver import Executor

_CONTEXT = multiprocessing.get_context("spawn")

#: What the local executor tells of each epoch: the run, the epoch, its values (training loss, validation metric).
RunEpochCallback = Callable[[RunSpec, int, Mapping[str, float]], None]


class ProcessDied(RuntimeError):
    """A run whose process died while it ran, so that no record of its own says why."""


class LocalExecutor:
    """The runs one after another in this process: the only executor that can show each epoch."""

    name = "local"
    runs_here = True
    in_process = True

    def __init__(self, on_epoch: RunEpochCallback | None = None) -> None:
        self.on_epoch = on_epoch

    def map(self, specs: Iterable[RunSpec], data_root: str | None = None) -> Iterator[dict[str, Any]]:
        for spec in specs:
            yield execute(spec, data_root, None if self.on_epoch is None else partial(self.on_epoch, spec),
                          concurrent_runs=1)


class ProcessExecutor:
    """The runs in parallel spawned worker processes on this machine; a worker that dies (out of memory, a crash
    in native code) fails only the run it held, not the suite (the module docstring says how)."""

    name = "process"
    runs_here = True
    in_process = False

    def __init__(self, workers: int | None = None) -> None:
        """``workers`` processes (default: one per core), each with ``OMP_NUM_THREADS`` threads when it is set (as
        a run here would have), else its share of the cores."""
        cores = cpu_count()
        self.workers = workers or cores
        asked = os.environ.get("OMP_NUM_THREADS", "")
        self.threads = int(asked) if asked.isdigit() and int(asked) > 0 else max(1, cores // self.workers)

    def map(self, specs: Iterable[RunSpec], data_root: str | None = None) -> Iterator[dict[str, Any]]:
        pending = list(specs)[::-1]
        suspects: list[tuple[RunSpec, str]] = []  # in flight when a worker died, innocent until they die alone
        while pending or suspects:
            if suspects:
                yield self._run_alone(*suspects.pop(), data_root)
            else:
                yield from self._run_pooled(pending, suspects, data_root)

    def _run_pooled(self, pending: list[RunSpec], suspects: list[tuple[RunSpec, str]],
                    data_root: str | None) -> Iterator[dict[str, Any]]:
        """Run ``pending`` on one pool until it is empty or a worker dies; the runs that were in flight then move
        to ``suspects``, unless the pool has one worker: then its run was alone and the death is its own."""
        pool = _pool(self.workers)
        running: dict[Future, tuple[RunSpec, str]] = {}
        try:
            broken = False
            while (pending or running) and not broken:
                broken = self._submit(pool, pending, running, data_root)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                if broken or any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    broken = True  # every run still in flight shared the pool with the dead worker
                    done, _ = wait(running)
                for future in done:
                    if self.workers > 1 and isinstance(future.exception(), BrokenProcessPool):
                        suspects.append(running.pop(future))
                    else:
                        yield _outcome(future, *running.pop(future))
        except KeyboardInterrupt:
            _stop(pool)
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _run_alone(self, spec: RunSpec, started_at: str, data_root: str | None) -> dict[str, Any]:
        """``spec`` in a fresh worker of its own (with the threads of a pooled one, so its numbers match); the
        record lists the attempt it lost, and a failure dates from the first hand-out, as the ray executor's."""
        pool = _pool(1)
        try:
            future = pool.submit(_run_in_worker, spec, data_root, self.threads, 1)
            wait([future])
            record = _outcome(future, spec, started_at)
        except KeyboardInterrupt:
            _stop(pool)
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        record["attempts"] = {"count": 2, "lost": ["BrokenProcessPool: a worker of its pool died while it ran"]}
        return record

    def _submit(self, pool: ProcessPoolExecutor, pending: list[RunSpec], running: dict[Future, tuple[RunSpec, str]],
                data_root: str | None) -> bool:
        """Keep every worker busy; True when the pool turned out broken (a worker died since the last wait): the
        spec that could not be submitted goes back to ``pending`` for a fresh pool."""
        while pending and len(running) < self.workers:
            spec = pending.pop()
            try:
                running[pool.submit(_run_in_worker, spec, data_root, self.threads, self.workers)] = (spec, utc_now())
            except BrokenProcessPool:
                pending.append(spec)
                return True
        return False


def _pool(workers: int) -> ProcessPoolExecutor:
    """Spawned workers (no forked CUDA or thread state) that end with their driver."""
    return ProcessPoolExecutor(workers, mp_context=_CONTEXT, initializer=_worker_init, initargs=(os.getpid(),))


def _worker_init(driver: int) -> None:
    """A worker leaves Ctrl-C to its driver, which ends it (:func:`_stop`); the terminal sends SIGINT to the
    whole process group, and a worker's own KeyboardInterrupt only printed a stray ``Process SpawnProcess-2:``.
    It ends when its driver has died (``kill -9``, the OOM killer), which no signal tells it: the runs it would
    go on training are thrown away, and a resumed suite would share the machine with them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == driver:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="gnnbench-driver-watch", daemon=True).start()


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the workers now, on Ctrl-C or SIGTERM in the driver (a scheduler signals the driver alone):
    ``shutdown`` lets the runs in flight finish, and the interpreter waits for them at exit, though their
    records would be thrown away."""
    if hasattr(pool, "terminate_workers"):  # Python 3.14
        pool.terminate_workers()
        return
    for process in list((pool._processes or {}).values()):
        process.terminate()


def _outcome(future: Future, spec: RunSpec, started_at: str) -> dict[str, Any]:
    exc = future.exception()
    return future.result() if exc is None else worker_failure(spec, exc, started_at)


def _run_in_worker(spec: RunSpec, data_root: str | None, threads: int, concurrent_runs: int) -> dict[str, Any]:
    """``spec`` on ``threads`` threads, beside as many as ``concurrent_runs`` runs (itself included: a suspect
    reruns alone)."""
    torch.set_num_threads(threads)
    return execute(spec, data_root, concurrent_runs=concurrent_runs)


def worker_failure(spec: RunSpec, exc: BaseException, started_at: str, message: str | None = None) -> dict[str, Any]:
    """The record of a run whose worker died: there is no result, only what the driver saw. It carries the task
    label and metric (so the failure counts in its leaderboard row), when the driver handed the run out, and the
    driver's environment (``recorded_by: driver``; the worker's device is unknown)."""
    if message is None:
        message = "worker process died (killed or out of memory)" if isinstance(exc, BrokenProcessPool) else str(exc)
    return {"schema": SCHEMA, "run_id": spec.run_id, "spec": spec.to_dict(), **identity(spec.build_task()),
            "started_at": started_at, "status": "failed",
            "error": {"type": type(exc).__name__, "message": message, "traceback": ""},
            "env": {**host_environment(), "recorded_by": "driver"}, "finished_at": utc_now()}


#: What ``ray.init(address=...)`` can join: a running cluster's head, the cluster Ray finds itself, a Ray client.
RAY_ADDRESS = re.compile(r"auto|ray://\S+|[^\s:]+:\d+")


def ray_address_problem(address: Any) -> str | None:
    """What is wrong with the form of a Ray address (None when nothing is): checked before Ray starts, which
    answers a malformed one with a traceback."""
    if isinstance(address, str) and RAY_ADDRESS.fullmatch(address):
        return None
    return f"expected HOST:PORT of a Ray cluster's head, auto or ray://HOST:PORT, got {address!r}"


def executor_options(suite_executor: Mapping[str, Any], kind: str | None, workers: int | None,
                     address: str | None) -> tuple[str, dict[str, Any]]:
    """(kind, options): the suite's ``executor`` mapping under the command line's ``--executor``, ``--workers``
    and ``--address``. A flag the chosen executor ignores is warned about, not dropped in silence; another kind
    than the suite's starts from no options, since the suite's are for its own kind."""
    kind = kind or suite_executor["type"]
    if address is not None and (problem := ray_address_problem(address)):
        raise GnnbenchError(f"--address: {problem}")
    for flag, value, meant_for in (("--workers", workers, "process"), ("--address", address, "ray")):
        if value is not None and kind != meant_for:
            warnings.warn(f"{flag} is for the {meant_for} executor; the {kind} executor ignores it"
                          + (f" (add --executor {meant_for})" if kind == "local" else ""), stacklevel=2)
    options = dict(suite_executor) if kind == suite_executor["type"] else {}
    options.update({k: v for k, v in (("workers", workers), ("address", address)) if v is not None})
    return kind, options


def make_executor(kind: str, options: Mapping[str, Any], on_epoch: RunEpochCallback | None = None,
                  suite_file: str | None = None) -> Executor:
    """The executor ``kind`` configured from a suite's ``executor`` mapping (command-line overrides applied);
    ``suite_file``, the suite's path, is named by a setting refused when the executor starts."""
    if kind == "process":
        return ProcessExecutor(options.get("workers"))
    if kind == "ray":
        from gnnbench.harness.ray_executor import RayExecutor

        return RayExecutor(address=options.get("address"), num_cpus=options.get("num_cpus", 1),
                           num_gpus=options.get("num_gpus", 0), max_retries=options.get("max_retries", 2),
                           suite_file=suite_file)
    return LocalExecutor(on_epoch)
