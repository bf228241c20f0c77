"""The driver: decides what is left to run, checks the data once, and is the only appender of records to the store."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, Protocol

import numpy as np
import torch
from torch_geometric import seed_everything

from gnnbench.data.digest import data_sha256_or_none
from gnnbench.errors import ConfigError, GnnbenchError, raised
from gnnbench.harness.env import host_environment, plugin_sources, source_now
from gnnbench.harness.executors import ProcessDied, worker_failure
from gnnbench.harness.runner import device_problem
from gnnbench.harness.spec import RunSpec, Suite
from gnnbench.harness.store import STALE_FILE, RecordWriter, RunStore, recorded_sources
from gnnbench.registry import DATASETS, defined_in
from gnnbench.settings import canonical_json


class Executor(Protocol):
    name: str
    #: Whether the runs execute on this machine, so that its devices are theirs (False on a cluster).
    runs_here: bool
    #: Whether the runs execute in the driver's own process, so that a run that kills it (a crash in native code,
    #: the OOM killer) kills the driver too: :func:`run` then notes each run in the store while it executes.
    in_process: bool

    def map(self, specs: list[RunSpec], data_root: str | None = None) -> Any: ...


@dataclass
class Plan:
    """What a (re)started suite will do: ``todo`` runs now, the rest is already recorded; ``stale`` records
    (run_id -> latest record) are no run of the suite file at all; ``changed`` ones are runs of it made with
    another version of a plugin file (:func:`changed_code`), counted as done until set aside."""

    todo: list[RunSpec]
    done: int = 0
    failed_kept: int = 0
    stale: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: successful runs of the suite set aside into ``stale.jsonl`` earlier (:func:`restorable`; run_id -> the record
    #: taken back): counted as done, and taken back by :func:`run` rather than run again
    restorable: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the changed runs' plugin files and data that differ from the ones they recorded (:func:`edited_files`)
    edited: dict[str, list[str]] = field(default_factory=dict)
    #: plugin datasets whose records' data could not be checked, and why (:attr:`DataDigests.unchecked`)
    unchecked: dict[str, str] = field(default_factory=dict)
    #: the run an earlier driver's process died in, unrecorded (:func:`died`; set by :meth:`settle`)
    died: Died | None = None

    def settle(self, dead: Died | None) -> None:
        """Take in ``dead``: a run recorded as failed for taking the process down again is not run again by the
        same invocation, ``--rerun-failed`` (or ``--smoke``) or not; one to run again that the plan leaves out
        (an earlier failure of it kept) is left out."""
        if dead is not None and dead.outcome == "runs again" and dead.run_id not in {s.run_id for s in self.todo}:
            dead = dataclasses.replace(dead, outcome="left out")
        self.died = dead
        if dead is not None and dead.outcome == "recorded failed":
            self.todo = [spec for spec in self.todo if spec.run_id != dead.run_id]


#: what becomes of a run that took the driver's process down: run again (a first death, as an interrupted run),
#: recorded as failed (a second in a row), or left out of this invocation (by ``--only``, or an earlier failure of
#: it kept: its count of deaths starts again)
DeadOutcome = Literal["runs again", "recorded failed", "left out"]


@dataclass(frozen=True)
class Died:
    """A run that took the driver's process down (:meth:`RunStore.left_running`) ``deaths`` times in a row, what
    becomes of it now, and its failed record when it is recorded as failed. ``spec`` is None for a run of an
    experiment ``--only`` leaves out."""

    run_id: str
    spec: RunSpec | None
    deaths: int
    outcome: DeadOutcome
    record: dict[str, Any] | None = None


@dataclass
class Summary:
    ok: int = 0
    failed: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    #: runs recorded as failed before this invocation and not retried (no ``rerun_failed``)
    failed_kept: int = 0


def plan(suite: Suite, store: RunStore, rerun_failed: bool = False, redo_changed: bool = False,
         data_root: str | None = None) -> Plan:
    """Skip runs that succeeded; retry failed ones only when asked or when they failed with another version of
    a plugin file (the fix being tried), and succeeded runs made with another version (``changed``) only
    when ``redo_changed``. ``changed`` leaves out the failures rerun now, which their new records replace."""
    latest = store.latest(history=False)
    digests = DataDigests(data_root)
    result = Plan(todo=[], stale=stale(suite, latest), changed=changed_code(suite, latest, digests),
                  restorable=restorable(suite, store, latest, digests))
    for spec in suite.specs:
        status = None if redo_changed and spec.run_id in result.changed else latest.get(spec.run_id, {}).get("status")
        status = "ok" if spec.run_id in result.restorable else status
        if status == "ok":
            result.done += 1
        elif status == "failed" and not rerun_failed and spec.run_id not in result.changed:
            result.failed_kept += 1
        else:
            result.todo.append(spec)
    rerun = {spec.run_id for spec in result.todo}
    result.changed = {run_id: r for run_id, r in result.changed.items()
                      if not (run_id in rerun and r["status"] == "failed")}
    result.edited = edited_files(result.changed, digests)
    result.unchecked = digests.unchecked
    return result


def stale(suite: Suite, latest: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The recorded runs (run_id -> latest record) that are no run of the suite file: they were made under other
    defaults or options, since everything that can change a result is hashed into the run_id."""
    return {run_id: record for run_id, record in latest.items() if run_id not in suite.all_run_ids}


def restorable(suite: Suite, store: RunStore, latest: Mapping[str, dict[str, Any]],
               digests: DataDigests) -> dict[str, dict[str, Any]]:
    """The successful runs in ``stale.jsonl`` (run_id -> the record to take back) that are runs of the suite file
    again, made with the plugin code it imports now, and not in ``latest`` (the records of ``runs.jsonl``): set
    aside by ``prune`` when the suite or a plugin was edited, and the edit undone. A run set aside under several
    versions of a plugin has a record of each there: the first made with the code imported now is the one (as
    :func:`changed_code` tells, a record naming no file counts as made with it). Their numbers are what a run
    would record now; a failure there is left to be run again."""
    wanted = suite.all_run_ids - latest.keys()
    candidates = [record for record in store.records(STALE_FILE, only=wanted) if record["status"] == "ok"]
    edited = edited_files({str(i): r for i, r in enumerate(candidates) if recorded_sources(r)}, digests)
    chosen: dict[str, dict[str, Any]] = {}
    for i, record in enumerate(candidates):
        if not edited.get(str(i)):
            chosen.setdefault(record["run_id"], record)
    return chosen


#: the keys of a spec naming the parts of a run that :func:`~gnnbench.harness.env.plugin_sources` reads
SOURCE_PARTS = ("model", "task", "dataset", "scenario")


def changed_code(suite: Suite, latest: Mapping[str, dict[str, Any]],
                 digests: DataDigests) -> dict[str, dict[str, Any]]:
    """The recorded runs of the suite made with another version of a file defining their model, task, dataset
    or scenario than the one it imports now, or with other data from a plugin dataset (:func:`edited_files`).
    The run id hashes the spec, not that code or data, so without this an edited plugin's old numbers would
    count as its new ones. Records naming no file at all ran gnnbench's own code, or were made before records
    named their files."""
    ours = {run_id: record for run_id, record in latest.items()  # of every experiment, --only or not
            if run_id in suite.all_run_ids and recorded_sources(record)}
    edited = edited_files(ours, digests)
    return {run_id: record for run_id, record in ours.items() if edited[run_id]}


def edited_files(records: Mapping[str, Mapping[str, Any]], digests: DataDigests) -> dict[str, list[str]]:
    """For each record (run_id -> record), the plugin files of its parts that differ from the ones it recorded:
    by sha256, not by path (a Ray worker imports a copy of a plugin from elsewhere), or unrecorded (a record made
    before tasks, datasets and scenarios were covered: which version of theirs ran is unknown); and ``the data
    of dataset 'name'`` where a plugin dataset now loads other data than the record's (its ``data_sha256``).
    A part the record hashed that gnnbench now ships (a file added to the package, since committed) counts only
    where its file now differs from the recorded one. Each file is hashed once, not once per record, and each
    dataset loaded once per seed by ``digests``."""
    @cache
    def now(parts: str) -> dict[str, dict[str, str]]:
        return plugin_sources(json.loads(parts))

    @cache
    def shipped_now(parts: str, part: str) -> str | None:  # a plugin file since committed into the package
        return (source_now(json.loads(parts), part) or {}).get("sha256")

    edited = {}
    for run_id, record in records.items():
        recorded = recorded_sources(record)
        parts = canonical_json({k: record["spec"].get(k) for k in SOURCE_PARTS})
        current = now(parts)
        files = ({source["file"] for part, source in current.items()
                  if recorded.get(part, {}).get("sha256") != source["sha256"]}
                 | {source["file"] for part, source in recorded.items()
                    if part not in current and shipped_now(parts, part) != source.get("sha256")})
        name, data = record["spec"]["dataset"], recorded.get("dataset", {}).get("data_sha256")
        if data is not None and digests.changed(name, record["spec"]["seed"], data):
            files.add(f"the data of dataset '{name}'")
        edited[run_id] = sorted(files)
    return edited


class DataDigests:
    """Whether datasets' loaders return now, under ``data_root``, the data records were made with: each (dataset,
    seed) loaded once per command, which asks while planning, for the records of ``runs.jsonl`` and of
    ``stale.jsonl`` alike. ``unchecked`` names the datasets that could not tell, and why."""

    def __init__(self, data_root: str | None) -> None:
        self.data_root = data_root
        self._digests: dict[tuple[str, int], str | None] = {}
        self._again: dict[tuple[str, int], str | None] = {}
        #: dataset -> why whether its data changed cannot be told (it did not load; it loads other data each time)
        self.unchecked: dict[str, str] = {}

    def changed(self, dataset: str, seed: int, recorded: str) -> bool:
        """Whether ``dataset``, loaded as a run of ``seed`` loads it, now gives other data than the digest
        ``recorded``. Not when it cannot be told: the loader fails here (a data root it needs), or gives other
        data on a second load with the same seed (it draws from the OS's randomness): calling that a change
        would set the runs aside, and their reruns, on every command."""
        now = self._digest(self._digests, dataset, seed)
        if now is None:
            self.unchecked.setdefault(dataset, "it could not be loaded here (does it need --data-root?)")
            return False
        if now == recorded:
            return False
        if self._digest(self._again, dataset, seed) != now:
            self.unchecked[dataset] = ("it loads other data each time with the same seed (does it draw from the OS's "
                                       "randomness?)")
            return False
        return True

    def _digest(self, memo: dict[tuple[str, int], str | None], dataset: str, seed: int) -> str | None:
        if (dataset, seed) not in memo:
            memo[dataset, seed] = self._load(dataset, seed)
        return memo[dataset, seed]

    def _load(self, dataset: str, seed: int) -> str | None:
        """The digest of what ``dataset``'s loader returns (:func:`~gnnbench.data.digest.data_sha256_or_none`),
        loaded quietly and seeded as a run of ``seed`` loads it (a loader may draw its graph from the global
        generators), the driver's own random state kept; None where it cannot load or be digested (a run that
        needs the data fails before it starts, in :func:`preflight`)."""
        state = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                seed_everything(seed)
                return data_sha256_or_none(DATASETS.get(dataset).obj(self.data_root))
        except Exception:
            return None
        finally:
            random.setstate(state[0])
            np.random.set_state(state[1])
            torch.random.set_rng_state(state[2])


def preflight(suite: Suite, specs: list[RunSpec], data_root: str | None, devices: bool = True) -> None:
    """Fail before any run starts: every device exists here (CUDA available, the ordinal below the GPU count),
    every dataset loads (checksums verified, cache prepared) and serves the task options it runs under
    (:meth:`Task.check_data`). Devices first: they cost nothing to check. ``devices=False`` where the runs
    execute on other machines (a Ray cluster's GPUs are the workers')."""
    for device in dict.fromkeys(s.device for s in specs) if devices else ():
        problem = device_problem(device)
        if problem is not None:
            raise ConfigError(str(suite.path), suite.device_keys.get(device, "device"),
                              f"{problem}; expected cpu, auto or a CUDA device this machine has")
    tasks: dict[str, dict[str, RunSpec]] = {}  # dataset -> one spec per task and options it runs under
    for s in specs:
        tasks.setdefault(s.dataset, {}).setdefault(canonical_json([s.task, s.task_options]), s)
    for name, under in tasks.items():
        spec = next(iter(under.values()))
        first = spec.experiment  # where the suite uses it first
        failed = f"dataset '{name}' ({defined_in(DATASETS.get(name).obj)}) could not load"
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                data = DATASETS.get(name).obj(data_root)
        except GnnbenchError as exc:  # a DataError: gnnbench's own loaders name the dataset, a plugin's helper
            # (load_dyglib) names neither the dataset nor the file calling it
            plugin = "dataset" in plugin_sources(spec.to_dict())
            raise ConfigError(str(suite.path), suite.dataset_keys.get((first, name)),
                              f"{failed}: {exc}" if plugin else str(exc)) from None
        except Exception as exc:  # a plugin loader's own error (a missing file, a variable unset): one line, here
            raise ConfigError(str(suite.path), suite.dataset_keys.get((first, name)),
                              f"{failed}: {type(exc).__name__}: {exc}") from exc
        for s in under.values():
            key = suite.dataset_keys.get((s.experiment, name))
            try:
                s.build_task().check_data(data)
            except (GnnbenchError, ValueError) as exc:  # a plugin task may refuse as its other hooks do
                raise ConfigError(str(suite.path), key, f"task '{s.task}' cannot run on dataset '{name}' "
                                                        f"({defined_in(DATASETS.get(name).obj)}): {exc}") from None
            except Exception as exc:  # its own bug: one located line
                raise ConfigError(str(suite.path), key, f"task '{s.task}' failed checking dataset '{name}': "
                                                        f"{raised(exc)}") from exc
        del data  # before the next dataset loads


def prepare(suite: Suite, store: RunStore, rerun_failed: bool, data_root: str | None, devices: bool,
            redo_changed: bool = False) -> Plan:
    """The plan, after the checks every run would meet first (:func:`preflight`): what a run does before its
    first run, and all that ``--dry-run`` does."""
    planned = plan(suite, store, rerun_failed, redo_changed, data_root)
    preflight(suite, planned.todo, data_root, devices=devices)
    return planned


def run(suite: Suite, store: RunStore, executor: Executor, *, rerun_failed: bool = False,
        data_root: str | None = None, on_plan: Callable[[Plan], None] | None = None,
        on_record: Callable[[dict[str, Any]], None] | None = None) -> Summary:
    """Plan, check and execute under the store's lock, appending every record as it arrives.

    Planning happens under the lock, so two drivers can never both run (and record) the same run_id; an
    interruption loses only the runs in flight, which the next invocation runs again.
    """
    summary = Summary()
    host_environment()  # the driver's code is what it imported now: a failure it records hours later says so
    with store.writer() as writer:
        planned = prepare(suite, store, rerun_failed, data_root, devices=executor.runs_here)
        planned.settle(dead := died(suite, store, writer))  # after the checks: a suite that cannot start keeps it
        if dead is not None and dead.record is not None:
            summary.failed += 1
            summary.failures.append(dead.record)
        if planned.restorable:  # under this lock: nothing can record them meanwhile
            store.restore(planned.restorable.values())
        summary.failed_kept = planned.failed_kept
        if on_plan is not None:
            on_plan(planned)
        # the runs alone are kept: the records the plan holds (stale, changed) would keep the pages their read
        # filled resident in a run's process, and count in its baseline_rss_mb
        todo = planned.todo
        del planned
        store.expect(suite.name, str(suite.path), suite.all_run_ids)  # the whole suite, --only or not
        try:
            for record in _records(executor, todo, data_root, store, dead):
                writer.append(record)
                if record["status"] == "ok":
                    summary.ok += 1
                else:
                    summary.failed += 1
                    summary.failures.append(record)
                if on_record is not None:
                    on_record(record)
        finally:  # an exception or Ctrl-C, not a death: only a process that died leaves the note behind
            store.clear_running()
    return summary


def _records(executor: Executor, specs: list[RunSpec], data_root: str | None, store: RunStore,
             dead: Died | None) -> Iterator[dict[str, Any]]:
    """The executor's records of ``specs``; runs executing in this process are handed over one at a time, each
    noted in the store while it runs (:meth:`RunStore.mark_running`), so that a run that kills the process is
    named by the next invocation, not lost without a word."""
    if not executor.in_process:
        yield from executor.map(specs, data_root)
        return
    for spec in specs:
        store.mark_running(spec.run_id, dead.deaths if dead is not None and dead.run_id == spec.run_id else 0)
        yield from executor.map([spec], data_root)


#: how many processes in a row a run may take down before it is recorded as failed rather than run again
DEATHS_BEFORE_FAILED = 2


def died(suite: Suite, store: RunStore, writer: RecordWriter | None) -> Died | None:
    """The run of ``suite`` an earlier driver's process died in, unrecorded: killed (``kill -9``, the OOM killer)
    or crashed in native code, which no record can say. Run again after one death, as an interrupted run is; after
    :data:`DEATHS_BEFORE_FAILED` in a row it is recorded as failed, so that the suite goes on past a run that
    crashes the process instead of stopping there on every resume. Without a ``writer`` (a dry run) nothing is
    recorded or cleared: it says what a run would do."""
    left = store.left_running()
    if left is None:
        return None
    if writer is not None:  # the runs of this invocation note themselves in its place
        store.clear_running()
    run_id = left["run_id"]
    if run_id not in suite.all_run_ids or any(r["run_id"] == run_id and r.get("started_at", "") >= left["started_at"]
                                              for r in store.records(only={run_id})):
        return None  # no run of the suite file (edited since), or recorded after all: the process died in between
    deaths = left["deaths"] + 1
    spec = next((s for s in suite.specs if s.run_id == run_id), None)
    if spec is None:
        return Died(run_id, None, deaths, "left out")
    if deaths < DEATHS_BEFORE_FAILED:
        return Died(run_id, spec, deaths, "runs again")
    record = worker_failure(spec, ProcessDied(
        f"the gnnbench process died while this run ran, {deaths} times in a row, without recording it (a crash in "
        "native code, or killed: out of memory?); --rerun-failed runs it again, and --executor process runs it in a "
        "worker process, whose death fails only its run"), left["started_at"])
    if writer is not None:
        writer.append(record)
    return Died(run_id, spec, deaths, "recorded failed", record if writer is not None else None)

