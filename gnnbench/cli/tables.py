"""Rich tables for the terminal: a leaderboard and a comparison, laid out for the width they are printed at.

Numbers and verdicts never break inside (Rich, left to narrow a table, folds ``+0.00`` into ``+0``/``.0``/``0``): a
table narrows first by wrapping headers and a smaller gap between columns, then by wrapping a cell that is a number
and its qualifier (``82.57 (10)``, ``1.000 paired``) between the two, then by folding names, to no fewer than
:data:`FOLDED_MIN` characters; a terminal too narrow for all that gets no table but each row as a block of
``header: value`` lines (:func:`_blocks`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from rich import box
from rich.cells import cell_len
from rich.console import Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

    from gnnbench.leaderboard.compare import Comparison

#: How a column may narrow, beyond wrapping its header between words: never (a number, an interval, a verdict);
#: by wrapping a number's qualifier (``(10)``, ``paired``) to a line of its own; folded anywhere, once nothing else
#: can (a name)
WHOLE, WORDS, NAME = "whole", "words", "name"
#: A comparison's columns after its keys: the cell of compare_report.display_rows, how the column narrows and where
#: a qualifier begins
FIGURES = (("A", WORDS, " ("), ("B", WORDS, " ("), ("delta", WHOLE, ""), ("ci", WHOLE, ""), ("rel", WHOLE, ""),
           ("p", WORDS, " "), ("verdict", WHOLE, ""))
#: The fewest characters a table folds a name to (one shorter stays whole): ``node_cla``/``ssificat``/``ion`` or
#: ``sir_gc``/``n`` read as nothing, so a terminal that would need narrower names gets blocks (:func:`_blocks`)
FOLDED_MIN = 10
#: Where a block's ``header: value`` lines begin, under the row's names
INDENT = "  "
#: What a suffix after p says: the test of a row tested otherwise than asked (compare_report.display_rows)
SUFFIXES = {"paired": "paired: the paired t-test on the seeds both sides ran",
            "welch": "welch: Welch's, no two seeds to pair (fewer shared, a side without seeds or values, or a "
                     "seed counted twice)",
            "one seed": "one seed: a single seed against the other side's"}


@dataclass(frozen=True)
class Column:
    """A column of a terminal table and how :func:`_layout` may narrow it."""

    header: str
    narrows: str = NAME  # WHOLE, WORDS or NAME
    qualifier: str = ""  # WORDS: what a cell's qualifier begins with, `` (`` before a count
    right: bool = False  # right-justified, as numbers are


class Layout(NamedTuple):
    """A table's column widths and the gap between columns (:func:`_layout`), and whether every cell fits whole at
    a gap of two or one: only then does a comparison show its notes as a column."""

    widths: list[int]
    gap: int
    whole: bool


class _AtWidth:
    """What ``build`` makes for the width it is printed at: a table laid out for 80 columns, or for 200."""

    def __init__(self, build: Callable[[int], RenderableType]) -> None:
        self.build = build

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.build(options.max_width)


def _cells(columns: list[Column], rows: list[list[str]]) -> list[list[str]]:
    """Each column's header and cells."""
    return [[column.header, *(row[i] for row in rows)] for i, column in enumerate(columns)]


def _gap(widths: list[int], width: int) -> int | None:
    """The gap between columns, two or one, at which columns of ``widths`` fit ``width``; None where neither does."""
    return next((gap for gap in (2, 1) if sum(widths) + gap * (len(widths) - 1) <= width), None)


def _whole(cells: list[str]) -> int:
    """The width ``cells`` take unwrapped."""
    return max((cell_len(line) for cell in cells for line in cell.splitlines()), default=0)


def _word(cells: list[str]) -> int:
    """The width of the longest word of ``cells``: the least they take wrapped between words, unfolded."""
    return max((cell_len(word) for cell in cells for word in cell.split()), default=1)


def _layout(columns: list[Column], rows: list[list[str]], width: int) -> Layout | None:
    """Each column's width and the gap between columns, within ``width``, giving up as little as it can: every cell
    whole with a gap of two; headers wrapped between words, with a gap of two, then one; then the qualifiers of
    :data:`WORDS` columns wrapped, a column at a time, the one that wraps the fewest rows first; then names folded,
    the widest first, a character at a time, none to fewer than :data:`FOLDED_MIN` characters. None where that
    does not fit: no table is readable there (:func:`_blocks`)."""
    cells = _cells(columns, rows)
    unwrapped = [_whole(c) for c in cells]
    whole = _gap(unwrapped, width) is not None
    headed = [max(_word(c[:1]), _whole(c[1:])) for c in cells]
    for gap, widths in ((2, unwrapped), (2, headed), (1, headed)):
        if _gap(widths, width) == gap:
            return Layout(widths, gap, whole)
    widths, room = headed, width - (len(headed) - 1)
    heads = [max([_word(c), *(cell_len(cell.split(column.qualifier)[0]) for cell in c[1:])]) if column.qualifier
             else 0 for column, c in zip(columns, cells, strict=True)]  # the numbers before their qualifiers
    wrapped = [sum(cell_len(cell) > head for cell in c[1:]) for head, c in zip(heads, cells, strict=True)]
    for i in sorted((i for i, c in enumerate(columns) if c.narrows == WORDS), key=lambda i: (wrapped[i], -widths[i])):
        if sum(widths) <= room:
            return Layout(widths, 1, whole)
        widths[i] = heads[i]
    names = [i for i, c in enumerate(columns) if c.narrows == NAME]
    if sum(widths) - sum(max(widths[i] - FOLDED_MIN, 0) for i in names) > room:  # each name folded to the least
        return None
    while sum(widths) > room:  # the widest first, so none goes below its least before every one is there
        widths[max(names, key=widths.__getitem__)] -= 1
    return Layout(widths, 1, whole)


def _table(columns: list[Column], rows: list[list[str]], styles: list[str | None], layout: Layout | None,
           width: int) -> RenderableType:
    """``rows`` laid out as ``layout`` says (:func:`_layout`), as plain text, not Rich markup: a path or a note may
    hold ``[``; as blocks of lines (:func:`_blocks`) where no layout fits ``width``."""
    if layout is None:
        return _blocks(columns, rows, styles, width)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  padding=(0, layout.gap - 1, 0, 0))  # the gap: the padding and the box's blank column separator
    for column, column_width in zip(columns, layout.widths, strict=True):
        table.add_column(column.header, width=column_width, overflow="fold",
                         justify="right" if column.right else "left")
    for row, style in zip(rows, styles, strict=True):
        table.add_row(*map(Text, row), style=style)
    return table


def _blocks(columns: list[Column], rows: list[list[str]], styles: list[str | None], width: int) -> Group:
    """Each row as a block, for a terminal too narrow for the table: its names (``node_classification Cora gat``)
    on a line, then ``header: value`` for each other column with a value (not empty, not ``–``), as many to a line
    as fit ``width``, indented. A name folded to a few characters, or a column of numbers one to a line, reads as
    nothing."""
    names = [i for i, c in enumerate(columns) if c.narrows == NAME]
    lines = []
    for row, style in zip(rows, styles, strict=True):
        lines.append(Text(" ".join(row[i] for i in names), style=style))
        line = ""
        for column, value in zip(columns, row, strict=True):
            if column.narrows == NAME or value in ("", "–"):  # a dash holds a table's place for no value
                continue
            item = f"{column.header}: {value}"
            if line and cell_len(f"{line}  {item}") > width:
                lines.append(Text(line, style=style))
                line = ""
            line = f"{line}  {item}" if line else INDENT + item
        if line:
            lines.append(Text(line, style=style))
    return Group(*lines)


def compare_table(result: Comparison) -> RenderableType:
    """The comparison as the terminal shows it: which side is which, the table, the rows' notes (in a column where
    every one fits whole, else numbered under the table), the Markdown's lines under its table (the keys every row
    shares among them) and a legend."""
    return _AtWidth(lambda width: _compared(result, width))


def _compared(result: Comparison, width: int) -> RenderableType:
    from gnnbench.leaderboard import compare_report as report

    rows = report.display_rows(result)
    varying = report.varying_keys(rows)
    *headers, notes_header = report.headers(result, varying)
    columns = [*map(Column, varying), *(Column(header, narrows, qualifier, right=key != "verdict")
                                        for header, (key, narrows, qualifier)
                                        in zip(headers[len(varying):], FIGURES, strict=True))]
    cells = [[*(r[k] for k in varying), *(r[key] for key, *_ in FIGURES)] for r in rows]
    listed: list[str] = []
    layout = None  # where the notes make a column, the layout that found they fit
    if any(r["notes"] for r in rows):
        noted = [*columns, Column(notes_header)], [[*row, r["notes"]] for row, r in zip(cells, rows, strict=True)]
        if (with_notes := _layout(*noted, width)) and with_notes.whole:
            (columns, cells), layout = noted, with_notes
        else:  # numbered under the table: a column of long notes would wrap every row into many lines
            marks = []
            for r in rows:
                if r["notes"]:
                    listed.append(f"{len(listed) + 1}. {' '.join(r[k] for k in varying)}: {r['notes']}")
                marks.append(str(len(listed)) if r["notes"] else "")
            columns = [*columns, Column("#", WHOLE, right=True)]
            cells = [[*row, mark] for row, mark in zip(cells, marks, strict=True)]
    colour = {"better": "green", "worse": "bold red", "only in A": "yellow", "only in B": "yellow"}
    table = _table(columns, cells, [colour.get(r["verdict"].rstrip("*")) for r in rows],
                   layout or _layout(columns, cells, width), width)
    footer = [report.UNTESTED.replace("`", "") if line == report.UNTESTED else line  # Markdown's code quotes
              for line in report.footer(result, rows, varying)]
    return Group(Text(report.sides(result, quote="")), table, *map(Text, [*listed, *footer, *_legend(result, rows)]))


def _legend(result: Comparison, rows: list[dict[str, str]]) -> list[str]:
    """The Markdown's legend (:func:`~gnnbench.leaderboard.compare_report.legend`), what ``same`` and ``unclear``
    need, and what a suffix after p says where one is shown."""
    from gnnbench.leaderboard import compare_report as report

    zero = " (at 0 only an exact rerun: see --min-effect)"
    lines = [report.legend(result), "better/worse: p < alpha and beyond the minimum effect; same: the CI within ± it"
             f"{zero if result.min_effect == 0 else ''}; unclear: neither."]
    shown = [suffix for suffix in SUFFIXES if any(r["p"].endswith(f" {suffix}") for r in rows)]
    if shown:
        lines.append(f"After p, the test of a row not tested as asked ({'; '.join(map(SUFFIXES.get, shown))}).")
    return lines


def board_table(board: pd.DataFrame, title: str) -> RenderableType:
    """A leaderboard for the terminal, laid out for its width (:func:`_layout`)."""
    from gnnbench.leaderboard.write import format_metric, format_n, format_rank

    scenarios = len(board) > 0 and set(board["scenario"]) != {"none"}  # else every row reads alike
    columns = [*map(Column, ("task", "dataset", "model", "config", *(["scenario"] * scenarios), "metric")),
               Column("test", WORDS, " (", right=True), Column("val", WHOLE, right=True),
               Column("rank", WHOLE, right=True)]
    rows = [[r.task, r.dataset, r.model, r.config, *([r.scenario] * scenarios), r.metric,
             f"{format_metric(r.mean, r.std, r.unit)} ({format_n(r)})", format_metric(r.val_mean, float("nan"), r.unit),
             format_rank(r.rank)] for r in board.itertuples(index=False)]
    styles = ["bold" if r.rank == 1 else None for r in board.itertuples(index=False)]
    title = f"{title}: test metric of the validation-selected configuration, mean ± std (n)"
    return _AtWidth(lambda width: Group(Text(title), _table(columns, rows, styles, _layout(columns, rows, width),
                                                            width)))
