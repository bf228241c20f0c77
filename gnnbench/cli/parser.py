"""The command line: every subcommand, its options, and the argparse types that refuse a bad value where it is
typed."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path
from typing import Any

from gnnbench import __version__
from gnnbench.cli.listing import list_entries
from gnnbench.cli.profile import profile
from gnnbench.cli.results import compare_leaderboards, rebuild_leaderboard
from gnnbench.cli.run import prune_suite, run_suite
from gnnbench.counts import whole_number

#: each ``gnnbench profile`` subcommand and what it measures
PROFILES = {
    "kernels": "time sum, mean and max aggregation and GCN-normalised SpMM on random graphs, with every "
               "message-passing backend and auto, forward and forward+backward",
    "loading": "time gathering random rows of a host feature table in every available mode (cpu, gpu_direct, "
               "device) over row sizes and batch sizes",
}


def build_parser(doc: str) -> argparse.ArgumentParser:
    """Every subcommand and its options; ``doc``'s first paragraph is the description."""
    parser = argparse.ArgumentParser(prog="gnnbench", description=" ".join(doc.split("\n\n")[0].split())
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
                     "the datasets of the runs to do (checksums verified), show the plan (with -q, its one line of "
                     "counts); run nothing")
    run.add_argument("-v", "--verbose", action="store_true", help="progress over epochs too (local executor)")
    run.set_defaults(handler=run_suite)

    prune = sub.add_parser("prune", parents=[common], help="set aside records that are no run of a suite (made "
                           "under other defaults) or were made with another version of a plugin file or of a plugin "
                           "dataset's data into stale.jsonl and rebuild the leaderboard")
    prune.add_argument("suite", type=Path, help="suite YAML file")
    prune.add_argument("--results", type=_results_root, default=Path("results"),
                       help="results root (default: results/)")
    prune.add_argument("--data-root", type=_directory, help="dataset root, as for run: where a plugin dataset's "
                       "data is loaded from to tell whether it changed")
    prune.add_argument("--dry-run", action="store_true", help="list the stale records, move nothing")
    prune.set_defaults(handler=prune_suite)

    lst = sub.add_parser("list", parents=[common], help="list registered models, datasets, tasks or scenarios")
    lst.add_argument("what", choices=("models", "datasets", "tasks", "scenarios"))
    lst.add_argument("--task", help="only entries supporting this task (models, datasets, scenarios)")
    lst.add_argument("--plugin", action="append", default=[], metavar="PLUGIN",
                     help="import a plugin first (a .py file or a module path, as a suite's plugins:), so that its "
                     "entries are listed too; repeatable")
    lst.set_defaults(handler=list_entries)

    board = sub.add_parser("leaderboard", parents=[common], help="rebuild leaderboards from a results folder")
    board.add_argument("directory", type=Path, help="results/<suite> (holding runs.jsonl), or a `profile --out` folder "
                       "(holding kernels.jsonl or loading.jsonl)")
    board.add_argument("--html", action="store_true", default=None, help="also write leaderboard.html: a "
                       "self-contained page with a sortable table and plots (kept up to date once it exists)")
    board.set_defaults(handler=rebuild_leaderboard)

    prof = sub.add_parser("profile", parents=[common], help="micro-benchmarks: message-passing kernels or feature "
                          "loading, written as records and a leaderboard")
    kinds = prof.add_subparsers(dest="what", required=True, metavar="{kernels,loading}")
    # each profile's own options; the other's are hidden from its help, and given, told where they belong
    options: dict[str, dict[str, dict[str, Any]]] = {
        "kernels": {"--sizes": {"nargs": "+", "metavar": "N:E:F",
                                "help": "graph sizes (default: per device, see gnnbench/kernels/profile.py)"}},
        "loading": {"--rows": {"type": _positive_int, "help": "rows of the feature table (default: per device)"},
                    "--row-bytes": {"type": _positive_int, "nargs": "+",
                                    "help": "row sizes in bytes (default: 128 .. 4096)"},
                    "--batches": {"type": _positive_int, "nargs": "+",
                                  "help": "rows gathered per batch (default: per device)"}},
    }
    for what, about in PROFILES.items():
        kind = kinds.add_parser(what, parents=[common], help=about, description=about)
        kind.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default: cuda when available)")
        for owner, owned in options.items():
            for name, kwargs in owned.items():
                kind.add_argument(name, **(kwargs if owner == what else {**kwargs, "help": argparse.SUPPRESS}))
        kind.add_argument("--warmup", type=int, default=2, help="untimed repetitions first (default 2)")
        kind.add_argument("--repeats", type=int, default=5, help="timed repetitions; the median is reported "
                          "(default 5)")
        drawn = "graphs, their features and the backward's weights" if what == "kernels" else "tables and batches"
        kind.add_argument("--seed", type=int, default=0, help=f"seed of the random {drawn} (default 0); each record "
                          "keeps it with --warmup and --repeats in its protocol")
        kind.add_argument("--out", type=Path, default=Path("results/profile"), help=f"folder for {what}.jsonl/.csv/"
                          f".md, and {what}.stopped when it ends early (default: results/profile)")
        kind.add_argument("--replace", action="store_true", help="replace the records of an earlier profile in "
                          "--out (without it, such a folder is refused: its records are kept)")
        kind.set_defaults(handler=profile)

    cmp = sub.add_parser("compare", parents=[common], help="compare two leaderboard CSVs: deltas, Welch's t-test, "
                         "verdicts")
    cmp.add_argument("a", type=Path, help="baseline leaderboard.csv (or the results folder holding it)")
    cmp.add_argument("b", type=Path, help="candidate leaderboard.csv (or the results folder holding it)")
    cmp.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    cmp.add_argument("--holm", action="store_true",
                     help="adjust the p-values over all tested rows (Holm), so that a chance verdict anywhere in "
                     "the table stays below --alpha")
    cmp.add_argument("--paired", action="store_true",
                     help="test a row whose two sides share two seeds or more with the paired t-test on those "
                     "seeds' differences (before/after a change on one machine) instead of Welch's")
    cmp.add_argument("--min-effect", type=_effect, default=(0.0, False), metavar="DELTA",
                     help="smallest change that counts, in the metric's unit (0.01 = 1 accuracy point) or as a share "
                     "of each row's A (5%%: for times, memory and profiles); a row whose confidence interval lies "
                     "within it is same")
    cmp.add_argument("--on", default="mean", choices=("mean", "epoch_time_s", "peak_mem_mb", "epoch_load_s"),
                     help="what to compare: the test metric (default) or a cost (lower is better, no test; "
                     "epoch_load_s: feature loading per epoch)")
    cmp.add_argument("--ignore-config", action="store_true",
                     help="join on (task, dataset, model, scenario, metric): compare the selected configurations, "
                     "whatever they are")
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
    cmp.set_defaults(handler=compare_leaderboards)
    # argparse reads -1 as a value but -1% as an unknown option ("expected one argument"): read both as values, so
    # that --min-effect refuses a negative share with why (argparse has no public setting for it)
    cmp._negative_number_matcher = re.compile(r"^-\d*\.?\d+%?$")
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
    """An argparse type: a count of at least 1 (0 would silently mean "every core", -1 crash the pool), read as
    ``--sizes`` reads its numbers (:func:`whole_number`: ``1e5`` too)."""
    try:
        value = whole_number(text)
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
    try:
        value = _non_negative_float(text.strip().removesuffix("%"))
    except argparse.ArgumentTypeError:  # named as typed: -1%, not -1
        raise argparse.ArgumentTypeError(f"expected a finite number of at least 0, or a share of A such as 5%, got "
                                         f"{text}") from None
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
