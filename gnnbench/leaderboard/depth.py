"""Depth studies: test metric, peak memory and epoch time as functions of a model's depth.

A depth study is an ordinary grid over a depth hyperparameter (``num_layers: [1, 2, 4, 8, 16, 32]``, or
DGMLP's propagation and MLP depths). For every depth value the other hyperparameters are still selected on
validation, so each point of a curve follows the same rule as the leaderboard: validation selects, test
reports. The depth hyperparameters are recognised by name (:data:`DEPTH_KEYS`) from the records alone, so
anyone holding ``runs.jsonl`` gets the same curves.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd

from gnnbench import markdown
from gnnbench.leaderboard.aggregate import ROW_KEYS, leaderboard_frame
from gnnbench.leaderboard.labels import natural_groups, natural_order
from gnnbench.leaderboard.write import format_metric

#: Hyperparameter names that measure depth: message-passing layers, propagation hops, MLP layers.
DEPTH_KEYS = ("num_layers", "K", "mlp_layers")
DEPTH_COLUMNS = ["task", "dataset", "model", "scenario", "metric", "direction", "unit", "depth_key", "depth", "mean",
                 "std", "n", "val_mean", "peak_mem_mb", "epoch_time_s", "config"]


def depth_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, dataset, model, scenario, depth key, depth value) where a model's successful runs
    take at least two values of that depth key; the rest of the configuration is selected on validation, with
    the failed runs in view as on the leaderboard (a configuration that failed on some seed ranks last)."""
    ok = runs["status"] == "ok"
    parsed = {text: json.loads(text) for text in set(runs["hparams"])}  # each distinct one once: runs share them
    hparams = runs["hparams"].map(parsed.__getitem__)
    parts = []
    for key in DEPTH_KEYS:
        depth = hparams.map(lambda h, k=key: h.get(k))
        with_key = runs[depth.notna()].assign(depth_key=key, depth=depth[depth.notna()].astype(int))
        varies = with_key[ok[with_key.index]].groupby(ROW_KEYS)["depth"].nunique() > 1
        rows = with_key.set_index(ROW_KEYS).index.isin(varies[varies].index)
        if rows.any():
            parts.append(leaderboard_frame(with_key[rows], [*ROW_KEYS, "depth_key", "depth"]))
    if not parts:
        return pd.DataFrame(columns=DEPTH_COLUMNS)
    frame = pd.concat(parts, ignore_index=True)[DEPTH_COLUMNS]
    return frame.sort_values(["task", "dataset", "scenario", "depth_key", "model", "depth"], key=natural_order,
                             kind="stable").reset_index(drop=True)


def depth_markdown(frame: pd.DataFrame) -> list[str]:
    """Markdown sections: per (task, dataset, depth key), a model x depth table of the test metric and one of
    peak memory, the two views of an over-smoothing / memory-in-depth analysis."""
    if frame.empty:
        return []
    lines = ["## Depth studies", "",
             "Each cell: the test metric of the configuration selected on validation among those of that depth "
             "(mean ± std over seeds), then the peak memory of the same runs.", ""]
    for (task, dataset, scenario, key), part in natural_groups(frame, ["task", "dataset", "scenario", "depth_key"]):
        depths = sorted(set(part["depth"]))
        metric = part["metric"].iloc[0]
        title = f"### {task} · {dataset} · {metric} vs {key}" + ("" if scenario == "none" else f" · {scenario}")
        header = ["model", *(f"{key}={d}" for d in depths)]
        accuracy, memory = [], []
        for model, rows in natural_groups(part, "model"):
            by_depth = rows.set_index("depth")
            accuracy.append([model, *(_cell(by_depth, d, lambda r: format_metric(r["mean"], r["std"], r["unit"]))
                                      for d in depths)])
            memory.append([model, *(_cell(by_depth, d, lambda r: f"{r['peak_mem_mb']:.1f}") for d in depths)])
        right = range(1, len(header))
        lines += [title, "", *markdown.table(header, accuracy, right), "", f"Peak memory (MB) vs {key}:", "",
                  *markdown.table(header, memory, right), ""]
    return lines


def _cell(by_depth: pd.DataFrame, depth: int, show: Callable[[pd.Series], str]) -> str:
    """``show`` of the row at ``depth``; ``failed`` where every run there failed (out of memory at the deepest
    setting is what a depth study is for), ``–`` where nothing ran."""
    if depth not in by_depth.index:
        return "–"
    row = by_depth.loc[depth]
    return "failed" if row["n"] == 0 else show(row)
