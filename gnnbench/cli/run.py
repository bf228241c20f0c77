"""``gnnbench run`` and ``gnnbench prune``: a suite's plan, its notes on stderr, its progress, and the records
set aside."""

from __future__ import annotations

import contextlib
import shlex
import sys
import warnings
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from gnnbench.cli.signals import uninterrupted
from gnnbench.cli.tables import board_table
from gnnbench.errors import GnnbenchError

if TYPE_CHECKING:  # for annotations only: the handlers import these where they use them
    import argparse

    from gnnbench.harness.driver import Died
    from gnnbench.harness.spec import RunSpec, Suite
    from gnnbench.harness.store import RunStore


def run_suite(args: argparse.Namespace, console: Console) -> int:
    """``gnnbench run``: what is left of the suite, run and recorded, then its leaderboard; 1 when a run failed."""
    from gnnbench import leaderboard
    from gnnbench.harness import driver
    from gnnbench.harness.allocator import keep_freed_memory
    from gnnbench.harness.env import modified_checkout
    from gnnbench.harness.executors import executor_options, make_executor
    from gnnbench.harness.plan import notes_about
    from gnnbench.harness.spec import RunSpec, smoke
    from gnnbench.harness.store import STALE_FILE
    from gnnbench.harness.suite import load_suite

    suite = load_suite(args.suite)
    if args.smoke is not None:  # before --only, which keeps the whole (smoke) suite's runs as its own
        suite = smoke(suite, args.smoke)
    if args.only:
        suite = suite.only(args.only)
    store = suite_store(args.results, suite.name)
    keep_freed_memory()  # a GNNBENCH_MALLOC it cannot take is one error now, not a failed record per run
    smoking = args.smoke is not None  # a smoke check is of the code and the suite file as they are now
    rerun_failed = args.rerun_failed or smoking

    def note_stale(plan: driver.Plan) -> None:
        prune = ("a run with --smoke" if smoking else
                 f"`gnnbench prune {shlex.quote(str(args.suite))}"
                 + (f" --results {shlex.quote(str(args.results))}" if args.results != Path("results") else "")
                 + (f" --data-root {shlex.quote(args.data_root)}" if args.data_root else "") + "`")
        if plan.stale:  # on stderr, -q or not: such records silently double the seeds of the leaderboard's rows
            print(f"gnnbench: note: {_describe(plan.stale)} recorded in {store.path} "
                  f"{'is' if len(plan.stale) == 1 else 'are'} no run of this suite (made under other defaults or an "
                  f"earlier version of the suite file? Or by another suite file also named '{suite.name}': then name "
                  f"this one otherwise, or give it its own --results); the leaderboard counts them until {prune} sets "
                  "them aside",
                  file=sys.stderr)
        if plan.restorable:  # an edit undone: the runs set aside are this suite's again
            one = len(plan.restorable) == 1
            print(f"gnnbench: note: {_describe(plan.restorable)} of this suite {'was' if one else 'were'} set aside "
                  f"into {store.directory / STALE_FILE} by an earlier prune; "
                  f"{'would be taken' if args.dry_run else 'taken'} back into {store.path}, not run again",
                  file=sys.stderr)
        if plan.changed:  # their numbers are another code's
            files = sorted(set().union(*plan.edited.values()))
            print(f"gnnbench: note: {_describe(plan.changed)} recorded in {store.path} "
                  f"{'was' if len(plan.changed) == 1 else 'were'} made with another version of {', '.join(files)}; "
                  + ("a run with --smoke sets them aside and runs them again" if smoking else
                     f"they count as done until {prune} sets them aside, and the next run runs them again"),
                  file=sys.stderr)
        _note_unchecked(plan.unchecked)

    progress = progress_bars(console)  # shown from `with progress` on: not by a dry run
    epochs = progress.add_task("epochs", visible=False, total=None)

    def on_epoch(spec: RunSpec, epoch: int, values: Mapping[str, float]) -> None:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in values.items())
        progress.update(epochs, visible=True, completed=epoch + 1,
                        description=escape(f"  {_run_label(spec)}, epoch {epoch + 1}: {shown}"))

    kind, options = executor_options(suite.executor, args.executor, args.workers, args.address)
    if args.verbose and kind != "local":  # as --workers and --address are: said, not dropped in silence
        warnings.warn(f"-v shows the epochs of the local executor; the {kind} executor ignores it", stacklevel=1)
    executor = make_executor(kind, options, on_epoch if args.verbose else None, str(suite.path))
    if smoking and not args.dry_run:
        _refresh_smoke(suite, store, args.data_root, executor.runs_here)
    if args.dry_run:
        plan = driver.prepare(suite, store, rerun_failed, args.data_root, devices=executor.runs_here,
                              redo_changed=smoking)
        note_stale(plan)
        if store.busy():  # on stderr, -q or not: `run` would stop at the lock
            print(f"gnnbench: note: another gnnbench process is writing {store.path} now: this plan is as of now, "
                  "and `run` refuses to start until that process ends", file=sys.stderr)
        else:  # a note of a run in flight is that process's own, no dead run
            plan.settle(dead := driver.died(suite, store, None))
            _note_died(dead, would=True)
        summary = (f"{suite.name}: {_runs(len(suite.specs))}, {plan.done} recorded, {plan.failed_kept} failed "
                   f"(kept), {len(plan.todo)} to run -> {store.path}")
        if console.quiet:  # -q: the plan's one line of counts, its answer in a CI log, without a line per run
            print(summary)
            return 0
        console.print(summary)
        for line in (*notes_about(suite.notes, plan.todo), *_plan_lines(plan.todo)):
            console.print(f"  {escape(line)}", highlight=False)
        return 0
    nodes: Counter[str] = Counter()
    runs = progress.add_task(suite.name, total=0)

    def on_plan(plan: driver.Plan) -> None:
        note_stale(plan)
        _note_died(plan.died)
        dirty = modified_checkout()
        if plan.todo and dirty:  # on stderr, -q or not: before hours of records
            print(f"gnnbench: note: this gnnbench checkout has uncommitted changes outside results/: the new records "
                  f"name commit {dirty.removesuffix('-dirty')[:12]}-dirty, which does not pin the code they ran",
                  file=sys.stderr)
        if plan.failed_kept:  # on stderr, -q or not: a rerun must not turn a CI job green while runs still fail
            one = plan.failed_kept == 1
            print(f"gnnbench: note: {plan.failed_kept} run{'' if one else 's'} recorded as failed "
                  f"{'is' if one else 'are'} kept, not retried (--rerun-failed retries {'it' if one else 'them'})",
                  file=sys.stderr)
        progress.update(runs, total=len(plan.todo), visible=bool(plan.todo))  # no bar of 0/0 when all is done
        skipped = f"{plan.done} already recorded" + (f", {plan.failed_kept} failed kept (--rerun-failed retries)"
                                                     if plan.failed_kept else "")
        console.print(f"[bold]{suite.name}[/]: {_runs(len(suite.specs))}; {skipped}; running {len(plan.todo)} "
                      f"with the {executor.name} executor")
        for line in notes_about(suite.notes, plan.todo):
            console.print(f"  {escape(line)}", highlight=False)

    def on_record(record: dict[str, Any]) -> None:
        progress.advance(runs)
        if "node" in record:  # a cluster: show where the runs went
            nodes[record["node"]["hostname"]] += 1
            progress.update(runs, description=escape(f"{suite.name} [" + ", ".join(  # brackets are Rich markup
                f"{node}: {count}" for node, count in sorted(nodes.items())) + "]"))
        progress.update(epochs, visible=False)
        if record["status"] != "ok":  # on stderr, -q or not: CI logs must say which run failed and why
            error = record["error"]
            at = f" at {error['where']}" if error.get("where") else ""
            print(f"gnnbench: failed: {_run_label(RunSpec.from_dict(record['spec']))}: {error['type']}: "
                  f"{' '.join(error['message'].split())}{at} (record in {store.path})", file=sys.stderr)
            if args.debug and error.get("traceback"):
                print(error["traceback"].rstrip(), file=sys.stderr)

    try:
        with progress:
            summary = driver.run(suite, store, executor, rerun_failed=rerun_failed, data_root=args.data_root,
                                 on_plan=on_plan, on_record=on_record)
    except KeyboardInterrupt:  # the finished runs are recorded: the leaderboard shows them too
        with uninterrupted(deliver=False), contextlib.suppress(GnnbenchError):  # no records yet: no leaderboard
            print(f"gnnbench: leaderboard rebuilt from the records so far: "
                  f"{leaderboard.build(store.directory, suite.name).csv}", file=sys.stderr)
        raise
    with uninterrupted():
        board = leaderboard.build(store.directory, suite.name)
    console.print(board_table(board.board, suite.name))
    if smoking:
        console.print(f"a smoke check: at most {args.smoke} epochs per run, one seed; these numbers say that the runs "
                      "run, not how well")
    console.print(f"{_runs(summary.ok)} finished, {summary.failed} failed; records: {store.path}; "
                  f"leaderboard: {board.csv}, {board.markdown}" + (f", {board.html}" if board.html else ""))
    if nodes:
        console.print("runs per node: " + ", ".join(f"{node} {count}" for node, count in sorted(nodes.items())))
    return 1 if summary.failed or summary.failed_kept else 0


def _note_died(dead: Died | None, would: bool = False) -> None:
    """On stderr, -q or not: no record of its own says what happened to the run."""
    if dead is None:
        return
    run = f"running {_run_label(dead.spec) if dead.spec else f'a run of another experiment ({dead.run_id})'}"
    why = (f"{dead.deaths} times in a row (a crash in native code, or killed: out of memory?)"
           if dead.deaths > 1 else "(killed, out of memory, or a crash in native code)")
    then = {"recorded failed": f"{'`run` records it' if would else 'recorded'} as failed, so the suite goes on "
                               "(--executor process runs each run in a worker process, whose death fails only its "
                               "run)",
            "runs again": f"{'`run` runs it again' if would else 'it runs again now'}, and "
                          f"{'records it' if would else 'it is recorded'} as failed if it takes the process down "
                          "again",
            "left out": f"{'`run` does' if would else 'this run does'} not run it (not among --only's experiments, "
                        "or an earlier failure of it kept), and its count of deaths starts again"}[dead.outcome]
    print(f"gnnbench: note: the gnnbench process {run} died without recording it {why}; {then}", file=sys.stderr)


def _refresh_smoke(suite: Suite, store: RunStore, data_root: str | None, devices: bool) -> None:
    """Before a smoke check: set aside the earlier checks' records of another suite file or EPOCHS (``stale``)
    and those made with another version of a plugin file (``changed``), once the suite's checks pass, so the
    check reports on the code and the suite as they are now."""
    from gnnbench import leaderboard
    from gnnbench.harness import driver

    latest = store.latest(history=False)
    stale, changed = driver.stale(suite, latest), driver.changed_code(suite, latest, driver.DataDigests(data_root))
    if not stale and not changed:
        return
    driver.preflight(suite, suite.specs, data_root, devices=devices)  # nothing moves when the suite cannot run
    with uninterrupted():  # the records moved and the leaderboard rebuilt, or neither
        store.set_aside({**stale, **changed})
        leaderboard.refresh(store.directory, suite.name)
    for records, why in ((stale, "of another suite file or --smoke EPOCHS"),
                         (changed, "made with another version of their plugin files or data")):
        if records:
            print(f"gnnbench: note: set aside {_describe(records)} of an earlier smoke check, {why}", file=sys.stderr)


def suite_store(results: Path, name: str) -> RunStore:
    """The store of suite ``name`` under the results root ``results``, checked writable. ``--results`` naming the
    suite's own folder is refused: a run would start over in a folder nested in it, beside all its records."""
    from gnnbench import leaderboard
    from gnnbench.harness.store import RUNS_FILE, RunStore

    store = RunStore(results / name)
    if results.name == name and (results / RUNS_FILE).is_file() and not store.path.exists():
        raise GnnbenchError(f"--results {results} is the folder of suite '{name}' (it holds its {RUNS_FILE}); "
                            f"--results names the results root, the folder holding {name}/: --results "
                            f"{results.parent}")
    store.check(leaderboard.OUTPUTS)
    return store


def prune_suite(args: argparse.Namespace, console: Console) -> int:
    """``gnnbench prune``: records of no run of the suite, or of other plugin code or data, moved aside, and the
    lines of the records file that are not JSON (which every read warns about) moved aside on their own."""
    from gnnbench import leaderboard
    from gnnbench.harness import driver
    from gnnbench.harness.store import STALE_FILE, UNREADABLE_FILE
    from gnnbench.harness.suite import load_suite

    suite = load_suite(args.suite)
    store = suite_store(args.results, suite.name)
    if not store.path.exists():
        raise GnnbenchError(f"no records in {store.path}: nothing to prune (--results names the results root)")
    unreadable: list[int] = []
    latest = store.latest(unreadable=unreadable, history=False)
    if not latest and not unreadable:  # a run that stopped at its checks left the file empty
        text = store.path.read_bytes()
        held = (" (an empty file)" if not text else " (blank lines only)" if not text.strip()
                else ": its lines are no records this gnnbench can read (each warned about above)")
        raise GnnbenchError(f"no records in {store.path}{held}; nothing to prune")
    digests = driver.DataDigests(args.data_root)
    changed = driver.changed_code(suite, latest, digests)
    stale = {**driver.stale(suite, latest), **changed}
    _note_unchecked(digests.unchecked)
    if unreadable and args.dry_run:
        console.print(f"{suite.name}: would move {_not_json(unreadable)} into {store.directory / UNREADABLE_FILE} "
                      "(--dry-run: nothing moved)")
    elif unreadable:
        with uninterrupted():  # said once moved, Ctrl-C or not
            # what moved under the lock: another prune or an edit since the read above may have moved or mended lines
            if moved_lines := store.set_aside_unreadable():
                console.print(f"{suite.name}: moved {_not_json(moved_lines)} of {store.path} into "
                              f"{store.directory / UNREADABLE_FILE}, each as it was (to mend or delete there)")
            else:
                console.print(f"{suite.name}: moved nothing into {store.directory / UNREADABLE_FILE}: the lines of "
                              f"{store.path} that were not JSON were gone when it was locked (moved or mended)")
    if not stale:
        if latest:
            console.print(f"{suite.name}: every record read from {store.path} is a run of {args.suite}, made with "
                          "the plugin code it imports now")  # a line skipped with a warning is left as it is
        return 0
    why = _why_stale(suite, stale, driver.edited_files(changed, digests), latest.keys())
    del latest  # the records left are read again below, after the move: not while these are held too
    if args.dry_run:
        console.print(f"{suite.name}: would set aside {_describe(stale)}{why} (--dry-run: nothing moved)")
        return 0
    with uninterrupted():  # the records moved and the leaderboard rebuilt, or neither: its tables would count them
        moved = store.set_aside(stale)
        records = f", {moved} records," if moved != len(stale) else ""  # a run retried after failing has several
        console.print(f"{suite.name}: set aside {_describe(stale)}{records}{why} into {store.directory / STALE_FILE} "
                      "(a later run of a suite file they are runs of takes them back)")  # said, Ctrl-C or not
        store.expect(suite.name, str(suite.path), suite.all_run_ids)
        board = leaderboard.refresh(store.directory, suite.name)
    console.print(f"leaderboard rebuilt: {board.csv}" if board else f"no records left: leaderboard files removed "
                  f"from {store.directory}")
    return 0


def _not_json(numbers: list[int]) -> str:
    """``2 lines that are not JSON (lines 2, 9)``: the lines of ``runs.jsonl`` prune moves aside."""
    many = len(numbers) > 1
    return (f"{len(numbers)} line{'s' * many} that {'are' if many else 'is'} not JSON "
            f"(line{'s' * many} {', '.join(map(str, numbers))})")


def _note_unchecked(unchecked: Mapping[str, str]) -> None:
    """A note per plugin dataset whose records' data could not be checked against what it loads now: neither
    ``run`` nor ``prune`` can then tell its records of older data (:class:`~gnnbench.harness.driver.DataDigests`)."""
    for dataset, why in sorted(unchecked.items()):
        print(f"gnnbench: note: whether the data of dataset '{dataset}' changed since its records were made cannot be "
              f"told: {why}", file=sys.stderr)


def _why_stale(suite: Suite, stale: dict[str, dict[str, Any]], edited: dict[str, list[str]],
               recorded: Collection[str]) -> str:
    """``: epochs 200 -> 100 (9 runs)``: what the records set aside hold and what the suite's run of the same
    experiment, model, dataset, configuration label, scenario and seed has now (or which of their plugin files
    changed, or that the suite has no such run now), so a user can tell an intended edit from an accident.
    ``edited``: the plugin files and data that changed under each record of another version (run_id -> names);
    ``recorded``: the run ids with records, whose runs no edit turned into another."""
    from gnnbench.leaderboard.labels import scenario_label
    from gnnbench.settings import described, run_setting

    def key(spec: dict[str, Any]) -> tuple[Any, ...]:
        return (spec.get("experiment"), spec["task"], spec["dataset"], spec["model"],
                scenario_label(spec.get("scenario")), spec["seed"])

    ours: dict[tuple[Any, ...], dict[str, RunSpec]] = {}  # key -> config label -> the suite's run
    for s in suite.specs:  # read from its fields: to_dict() deep-copies every spec of a grid of thousands
        ours.setdefault(key(vars(s)), {})[s.config] = s
    reasons: Counter[str] = Counter()
    for run_id, record in stale.items():
        configs = ours.get(key(record["spec"]), {})
        # the same configuration's run, else the one run left where an edit changed its label (lr 0.01 -> 0.001):
        # unrecorded, for a recorded one is a grid point of its own, and this one's was removed
        spec = configs.get(record["spec"].get("config"))
        if spec is None and len(configs) == 1 and (only := next(iter(configs.values()))).run_id not in recorded:
            spec = only
        now = None if spec is None else run_setting(spec.to_dict())
        if run_id in edited:
            reasons[f"made with another version of {', '.join(edited[run_id])}"] += 1
        elif now is None:
            reasons["no such run in the suite now"] += 1
        else:
            reasons[described([run_setting(record["spec"]), now], sep=" -> ") or "other settings"] += 1
    return ": " + "; ".join(f"{reason} ({_runs(n)})" for reason, n in reasons.most_common())


def _plan_lines(specs: Sequence[RunSpec]) -> list[str]:
    """``experiment: model (config) on dataset [scenario], task: seeds 0-4, 7``, one line per group of runs
    that differ only in their seed, in suite order."""
    from gnnbench.settings import seed_ranges

    groups: dict[str, list[int]] = {}
    for s in specs:
        groups.setdefault(f"{s.experiment}: {_run_label(s, seed=False)}, {s.task}", []).append(s.seed)
    return [f"{group}: seed{'s' * (len(seeds) > 1)} {seed_ranges(seeds)}" for group, seeds in groups.items()]


def _run_label(spec: RunSpec, seed: bool = True) -> str:
    """``model (config) on dataset [scenario] seed N``: which run a line is about."""
    from gnnbench.leaderboard.labels import scenario_label

    scenario = "" if spec.scenario is None else f" [{scenario_label(spec.scenario)}]"
    return f"{spec.model} ({spec.config}) on {spec.dataset}{scenario}" + (f" seed {spec.seed}" if seed else "")


def _runs(count: int) -> str:
    """``1 run``, ``2 runs``."""
    return f"{count} run{'s' * (count != 1)}"


def _describe(records: dict[str, dict[str, Any]]) -> str:
    """'40 runs (todyformer on CollegeMsg: 30, ...)'."""
    counts = Counter(f"{r['spec']['model']} on {r['spec']['dataset']}" for r in records.values())
    return (f"{_runs(len(records))} ("
            + ", ".join(f"{k}: {n}" for k, n in counts.most_common()) + ")")


def progress_bars(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, disable=console.quiet, transient=False)
