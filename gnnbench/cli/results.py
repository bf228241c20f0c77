"""``gnnbench leaderboard`` and ``gnnbench compare``: tables rebuilt from records, and two leaderboards compared."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from gnnbench.cli.signals import uninterrupted
from gnnbench.cli.tables import board_table, compare_table
from gnnbench.errors import GnnbenchError

if TYPE_CHECKING:
    import argparse


def rebuild_leaderboard(args: argparse.Namespace, console: Console) -> int:
    """``gnnbench leaderboard``: a results or profile folder's tables rebuilt from its records."""
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
            with uninterrupted():  # its CSV and Markdown describe the same records
                written = ProfileWriter.reopened(directory, name).finish()[1:]
            console.print("wrote " + ", ".join(map(str, written)))
        return 0
    with uninterrupted():  # the CSV, Markdown and HTML describe the same records
        board = leaderboard.build(directory, html=args.html)
    console.print(board_table(board.board, directory.name))
    if board.notice:  # on stderr, -q or not, as the page has it atop its tables (the suite file named from here)
        print(f"gnnbench: note: {board.notice}", file=sys.stderr)
    console.print("wrote " + ", ".join(map(str, board.written)))
    return 0


def compare_leaderboards(args: argparse.Namespace, console: Console) -> int:
    """``gnnbench compare``: the table, the reports asked for, and the gates' exit status."""
    from gnnbench.harness.store import RunStore
    from gnnbench.leaderboard import compare, suite_notice
    from gnnbench.leaderboard import compare_report as report

    min_effect, relative = args.min_effect
    result = compare.compare(args.a, args.b, alpha=args.alpha, min_effect=min_effect, relative=relative, column=args.on,
                             ignore_config=args.ignore_config, correct=args.holm, paired=args.paired)
    result.gate = args.fail_on_regression  # every output's summary says what the gate judged beyond the table
    outputs = [(path, text) for path, text in ((args.md, report.to_markdown), (args.csv, report.to_csv)) if path]
    if args.md and args.csv and str(args.md) != "-" and Path(args.md).resolve() == Path(args.csv).resolve():
        raise GnnbenchError(f"--md and --csv both name {args.csv}: the CSV would replace the Markdown; name two files")
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
        console.print(compare_table(result))
        for path, _ in outputs:
            console.print(f"wrote {path}")
        console.print(report.summary(result))
    for side, path in (("A", result.a), ("B", result.b)):  # on stderr, -q or not: its rows may lack seeds, or runs
        store = RunStore(path.parent)
        expected = store.expected()  # the run ids alone: the records are the leaderboard's to read and warn about
        if expected is not None and (notice := suite_notice(store.directory, store.run_ids(), expected,
                                                            from_here=True)):
            print(f"gnnbench: note: {side} ({store.directory}): {notice}", file=sys.stderr)
    moved = result.moved_configs()
    if moved:  # on stderr, -q or not: the table leaves such rows uncompared
        print(f"gnnbench: note: selected under another configuration on each side, so not compared in the table: "
              f"{'; '.join(moved)}; --ignore-config compares each side's selected configuration (and "
              "--fail-on-regression does)", file=sys.stderr)
    lost = result.missing().query("reason != 'no row in B'")
    if len(lost) and not args.fail_on_missing:  # on stderr, -q or not: no test can call them worse
        for reason, rows in lost.groupby("reason", sort=True):
            why = " (the metric is NaN on some seed)" if reason == "no mean in B" else ""
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
        t = result.table
        for r in t[(t["status"] == "both") & (t["verdict"] == "undefined")].itertuples(index=False):  # unjudged
            print(f"gnnbench: note: {r.task} {r.dataset} {r.model} ({r.config}, {r.scenario}): {r.metric} "
                  f"{report.in_table_units(r.unit, r.a_mean)} -> {report.in_table_units(r.unit, r.b_mean)} is "
                  "undefined, which no regression gate can judge", file=sys.stderr)
    if args.fail_on_missing:
        missing = result.missing()
        for r in missing.itertuples(index=False):
            print(f"gnnbench: missing: {r.task} {r.dataset} {r.model} ({r.config}, {r.scenario}): {r.metric} "
                  f"{report.in_table_units(r.unit, r.a_mean)} -> {r.reason}", file=sys.stderr)
        failed += len(missing)
    return 1 if failed else 0


#: Files a report never replaces: code and configuration (a suite file or a plugin named by a slip of the arguments)
KEPT_SUFFIXES = (".py", ".yaml", ".yml", ".toml", ".json", ".cfg", ".ini", ".sh")


def _overwrite_problem(path: Path, inputs: Sequence[Path]) -> str | None:
    """Why ``compare`` must not replace the existing file ``path`` (None: it may): one of its inputs, records
    (which nothing can rebuild), the note of the runs a suite expects, a table ``gnnbench leaderboard`` builds
    from the records beside it, or code or configuration (:data:`KEPT_SUFFIXES`). Judged on the file a link
    points to, which is what would be written."""
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
    if board or profile:
        return "gnnbench builds it from the records beside it"
    if target.suffix.lower() in KEPT_SUFFIXES:
        return f"it is a {target.suffix} file, code or configuration, not a report"
    return None
