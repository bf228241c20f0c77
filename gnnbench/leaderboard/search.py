"""Architecture-search leaderboard: the leaderboard's rows of the ``architecture_search`` task with what the
search spent and what it could have reached.

Columns: the leaderboard's first ones, then ``search`` (the algorithm), ``space``, ``budget`` (child
evaluations), ``ended_early`` (searches that evaluated fewer children than the budget: their algorithm proposed
only evaluated architectures, :func:`gnnbench.search.base.run_search`), ``search_seeds``, ``oracle`` (a
NAS-Bench-Graph table's test accuracy of its best-validation architecture; empty for trained children), and the
mean cost per search: wall seconds, child epochs trained,
children that inherited weights, children skipped untrained (over ``max_params``: they use budget and train
nothing), the number of from-scratch retraining seeds behind each test number, and ``retrain_s``: the run's
seconds after its data loading and its search (retraining the finalists and testing the chosen one, with the
run's own small overheads; near zero in tabular mode).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gnnbench import markdown
from gnnbench.leaderboard.aggregate import COLUMNS
from gnnbench.leaderboard.labels import natural_groups, natural_order, row_key
from gnnbench.leaderboard.write import format_metric

SEARCH_COLUMNS = [*COLUMNS, "search", "space", "budget", "ended_early", "search_seeds", "oracle", "search_wall_s",
                  "child_epochs", "inherited_children", "skipped_children", "retrain_seeds", "retrain_s", "unit"]


def search_frame(board: pd.DataFrame, records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per leaderboard row of the search task (its validation-selected configuration)."""
    rows = []
    searches = [r for r in records if r.get("status") == "ok" and "search" in r]
    for row in board.itertuples(index=False):
        mine = [r for r in searches if _matches(r, row)]
        if not mine:
            continue
        summaries = [r["search"] for r in mine]
        cost = [s.get("cost", {}) for s in summaries]
        oracles = {s["oracle"] for s in summaries if s.get("oracle") is not None}
        rows.append({**{c: getattr(row, c) for c in COLUMNS}, "unit": row.unit,
                     "search": summaries[0]["algorithm"], "space": summaries[0]["space"],
                     "budget": summaries[0]["budget"], "search_seeds": len(mine),
                     "ended_early": sum(s["queries"] < s["budget"] for s in summaries),
                     "oracle": oracles.pop() if len(oracles) == 1 else np.nan,
                     "search_wall_s": float(np.mean([s["wall_s"] for s in summaries])),
                     "child_epochs": _mean(c.get("child_epochs") for c in cost),
                     "inherited_children": _mean(c.get("inherited_children") for c in cost),
                     "skipped_children": _mean(map(_skipped, summaries)),
                     "retrain_seeds": int(np.mean([len(r.get("retrain", [])) for r in mine])),
                     "retrain_s": float(np.mean([r["timing"]["wall_s"] - r["timing"]["load_s"]
                                                 - r["search"]["wall_s"] for r in mine]))})
    return pd.DataFrame(rows, columns=SEARCH_COLUMNS)


def search_markdown(frame: pd.DataFrame) -> list[str]:
    """A section per task protocol and search space: test accuracy of the selected architecture against the
    oracle, and costs."""
    if frame.empty:
        return []
    lines = ["## Architecture search", "",
             "Test accuracy of the architecture each search selected on validation (mean ± std over search "
             "seeds; for trained children, each search's number is itself the mean over its retraining seeds), "
             "at the same budget of child evaluations, with the mean cost of one search.", ""]
    for (task, space), part in natural_groups(frame, ["task", "space"]):
        rows = [[r.dataset, r.model, _budget(r), r.search_seeds, format_metric(r.mean, r.std, r.unit),
                 "–" if pd.isna(r.oracle) else format_metric(r.oracle, np.nan, r.unit), f"{r.search_wall_s:.1f}",
                 _blank(r.child_epochs), _blank(r.inherited_children), _blank(r.skipped_children), r.retrain_seeds,
                 f"{r.retrain_s:.1f}"]
                for r in part.sort_values(["dataset", "rank", "model"], key=natural_order).itertuples(index=False)]
        lines += [f"### {task}: space {space}", "",
                  *markdown.table(["dataset", "search", "budget", "seeds", "test", "oracle", "wall s", "child epochs",
                                   "inherited", "skipped", "retrain seeds", "retrain s"], rows,
                                  right={2, 3, 6, 7, 8, 9, 10, 11}), ""]
        if part["ended_early"].any():
            lines += ["¹ searches that ended before their budget: their algorithm proposed only architectures "
                      "already evaluated (or invalid) many times in a row, as AGNN does at a best whose one-class "
                      "neighbours are all evaluated; each record's `search.queries` is the children it evaluated.",
                      ""]
    return lines


def _budget(row: Any) -> str:
    """The budget, with how many of the row's searches evaluated fewer children (¹ below the table)."""
    return f"{row.budget} ({row.ended_early} ended early¹)" if row.ended_early else str(row.budget)


def _matches(record: dict[str, Any], row: Any) -> bool:
    return row_key(record) == (row.task, row.dataset, row.model, row.config, row.scenario)


def _skipped(search: dict[str, Any]) -> int | None:
    """Children over ``max_params`` of a trained search (None in tabular mode, where every child is a row)."""
    if "cost" not in search:
        return None
    return sum(map(bool, search["trace"].get("skipped", [])))


def _mean(values: Any) -> float:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else np.nan


def _blank(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.1f}"


__all__ = ["SEARCH_COLUMNS", "search_frame", "search_markdown"]
