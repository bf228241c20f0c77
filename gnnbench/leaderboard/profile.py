"""Micro-benchmark results (``gnnbench profile kernels|loading``) as records and a leaderboard.

A profile row is a measurement, not a training run, but it is written in the leaderboard's stable schema so
that ``gnnbench compare`` and the HTML page read it like any other result: ``task`` names what was measured
(``kernel_gcn_forward``, ``loading_512B``), ``dataset`` the input (a graph size, a table size), ``model`` the
variant (a backend, a gather mode), ``mean``/``std``/``values`` the repeats, and ``rank`` orders the variants
within (task, dataset) by the column the row's ``metric`` names (a kernel's median ``ms``, a gather's ``gbps``
over its median time), not by ``mean``, which one slow repeat on a shared machine moves; a row without that
column is ranked by ``mean``. The profile's own columns follow (``docs/records.md``), then ``versions``, the
library versions of the measuring environment, and ``protocol``, the settings that shaped the measurement (seed,
warm-up and repeat counts; empty for records written before they were kept), so that ``compare`` names a changed
torch or warm-up beside a changed time.
"""

from __future__ import annotations

import importlib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gnnbench.errors import GnnbenchError
from gnnbench.leaderboard.aggregate import COLUMNS
from gnnbench.leaderboard.labels import natural_groups, natural_order, versions_label
from gnnbench.leaderboard.write import to_csv, write_text
from gnnbench.markdown import table as markdown_table
from gnnbench.settings import canonical_json


def profile_frame(rows: Sequence[dict[str, Any]], extra: Sequence[str]) -> pd.DataFrame:
    """The leaderboard table: stable columns, then ``extra``, ``versions`` and ``protocol`` (a JSON object, as in
    ``leaderboard.csv``); ranked within (task, dataset, scenario) by each row's median figure (module docstring)."""
    columns = [*COLUMNS, *extra, "versions", "protocol"]
    frame = pd.DataFrame([{**{c: row.get(c) for c in columns}, "kernel": _kernel(row),
                           "versions": versions_label(row.get("env", {})),
                           "protocol": canonical_json(row["protocol"]) if "protocol" in row else ""}
                          for row in rows], columns=columns)
    frame["scenario"] = frame["scenario"].fillna("none")
    frame["config"] = frame["config"].fillna("default")
    sign = frame["direction"].map({"max": -1.0, "min": 1.0})
    score = pd.Series([row.get(row.get("metric"), row.get("mean")) for row in rows], index=frame.index, dtype=float)
    frame["rank"] = (score * sign).groupby([frame["task"], frame["dataset"], frame["scenario"]]).rank(
        method="min").astype("Int64")
    return frame.sort_values(["task", "dataset", "rank", "model"], key=natural_order,
                             kind="stable").reset_index(drop=True)


def _kernel(row: dict[str, Any]) -> Any:
    """``auto:csr`` for the ``auto`` row of a kernel profile, as a suite's leaderboard names what ``auto`` chose,
    so that a filter on ``csr`` finds the backend's own row only."""
    return f"auto:{row['chosen']}" if row.get("backend") == "auto" and row.get("chosen") else row.get("kernel")


#: profile name -> the module that measures it and defines its tables (``EXTRA_COLUMNS``, ``TITLE``, ``notes``)
PROFILES = {"kernels": "gnnbench.kernels.profile", "loading": "gnnbench.loading.profile"}


class ProfileWriter:
    """``<name>.jsonl``, one record per measurement written as it is taken, so a crash, Ctrl-C or ``kill -9``
    loses none already measured; then ``<name>.csv`` and ``<name>.md`` from them (:meth:`finish`), and
    ``<name>.stopped`` saying why, when the profile ended early. The files of an earlier profile in ``directory``
    stay until the first new row, and go with it."""

    def __init__(self, directory: Path, name: str) -> None:
        """Makes ``directory`` now, before anything is measured: a long profile must not end in a folder it
        cannot write."""
        if name not in PROFILES:
            raise ValueError(f"no profile named {name!r} (profiles: {', '.join(PROFILES)})")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GnnbenchError(f"--out: cannot make the folder {directory}: {exc.strerror}") from None
        if not os.access(directory, os.W_OK):
            raise GnnbenchError(f"--out: cannot write in {directory}")
        self.name = name
        self.jsonl, self.csv, self.md, self.stopped_file = (
            directory / f"{name}{suffix}" for suffix in (".jsonl", ".csv", ".md", ".stopped"))
        self.records: list[dict[str, Any]] = []
        #: why the profile ended early (None: it ran to the end)
        self.stopped: str | None = None

    def add(self, record: dict[str, Any]) -> None:
        """Append ``record``; the first one replaces an earlier profile's files, the tables included, so that no
        old table stands beside the new records if this profile is killed before :meth:`finish`."""
        if not self.records:
            for file in (self.csv, self.md, self.stopped_file):
                file.unlink(missing_ok=True)
        with self.jsonl.open("a" if self.records else "w", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
        self.records.append(record)

    @classmethod
    def reopened(cls, directory: Path, name: str) -> ProfileWriter:
        """The writer of a profile already in ``directory``, its records read back: its tables rebuilt by
        :meth:`finish` are those of the records alone (``gnnbench leaderboard`` on a profile folder)."""
        writer = cls(directory, name)
        text = writer.jsonl.read_text(encoding="utf-8")
        lines = text.split("\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                writer.records.append(json.loads(line))
            except ValueError:
                if number == len(lines):  # no newline after it: the row a kill cut short, as runs.jsonl's
                    warnings.warn(f"{writer.jsonl}:{number}: skipping a torn last line", stacklevel=2)
                    continue
                raise GnnbenchError(f"{writer.jsonl}:{number}: not a JSON record") from None
        if writer.stopped_file.exists():
            writer.stopped = writer.stopped_file.read_text(encoding="utf-8").strip()
        return writer

    def finish(self, stopped: str | None = None) -> tuple[Path, Path, Path]:
        """The tables of the records written so far; ``stopped`` says why a profile ended early, atop them (and
        in ``<name>.stopped``, so that tables rebuilt later say it too)."""
        if not self.records:
            self.jsonl.write_text("", encoding="utf-8")
        self.stopped = stopped or self.stopped
        if self.stopped:
            write_text(self.stopped_file, self.stopped + "\n")
        tables = importlib.import_module(PROFILES[self.name])
        frame = profile_frame(self.records, tables.EXTRA_COLUMNS)
        to_csv(frame, self.csv)
        head = []
        if self.stopped:
            head = [f"**Incomplete:** stopped after {len(self.records)} rows by {self.stopped}.", ""]
        write_text(self.md, markdown(frame, tables.EXTRA_COLUMNS, tables.TITLE, [*head, *tables.notes(self.records)]))
        return self.jsonl, self.csv, self.md


def markdown(frame: pd.DataFrame, extra: Sequence[str], title: str, notes: Sequence[str]) -> str:
    """One table per measured quantity (``task``): its rows ordered by rank within each input."""
    lines = [f"# {title}", "", *notes, ""] if notes else [f"# {title}", ""]
    peaks = ["peak_mem_mb"] if frame["peak_mem_mb"].notna().any() else []  # kernels measure it, gathers do not
    shown = ["dataset", "model", "mean", "std", "n", "rank", *[c for c in extra if c not in ("device",)], *peaks]
    for task, part in natural_groups(frame, "task"):
        metric, direction = part["metric"].iloc[0], part["direction"].iloc[0]
        lines += [f"## {task}", "", f"{metric} ({'lower' if direction == 'min' else 'higher'} is better)", "",
                  *markdown_table(shown, [[_cell(row[c]) for c in shown] for row in part.to_dict("records")]), ""]
    devices = sorted({str(d) for d in frame.get("device", pd.Series(dtype=str)).dropna()})
    if devices:
        lines += [f"Device: {', '.join(devices)}.", ""]
    environments = sorted({str(v) for v in frame.get("versions", pd.Series(dtype=str)).dropna() if v})
    if environments:  # threads and the heap setting move these times as much as the machine does
        lines += [f"Environment: {' | '.join(environments)}.", ""]
    protocols = sorted({p for p in frame["protocol"] if p})  # none in records written before it was kept
    if protocols:
        settings = [", ".join(f"{k}={v}" for k, v in json.loads(p).items()) for p in protocols]
        lines += [f"Protocol: {' | '.join(settings)}.", ""]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
