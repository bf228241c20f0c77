"""Rich tables for the terminal: a leaderboard and a comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from gnnbench.leaderboard.compare import Comparison


def compare_table(result: Comparison) -> Table:
    from gnnbench.leaderboard.compare import KEYS
    from gnnbench.leaderboard.compare_report import UNTESTED, common_notes, display_rows, effect_text

    rows = display_rows(result)
    shown = [k for k in KEYS if k in ("dataset", "model") or len({r[k] for r in rows}) > 1]
    captions = [f"Every compared row: {'; '.join(common)}." if (common := common_notes(result)) else "",
                UNTESTED.replace("`", "") if any(r["verdict"].endswith("*") for r in rows) else ""]
    table = Table(title=f"B = {result.b} vs A = {result.a}; alpha {result.alpha:g}, min effect {effect_text(result)}",
                  caption=" ".join(filter(None, captions)) or None)
    for column in (*shown, "A", "B", "delta", "ci", "rel", "p", "verdict", "notes"):
        table.add_column(column, overflow="fold", no_wrap=column in ("A", "B", "ci"),
                         justify="right" if column in ("A", "B", "delta", "ci", "rel", "p") else "left")
    colour = {"better": "green", "worse": "bold red", "only in A": "yellow", "only in B": "yellow"}
    for r in rows:
        table.add_row(*(r[k] for k in shown), r["A"], r["B"], r["delta"], r["ci"], r["rel"], r["p"], r["verdict"],
                      r["notes"], style=colour.get(r["verdict"].rstrip("*")))
    return table


def board_table(board: pd.DataFrame, title: str) -> Table:
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
