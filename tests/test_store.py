from __future__ import annotations

import json
import re
import warnings

import pytest

from gnnbench.errors import GnnbenchError
from gnnbench.harness.spec import RunSpec
from gnnbench.harness.store import RunStore
from gnnbench.recordable import encode
from gnnbench.settings import canonical_json


def rec(name: str, status: str = "ok", **extra) -> dict:
    """A record of the run of model ``name``, as the driver writes one: its run_id the hash of its spec."""
    spec = RunSpec(task="t", task_options={}, dataset="d", model=name, hparams={}, seed=0, epochs=1, patience=None,
                   device="cpu", kernel="scatter")
    return {"run_id": spec.run_id, "status": status, "spec": spec.to_dict(), "metric": "accuracy",
            "metrics": {"val": {"accuracy": 0.5}, "test": {"accuracy": 0.5}}, **extra}


def ids(*names: str) -> list[str]:
    """The run ids of the runs of models ``names`` (:func:`rec`)."""
    return [rec(name)["run_id"] for name in names]


def test_appends_whole_lines_and_reads_them_back(tmp_path):
    store = RunStore(tmp_path / "suite")
    with store.writer() as w:
        w.append(rec("a"))
        w.append(rec("b", "failed"))
    assert [r["run_id"] for r in store.records()] == ids("a", "b")
    assert store.path.read_text().count("\n") == 2


@pytest.mark.parametrize("tail", [b'{"run_id": "b", "sta', b"\x00" * 5, b'{"run_id": "b", "sta\x00\x00'],
                         ids=["half a record", "zeros a crash left", "half a record, then zeros"])
def test_torn_last_line_is_skipped_on_read_and_cut_before_the_next_append_each_with_a_warning(tmp_path, tail):
    store = RunStore(tmp_path)
    with store.writer() as w:
        w.append(rec("a"))
    with store.path.open("ab") as f:
        f.write(tail)  # a crash in the middle of a write
    torn = f"{store.path}:2: a torn last line, left by a gnnbench process stopped while writing it, "
    rerun = "; nothing before it is lost, and its run counts as not recorded: `gnnbench run` runs it again"
    with warnings.catch_warnings(record=True) as caught:  # the user is told, once per read, what happens to it
        warnings.simplefilter("always")
        assert [r["run_id"] for r in store.records()] == ids("a")
        with store.writer() as w:
            w.append(rec("c"))
    assert [str(w.message) for w in caught] == [f"{torn}is skipped until the next write to the file cuts it off{rerun}",
                                                f"{torn}is cut off{rerun}"]
    lines = store.path.read_text().splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == ids("a", "c")


@pytest.mark.parametrize("tail", [b"\x7fELF\x02\x01\x01\x00\x00\x00\x03\x00>", b'{"run_id": "\xff\xfe"',
                                  b"\x00\x00{", b"These are my notes, not records", b"[1, 2"],
                         ids=["a binary", "not UTF-8", "NUL before text", "text", "JSON, not an object"])
def test_a_last_line_gnnbench_never_wrote_is_refused_not_cut_as_torn(tmp_path, tail):
    """gnnbench writes UTF-8 JSON objects: a last line of other bytes (NUL before text, not UTF-8, text that does
    not start an object) is no torn write of its own, and the next run cut off such a file whole (a binary copied in
    its place, notes written into it). It is skipped as not JSON, the
    writer refuses the file, naming it, and prune moves the line aside, after which the store is written again."""
    store = RunStore(tmp_path)
    store.path.write_bytes(tail)
    unreadable: list[int] = []
    with pytest.warns(UserWarning, match=r"runs\.jsonl:1: skipping a line that is not a JSON record; `gnnbench prune"):
        assert store.records(unreadable=unreadable) == []
    with pytest.raises(GnnbenchError, match=rf"{re.escape(str(store.path))}:1: the last line is no record and holds "
                                            r"bytes gnnbench never writes \(no JSON object's start, a NUL, or not "
                                            r"UTF-8\), so it is no torn write of a gnnbench process: not cutting it "
                                            r"off"), store.writer():
        pass
    assert store.path.read_bytes() == tail and unreadable == [1]
    assert store.set_aside_unreadable() == [1]
    assert (tmp_path / "unreadable.jsonl").read_bytes() == tail + b"\n" and store.path.read_bytes() == b""
    with store.writer() as w:
        w.append(rec("a"))
    assert [r["run_id"] for r in store.records()] == ids("a")


@pytest.mark.parametrize("records", [1, 2])
def test_a_complete_last_record_without_its_newline_is_kept_by_the_next_append(tmp_path, records):
    """Readers count such a record, so the writer must end its line rather than cut it as torn."""
    store = RunStore(tmp_path)
    store.path.write_text("\n".join(json.dumps(rec(id_)) for id_ in "ab"[:records]))  # an editor dropped the last \n
    with store.writer() as w:
        w.append(rec("c"))
    assert [r["run_id"] for r in store.records()] == ids(*"ab"[:records], "c")


@pytest.mark.parametrize("last", ['{"run_id": 7, "status": "ok"}', '{"note": "baseline rerun, keep"}', "[1, 2]"],
                         ids=["a record's shape", "a note as JSON", "JSON, not an object"])
def test_a_complete_last_line_of_json_is_never_cut_as_torn(tmp_path, last):
    """A whole line of JSON without its newline (a record whose run_id is no text, a note): readers skip it with a
    warning, but no crash left it half written: it is kept and ended, where it was cut off as torn."""
    store = RunStore(tmp_path)
    store.path.write_text(json.dumps(rec("a")) + "\n" + last)
    with store.writer() as w:
        w.append(rec("c"))
    lines = store.path.read_text().splitlines()
    assert [json.loads(line) for line in lines[1:]] == [json.loads(last), rec("c")]


@pytest.mark.parametrize("tail", [b"  ", b"\r", b"\t \x00\x00"],
                         ids=["spaces", "a carriage return", "blank, then zeros"])
def test_a_blank_last_line_is_cut_not_refused(tmp_path, tail):
    """Blank bytes after the last newline hold nothing to keep, and prune has no line to move: the writer cuts them
    rather than refuse the file for good."""
    store = RunStore(tmp_path)
    store.path.write_bytes(json.dumps(rec("a")).encode() + b"\n" + tail)
    with pytest.warns(UserWarning, match="a torn last line"), store.writer() as w:
        w.append(rec("c"))
    assert [r["run_id"] for r in store.records()] == ids("a", "c")


@pytest.mark.parametrize(("line", "message"), [("not json", "not a JSON record"), ("{}", "not a run record"),
                                               ("42", "not a run record")])
def test_a_corrupt_line_in_the_middle_is_skipped_with_a_warning(tmp_path, line, message):
    store = RunStore(tmp_path)
    store.path.write_text(json.dumps(rec("a")) + f"\n{line}\n" + json.dumps(rec("b")) + "\n")
    with pytest.warns(UserWarning, match=rf"runs.jsonl:2: skipping .*{message}"):
        assert list(store.latest()) == ids("a", "b")


@pytest.mark.parametrize(("edit", "message"), [
    ({"spec": None}, "lacks a spec with task, dataset and model"),
    ({"spec": "gcn"}, "lacks a spec"),
    ({"spec": {"task": "t", "dataset": "d", "model": "m", "seed": "zero"}}, "has seed 'zero'; expected an integer"),
    ({"spec": {"task": "t", "dataset": "d", "model": "m", "seed": True}}, "has seed True; expected an integer"),
    ({"run_id": None}, "has run_id None"),
    ({"status": "done"}, "status 'done'; expected text and ok or failed"),
    ({"schema": 2}, "has schema 2: made by a newer gnnbench"),
    ({"metrics": {"val": {"accuracy": 0.5}, "test": {"acc": 0.5}}}, "lacks its metric 'accuracy' as a number"),
    ({"metrics": {"val": {"accuracy": 0.5}, "test": {"accuracy": "high"}}}, "lacks its metric 'accuracy'"),
    ({"metrics": {"val": {"accuracy": 0.5}, "test": {"accuracy": True}}}, "lacks its metric 'accuracy'"),
    ({"unit": "percent"}, "has unit 'percent'; expected 'fraction' or ''"),  # compare would refuse its leaderboard
    ({"spec": {**rec("b")["spec"], "hparams": {"lr": 0.1}}},  # its results would count for a configuration not run
     rf"has run_id '{ids('b')[0]}', but its spec hashes to '[0-9a-f]{{16}}': one of them was edited after the run"),
    ({"spec": {k: v for k, v in rec("b")["spec"].items() if k not in ("epochs", "device")}},
     "lacks epochs, device in its spec, which its run_id hashes"),
    ({"spec": {**rec("b")["spec"], "hparams": {"lr": float("nan")}}},
     "has a spec holding NaN or an infinity, which no run's spec holds"),
])
def test_a_record_of_a_shape_no_reader_can_take_is_skipped_with_its_line_named(tmp_path, edit, message):
    """A hand edit or a newer gnnbench's record warns and is skipped (its run counts as not run), instead of a
    KeyError in every command that reads the store."""
    store = RunStore(tmp_path)
    store.path.write_text("".join(json.dumps(r) + "\n" for r in (rec("a"), {**rec("b"), **edit}, rec("c"))))
    with pytest.warns(UserWarning, match=rf"runs.jsonl:2: skipping a line that .*{message}"):
        assert list(store.latest()) == ids("a", "c")


@pytest.mark.parametrize("hparams", [{"layer_dropout": {2: 0.1, 10: 0.2}}, {"weights": {10.0: 1, 2.5: 2, True: 3}},
                                     {"schedule": [{1: "a", 12: "b"}]}])
def test_a_spec_with_keys_json_writes_as_text_hashes_to_its_run_id_once_written(tmp_path, hparams):
    """A plugin option keyed by numbers: JSON writes its keys as text, which sort otherwise (``"10"`` before
    ``"2"``), so a run id hashed from the suite's setting must be the one its record's spec hashes to, or every
    read skips the record as edited by hand and every ``run`` runs it again."""
    spec = RunSpec(task="t", task_options={}, dataset="d", model="m", hparams=hparams, seed=0, epochs=1,
                   patience=None, device="cpu", kernel="scatter")
    store = RunStore(tmp_path)
    with store.writer() as w:
        w.append({**rec("m"), "run_id": spec.run_id, "spec": spec.to_dict()})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(store.latest()) == [spec.run_id]


@pytest.mark.parametrize(("keys", "error"), [({2: "a", "2": "b"}, ValueError), ({True: 1, "true": 2}, ValueError),
                                             ({float("nan"): 1}, ValueError), ({(1, 2): 1}, TypeError)])
def test_keys_json_would_write_alike_or_refuse_are_refused_not_merged(keys, error):
    """Before keys were hashed as text, these raised in json.dumps; as text, one value would be silently lost (two
    settings hashing alike), or a key JSON refuses written anyway."""
    with pytest.raises(error):
        canonical_json({"hparams": keys})


def test_merged_successes_of_one_run_are_warned_about_and_the_first_finished_counts_in_any_order(tmp_path):
    """Two machines that ran one suite share its run ids: their files concatenated used to give each run the
    success that came first in the file, silently, so the order of the merge changed the leaderboard."""
    here = [rec(r, finished_at=f"2026-12-0{day}T00:00:00Z", machine="here") for r, day in (("a", 1), ("b", 3))]
    there = [rec(r, finished_at=f"2026-12-0{day}T00:00:00Z", machine="there") for r, day in (("a", 2), ("b", 2))]
    for order, folder in ((here + there, "hm"), (there + here, "th")):
        store = RunStore(tmp_path / folder)
        with store.writer() as w:
            for record in order:
                w.append(record)
        with pytest.warns(UserWarning, match=r"runs.jsonl: 2 runs have more than one successful record \(files "
                                             r"merged from several machines\?\)"):
            latest = store.latest()
        assert {r["spec"]["model"]: r["machine"] for r in latest.values()} == {"a": "here", "b": "there"}
    store = RunStore(tmp_path / "one")
    with store.writer() as w:
        w.append(rec("a", "failed"))
        w.append(rec("a"))
        w.append(rec("b", finished_at=5))  # hand-edited: a time that is no text is compared as text
        w.append(rec("b", finished_at="2026-12-01T00:00:00Z"))
        for _ in range(2):  # a crash while prune moved records leaves one line twice: no merge
            w.append(rec("c"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nor is a retry's success after a failure
        assert {r["spec"]["model"]: r["status"] for r in store.latest(only=ids("a", "c")).values()} == {"a": "ok",
                                                                                                        "c": "ok"}
    with pytest.warns(UserWarning, match="1 run has more than one successful record"):
        assert store.latest()[rec("b")["run_id"]]["finished_at"] == "2026-12-01T00:00:00Z"


def test_latest_prefers_success_then_the_newest_failure(tmp_path):
    store = RunStore(tmp_path)
    with store.writer() as w:
        for r in (rec("a", "failed", n=1), rec("a", "ok", n=2), rec("a", "failed", n=3),
                  rec("b", "failed", n=1), rec("b", "failed", n=2)):
            w.append(r)
    a, b = (store.latest()[run_id] for run_id in ids("a", "b"))
    assert a["n"] == 2 and b["n"] == 2


@pytest.mark.parametrize("last", [b"", b"torn"], ids=["whole lines", "a torn last line"])
def test_run_ids_are_the_runs_latest_has_records_of_without_parsing_them(tmp_path, last):
    """``compare``'s note counts recorded runs, failed ones included, in files of 100 MB: their ids alone, found by
    the quick pattern, are those of :meth:`RunStore.latest`; a torn last line, its run not recorded, counts in
    neither (cut where its run id is already written, which the quick pattern would find)."""
    store = RunStore(tmp_path)
    assert store.run_ids() == set()
    with store.writer() as w:
        for r in (rec("a", "failed"), rec("a"), rec("b", "failed"), rec("c")):
            w.append(r)
    if last:
        with store.path.open("ab") as f:
            f.write(encode(rec("d")).removesuffix(b"\n")[:-5])
    else:  # a whole record as the last line lacks only its newline: it counts
        store.path.write_bytes(store.path.read_bytes() + encode(rec("d")).removesuffix(b"\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the torn line's
        recorded = store.latest().keys()
    assert store.run_ids() == set(recorded) == set(ids("a", "b", "c", *(() if last else ("d",))))


def test_the_tables_and_the_plan_parse_the_records_without_their_per_epoch_history(tmp_path, monkeypatch):
    """``history`` is about half of a parsed record's memory (463 MB of a 20,000-record file's, 236 MB without
    it), and no table, plan or prune reads it: they drop it as each line is parsed. ``records()`` keeps it for any
    other reader."""
    from types import SimpleNamespace

    from gnnbench import leaderboard
    from gnnbench.harness import driver

    store = RunStore(tmp_path)
    with store.writer() as w:
        w.append(rec("a", history={"train_loss": [0.9, 0.5]}))
        w.append(rec("old", history={"train_loss": [0.8]}))
    full = store.records()[0]
    assert full["history"] == {"train_loss": [0.9, 0.5]}
    assert store.records(history=False)[0] == {k: v for k, v in full.items() if k != "history"}
    reads, latest = [], RunStore.latest
    monkeypatch.setattr(RunStore, "latest", lambda *args, **kwargs: reads.append(latest(*args, **kwargs)) or reads[-1])
    leaderboard.build(tmp_path)
    planned = driver.plan(SimpleNamespace(specs=[], all_run_ids=frozenset(ids("a"))), store)
    assert list(planned.stale) == ids("old") and len(reads) == 2
    assert [sorted(r) for read in reads for r in read.values()] == [sorted(full.keys() - {"history"})] * 4


def test_only_one_writer_at_a_time(tmp_path):
    store = RunStore(tmp_path)
    with store.writer(), pytest.raises(GnnbenchError, match="another gnnbench process"), RunStore(tmp_path).writer():
        pass
    # a store that has written once locks again: its own hold ended with its writer
    with RunStore(tmp_path).writer(), pytest.raises(GnnbenchError, match="another gnnbench process"), store.writer():
        pass


def test_the_lock_needs_no_write_access_to_its_file(tmp_path, write_access_opens):
    """A results folder a group shares: the lock file another member made (mode 644) must lock for this one too,
    and flock needs only a descriptor, not write access."""
    with RunStore(tmp_path).writer():
        pass
    assert write_access_opens("/.lock") == [False]


NOTE = {"run_id": "a", "deaths": 1, "started_at": "2000-01-01T00:00:00+00:00"}


@pytest.mark.parametrize("note", [
    *({k: v for k, v in NOTE.items() if k != gone} for gone in ("run_id", "deaths", "started_at")),
    ["run_id", "deaths", "started_at"], "run_id deaths started_at",
    {**NOTE, "deaths": "many"}, {**NOTE, "deaths": True}, {**NOTE, "deaths": -1}, {**NOTE, "run_id": 7},
    {**NOTE, "started_at": 2000}],
    ids=["no run_id", "no deaths", "no started_at", "a list", "text", "deaths text", "deaths bool",
         "deaths negative", "run_id number", "started_at number"])
def test_a_running_note_missing_a_key_is_no_note(tmp_path, note):
    """``.running.json`` is a note, not a record: one lacking any of its keys, or holding a value of another
    type (hand-edited, or an older or foreign file), names no dead run, rather than a KeyError or a ValueError
    in every later ``run``."""
    store = RunStore(tmp_path)
    store.mark_running("a", deaths=1)
    assert set(store.left_running()) == {"run_id", "deaths", "started_at"}  # what gnnbench writes is one
    (tmp_path / ".running.json").write_text(json.dumps(note))
    assert store.left_running() is None


def test_set_aside_moves_whole_records_and_keeps_the_rest_in_order(tmp_path):
    store = RunStore(tmp_path)
    with store.writer() as w:
        for r in (rec("a"), rec("old", "failed", n=1), rec("b"), rec("old", n=2)):
            w.append(r)
    before = store.path.read_text().splitlines()
    assert store.set_aside(ids("old", "never-recorded")) == 2
    assert store.path.read_text().splitlines() == [before[0], before[2]]
    assert (tmp_path / "stale.jsonl").read_text().splitlines() == [before[1], before[3]]  # byte for byte
    assert store.set_aside(ids("old")) == 0  # nothing left to move; stale.jsonl untouched
    assert len((tmp_path / "stale.jsonl").read_text().splitlines()) == 2
    with store.writer() as w:  # the store stays appendable
        w.append(rec("c"))
    assert [r["run_id"] for r in store.records()] == ids("a", "b", "c")


def test_restore_takes_the_chosen_records_back_after_a_torn_last_line(tmp_path):
    """The way back from set_aside; a line a kill tore in runs.jsonl must not swallow the first restored record.
    Only the record chosen goes back: another version's record of the same run stays aside for its version."""
    store = RunStore(tmp_path)
    with store.writer() as w:
        for r in (rec("a"), rec("old", "failed", n=1), rec("old", n=2), rec("old", n=3)):
            w.append(r)
    lines = store.path.read_text().splitlines(keepends=True)
    assert store.set_aside(ids("old")) == 3
    with store.path.open("a") as f:
        f.write('{"run_id": "b", "sta')
    with (tmp_path / "stale.jsonl").open("a") as f:  # a foreign line, kept where it is
        f.write('{"run_id": ["a list"], "status": "ok"}\n')
    with pytest.warns(UserWarning, match=r"runs\.jsonl:2: a torn last line, .* is cut off"):
        assert store.restore([rec("old", n=3), rec("never-set-aside")]) == 1
    assert store.path.read_text() == lines[0] + lines[3]  # the torn line gone, the record back byte for byte
    assert (tmp_path / "stale.jsonl").read_text() == lines[1] + lines[2] + '{"run_id": ["a list"], "status": "ok"}\n'


def test_set_aside_parses_only_the_lines_naming_the_runs_it_moves(tmp_path, monkeypatch):
    """prune moves a few hundred records of tens of thousands, and parsed every line to find them. A line is
    parsed only where it names one of the runs as a run id, in any JSON spacing (a line another tool wrote), and is
    then picked by its record's own: a torn last line naming one stays, for the next writer to cut off."""
    from gnnbench.harness import store as store_module

    store = RunStore(tmp_path)
    lines = [json.dumps(r) + "\n" for r in (rec("a"), rec("old"), rec("b"))]
    compact = json.dumps(rec("old", n=2), separators=(",", ":")) + "\n"
    torn = f'{{"run_id": "{ids("old")[0]}", "sta'
    store.path.write_text("".join(lines) + compact + torn)
    parsed, record = [], store_module._record
    monkeypatch.setattr(store_module, "_record", lambda line: parsed.append(line.decode()) or record(line))
    assert store.set_aside(ids("old")) == 2
    assert parsed == [lines[1], compact, torn]
    assert store.path.read_text() == lines[0] + lines[2] + torn
    assert (tmp_path / "stale.jsonl").read_text() == lines[1] + compact


def test_set_aside_waits_for_no_one(tmp_path):
    store = RunStore(tmp_path)
    with store.writer() as w:
        w.append(rec("a"))
        with pytest.raises(GnnbenchError, match="another gnnbench process"):
            RunStore(tmp_path).set_aside(ids("a"))
    assert [r["run_id"] for r in store.records()] == ids("a")


def test_only_successful_runs_of_the_suite_set_aside_and_unrecorded_since_are_restorable(tmp_path):
    """A failure in stale.jsonl would come back as 'failed (kept)' and stop being retried; a run recorded again
    since, or of no run of the suite, stays where it is."""
    from types import SimpleNamespace

    from gnnbench.harness import driver

    store = RunStore(tmp_path)
    with (tmp_path / "stale.jsonl").open("w") as f:
        for r in (rec("ok-then"), rec("failed-then", "failed"), rec("recorded-again"), rec("not-ours")):
            f.write(json.dumps(r) + "\n")
    suite = SimpleNamespace(all_run_ids=frozenset(ids("ok-then", "failed-then", "recorded-again")))
    recorded = {r["run_id"]: r for r in [rec("recorded-again")]}
    assert list(driver.restorable(suite, store, recorded, driver.DataDigests(None))) == ids("ok-then")


def test_a_file_that_cannot_be_written_is_named_not_its_temporary_twin(tmp_path, monkeypatch):
    """A read-only results folder: the error names leaderboard.csv, not the hidden ``.partial`` file that
    could not be made beside it."""
    import errno
    import tempfile

    from gnnbench.files import replaced

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / ".leaderboard.csv.x1y2.partial"))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(OSError) as info, replaced(tmp_path / "leaderboard.csv") as partial:
        partial.write_text("never")
    assert info.value.filename == str(tmp_path / "leaderboard.csv") and info.value.errno == errno.EROFS


@pytest.mark.parametrize("text", ["{not json", '{"suite": "quickstart"}', "[]", '{"suite": "s", "file": "s.yaml", '
                                  '"run_ids": "abc"}', '{"suite": "s", "file": "s.yaml", "run_ids": [1, 2]}',
                                  '{"suite": "s", "file": "s.yaml", "run_ids": [], "results": 3}'])
def test_a_noted_suite_that_is_not_gnnbench_s_json_is_named(tmp_path, text):
    """Valid JSON of another shape used to raise a KeyError or TypeError in the leaderboard and compare (or read
    ``"abc"`` as three runs); every such file gets the one located error."""
    store = RunStore(tmp_path)
    (tmp_path / "expected.json").write_text(text)
    with pytest.raises(GnnbenchError, match=f"{tmp_path / 'expected.json'}: not the JSON gnnbench writes"):
        store.expected()
    store.expect("s", "s.yaml", ["r1", "r2"])
    assert store.expected() == {"suite": "s", "file": "s.yaml", "results": str(tmp_path.parent),
                                "run_ids": ["r1", "r2"]}
