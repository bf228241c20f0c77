"""The ``gnnbench`` command: run suites, set aside stale records, list the registries, rebuild and compare
leaderboards, profile kernels and feature loading.

User errors (a bad suite, a missing dataset) print one line and exit with 2; ``--debug`` adds the
traceback. ``run`` exits with 1 when a run of the suite (of ``--only``'s experiments) is recorded as failed,
in this invocation or kept from an earlier one (its record says why); ``compare
--fail-on-regression`` exits with 1 when a row got worse, ``--fail-on-missing`` when a row is gone. Ctrl-C
exits with 130 and SIGTERM with 143, after recording the finished runs and rebuilding the leaderboard.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import os
import shlex
import signal
import sys
import threading
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from gnnbench import __version__
from gnnbench.errors import GnnbenchError, did_you_mean
from gnnbench.files import PACKAGE

if TYPE_CHECKING:  # for annotations only: the handlers import these where they use them
    import pandas as pd

    from gnnbench.harness.spec import RunSpec, Suite
    from gnnbench.harness.store import RunStore
    from gnnbench.leaderboard.compare import Comparison


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # piped (a CI log), text is not wrapped and tables get 200 columns ($COLUMNS if set) instead of Rich's 80, so
    # numbers, paths and labels stay whole
    piped = not sys.stdout.isatty()
    columns = os.environ.get("COLUMNS", "")
    console = Console(stderr=False, quiet=args.quiet, soft_wrap=piped,
                      width=(int(columns) if columns.isdigit() and int(columns) > 0 else 200) if piped else None)
    with warnings.catch_warnings():
        if not args.debug:
            warnings.showwarning = _one_line(warnings.showwarning)
        return _handle(args, console)


def _one_line(shown: Callable[..., None]) -> Callable[..., None]:
    """gnnbench's own warnings as one line of the command; a library's keep their source location."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        if Path(filename).resolve().is_relative_to(PACKAGE):
            print(f"gnnbench: warning: {' '.join(str(message).split())}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    return show


#: the exit status of a file that cannot be read or written (sysexits' EX_IOERR): not a failed run (1), not a
#: mistake in what was asked (2)
EX_IOERR = 74


class Terminated(KeyboardInterrupt):
    """SIGTERM (a batch scheduler's time limit, ``timeout``, ``kill``), handled as Ctrl-C is."""


#: set by SIGTERM: a library between the handler and ``_handle`` (Ray's wait) may turn Terminated into a plain
#: KeyboardInterrupt, and the exit status must still say terminated
_TERMINATED = threading.Event()


def _terminate(signum: int, frame: Any) -> None:
    _TERMINATED.set()
    raise Terminated


@contextlib.contextmanager
def _uninterrupted(deliver: bool = True) -> Iterator[None]:
    """Ctrl-C and SIGTERM held back for the block: a leaderboard's files are written one after another, and a
    signal between them would leave the CSV and the Markdown describing different records. A signal that came
    is raised when the block ends (``deliver``), so the exit status still says it; while handling an earlier
    one (not ``deliver``), it is dropped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: held.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    if held and deliver:
        previous_handler = previous[held[0]]
        if callable(previous_handler):  # the handlers in force outside: KeyboardInterrupt, Terminated
            previous_handler(held[0], None)


def _reader_left() -> int:
    """The exit status of a command whose output pipe closed, 128 + SIGPIPE as a shell reports for ``ls``;
    standard output goes to the null device, so Python's last flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):  # a stream without a descriptor (captured) has nothing to flush
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 128 + signal.SIGPIPE


def _handle(args: argparse.Namespace, console: Console) -> int:
    main_thread = threading.current_thread() is threading.main_thread()  # signal handlers live there only
    _TERMINATED.clear()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        return args.handler(args, console)
    except GnnbenchError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"gnnbench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # the reader of the output left (`| head`): stop quietly, as `ls | head` does
        return _reader_left()
    except SystemExit as exc:  # Rich's own exit when its reader left
        if isinstance(exc.__context__, BrokenPipeError):
            return _reader_left()
        raise
    except OSError as exc:  # a file that cannot be read or written (permissions, a full disk): which, and why
        if args.debug:
            traceback.print_exc()
        path = exc.filename2 or exc.filename  # a rename's destination, which the user named, not a temporary file
        print(f"gnnbench: error: {f'{path}: ' if path else ''}{exc.strerror or exc}", file=sys.stderr)
        return EX_IOERR
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated) or _TERMINATED.is_set()
        kept = ("the rows measured so far are written" if args.command == "profile" else
                "finished runs are recorded, rerun the same command to resume")
        print(f"gnnbench: {'terminated' if terminated else 'interrupted'}; {kept}", file=sys.stderr)
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)
    finally:
        if main_thread:  # None: a handler not installed from Python, which the default stands for
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gnnbench", description=" ".join(__doc__.split("\n\n")[0].split())
                                     .replace("``", ""), parents=[_common(False)])
    parser.add_argument("--version", action="version", version=f"gnnbench {__version__}")
    # the subcommands' copies default to "not given", so `gnnbench -q run` keeps the -q given before `run`
    common = _common(argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", parents=[common], help="run a suite (resumes where it stopped)")
    run.add_argument("suite", type=Path, help="suite YAML file")
    run.add_argument("--results", type=_results_root, default=Path("results"), help="results root (default: results/)")
    run.add_argument("--data-root", type=_directory, help="dataset root, searched first (then $GNNBENCH_DATA, "
                     "./datasets and the checkout's datasets/)")
    run.add_argument("--executor", choices=("local", "process", "ray"), help="override the suite's executor")
    run.add_argument("--workers", type=_positive_int, help="worker processes for the process executor")
    run.add_argument("--address", help="Ray cluster to join, HOST:PORT (ray executor; default: start Ray locally)")
    run.add_argument("--rerun-failed", action="store_true", help="run again the runs recorded as failed")
    run.add_argument("--only", action="append", metavar="EXPERIMENT",
                     help="run only this experiment of the suite (repeatable); the leaderboard keeps every record")
    run.add_argument("--smoke", type=_positive_int, nargs="?", const=2, metavar="EPOCHS",
                     help="check that every configuration runs: its smallest seed, at most EPOCHS epochs (default "
                     "2), into RESULTS/<suite>.smoke, apart from the suite's records")
    run.add_argument("--dry-run", action="store_true", help="validate the suite file, check the devices and load "
                     "the datasets of the runs to do (checksums verified), show the plan; run nothing")
    run.add_argument("-v", "--verbose", action="store_true", help="progress over epochs too (local executor)")
    run.set_defaults(handler=_run)

    prune = sub.add_parser("prune", parents=[common], help="set aside records that are no run of a suite (made "
                           "under other defaults) or were made with another version of a plugin file or of a plugin "
                           "dataset's data into stale.jsonl and rebuild the leaderboard")
    prune.add_argument("suite", type=Path, help="suite YAML file")
    prune.add_argument("--results", type=_results_root, default=Path("results"),
                       help="results root (default: results/)")
    prune.add_argument("--data-root", type=_directory, help="dataset root, as for run: where a plugin dataset's "
                       "data is loaded from to tell whether it changed")
    prune.add_argument("--dry-run", action="store_true", help="list the stale records, move nothing")
    prune.set_defaults(handler=_prune)

    lst = sub.add_parser("list", parents=[common], help="list registered models, datasets, tasks or scenarios")
    lst.add_argument("what", choices=("models", "datasets", "tasks", "scenarios"))
    lst.add_argument("--task", help="only entries supporting this task (models, datasets, scenarios)")
    lst.add_argument("--plugin", action="append", default=[], metavar="PLUGIN",
                     help="import a plugin first (a .py file or a module path, as a suite's plugins:), so that its "
                     "entries are listed too; repeatable")
    lst.set_defaults(handler=_list)

    board = sub.add_parser("leaderboard", parents=[common], help="rebuild leaderboards from a results folder")
    board.add_argument("directory", type=Path, help="results/<suite> (holding runs.jsonl), or a `profile --out` folder "
                       "(holding kernels.jsonl or loading.jsonl)")
    board.add_argument("--html", action="store_true", default=None, help="also write leaderboard.html: a "
                       "self-contained page with a sortable table and plots (kept up to date once it exists)")
    board.set_defaults(handler=_leaderboard)

    prof = sub.add_parser("profile", parents=[common], help="micro-benchmarks: message-passing kernels or feature "
                          "loading, written as records and a leaderboard")
    prof.add_argument("what", choices=("kernels", "loading"))
    prof.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default: cuda when available)")
    prof.add_argument("--sizes", nargs="+", metavar="N:E:F", help="kernels: graph sizes (default: per device, "
                      "see gnnbench/kernels/profile.py)")
    prof.add_argument("--rows", type=_positive_int, help="loading: rows of the feature table (default: per device)")
    prof.add_argument("--row-bytes", type=_positive_int, nargs="+",
                      help="loading: row sizes in bytes (default: 128 .. 4096)")
    prof.add_argument("--batches", type=_positive_int, nargs="+",
                      help="loading: rows gathered per batch (default: per device)")
    prof.add_argument("--warmup", type=int, default=2, help="untimed repetitions first (default 2)")
    prof.add_argument("--repeats", type=int, default=5, help="timed repetitions; the median is reported (default 5)")
    prof.add_argument("--out", type=Path, default=Path("results/profile"), help="folder for <what>.jsonl/.csv/.md, and "
                      "<what>.stopped when it ends early (default: results/profile)")
    prof.add_argument("--replace", action="store_true", help="replace the records of an earlier profile in --out "
                      "(without it, such a folder is refused: its records are kept)")
    prof.set_defaults(handler=_profile)

    cmp = sub.add_parser("compare", parents=[common], help="compare two leaderboard CSVs: deltas, Welch's t-test, "
                         "verdicts")
    cmp.add_argument("a", type=Path, help="baseline leaderboard.csv (or the results folder holding it)")
    cmp.add_argument("b", type=Path, help="candidate leaderboard.csv (or the results folder holding it)")
    cmp.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    cmp.add_argument("--holm", action="store_true",
                     help="adjust the p-values over all tested rows (Holm), so that a chance verdict anywhere in "
                     "the table stays below --alpha")
    cmp.add_argument("--paired", action="store_true",
                     help="test a row whose two sides ran the same seeds with the paired t-test on the per-seed "
                     "differences (before/after a change on one machine) instead of Welch's")
    cmp.add_argument("--min-effect", type=_effect, default=(0.0, False), metavar="DELTA",
                     help="smallest change that counts, in the metric's unit (0.01 = 1 accuracy point) or as a share "
                     "of each row's A (5%%: for times, memory and profiles); a row whose confidence interval lies "
                     "within it is same")
    cmp.add_argument("--on", default="mean", choices=("mean", "epoch_time_s", "peak_mem_mb", "epoch_load_s"),
                     help="what to compare: the test metric (default) or a cost (lower is better, no test; "
                     "epoch_load_s: feature loading per epoch)")
    cmp.add_argument("--ignore-config", action="store_true",
                     help="join on (task, dataset, model, scenario): compare the selected configurations, whatever "
                     "they are")
    cmp.add_argument("--md", type=_report_file, nargs="?", const=Path("-"), metavar="PATH",
                     help="write the comparison as Markdown to PATH (stdout without PATH)")
    cmp.add_argument("--csv", type=_report_file, nargs="?", const=Path("-"), metavar="PATH",
                     help="write the comparison as CSV to PATH (stdout without PATH)")
    cmp.add_argument("--fail-on-regression", type=_non_negative_float, nargs="?", const=0.0, metavar="THRESHOLD",
                     help="exit 1 when a row is worse by more than THRESHOLD (metric's unit; default 0); a row "
                     "without a test (one seed, or a cost) counts only with a THRESHOLD or --min-effect above 0")
    cmp.add_argument("--fail-on-missing", action="store_true",
                     help="exit 1 when a row of A has no row in B (all its runs failed, or it was dropped) or lost "
                     "its mean")
    cmp.set_defaults(handler=_compare)
    return parser


def _common(default: Any) -> argparse.ArgumentParser:
    """The options every subcommand takes, also before the subcommand's name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=default, help="show tracebacks for user errors")
    common.add_argument("-q", "--quiet", action="store_true", default=default,
                        help="no progress bars or tables (for CI); notes and failures still go to stderr")
    return common


def _report_file(text: str) -> Path:
    """An argparse type: the file ``--md``/``--csv`` write. Their PATH is optional, so ``--md A B`` reads A as
    the PATH: a folder (a results folder, as A and B may be) is refused with how to write it."""
    if Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file to write (was it meant as A? Give "
                                         "--md/--csv after A and B, or as --md=PATH)")
    return Path(text)


def _positive_int(text: str) -> int:
    """An argparse type: a count of at least 1 (0 would silently mean "every core", -1 crash the pool)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _directory(text: str) -> str:
    """An argparse type: an existing folder (a mistyped root would silently fall back to the next one)."""
    if not Path(text).expanduser().is_dir():
        raise argparse.ArgumentTypeError(f"no such directory: {text}")
    return text


def _results_root(text: str) -> Path:
    """An argparse type: a results root; an empty one would write the suite's folder into the current one."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder for the results (default: results), got an empty path")
    return Path(text)


def _effect(text: str) -> tuple[float, bool]:
    """An argparse type: (size, relative) of ``0.01`` (in the metric's unit) or ``5%`` (of each row's A)."""
    relative = text.strip().endswith("%")
    value = _non_negative_float(text.strip().removesuffix("%"))
    return (value / 100 if relative else value), relative


def _non_negative_float(text: str) -> float:
    """An argparse type: a finite size of at least 0 (a negative one would flag rows that got better; NaN or
    infinity would switch a gate off without a word)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a finite number of at least 0, got {text}")
    return value


def _run(args: argparse.Namespace, console: Console) -> int:
    from gnnbench import leaderboard
    from gnnbench.harness import driver
    from gnnbench.harness.allocator import keep_freed_memory
    from gnnbench.harness.env import modified_checkout
    from gnnbench.harness.executors import executor_options, make_executor
    from gnnbench.harness.spec import RunSpec, smoke
    from gnnbench.harness.store import STALE_FILE, RunStore
    from gnnbench.harness.suite import load_suite

    suite = load_suite(args.suite)
    if args.smoke is not None:  # before --only, which keeps the whole (smoke) suite's runs as its own
        suite = smoke(suite, args.smoke)
    if args.only:
        suite = suite.only(args.only)
    store = RunStore(args.results / suite.name)
    store.check(leaderboard.OUTPUTS)
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
                  f"earlier version of the suite file?); the leaderboard counts them until {prune} sets them aside",
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

    progress = _progress(console)  # shown from `with progress` on: not by a dry run
    epochs = progress.add_task("epochs", visible=False, total=None)

    def on_epoch(spec: RunSpec, epoch: int, values: Mapping[str, float]) -> None:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in values.items())
        progress.update(epochs, visible=True, completed=epoch + 1,
                        description=escape(f"  {_run_label(spec)}, epoch {epoch + 1}: {shown}"))

    kind, options = executor_options(suite.executor, args.executor, args.workers, args.address)
    if args.verbose and kind != "local":  # as --workers and --address are: said, not dropped in silence
        warnings.warn(f"-v shows the epochs of the local executor; the {kind} executor ignores it", stacklevel=1)
    executor = make_executor(kind, options, on_epoch if args.verbose else None)
    if smoking and not args.dry_run:
        _refresh_smoke(suite, store, args.data_root, executor.runs_here)
    if args.dry_run:
        plan = driver.prepare(suite, store, rerun_failed, args.data_root, devices=executor.runs_here,
                              redo_changed=smoking)
        note_stale(plan)
        if store.busy():  # on stderr, -q or not: `run` would stop at the lock
            print(f"gnnbench: note: another gnnbench process is writing {store.path} now: this plan is as of now, "
                  "and `run` refuses to start until that process ends", file=sys.stderr)
        console.print(f"{suite.name}: {_runs(len(suite.specs))}, {plan.done} recorded, {plan.failed_kept} failed "
                      f"(kept), {len(plan.todo)} to run -> {store.path}")
        for line in _plan_lines(plan.todo):
            console.print(f"  {escape(line)}", highlight=False)
        return 0
    nodes: Counter[str] = Counter()
    runs = progress.add_task(suite.name, total=0)

    def on_plan(plan: driver.Plan) -> None:
        note_stale(plan)
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
        progress.update(runs, total=len(plan.todo))
        skipped = f"{plan.done} already recorded" + (f", {plan.failed_kept} failed kept (--rerun-failed retries)"
                                                     if plan.failed_kept else "")
        console.print(f"[bold]{suite.name}[/]: {_runs(len(suite.specs))}; {skipped}; running {len(plan.todo)} "
                      f"with the {executor.name} executor")

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
        with _uninterrupted(deliver=False), contextlib.suppress(GnnbenchError):  # no records yet: no leaderboard
            print(f"gnnbench: leaderboard rebuilt from the records so far: "
                  f"{leaderboard.build(store.directory, suite.name).csv}", file=sys.stderr)
        raise
    with _uninterrupted():
        board = leaderboard.build(store.directory, suite.name)
    console.print(_board_table(board.board, suite.name))
    if smoking:
        console.print(f"a smoke check: at most {args.smoke} epochs per run, one seed; these numbers say that the runs "
                      "run, not how well")
    console.print(f"{_runs(summary.ok)} finished, {summary.failed} failed; records: {store.path}; "
                  f"leaderboard: {board.csv}, {board.markdown}" + (f", {board.html}" if board.html else ""))
    if nodes:
        console.print("runs per node: " + ", ".join(f"{node} {count}" for node, count in sorted(nodes.items())))
    return 1 if summary.failed or summary.failed_kept else 0


def _refresh_smoke(suite: Suite, store: RunStore, data_root: str | None, devices: bool) -> None:
    """Before a smoke check: set aside the earlier checks' records of another suite file or EPOCHS (``stale``)
    and those made with another version of a plugin file (``changed``), once the suite's checks pass, so the
    check reports on the code and the suite as they are now."""
    from gnnbench import leaderboard
    from gnnbench.harness import driver

    latest = store.latest()
    stale, changed = driver.stale(suite, latest), driver.changed_code(suite, latest, driver.DataDigests(data_root))
    if not stale and not changed:
        return
    driver.preflight(suite, suite.specs, data_root, devices=devices)  # nothing moves when the suite cannot run
    store.set_aside({**stale, **changed})
    for records, why in ((stale, "of another suite file or --smoke EPOCHS"),
                         (changed, "made with another version of their plugin files or data")):
        if records:
            print(f"gnnbench: note: set aside {_describe(records)} of an earlier smoke check, {why}", file=sys.stderr)
    leaderboard.refresh(store.directory, suite.name)


def _prune(args: argparse.Namespace, console: Console) -> int:
    from gnnbench import leaderboard
    from gnnbench.harness import driver
    from gnnbench.harness.store import STALE_FILE, RunStore
    from gnnbench.harness.suite import load_suite

    suite = load_suite(args.suite)
    store = RunStore(args.results / suite.name)
    store.check(leaderboard.OUTPUTS)
    if not store.path.exists():
        raise GnnbenchError(f"no records in {store.path}: nothing to prune (--results names the results root)")
    latest = store.latest()
    if not latest:  # a run that stopped at its checks left the file empty
        raise GnnbenchError(f"no records in {store.path} (an empty file): nothing to prune")
    digests = driver.DataDigests(args.data_root)
    changed = driver.changed_code(suite, latest, digests)
    stale = {**driver.stale(suite, latest), **changed}
    _note_unchecked(digests.unchecked)
    if not stale:
        console.print(f"{suite.name}: every record in {store.path} is a run of {args.suite}, made with the plugin "
                      "code it imports now")
        return 0
    why = _why_stale(suite, stale, driver.edited_files(changed, digests))
    if args.dry_run:
        console.print(f"{suite.name}: would set aside {_describe(stale)}{why} (--dry-run: nothing moved)")
        return 0
    moved = store.set_aside(stale)
    records = f", {moved} records," if moved != len(stale) else ""  # a run retried after failing has several
    console.print(f"{suite.name}: set aside {_describe(stale)}{records}{why} into {store.directory / STALE_FILE} "
                  "(a later run of a suite file they are runs of takes them back)")
    store.expect(suite.name, str(suite.path), suite.all_run_ids)
    board = leaderboard.refresh(store.directory, suite.name)
    console.print(f"leaderboard rebuilt: {board.csv}" if board else f"no records left: leaderboard files removed "
                  f"from {store.directory}")
    return 0


def _note_unchecked(unchecked: Mapping[str, str]) -> None:
    """A note per plugin dataset whose records' data could not be checked against what it loads now: neither
    ``run`` nor ``prune`` can then tell its records of older data (:class:`~gnnbench.harness.driver.DataDigests`)."""
    for dataset, why in sorted(unchecked.items()):
        print(f"gnnbench: note: whether the data of dataset '{dataset}' changed since its records were made cannot be "
              f"told: {why}", file=sys.stderr)


def _why_stale(suite: Suite, stale: dict[str, dict[str, Any]], edited: dict[str, list[str]]) -> str:
    """``: epochs 200 -> 100 (9 runs)``: what the records set aside hold and what the suite's run of the same
    experiment, model, dataset, configuration label, scenario and seed has now (or which of their plugin files
    changed, or that the suite has no such run now), so a user can tell an intended edit from an accident.
    ``edited``: the plugin files and data that changed under each record of another version (run_id -> names)."""
    from gnnbench.leaderboard.aggregate import scenario_label
    from gnnbench.settings import described, run_setting

    def key(spec: dict[str, Any]) -> tuple[Any, ...]:
        return (spec.get("experiment"), spec["task"], spec["dataset"], spec["model"], spec.get("config"),
                scenario_label(spec.get("scenario")), spec["seed"])

    ours = {key(s.to_dict()): run_setting(s.to_dict()) for s in suite.specs}
    reasons: Counter[str] = Counter()
    for run_id, record in stale.items():
        now = ours.get(key(record["spec"]))
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
    from gnnbench.leaderboard.aggregate import scenario_label

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


def _list(args: argparse.Namespace, console: Console) -> int:
    """A table in a terminal; piped, one tab-separated line per entry, so ``grep`` and ``cut`` see whole rows."""
    from gnnbench import hparams
    from gnnbench.kernels import model_kernels
    from gnnbench.registry import DATASETS, MODELS, SCENARIOS, TASKS, defined_in, load_plugin, serves

    for plugin in args.plugin:
        try:
            load_plugin(plugin, Path.cwd())
        except GnnbenchError as exc:
            raise GnnbenchError(f"--plugin {plugin}: {exc}") from None
    if args.task is not None and args.what == "tasks":
        raise GnnbenchError("--task filters models, datasets and scenarios; `gnnbench list tasks` lists every task")
    if args.task is not None and args.task not in TASKS:
        raise GnnbenchError(f"--task: unknown task {args.task!r}; known tasks: {', '.join(TASKS.names())}"
                            + did_you_mean(args.task, TASKS.names()))
    registry = {"models": MODELS, "datasets": DATASETS, "tasks": TASKS, "scenarios": SCENARIOS}[args.what]
    columns = {"models": ("name", "paper", "tasks", "defaults; kernels"),
               "datasets": ("name", "tasks", "about", "source"),
               "tasks": ("name", "metric", "about", "options"),
               "scenarios": ("name", "tasks", "about", "options")}[args.what]
    rows = []
    for entry in registry.entries():
        if args.task and not serves(entry, args.task):
            continue
        if args.what == "models":
            task = args.task or (entry.tasks[0] if entry.tasks else None)  # training defaults differ per task
            if task and task not in TASKS:
                raise GnnbenchError(f"model '{entry.name}' ({defined_in(entry.obj)}) names the unknown task "
                                    f"'{task}'{did_you_mean(task, TASKS.names())}")
            task_cls = TASKS.get(task).obj if task else None
            defaults = hparams.defaults(entry, task_cls) if task_cls else dict(entry.defaults)
            per_dataset = "".join(f"; on {dataset}" + ("" if dataset in DATASETS else " (not registered)") + ": "
                                  + ", ".join(f"{k}={v}" for k, v in sorted(values.items()))
                                  for dataset, values in sorted(entry.dataset_defaults.items()))
            rows.append((entry.name, entry.paper, ", ".join(entry.tasks),
                         ", ".join(f"{k}={v}" for k, v in sorted(defaults.items())) + per_dataset
                         + "; kernels: " + ", ".join(k for k in model_kernels(entry)  # those the task can run
                                                     if args.task is None or k in task_cls.kernels)))
        elif args.what == "datasets":
            rows.append((entry.name, ", ".join(entry.tasks), f"{entry.summary} {entry.meta.get('stats', '')}",
                         entry.meta.get("source", "")))
        elif args.what == "scenarios":
            options = entry.obj.__dataclass_fields__.values()
            rows.append((entry.name, ", ".join(entry.tasks), entry.summary,
                         ", ".join(f"{f.name}={f.default}" for f in options)))
        else:
            options = entry.obj.Options.__dataclass_fields__.values()
            like = entry.meta.get("like")
            rows.append((entry.name, f"{entry.obj.metric} ({entry.obj.direction})",
                         entry.summary + (f" Takes the models and datasets of {like}." if like else ""),
                         ", ".join(f"{f.name}={f.default}" for f in options)))
    if not console.is_terminal:
        for row in (columns, *rows):
            print("\t".join(" ".join(cell.split()) for cell in row))
        return 0
    table = Table(title=f"gnnbench {args.what}", show_lines=True)
    table.add_column(columns[0], no_wrap=True)
    for column in columns[1:]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*map(escape, row))  # docstrings hold [n, t] shapes, which Rich would take for markup
    console.print(table)
    return 0


def _leaderboard(args: argparse.Namespace, console: Console) -> int:
    from gnnbench import leaderboard
    from gnnbench.leaderboard.profile import PROFILES, ProfileWriter

    # a file the folder holds (its records or its leaderboard) stands for the folder
    ours = ("runs.jsonl", "leaderboard.csv", "leaderboard.md", "leaderboard.html", "grid.csv",
            *(f"{name}{suffix}" for name in PROFILES for suffix in (".jsonl", ".csv", ".md")))
    directory = args.directory.parent if args.directory.name in ours else args.directory
    profiles = [name for name in PROFILES if (directory / f"{name}.jsonl").is_file()]
    if profiles and not (directory / "runs.jsonl").exists():  # a `gnnbench profile` folder
        if args.html:  # said, not dropped in silence
            warnings.warn(f"--html: {directory} holds profiles, which have no HTML page; their tables are the "
                          ".md and .csv files", stacklevel=1)
        for name in profiles:
            console.print("wrote " + ", ".join(map(str, ProfileWriter.reopened(directory, name).finish()[1:])))
        return 0
    board = leaderboard.build(directory, html=args.html)
    console.print(_board_table(board.board, directory.name))
    if board.notice:  # on stderr, -q or not, as the page has it atop its tables
        print(f"gnnbench: note: {board.notice}", file=sys.stderr)
    console.print(f"wrote {board.csv}, {board.markdown}" + (f", {board.html}" if board.html else ""))
    return 0


def _profile(args: argparse.Namespace, console: Console) -> int:
    from gnnbench.harness.allocator import keep_freed_memory
    from gnnbench.harness.runner import resolve_device
    from gnnbench.harness.suite import DEVICE_RE
    from gnnbench.leaderboard.profile import ProfileWriter

    if not DEVICE_RE.match(args.device):  # torch's own error lists every device type it knows
        raise GnnbenchError(f"--device: expected cpu, cuda, cuda:N or auto, got {args.device!r}")
    try:
        device = resolve_device(args.device)
    except RuntimeError as exc:  # cuda asked for on a machine without it
        raise GnnbenchError(f"--device: {exc}") from None
    if args.warmup < 0 or args.repeats < 1:
        raise GnnbenchError(f"--warmup must be >= 0 and --repeats >= 1, got {args.warmup} and {args.repeats}")
    other = {"kernels": {"--rows": args.rows, "--row-bytes": args.row_bytes, "--batches": args.batches},
             "loading": {"--sizes": args.sizes}}[args.what]
    if given := [option for option, value in other.items() if value]:
        raise GnnbenchError(f"{', '.join(given)}: not an option of `profile {args.what}` (it belongs to `profile "
                            f"{'loading' if args.what == 'kernels' else 'kernels'}`)")
    earlier = args.out / f"{args.what}.jsonl"
    if not args.replace and earlier.is_file() and earlier.stat().st_size:
        raise GnnbenchError(f"--out: {earlier} holds the records of an earlier profile; give another --out to keep "
                            "both (and `gnnbench compare` them), or --replace to replace them")
    keep_freed_memory()  # as runs have it, so that a profile's timings are theirs

    def show(row: dict[str, Any]) -> None:
        if row["status"] != "ok":
            console.print(f"{row['task']:<32} {row['dataset']:<34} {row['model']:<14} {row['error']}")
            return
        ms = row["ms"] if "ms" in row else row["seconds"] * 1e3
        console.print(f"{row['task']:<32} {row['dataset']:<34} {row['model']:<14} {ms:10.3f} ms "
                      f"{row['gbps']:8.2f} GB/s")

    if args.what == "kernels":
        from gnnbench.kernels import profile as kp

        try:
            sizes = [kp.GraphSize.parse(s) for s in args.sizes] if args.sizes else kp.DEFAULT_SIZES[device.type]
        except ValueError as exc:
            raise GnnbenchError(f"--sizes: {exc}") from None
        writer = ProfileWriter(args.out, "kernels")
        run = functools.partial(kp.profile, sizes, device)
    else:
        from gnnbench.loading import profile as lp

        writer = ProfileWriter(args.out, "loading")
        run = functools.partial(lp.profile, device, args.rows or lp.DEFAULT_ROWS[device.type],
                                args.row_bytes or lp.ROW_BYTES, args.batches or lp.DEFAULT_BATCHES[device.type])

    def measured(row: dict[str, Any]) -> None:
        writer.add(row)
        show(row)

    try:
        run(warmup=args.warmup, repeats=args.repeats, on_row=measured)
    except BaseException as exc:  # an error, out of memory, Ctrl-C: the rows measured so far get their tables
        if writer.records:
            if isinstance(exc, SystemExit) and isinstance(exc.__context__, BrokenPipeError):
                exc = exc.__context__  # Rich's exit when the reader of its output left (`| head`): say that
            reason = type(exc).__name__ + (f": {str(exc).splitlines()[0][:200]}" if str(exc).strip() else "")
            paths = writer.finish(stopped=reason)
            console.print(f"stopped after {len(writer.records)} rows; wrote " + ", ".join(map(str, paths)))
        else:  # an earlier profile's files go with the first new row only: say they are not this one's
            console.print(f"stopped before the first row; nothing in {args.out} was replaced")
        raise
    console.print("wrote " + ", ".join(map(str, writer.finish())))
    return 0


def _compare(args: argparse.Namespace, console: Console) -> int:
    from gnnbench.leaderboard import compare
    from gnnbench.leaderboard import compare_report as report

    min_effect, relative = args.min_effect
    result = compare.compare(args.a, args.b, alpha=args.alpha, min_effect=min_effect, relative=relative, column=args.on,
                             ignore_config=args.ignore_config, correct=args.holm, paired=args.paired)
    outputs = [(path, text) for path, text in ((args.md, report.to_markdown), (args.csv, report.to_csv)) if path]
    for path, text in outputs:  # all checked before any is written
        if str(path) != "-" and (problem := _overwrite_problem(path, (result.a, result.b))):
            raise GnnbenchError(f"--{'md' if text is report.to_markdown else 'csv'}: will not write over {path}: "
                                f"{problem}; name another file")
    for path, text in outputs:
        if str(path) == "-":
            sys.stdout.write(text(result))
        else:
            try:
                path.write_text(text(result), encoding="utf-8")
            except OSError as exc:
                raise GnnbenchError(f"--{'md' if text is report.to_markdown else 'csv'}: cannot write {path}: "
                                    f"{exc.strerror}") from None
    if not any(str(path) == "-" for path, _ in outputs):  # stdout holds the table unless it holds a file's text
        console.print(_compare_table(result))
        for path, _ in outputs:
            console.print(f"wrote {path}")
        console.print(report.summary(result))
    moved = result.moved_configs()
    if moved:  # on stderr, -q or not: the table leaves such rows uncompared
        print(f"gnnbench: note: selected under another configuration on each side, so not compared in the table: "
              f"{'; '.join(moved)}; --ignore-config compares each side's selected configuration (and "
              "--fail-on-regression does)", file=sys.stderr)
    lost = result.missing().query("reason != 'no row in B'")
    if len(lost) and not args.fail_on_missing:  # on stderr, -q or not: no test can call them worse
        for reason, rows in lost.groupby("reason", sort=True):
            why = "" if reason == "every run failed in B" else " (the metric is NaN on some seed)"
            print(f"gnnbench: note: {reason}{why}: " + "; ".join(
                f"{r.task} {r.dataset} {r.model}" for r in rows.itertuples(index=False))
                + " (--fail-on-missing fails the gate on them)", file=sys.stderr)
    failed = 0
    if args.fail_on_regression is not None:
        worse = result.regressions(args.fail_on_regression)
        holm = " (Holm)" if result.corrected else ""
        for r in worse.itertuples(index=False):
            print(f"gnnbench: regression: {r.task} {r.dataset} {r.model} ({r.config}, {r.scenario}): {r.metric} "
                  f"{report.in_table_units(r.unit, r.a_mean)} -> {report.in_table_units(r.unit, r.b_mean)}, "
                  + (f"p = {r.p_value:.3g}{holm}" if r.tested else "untested"), file=sys.stderr)
        failed += len(worse)
    if args.fail_on_missing:
        missing = result.missing()
        for r in missing.itertuples(index=False):
            print(f"gnnbench: missing: {r.task} {r.dataset} {r.model} ({r.config}, {r.scenario}): {r.metric} "
                  f"{report.in_table_units(r.unit, r.a_mean)} -> {r.reason}", file=sys.stderr)
        failed += len(missing)
    return 1 if failed else 0


def _overwrite_problem(path: Path, inputs: Sequence[Path]) -> str | None:
    """Why ``compare`` must not replace the existing file ``path`` (None: it may): one of its inputs, records
    (which nothing can rebuild), the note of the runs a suite expects, or a table ``gnnbench leaderboard`` builds
    from the records beside it. Judged on the file a link points to, which is what would be written."""
    from gnnbench.harness.store import EXPECTED_FILE, RUNS_FILE
    from gnnbench.leaderboard import OUTPUTS
    from gnnbench.leaderboard.profile import PROFILES

    if not path.is_file():
        return None
    target = path.resolve()
    if target in {p.resolve() for p in inputs}:
        return "it is an input of this comparison"
    if target.suffix == ".jsonl":
        return "it holds records"
    if target.name == EXPECTED_FILE:
        return "it notes the runs a suite expects beside its records"
    board = target.name in OUTPUTS and (target.parent / RUNS_FILE).exists()
    profile = target.stem in PROFILES and target.suffix in (".csv", ".md") and target.with_suffix(".jsonl").exists()
    return "gnnbench builds it from the records beside it" if board or profile else None


def _compare_table(result: Comparison) -> Table:
    from gnnbench.leaderboard.compare import KEYS
    from gnnbench.leaderboard.compare_report import UNTESTED, common_notes, display_rows

    rows = display_rows(result)
    shown = [k for k in KEYS if k in ("dataset", "model") or len({r[k] for r in rows}) > 1]
    captions = [f"Every compared row: {'; '.join(common)}." if (common := common_notes(result)) else "",
                UNTESTED.replace("`", "") if any(r["verdict"].endswith("*") for r in rows) else ""]
    table = Table(title=f"B = {result.b} vs A = {result.a}; alpha {result.alpha:g}, min effect {result.effect}",
                  caption=" ".join(filter(None, captions)) or None)
    for column in (*shown, "A", "B", "delta", "ci", "rel", "p", "verdict", "notes"):
        table.add_column(column, overflow="fold", no_wrap=column in ("A", "B", "ci"),
                         justify="right" if column in ("A", "B", "delta", "ci", "rel", "p") else "left")
    colour = {"better": "green", "worse": "bold red", "only in A": "yellow", "only in B": "yellow"}
    for r in rows:
        table.add_row(*(r[k] for k in shown), r["A"], r["B"], r["delta"], r["ci"], r["rel"], r["p"], r["verdict"],
                      r["notes"], style=colour.get(r["verdict"].rstrip("*")))
    return table


def _board_table(board: pd.DataFrame, title: str) -> Table:
    from gnnbench.leaderboard.write import format_metric, format_n, format_rank

    table = Table(title=f"{title}: test metric of the validation-selected configuration, mean ± std (n)")
    scenarios = len(board) > 0 and set(board["scenario"]) != {"none"}  # else every row reads alike
    for column in ("task", "dataset", "model", "config", *(["scenario"] * scenarios), "metric", "test", "val",
                   "rank"):
        table.add_column(column, overflow="fold")
    for r in board.itertuples(index=False):
        table.add_row(r.task, r.dataset, r.model, r.config, *([r.scenario] * scenarios), r.metric,
                      f"{format_metric(r.mean, r.std, r.unit)} ({format_n(r)})",
                      format_metric(r.val_mean, float("nan"), r.unit), format_rank(r.rank),
                      style="bold" if r.rank == 1 else None)
    return table


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, disable=console.quiet, transient=False)


if __name__ == "__main__":
    sys.exit(main())
