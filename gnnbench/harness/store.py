"""The run store: ``results/<suite>/runs.jsonl``, append-only JSON lines, one record per finished or failed run.

Only the driver appends records, holding an exclusive lock. Each record is one ``os.write`` of a whole line on
an ``O_APPEND`` descriptor followed by ``fsync``, so a crash can at worst leave a torn last line: readers
skip it, and the next writer cuts it off before appending, each with a warning. Records are never edited; a
retried failure appends a new record, and readers take the latest record of each run (a success always wins).
The one other change, under the same lock, is :meth:`RunStore.set_aside` (by ``prune`` and a smoke check), which
moves whole records that no run of the suite describes any more into ``stale.jsonl``, and its inverse
:meth:`RunStore.restore` (by the driver), for those that describe runs of it again; ``prune`` also moves the lines
that are not JSON (corrupt) into ``unreadable.jsonl`` (:meth:`RunStore.set_aside_unreadable`).
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import json
import os
import re
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from gnnbench.errors import GnnbenchError
from gnnbench.files import replaced
from gnnbench.harness.spec import RunSpec
from gnnbench.recordable import encode
from gnnbench.units import UNITS

#: The record layout this gnnbench writes and reads; a record of a higher one was made by a newer gnnbench.
SCHEMA = 1
RUNS_FILE = "runs.jsonl"
#: records set aside by :meth:`RunStore.set_aside`
STALE_FILE = "stale.jsonl"
#: the lines of ``runs.jsonl`` that are not JSON, moved aside by :meth:`RunStore.set_aside_unreadable`
UNREADABLE_FILE = "unreadable.jsonl"
#: the runs the last suite run here expects, while some are unrecorded (:meth:`RunStore.expect`)
EXPECTED_FILE = "expected.json"
#: the run executing in the driver's own process now (:meth:`RunStore.mark_running`)
RUNNING_FILE = ".running.json"


class RunStore:
    """One suite's records under ``directory``: ``runs.jsonl``, the records set aside, and the lock that lets one
    writer at a time append to them (the module docstring says why a crash loses at most the run in flight)."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.path = self.directory / RUNS_FILE
        self._holding = False  # this store holds the lock: a move while writing needs no second one

    def check(self, outputs: Iterable[str] = ()) -> None:
        """Raise :class:`GnnbenchError` now, before anything runs, where the store cannot be: a path on the way to
        its folder that is a file, a ``runs.jsonl`` (or one of the ``outputs`` written beside it) that is not a
        file, or cannot be written, a folder in which no file can be made (tried: permissions alone do not say so
        for root, nor on a filesystem such as ``/proc``)."""
        existing = next(folder for folder in (self.directory, *self.directory.parents) if folder.exists())
        if existing == self.directory and not existing.is_dir():  # the root is a folder: the hint about it misled
            raise GnnbenchError(f"{self.directory}: the suite's folder (named by its name: key) is a file, not a "
                                "folder; move the file away, or give --results another results root")
        if not existing.is_dir():
            raise GnnbenchError(f"{self.directory}: {existing} is a file, not a folder (--results names the "
                                "results root, a folder)")
        if self.path.exists() and not self.path.is_file():
            raise GnnbenchError(f"{self.path}: expected a file of records, found a folder")
        for name in (EXPECTED_FILE, *outputs):
            if (self.directory / name).exists() and not (self.directory / name).is_file():
                raise GnnbenchError(f"{self.directory / name}: expected a file gnnbench writes, found a folder")
        try:
            with tempfile.TemporaryFile(dir=existing):
                pass
        except OSError as exc:
            raise GnnbenchError(f"{self.directory}: cannot write in {existing} ({exc.strerror})") from None
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise GnnbenchError(f"{self.path}: cannot append records (no write permission on the file)")

    def records(self, file: str = RUNS_FILE, only: Collection[str] | None = None,
                unreadable: list[int] | None = None, history: bool = True) -> list[dict[str, Any]]:
        """Every complete record of ``file`` (``runs.jsonl``, or ``stale.jsonl``) in file order (a torn last line
        is skipped with a warning; a corrupt one elsewhere, or one of a shape this gnnbench cannot read, is warned
        about and skipped: its run counts as not yet run). With ``only``, the records of those run ids alone, the other
        lines left unparsed (``stale.jsonl`` only grows). ``unreadable``, when given, gets the numbers of the lines
        parsed that are not JSON (:func:`_corrupt`: what :meth:`set_aside_unreadable` moves), so that ``prune`` reads
        the file once. ``history=False`` drops each record's per-epoch curves as it is parsed, for the readers that
        take none (tables, plans, prune): about half of a parsed record's memory, which would otherwise be held
        as long as the record is. Never write such a record back: records move
        as the lines they are (:meth:`_move`)."""
        path = self.directory / file
        if not path.exists():
            return []
        data = path.read_bytes()
        lines = _lines(data)
        torn_tail = not data.endswith(b"\n")
        aside = (f"; `gnnbench prune SUITE.yaml` moves it aside into {UNREADABLE_FILE} (until then every command "
                 "warns again)") if file == RUNS_FILE else ""
        records = []
        for number, line in enumerate(lines, start=1):
            if not line.strip() or (only is not None and _quick_run_id(line) not in only):
                continue
            try:
                record = json.loads(line)
            except ValueError:  # not JSON, or not even text
                if torn_tail and number == len(lines) and _torn_write(line):
                    _warn_torn(path, number, "is skipped until the next write to the file cuts it off")
                else:
                    warnings.warn(f"{path}:{number}: skipping a line that is not a JSON record{aside}", stacklevel=2)
                    if unreadable is not None:
                        unreadable.append(number)
                continue
            problem = record_problem(record)
            if problem is None:
                if not history:
                    record.pop("history", None)
                records.append(record)
            else:
                warnings.warn(f"{path}:{number}: skipping a line that {problem}", stacklevel=2)
        return records

    def latest(self, file: str = RUNS_FILE, only: Collection[str] | None = None,
               unreadable: list[int] | None = None, history: bool = True) -> dict[str, dict[str, Any]]:
        """:func:`latest` of the records of ``file`` (``unreadable`` and ``history`` as for :meth:`records`), with a
        warning where a run has several successful records: files merged (two machines that ran one suite), whose
        other results no table shows (without ``history``, two that differ in nothing else count as one line; two
        runs' timestamps and timings differ anyway)."""
        records = self.records(file, only, unreadable, history)
        successes = Counter(r["run_id"] for r in records if r["status"] == "ok")
        # the distinct lines of runs that succeeded more than once, only those encoded (a file can hold 10 MB of
        # traces): one line twice, left by a crash while prune moved records, is no merge
        lines = {(r["run_id"], encode(r)) for r in records if r["status"] == "ok" and successes[r["run_id"]] > 1}
        if repeated := sum(count > 1 for count in Counter(run_id for run_id, _ in lines).values()):
            warnings.warn(f"{self.directory / file}: {repeated} run{'s' * (repeated > 1)} "
                          f"{'have' if repeated > 1 else 'has'} more than one successful record (files merged "
                          "from several machines?); the one that finished first counts, the others are in no "
                          "table: keep each machine's records in a folder of its own and `gnnbench compare` them",
                          stacklevel=2)
        return latest(records)

    def run_ids(self, file: str = RUNS_FILE) -> set[str]:
        """The run ids ``file`` holds records of, successful or failed (:meth:`latest`'s keys), found without parsing
        a record (:data:`QUICK_RUN_ID`): for a note that counts runs (``compare``'s), over a file of 100 MB. A torn
        or other last line that is not JSON is no record, as for :meth:`latest`; unlike it, this does not judge the
        other lines, so a corrupt or hand-edited one whose run id can be read counts (and nothing is warned about)."""
        path = self.directory / file
        if not path.exists():
            return set()
        with path.open("rb") as lines:  # one at a time, split at newlines only, as :meth:`records` splits them
            return {run_id for line in lines  # only a last line can lack its newline
                    if (line.endswith(b"\n") or _is_json(line)) and (run_id := _quick_run_id(line)) is not None}

    @contextlib.contextmanager
    def writer(self) -> Iterator[RecordWriter]:
        """Exclusive append access; fails fast when another process holds the store."""
        with self._locked():
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                _cut_torn_tail(fd, self.path)
                yield RecordWriter(fd, self.path)
            finally:
                os.close(fd)

    def set_aside(self, run_ids: Collection[str]) -> int:
        """Move every record of ``run_ids`` from ``runs.jsonl`` to ``stale.jsonl``; the number moved. For records
        that no longer describe a run of their suite (made before a default changed): they leave the leaderboard
        but are kept."""
        return len(self._move(RUNS_FILE, STALE_FILE, _records_of(set(run_ids))))

    def set_aside_unreadable(self) -> list[int]:
        """Move the lines of ``runs.jsonl`` that are not JSON (:func:`_corrupt`), which every read warns about, into
        ``unreadable.jsonl``, each as it was, a last line given its newline (to mend or delete there); the numbers
        they had, found under the lock (a read before it may be out of date). Nothing reads them: their runs count
        as not run either way."""
        return self._move(RUNS_FILE, UNREADABLE_FILE, _corrupt)

    def restore(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Move ``records``, as read from ``stale.jsonl`` (one per run), back to ``runs.jsonl``; the number moved.
        For runs set aside when their suite was edited, taken back once the edit is undone: only the record
        chosen, so that the records of the run made with another version of a plugin stay aside for that
        version's return (the record that counts is a run's first success)."""
        chosen = {record["run_id"]: record for record in records}
        return len(self._move(STALE_FILE, RUNS_FILE, _records_of(chosen.keys(),
                                                                 lambda record: chosen[record["run_id"]] == record)))

    def _move(self, source: str, target: str, goes_if: Callable[[bytes], bool]) -> list[int]:
        """Move the lines ``goes_if`` picks; the numbers they had in ``source``. They are appended and synced to
        ``target`` (a torn last line there cut off first) before ``source`` is atomically replaced by the rest, so
        a crash in between leaves a line in both files, never in neither."""
        with self._locked():
            if not (self.directory / source).exists():
                return []
            lines = _lines((self.directory / source).read_bytes())
            goes = [goes_if(line) for line in lines]
            moved = [line for line, go in zip(lines, goes, strict=True) if go]
            if not moved:
                return []
            fd = os.open(self.directory / target, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                _cut_torn_tail(fd, self.directory / target)
                RecordWriter(fd, self.directory / target).write(b"".join(line.rstrip(b"\n") + b"\n" for line in moved))
            finally:
                os.close(fd)
            with replaced(self.directory / source, durable=True) as kept:
                kept.write_bytes(b"".join(line for line, go in zip(lines, goes, strict=True) if not go))
            return [number for number, go in enumerate(goes, start=1) if go]

    def expect(self, suite: str, file: str, run_ids: Iterable[str]) -> None:
        """Note the runs the suite ``file`` expects in this store, so that a leaderboard built from these records
        says which of them are missing (after an interrupt, a crash, or ``--only``) and which records are no run
        of it (made under other defaults or an earlier version of the file, until ``prune`` sets them aside).
        The results root is noted as this store was given it, beside ``file``: the command a page prints for the
        missing runs must work from where the run ran, wherever the page is built."""
        path = self.directory / EXPECTED_FILE
        noted = {"suite": suite, "file": file, "results": str(self.directory.parent), "run_ids": sorted(run_ids)}
        with replaced(path) as partial:
            partial.write_text(json.dumps(noted) + "\n", encoding="utf-8")

    def mark_running(self, run_id: str, deaths: int) -> None:
        """Note that the run ``run_id`` executes in the driver's own process from now on, after ``deaths`` earlier
        processes died running it. Left behind when that process dies with it (a crash in native code, the OOM
        killer, ``kill -9``), the note names the run no record does (:meth:`left_running`)."""
        with replaced(self.directory / RUNNING_FILE) as partial:
            partial.write_text(json.dumps({"run_id": run_id, "deaths": deaths, "started_at": utc_now()}) + "\n",
                               encoding="utf-8")

    def clear_running(self) -> None:
        """No run executes in the driver's process any more: its runs ended, failed or were interrupted."""
        (self.directory / RUNNING_FILE).unlink(missing_ok=True)

    def left_running(self) -> dict[str, Any] | None:
        """The note :meth:`mark_running` left when the process running that run died: ``run_id``, ``deaths``
        (before it) and ``started_at``; None when there is none, or it is not gnnbench's JSON (a note, not a
        record: nothing is lost without it)."""
        try:
            note = json.loads((self.directory / RUNNING_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(note, dict):
            return None
        deaths = note.get("deaths")
        written = (isinstance(note.get("run_id"), str) and isinstance(note.get("started_at"), str)
                   and isinstance(deaths, int) and not isinstance(deaths, bool) and deaths >= 0)
        return note if written else None

    def expected(self) -> dict[str, Any] | None:
        """What :meth:`expect` noted: ``suite``, ``file``, ``run_ids`` and ``results`` (absent from a note
        written before gnnbench noted it); None when nothing is expected."""
        path = self.directory / EXPECTED_FILE
        try:
            noted = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError:
            noted = None
        if not (isinstance(noted, dict) and isinstance(noted.get("suite"), str) and isinstance(noted.get("file"), str)
                and isinstance(noted.get("run_ids"), list) and all(isinstance(i, str) for i in noted["run_ids"])
                and isinstance(noted.get("results", ""), str)):
            raise GnnbenchError(f"{path}: not the JSON gnnbench writes (suite, file, run_ids, results); delete it "
                                "(the next run writes it again)")
        return noted

    def busy(self) -> bool:
        """Whether another process holds the store now (writing records): what a dry run's plan cannot know."""
        lock = self.directory / ".lock"
        if not lock.exists():
            return False
        with lock.open("r") as file:  # reading is enough to test the lock; closing it lets go
            return not _try_lock(file, fcntl.LOCK_SH)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self._holding:  # under :meth:`writer`: the driver takes back set-aside records before its runs
            yield
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        # read-only: flock needs no write access, so a lock file another user made (a folder a group shares) locks
        fd = os.open(self.directory / ".lock", os.O_RDONLY | os.O_CREAT, 0o644)
        with os.fdopen(fd) as lock:
            if not _try_lock(lock, fcntl.LOCK_EX):
                raise GnnbenchError(f"{self.directory}: another gnnbench process is writing these results")
            self._holding = True
            try:
                yield
            finally:  # explicitly: a child forked meanwhile (a plugin's) holds a copy that closing would not free
                self._holding = False
                fcntl.flock(lock, fcntl.LOCK_UN)


def _try_lock(file: IO[str], mode: int) -> bool:
    """Take the ``flock`` ``mode`` on ``file`` without waiting; False when another process holds the store."""
    try:
        fcntl.flock(file, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def utc_now() -> str:
    """A record's timestamps: UTC, to the second, ISO 8601 (so that they sort as text)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def latest(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """run_id -> the record that counts: its first successful one (a run that succeeded is never run again, so a
    second can only come from merged files, and the first is the one already reported): the one that finished
    first (``finished_at``; a record without one counts as earliest), so that merged files give the same tables
    in any order; else its latest failure (a retry replaces
    it). File order kept."""
    chosen: dict[str, dict[str, Any]] = {}
    for record in records:
        previous = chosen.get(record["run_id"])
        if previous is None or previous["status"] != "ok" or (
                record["status"] == "ok" and _finished(record) < _finished(previous)):
            chosen[record["run_id"]] = record
    return chosen


def _finished(record: Mapping[str, Any]) -> str:
    """A record's ``finished_at`` as text (a hand-edited number compares too), empty where it has none."""
    return str(record.get("finished_at") or "")


class RecordWriter:
    """Appends whole lines to the open file ``path`` (``fd``), each synced before it counts as written."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path

    def append(self, record: dict[str, Any]) -> None:
        self.write(encode(record))

    def write(self, lines: bytes) -> None:
        """Whole lines, synced before returning."""
        view = memoryview(lines)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except OSError as exc:  # a full disk: named by the file (the write's own error names none)
            raise type(exc)(exc.errno, exc.strerror, str(self.path)) from None


def record_problem(value: Any) -> str | None:
    """What keeps ``value`` from being a record the leaderboard can read (None when nothing does): the fields
    every reader takes, of their types, a schema no newer than :data:`SCHEMA`, and a spec that is the run its
    run_id names. A hand-edited or foreign line is named, not a ``KeyError`` deep in a table, nor counted for a
    configuration that did not make it."""
    if not _is_record(value):
        return "is not a run record (no run_id and status)"
    schema = value.get("schema", SCHEMA)
    if not isinstance(schema, int) or schema > SCHEMA:
        return f"has schema {schema!r}: made by a newer gnnbench (this one reads schema {SCHEMA})"
    if not isinstance(value["run_id"], str) or value["status"] not in ("ok", "failed"):
        return f"has run_id {value['run_id']!r} and status {value['status']!r}; expected text and ok or failed"
    spec = value.get("spec")
    if not isinstance(spec, dict) or not all(isinstance(spec.get(k), str) for k in ("task", "dataset", "model")):
        return "lacks a spec with task, dataset and model"
    if not isinstance(spec.get("seed"), int) or isinstance(spec["seed"], bool):
        return f"has seed {spec.get('seed')!r}; expected an integer"
    if problem := _identity_problem(value["run_id"], spec):
        return problem
    if value["status"] == "ok" and not has_metric(value.get("metric"), value.get("metrics")):
        return f"is ok but lacks its metric {value.get('metric')!r} as a number under metrics.val and metrics.test"
    if "unit" in value and value["unit"] not in UNITS:  # compare would refuse the leaderboard written from it
        return f"has unit {value['unit']!r}; expected 'fraction' or '' (shown as recorded)"
    return None


def _identity_problem(run_id: str, spec: Mapping[str, Any]) -> str | None:
    """Why ``spec`` is not the run ``run_id`` names (None when it hashes to it, :attr:`RunSpec.run_id`): one or the
    other edited by hand, so its results would count for a configuration that did not make them."""
    if missing := [key for key in RunSpec.IDENTITY if key not in spec]:
        return f"lacks {', '.join(missing)} in its spec, which its run_id hashes"
    try:  # the identity alone: a label of another type (plugins not a list) bears on no result
        hashed = RunSpec(**{key: spec[key] for key in RunSpec.IDENTITY}, scenario=spec.get("scenario")).run_id
    except ValueError:  # NaN or an infinity, which canonical JSON refuses, so no run's spec holds one
        return "has a spec holding NaN or an infinity, which no run's spec holds"
    if hashed != run_id:
        return (f"has run_id {run_id!r}, but its spec hashes to {hashed!r}: one of them was edited after the run, "
                "so whose results it holds cannot be told")
    return None


def has_metric(metric: Any, metrics: Any) -> bool:
    """Whether ``metrics`` holds ``metric`` as a number (NaN included) under both ``val`` and ``test``: what every
    reader of a successful record takes."""
    return isinstance(metric, str) and isinstance(metrics, dict) and all(
        isinstance(metrics.get(split), dict) and _is_number(metrics[split].get(metric)) for split in ("val", "test"))


def recorded_sources(record: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The files of a run's plugin parts and their sha256 (:func:`~gnnbench.harness.env.plugin_sources`). Records
    made before tasks, datasets and scenarios were covered hold their model's alone, as ``model_source``."""
    return record.get("sources") or ({"model": record["model_source"]} if "model_source" in record else {})


def _is_number(value: Any) -> bool:
    """A JSON number (NaN included: a metric undefined on a split), not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_record(value: Any) -> bool:
    return isinstance(value, dict) and {"run_id", "status"} <= value.keys()


#: a record line's run id, found without parsing the line (records are written by :func:`encode`; a line written
#: otherwise, in any JSON spacing, is found too)
QUICK_RUN_ID = re.compile(rb'"run_id"\s*:\s*"([^"]*)"')


def _quick_run_id(line: bytes) -> str | None:
    match = QUICK_RUN_ID.search(line)
    return match.group(1).decode() if match else None


def _is_json(line: bytes) -> bool:
    """Whether ``line`` is a whole JSON value (``null`` included, which :func:`_json` cannot tell from none)."""
    try:
        json.loads(line)
    except ValueError:  # not JSON, or not even text
        return False
    return True


def _json(line: bytes) -> Any:
    """The JSON value of a line; None for a blank or torn line."""
    try:
        return json.loads(line)
    except ValueError:
        return None


def _lines(data: bytes) -> list[bytes]:
    """The lines of ``data``, each with its newline (the last one's may be missing), split at newlines only: what
    :meth:`RunStore.records` reads and :meth:`RunStore._move` moves, so that the numbers they name agree."""
    lines = [line + b"\n" for line in data.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _records_of(run_ids: Collection[str],
                goes_if: Callable[[dict[str, Any]], bool] = lambda record: True) -> Callable[[bytes], bool]:
    """A line picker for :meth:`RunStore._move`: the lines of the records of ``run_ids`` that ``goes_if`` picks.
    Only a line naming one of them as a run id somewhere (:data:`QUICK_RUN_ID`, a nested one included) is parsed,
    and picked by its record's own: prune moves a few hundred records of tens of thousands, each line parsed whole
    to find them before."""
    wanted = {run_id.encode() for run_id in run_ids}

    def goes(line: bytes) -> bool:
        if wanted.isdisjoint(QUICK_RUN_ID.findall(line)):
            return False
        record = _record(line)
        return record is not None and record["run_id"] in run_ids and goes_if(record)

    return goes


def _corrupt(line: bytes) -> bool:
    """Whether ``line`` is a line that is not JSON, nor blank, nor a torn write's: a last line without its newline
    that can be a gnnbench process's unfinished write (:func:`_torn_write`) is the next writer's to cut off
    (:func:`_cut_torn_tail`)."""
    if not line.strip() or not line.endswith(b"\n") and _torn_write(line):
        return False
    return not _is_json(line)


def _record(line: bytes) -> dict[str, Any] | None:
    """The record of a line; None for a blank, torn or foreign line (kept where it is; a run id of no text too)."""
    record = _json(line)
    return record if _is_record(record) and isinstance(record["run_id"], str) else None


def _torn_write(tail: bytes) -> bool:
    """Whether ``tail``, an unfinished last line, can be what a gnnbench process stopped while writing it left: a
    start of the UTF-8 JSON it writes (its last character perhaps cut), perhaps followed by NUL bytes (the zeros a
    filesystem may give the blocks of an append a crash left unwritten), or blank. A line that does not start a JSON
    object (notes written into the file, another program's output), a NUL before other bytes, or bytes that are not
    UTF-8, are no gnnbench write: such a line is not cut off as torn."""
    text = tail.rstrip(b"\x00")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(text)  # not final: a character cut at the end is fine
    except UnicodeDecodeError:
        return False
    return b"\x00" not in text and (not text.strip() or text.startswith(b"{"))  # a record: {"run_id": ...


def _warn_torn(path: Path, number: int, done: str) -> None:
    """The one warning of a torn last line (line ``number`` of ``path``): what is ``done`` with it, and that in
    ``runs.jsonl`` its run counts as not recorded, which a resumed run runs again."""
    rerun = ", and its run counts as not recorded: `gnnbench run` runs it again" if path.name == RUNS_FILE else ""
    warnings.warn(f"{path}:{number}: a torn last line, left by a gnnbench process stopped while writing it, {done}; "
                  f"nothing before it is lost{rerun}", stacklevel=3)


def _cut_torn_tail(fd: int, path: Path) -> None:
    """Make the next record start on a line of its own: truncate a partial last line left by a crash (warning
    that it does), but end a complete last line of JSON that only lacks its newline (an editor or a merge dropped
    it; readers count a record, and warn of anything else, which prune leaves). A last line that is neither
    (:func:`_torn_write`: bytes gnnbench never writes) is refused, not cut: the file may be no records file of
    gnnbench's at all. In ``unreadable.jsonl`` any unfinished last
    line is cut: it is a copy of lines ``runs.jsonl`` keeps until the copy is synced."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    block = 1 << 16
    end = size
    while end > 0:
        start = max(0, end - block)
        newline = os.pread(fd, end - start, start).rfind(b"\n")
        if newline >= 0:
            end = start + newline + 1
            break
        end = start
    tail = os.pread(fd, size - end, end)
    if not _is_json(tail):
        number = os.pread(fd, end, 0).count(b"\n") + 1
        if not _torn_write(tail) and path.name != UNREADABLE_FILE:
            raise GnnbenchError(f"{path}:{number}: the last line is no record and holds bytes gnnbench never writes "
                                "(no JSON object's start, a NUL, or not UTF-8), so it is no torn write of a gnnbench "
                                "process: not cutting it "
                                f"off; `gnnbench prune SUITE.yaml` moves such lines into {UNREADABLE_FILE}, or move "
                                "the file away if it is no records file")
        _warn_torn(path, number, "is cut off")
        os.truncate(fd, end)
    else:
        os.write(fd, b"\n")
