"""Leaderboards are computed from a suite's records alone: ``build(results/<suite>)`` rewrites
``leaderboard.csv``, ``grid.csv``, ``leaderboard.md`` (and ``depth.csv`` when a depth grid was swept,
``search.csv`` when an architecture search ran, ``sat.csv`` when records carry SAT solving results, and
``leaderboard.html`` on request) from ``runs.jsonl``."""

from __future__ import annotations

import os
import warnings
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from gnnbench.errors import GnnbenchError
from gnnbench.harness.spec import SMOKE_SUFFIX
from gnnbench.harness.store import RUNS_FILE, RunStore
from gnnbench.leaderboard.aggregate import grid_frame, leaderboard_frame, runs_frame, summarised
from gnnbench.leaderboard.depth import depth_frame, depth_markdown
from gnnbench.leaderboard.labels import row_key
from gnnbench.leaderboard.ranks import rank_markdown
from gnnbench.leaderboard.sat import sat_frame, sat_markdown
from gnnbench.leaderboard.search import search_frame, search_markdown
from gnnbench.leaderboard.write import environment_lines, to_csv, to_markdown, warning_lines, write_text
from gnnbench.natural import natural_key

#: every file :func:`build` may write
OUTPUTS = ("leaderboard.csv", "grid.csv", "depth.csv", "search.csv", "sat.csv", "leaderboard.md", "leaderboard.html")


@dataclass
class Leaderboard:
    """The tables :func:`build` computed from the records and the files it wrote them to."""

    board: pd.DataFrame
    grid: pd.DataFrame
    depth: pd.DataFrame
    csv: Path
    markdown: Path
    html: Path | None = None
    #: :func:`suite_notice`: what the tables are not (incomplete, or counting records of no run of the suite), as
    #: a terminal shows it (the suite file named from the current directory; the pages name it as the run did)
    notice: str = ""
    #: every file written, in the order written
    written: tuple[Path, ...] = ()


def build(directory: str | Path, suite: str | None = None, html: bool | None = None) -> Leaderboard:
    """Read ``directory/runs.jsonl`` and (re)write the leaderboard files beside it. The HTML page is written
    when ``html`` is true, or when it is None and a page is already there (so a page never goes stale)."""
    store = RunStore(directory)
    records = store.latest(history=False)  # no table reads the per-epoch curves
    if not records:
        raise GnnbenchError(f"{store.path}: no records here ({_where_records_are(Path(directory))})")
    return _write(Path(directory), records, suite, html)


def refresh(directory: str | Path, suite: str) -> Leaderboard | None:
    """After records were set aside: the leaderboard of those left, or its files removed when none are left (a
    leaderboard of records no longer there would mislead)."""
    records = RunStore(directory).latest(history=False)
    if records:
        return _write(Path(directory), records, suite, None)
    clear(directory)
    return None


def _write(out: Path, latest: dict[str, dict], suite: str | None, html: bool | None) -> Leaderboard:
    """Write the leaderboard files of ``latest`` (run_id -> record) into ``out``."""
    records = sorted(latest.values(), key=_record_order)  # file order must not change the output
    runs = runs_frame(records)
    with warnings.catch_warnings(record=True) as caught:  # kept in the page, not only shown once in a terminal
        warnings.simplefilter("always")
        grid = grid_frame(runs)
        board, depth = leaderboard_frame(runs, grid=grid), depth_frame(runs)
    told = summarised(caught)  # a cause many configurations share in one line
    notes = list(dict.fromkeys(str(message) for message, category in told if issubclass(category, UserWarning)))
    for message, category in told:  # shown as before, through the caller's filters (module gnnbench.leaderboard)
        warnings.warn(message, category, stacklevel=1)
    written = [out / "leaderboard.csv", out / "grid.csv"]
    to_csv(board, written[0])
    to_csv(grid, written[1])
    searches = search_frame(board, records)
    sat = sat_frame(records, board)
    for frame, file in ((depth, "depth.csv"), (searches, "search.csv"), (sat, "sat.csv")):
        if frame.empty:  # no such runs (any more): a file left from earlier records would be stale
            (out / file).unlink(missing_ok=True)
        else:
            to_csv(frame, out / file)
            written.append(out / file)
    name = suite or (_suite_names(board["suite"]) if len(board) else out.name)
    sections = (rank_markdown(board) + depth_markdown(depth) + search_markdown(searches) + sat_markdown(sat)
                + warning_lines(notes))
    expected = RunStore(out).expected()  # read once, for the page's notice and the terminal's
    notice = suite_notice(out, latest.keys(), expected)
    environment = environment_lines(records)  # the page's too
    write_text(out / "leaderboard.md", to_markdown(board, records, name, sections, notice, environment))
    written.append(out / "leaderboard.md")
    page = out / "leaderboard.html"
    if html or (html is None and page.exists()):
        from gnnbench.leaderboard.html import to_html

        write_text(page, to_html(board, grid, depth, records, name, out, notes, notice, environment))
        written.append(page)
    return Leaderboard(board=board, grid=grid, depth=depth, csv=out / "leaderboard.csv",
                       markdown=out / "leaderboard.md", html=page if page.exists() else None,
                       notice=suite_notice(out, latest.keys(), expected, from_here=True), written=tuple(written))


def suite_notice(directory: Path, recorded: AbstractSet[str], expected: dict | None, from_here: bool = False) -> str:
    """What the tables of ``directory`` are not, atop them: the runs of the suite last run there that have no
    record (``Incomplete: 1 of the 4 runs of suite tiny (tiny.yaml) are recorded; ...``: a table of the runs so
    far must not read as the suite's result), and the records that are no run of it (made under other defaults or
    an earlier version of the file: their configurations compete in the tables until ``prune`` sets them
    aside). ``recorded`` are the run ids with a record there, successful or failed (the keys of
    :meth:`RunStore.latest`, or :meth:`RunStore.run_ids`, which parses no record). ``expected`` is what the store of
    ``directory`` notes of that suite (:meth:`RunStore.expected`).
    Empty where it notes none (:meth:`RunStore.expect`) or nothing is amiss. The suite file is
    named as the run named it (relative to where it ran), as the pages keep it, or, ``from_here``, for a
    terminal, as :func:`_from_here` finds it; the results root as :func:`_results_root` names it."""
    if expected is None:
        return ""
    file = _from_here(directory, expected["file"]) if from_here else expected["file"]
    ids, suite = set(expected["run_ids"]), f"suite {expected['suite']} ({file})"
    results = _results_root(directory, expected.get("results"), from_here)
    root = "" if results == Path("results") else f" --results {results}"
    parts = []
    found = len(ids & recorded)
    if found < len(ids):  # the whole suite file's runs, which an earlier --only left out too
        smoke = " --smoke EPOCHS" if expected["suite"].endswith(SMOKE_SUFFIX) else ""
        parts.append(f"Incomplete: {found} of the {len(ids)} runs of {suite} are recorded; the tables show "
                     f"those. `gnnbench run {file}{smoke}{root}` runs the rest"
                     + (", with the EPOCHS of that smoke check." if smoke else "."))
    if others := len(recorded - ids):
        parts.append(f"{others} record{'s' * (others > 1)} here {'are' if others > 1 else 'is'} no run of {suite} as "
                     "last run (made under other defaults or an earlier version of the file); the tables count "
                     f"{'them' if others > 1 else 'it'} until `gnnbench prune {file}{root}` sets "
                     f"{'them' if others > 1 else 'it'} aside.")
    return " ".join(parts)


def _results_root(directory: Path, noted: str | None, from_here: bool) -> Path:
    """The results root a notice's commands name: the ``noted`` one (as the run was given it, relative to where it
    ran: a page reads the same wherever it is built) while it still ends in the folder holding ``directory``,
    else, and for a terminal (``from_here``) or a note without one, ``directory``'s parent as ``directory`` is
    given: a folder copied or moved elsewhere (``cp -r R1/small R20/``) is resumed and pruned where it is now, not
    where it was run. Which folder the run ran in is not noted, so a noted root's leading ``..`` are not judged."""
    if from_here or noted is None:
        return directory.parent
    tail = Path(os.path.normpath(noted)).parts  # only leading .. are left
    tail = tail[next((i for i, part in enumerate(tail) if part != ".."), len(tail)):]
    here = Path(os.path.abspath(directory)).parent.parts  # as given: a link on the way is no move
    return Path(noted) if here[len(here) - len(tail):] == tail else directory.parent


def _from_here(directory: Path, file: str) -> str:
    """The suite file ``file`` as a command run in the current directory takes it. The run noted the path it was
    given, relative to where it ran: by default the folder holding ``results/``, so the nearest folder at or
    above ``directory`` that holds ``file`` is taken for it. Named relative to the current directory where it lies
    below it, else absolute; as noted where it is found nowhere (moved, or results written elsewhere with
    ``--results``)."""
    path = Path(file)
    if not path.is_absolute():
        here = directory.resolve()
        found = next((folder / path for folder in (here, *here.parents) if (folder / path).is_file()), None)
        if found is None:
            return file
        path = found.resolve()  # a noted ../ made plain
    cwd = Path.cwd()
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)


def clear(directory: str | Path) -> None:
    """Remove the files :func:`build` writes: for a folder whose records were all set aside."""
    for file in OUTPUTS:
        (Path(directory) / file).unlink(missing_ok=True)


def _where_records_are(directory: Path) -> str:
    """A hint for a folder without records: a records file that is a broken link (naming what it points to), a suite
    file given in its place (naming its folder), another file (a leaderboard CSV: compare reads it), a missing
    folder, a results root (naming its suites), or a suite not run yet."""
    runs = directory / RUNS_FILE
    if runs.is_symlink() and not runs.exists():
        return f"{RUNS_FILE} is a broken link to {os.readlink(runs)}, which does not exist"
    if directory.suffix in (".yaml", ".yml") and directory.is_file():
        try:
            name = yaml.safe_load(directory.read_text(encoding="utf-8")).get("name", "NAME")
        except (yaml.YAMLError, AttributeError, UnicodeDecodeError):
            name = "NAME"
        return (f"a suite file: give the folder of its records, RESULTS/{name} (results/ unless run with "
                "--results), named by the suite's name: key")
    if directory.is_file():
        return ("a file, not a folder of records: `gnnbench leaderboard` rebuilds the tables of a results folder "
                "from its runs.jsonl" + (f"; `gnnbench compare {directory} B.csv` reads a leaderboard CSV as it is"
                                         if directory.suffix == ".csv" else ""))
    if not directory.is_dir():
        return f"no such directory: {directory}"
    suites = sorted(p.parent.name for p in directory.glob(f"*/{RUNS_FILE}"))
    if suites:
        return f"a results root? give one of its suite folders, {directory}/SUITE: {', '.join(suites)}"
    return "run a suite first: gnnbench run SUITE.yaml"


def _suite_names(cells: pd.Series) -> str:
    """The suites of the rows' ``suite`` cells, each once, in natural order, ``;``-joined: a row of records of two
    suites already names both (``other;small``), so joining the cells as they are would repeat names."""
    names = {name for cell in cells for name in cell.split(";")}
    return ";".join(sorted(names, key=natural_key))


def _record_order(record: dict) -> tuple:
    """The records' sort key, the order the failed runs are listed in: the row's task label, dataset, model, config
    and scenario, each by :func:`~gnnbench.natural.natural_key`, then the seed, then the run id."""
    return (*map(natural_key, row_key(record)), record["spec"]["seed"], record["run_id"])


__all__ = ["OUTPUTS", "Leaderboard", "build", "clear", "depth_frame", "grid_frame", "leaderboard_frame", "refresh",
           "runs_frame", "suite_notice"]
