"""Micro-benchmark results (``gnnbench profile kernels|loading``) as records and a leaderboard.

A profile row is a measurement, not a training run, but it is written in the leaderboard's stable schema so
that ``gnnbench compare`` and the HTML page read it like any other result: ``task`` names what was measured
(``kernel_gcn_forward``, ``loading_512B``), ``dataset`` the input (a graph size, a table size), ``model`` the
variant (a backend, a gather mode), ``mean``/``std``/``values`` the repeats, and ``rank`` orders the variants
within (task, dataset) by the column the row's ``metric`` names (a kernel's median ``ms``, a gather's ``gbps``
over its median time), not by ``mean``, which one slow repeat on a shared machine moves; a row without that
column is ranked by ``mean``. The profile's own columns follow (``docs/records.md``), then ``versions``, the
library versions of the measuring environment, so that ``compare`` names a changed torch beside a changed time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gnnbench.leaderboard.aggregate import COLUMNS, versions_label
from gnnbench.leaderboard.write import to_csv, write_text


def profile_frame(rows: Sequence[dict[str, Any]], extra: Sequence[str]) -> pd.DataFrame:
    """The leaderboard table: stable columns, then ``extra`` and ``versions``; ranked within (task, dataset,
    scenario) by each row's median figure (module docstring)."""
    columns = [*COLUMNS, *extra, "versions"]
    frame = pd.DataFrame([{**{c: row.get(c) for c in columns}, "versions": versions_label(row.get("env", {}))}
                          for row in rows], columns=columns)
    frame["scenario"] = frame["scenario"].fillna("none")
    frame["config"] = frame["config"].fillna("default")
    sign = frame["direction"].map({"max": -1.0, "min": 1.0})
    score = pd.Series([row.get(row.get("metric"), row.get("mean")) for row in rows], index=frame.index, dtype=float)
    frame["rank"] = (score * sign).groupby([frame["task"], frame["dataset"], frame["scenario"]]).rank(
        method="min").astype("Int64")
    return frame.sort_values(["task", "dataset", "rank", "model"], kind="stable").reset_index(drop=True)


def write_profile(directory: Path, name: str, records: Sequence[dict[str, Any]], extra: Sequence[str],
                  title: str, notes: Sequence[str] = ()) -> tuple[Path, Path, Path]:
    """``<name>.jsonl`` (one record per measurement, complete on its own), ``<name>.csv`` and ``<name>.md``."""
    directory.mkdir(parents=True, exist_ok=True)
    jsonl, csv, md = (directory / f"{name}{suffix}" for suffix in (".jsonl", ".csv", ".md"))
    jsonl.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records), encoding="utf-8")
    frame = profile_frame(records, extra)
    to_csv(frame, csv)
    write_text(md, markdown(frame, extra, title, notes))
    return jsonl, csv, md


def markdown(frame: pd.DataFrame, extra: Sequence[str], title: str, notes: Sequence[str]) -> str:
    """One table per measured quantity (``task``): its rows ordered by rank within each input."""
    lines = [f"# {title}", "", *notes, ""] if notes else [f"# {title}", ""]
    shown = ["dataset", "model", "mean", "std", "n", "rank", *[c for c in extra if c not in ("device",)]]
    for task, part in frame.groupby("task", sort=True):
        metric, direction = part["metric"].iloc[0], part["direction"].iloc[0]
        lines += [f"## {task}", "", f"{metric} ({'lower' if direction == 'min' else 'higher'} is better)", "",
                  "| " + " | ".join(shown) + " |", "| " + " | ".join("---" for _ in shown) + " |"]
        for row in part.to_dict("records"):
            lines.append("| " + " | ".join(_cell(row[c]) for c in shown) + " |")
        lines.append("")
    devices = sorted({str(d) for d in frame.get("device", pd.Series(dtype=str)).dropna()})
    if devices:
        lines += [f"Device: {', '.join(devices)}.", ""]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
