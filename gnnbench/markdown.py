"""Markdown tables, built in one place so that no cell can break its row: a model name, a configuration or an
error message holding ``|`` or a line break would otherwise split the row into extra columns."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], right: Collection[int] = ()) -> list[str]:
    """The lines of a table: ``header``, its rule (the columns at the indices in ``right`` aligned right, for
    numbers), then ``rows``; every cell is shown with ``str`` and escaped."""
    rule = ["---:" if i in right else "---" for i in range(len(header))]
    return [_line(header), "| " + " | ".join(rule) + " |", *(_line(row) for row in rows)]


def _line(cells: Sequence[Any]) -> str:
    return "| " + " | ".join(" ".join(str(c).split("\n")).replace("|", "\\|") for c in cells) + " |"
