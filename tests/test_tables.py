"""The terminal's tables (gnnbench.cli.tables), rendered as a terminal of a given width shows them."""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from gnnbench.cli import main
from gnnbench.cli.tables import board_table, compare_table
from gnnbench.leaderboard import compare
from gnnbench.leaderboard import compare_report as report
from gnnbench.leaderboard.write import format_metric, format_n

REFERENCE = Path(__file__).resolve().parents[1] / "results" / "reference"


def shown(renderable: object, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def table_part(text: str) -> str:
    """The table with the lines atop it: those before the first line under it."""
    lines = text.splitlines()
    end = next((i for i, line in enumerate(lines) if re.match(r"(1\. |All rows:|Every compared row:|Δ = )", line)),
               len(lines))
    return "\n".join(lines[:end])


def broken(cells: list[str], text: str) -> dict[str, int]:
    """The cells (numbers, intervals, verdicts) that ``text`` shows fewer times whole, bounded by blanks or line
    ends, than the table holds them: each one a cell split across lines or cut off."""
    wanted = Counter(cells)
    return {cell: count for cell, count in wanted.items()
            if len(re.findall(rf"(?<!\S){re.escape(cell)}(?!\S)", text)) < count}


def figures(result: compare.Comparison) -> list[str]:
    """What must never break: the delta, interval, relative change and verdict of every row whole, and each word
    of A, B and p (a mean and its count, a p-value and its test may wrap between them)."""
    rows = report.display_rows(result)
    whole = [r[k] for r in rows for k in ("delta", "ci", "rel", "verdict")]
    return [cell for cell in whole + [word for r in rows for k in ("A", "B", "p") for word in r[k].split()]
            if cell != "–"]


PAIRS = [("quickstart", "quickstart", {}), ("node_classification", "deep_gnns", {}),
         ("node_classification", "quickstart", {"column": "epoch_time_s"}),
         ("node_classification", "quickstart", {"min_effect": 0.02})]


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize(("a", "b", "options"), PAIRS)
def test_compare_never_splits_a_number_or_a_verdict(a, b, options, width):
    """At 80 columns a table of ten columns used to fold `+0.00` into `+0`/`.0`/`0` and `verdict` into three
    lines: numbers and verdicts now stay whole, a mean's count or a p-value's test wrapping below it at most."""
    with pytest.warns(UserWarning, match="without a test") if "column" in options else nullcontext():
        result = compare.compare(REFERENCE / a, REFERENCE / b, **options)
    text = shown(compare_table(result), width)
    assert broken(figures(result), table_part(text)) == {}
    assert all(len(line) <= width for line in text.splitlines())


def test_a_table_without_notes_has_no_notes_column_and_long_notes_go_under_it():
    """No row with a note of its own: no notes column. Long notes (device, versions) are numbered under the table,
    each row marked with its number, where a column of them would wrap every row; a terminal wide enough for every
    note whole keeps them in a column."""
    alike = shown(compare_table(compare.compare(REFERENCE / "quickstart", REFERENCE / "quickstart")), 80)
    assert "notes" not in table_part(alike) and "#" not in table_part(alike)
    result = compare.compare(REFERENCE / "node_classification", REFERENCE / "deep_gnns")
    narrow = shown(compare_table(result), 100)  # at 80 its dataset and config names would fold: blocks
    assert "notes" not in table_part(narrow) and re.search(r"verdict +#$", table_part(narrow), re.MULTILINE)
    assert re.search(r"^1\. CiteSeer gcn default: device AMD EPYC -> ", narrow, re.MULTILINE)
    assert re.search(r"^2\. Cora gcn default: git_commit 7160af918c99 -> 23d6aa016b32$", narrow, re.MULTILINE)
    marks = [line.split()[-1] for line in table_part(narrow).splitlines() if re.search(r" same +\d$", line)]
    assert marks == ["1", "2"]
    wide = shown(compare_table(result), 500)
    assert re.search(r"verdict +notes *$", table_part(wide), re.MULTILINE) and "1. CiteSeer" not in wide
    assert "git_commit 7160af918c99 -> 23d6aa016b32" in table_part(wide)


def test_the_terminal_says_what_was_compared_and_how_to_read_it(tmp_path):
    """The keys every row shares (the metric under --on, the configuration change under --ignore-config) are said
    under the table as in the Markdown; A is named first; a legend says what Δ, the interval, same and unclear and
    a suffix after p are."""
    text = shown(compare_table(compare.compare(REFERENCE / "quickstart", REFERENCE / "quickstart", alpha=0.1)), 100)
    flat = " ".join(text.split())
    board = REFERENCE / "quickstart" / "leaderboard.csv"
    assert flat.startswith(f"A = {board} (baseline), B = {board} dataset model")
    assert "90% CI of Δ" in flat and "p (paired)" in flat
    assert ("All rows: task = node_classification, config = default, scenario = none, metric = accuracy." in flat)
    assert ("Δ = B − A (fraction metrics in percentage points); verdict in each metric's direction at alpha = 0.1, "
            "minimum effect 0." in flat)
    assert "same: the CI within ± it (at 0 only an exact rerun: see --min-effect); unclear: neither." in flat
    assert "After p, the test of a row not tested as asked (paired: the paired t-test on the seeds both sides ran)." \
        in flat
    with pytest.warns(UserWarning, match="without a test"):
        cost = compare.compare(REFERENCE / "node_classification", REFERENCE / "quickstart", column="epoch_time_s")
    flat = " ".join(shown(compare_table(cost), 80).split())
    assert "metric = epoch_time_s." in flat and "*: too few per-seed values" in flat and "After p" not in flat
    sized = " ".join(shown(compare_table(compare.compare(REFERENCE / "node_classification", REFERENCE / "quickstart",
                                                         min_effect=0.02)), 80).split())
    assert "minimum effect 0.02 (2 points)." in sized and "see --min-effect" not in sized
    moved = {}
    for side, config in (("a", "default"), ("b", "lr=0.05")):
        frame = pd.read_csv(REFERENCE / "quickstart" / "leaderboard.csv", keep_default_na=False, dtype=str)
        moved[side] = tmp_path / f"{side}.csv"
        frame.assign(config=config).to_csv(moved[side], index=False)
    ignored = " ".join(shown(compare_table(compare.compare(moved["a"], moved["b"], ignore_config=True)), 80).split())
    assert "All rows: task = node_classification, config = default -> lr=0.05, scenario = none" in ignored
    unseeded = tmp_path / "unseeded.csv"  # --paired, a side naming no seeds: Welch's, for every reason it can be
    pd.read_csv(REFERENCE / "quickstart" / "leaderboard.csv", keep_default_na=False, dtype=str).assign(
        seeds="").to_csv(unseeded, index=False)
    with pytest.warns(UserWarning, match="names no seeds"):
        welch = compare.compare(REFERENCE / "quickstart", unseeded, paired=True)
    assert ("After p, the test of a row not tested as asked (welch: Welch's, no two seeds to pair (fewer shared, a "
            "side without seeds or values, or a seed counted twice)).") in " ".join(shown(compare_table(welch),
                                                                                          100).split())


@pytest.mark.parametrize("width", [40, 50, 60])
def test_a_terminal_too_narrow_for_the_table_gets_each_row_as_a_block(width):
    """Below some 70 columns the table folded `node_classification` into `node_cla`/`ssificat`/`ion` and `CiteSeer`
    into a letter a line: where a name would fold to fewer than 10 characters, each row is its names on a line and
    `header: value` under them, indented, as many to a line as fit, cells of no value (`–`) left out."""
    board = pd.read_csv(REFERENCE / "quickstart" / "leaderboard.csv", dtype={"seeds": str})
    text = shown(board_table(board, "quickstart"), width)
    assert ("node_classification Cora gat default accuracy test: 82.6 ± 1.5 (3) val: 82.1 rank: 1 "
            "node_classification Cora gcn") in " ".join(text.split())
    assert "\n  test: 82.6 ± 1.5 (3)" in text and all(len(line) <= width for line in text.splitlines())
    result = compare.compare(REFERENCE / "node_classification", REFERENCE / "quickstart", min_effect=0.02)
    text = shown(compare_table(result), width)
    assert broken(figures(result), table_part(text)) == {}
    assert all(len(line) <= width for line in text.splitlines())
    assert "\nCiteSeer gat\n  A: 71.51 (10)" in text and "\nCora gat\n  A: 82.57 (3)  B: 82.57 (3)  " in text
    flat = " ".join(text.split())
    assert "CiteSeer gat A: 71.51 (10) p (Welch or paired): n/a verdict: only in A CiteSeer gcn" in flat
    assert ("Cora gat A: 82.57 (3) B: 82.57 (3) Δ: +0.00 95% CI of Δ: [+0.00, +0.00] Δ rel: +0.00% p (Welch or "
            "paired): 1.000 paired verdict: same #: 1 Cora gcn") in flat


def test_long_names_fold_in_a_table_where_none_goes_below_10_characters():
    """At 80 columns the robustness leaderboard stays a table: its task and scenario names fold, to 13 and 14
    characters."""
    board = pd.read_csv(REFERENCE / "robustness" / "leaderboard.csv", dtype={"seeds": str})
    lines = shown(board_table(board, "robustness"), 80).splitlines()
    assert lines[1].split() == ["task", "dataset", "model", "config", "scenario", "metric", "test", "val", "rank"]
    assert lines[3].startswith("node_classifi Cora    gcn   default class_imbalanc accuracy")


def test_the_command_lays_the_table_out_for_columns(monkeypatch, capsys):
    """``COLUMNS=80 gnnbench compare`` (or a terminal 80 wide) gets the table laid out for 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["compare", str(REFERENCE / "node_classification"), str(REFERENCE / "deep_gnns")]) == 0
    out = capsys.readouterr().out
    result = compare.compare(REFERENCE / "node_classification", REFERENCE / "deep_gnns")
    assert broken(figures(result), table_part(out)) == {}
    assert max(len(line) for line in table_part(out).splitlines()[1:]) <= 80  # the title is one line: piped


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize("suite", ["robustness", "synthetic"])
def test_a_leaderboard_never_splits_a_number(suite, width):
    """``gnnbench leaderboard`` and the end of ``gnnbench run``: long scenario and configuration names fold, a mean,
    its std and count and the validation mean do not (at 80 columns `6712.7979` of the synthetic suite's MSE used
    to fold)."""
    board = pd.read_csv(REFERENCE / suite / "leaderboard.csv", dtype={"seeds": str})
    text = shown(board_table(board, suite), width)
    means = [word for r in board.itertuples() for word in
             f"{format_metric(r.mean, r.std, r.unit)} ({format_n(r)}) {format_metric(r.val_mean, math.nan, r.unit)}"
             .split() if word != "±"]
    assert broken(means, text) == {}
    assert all(len(line) <= width for line in text.splitlines())


def test_the_docs_terminal_example_is_what_the_command_prints_now(monkeypatch):
    """docs/leaderboards.md shows the compare example as an 80-column terminal prints it: every line but the
    summary (printed after the table) must be what the table prints today."""
    monkeypatch.chdir(REFERENCE.parents[1])  # the paths as the docs' command names them
    docs = Path("docs/leaderboards.md").read_text(encoding="utf-8")
    start = docs.index("```\n", docs.index("### In a terminal")) + 4
    example = docs[start:docs.index("\n```", start)].splitlines()
    result = compare.compare("results/reference/node_classification/leaderboard.csv",
                             "results/reference/quickstart/leaderboard.csv", min_effect=0.02)
    printed = [line.rstrip() for line in shown(compare_table(result), 80).splitlines()]
    assert example[:-1] == printed and example[-1] == report.summary(result)
