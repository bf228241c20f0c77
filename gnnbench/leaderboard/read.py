"""A leaderboard CSV read back for ``compare``: required columns, numbers, per-seed values that agree with the
mean, and older or hand-made CSVs' missing columns; every error names the file, the line and the column."""

from __future__ import annotations

import csv
import json
import math
import re
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gnnbench.errors import GnnbenchError, quoted
from gnnbench.harness.store import RUNS_FILE, RunStore
from gnnbench.leaderboard.aggregate import leaderboard_frame, runs_frame
from gnnbench.leaderboard.labels import ALL_EPOCHS
from gnnbench.units import AS_RECORDED, UNITS, unit_by_name

KEYS = ["task", "dataset", "model", "config", "scenario", "metric"]
REQUIRED = [*KEYS, "direction", "mean", "n"]
#: Columns used when present (older or hand-made CSVs may lack them): per-seed values, seeds, failed runs, the
#: grid's size, the model's size, environment, hyperparameters, protocol, a kernel profile's distinct edges, plugin
#: sources, what epoch_load_s averages, the runs' median speed probe and its workload, the feature loading mode that
#: ran.
OPTIONAL = ["values", "seeds", "failed", "configs_failed", "configs_tried", "params", "device", "kernel", "heap",
            "versions", "hparams", "protocol", "n_edges", "sources", "epoch_load_over", "speed_probe_ms",
            "speed_probe_workload", "load_mode"]
#: Optional columns whose empty cell says something: the row's runs loaded no features (a full-batch model). A CSV
#: without the column (written before it) reads None there instead, unknown, as ``compare`` tells them apart; but
#: ``epoch_load_over`` is filled in from ``epoch_load_s`` where a CSV has that (every epoch, or nothing loaded).
LOADING = ("epoch_load_over", "load_mode")
#: One entry of a ``seeds`` cell: an integer, perhaps padded by spaces (of at most 18 digits: seeds go up to
#: 4294967295, and Python reads no integer of more than 4,300 digits from text)
SEED = re.compile(r" *-?[0-9]{1,18} *")
#: The headline figures ``gnnbench profile`` rows name in ``metric``, each a column of their CSV: a kernel's
#: median ``ms`` (``kernels.csv``), a gather's ``gbps`` (``loading.csv``).
HEADLINES = ("ms", "gbps")
#: Cost columns that can be compared instead of the test metric (lower is better; no per-seed values).
COSTS = ("epoch_time_s", "peak_mem_mb", "epoch_load_s")
#: The columns of a kernel profile (``kernels.csv``) that say which graph a row measured: its distinct edges.
GRAPH = ["n_nodes", "n_edges", "features"]


def read_leaderboard(path: Path, column: str = "mean", keys: list[str] = KEYS) -> pd.DataFrame:
    """A leaderboard CSV with its required columns checked; errors name the file and the column.

    ``column`` is what is compared: ``mean`` (the test metric), or a cost column (:data:`COSTS`), which then
    takes the place of the metric with direction ``min``. ``keys`` must identify a row.
    """
    if not path.is_file():
        named_folder = path.name == "leaderboard.csv"  # the CSV a folder argument stands for
        others = sorted(p.name for p in path.parent.glob("*.csv")) if named_folder else []
        suites = sorted(p.parent.name for p in path.parent.glob("*/leaderboard.csv")) if named_folder else []
        hint = ""
        if (path.parent / RUNS_FILE).is_file():
            hint = f" (its records are there: gnnbench leaderboard {path.parent} writes it)"
        elif others:
            hint = f" (the folder has {', '.join(others)}: pass one)"
        elif suites:
            hint = f" (a results root? pass one of its suite folders, {path.parent}/SUITE: {', '.join(suites)})"
        raise GnnbenchError(f"{path}: no such leaderboard CSV{hint}")
    if path.name == RUNS_FILE or path.suffix == ".jsonl":  # records, not a table: pandas would call it a bad CSV
        table = path.parent / "leaderboard.csv" if path.name == RUNS_FILE else path.with_suffix(".csv")
        raise GnnbenchError(f"{path}: a records file, not a leaderboard CSV; pass the table built from it, {table} "
                            f"(gnnbench leaderboard {path.parent} rebuilds it)")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise GnnbenchError(f"{path}: not a readable CSV ({exc})") from None
    frame.index = _line_numbers(path, len(frame))  # errors name the file's line, blank lines counted
    missing = [c for c in dict.fromkeys([*REQUIRED, column]) if c not in frame.columns]
    if missing:
        if "val_mean" in frame.columns and "selected" in frame.columns:  # validation numbers only, by design
            older = f"; this is a grid.csv, which has no test metric: compare {path.with_name('leaderboard.csv')}"
        elif missing == [column]:
            older = f"; a leaderboard written before it had {column}{_rebuilt(path)}"
        elif len(frame.columns) == 1 and (separator := next((c for c in ";\t" if c in frame.columns[0]), None)):
            older = (f"; its header is one column, split by {separator!r}: a leaderboard CSV is comma-separated "
                     "(saved with another delimiter, by a spreadsheet's locale?)")
        else:
            older = ""
        raise GnnbenchError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(repr(c) for c in missing)} (a leaderboard CSV has {', '.join(REQUIRED)}, "
                            f"...){older}")
    if frame.empty:  # a gate on nothing would pass whatever B holds
        raise GnnbenchError(f"{path}: no rows, only a header; expected a leaderboard with rows to compare")
    for key in ("scenario", "config"):
        frame[key] = frame[key].replace("", "none" if key == "scenario" else "default")
    if "versions" not in frame.columns:  # looked up by the metric, before a cost column takes its place
        frame = _versions_from_records(frame, path)
    if "epoch_load_over" not in frame.columns and "epoch_load_s" in frame.columns:  # written when it averaged all
        frame = frame.assign(epoch_load_over=np.where(frame["epoch_load_s"] != "", ALL_EPOCHS, ""))
    if "unit" not in frame.columns:  # written before units were recorded
        frame = frame.assign(unit=frame["metric"].map(unit_by_name))
    if {"backend", "chosen", "kernel"} <= set(frame.columns):  # a kernel profile's auto row, before it read auto:csr
        old = (frame["backend"] == "auto") & (frame["chosen"] != "") & ~frame["kernel"].str.startswith("auto:")
        frame.loc[old, "kernel"] = "auto:" + frame.loc[old, "chosen"]
    if column != "mean":
        frame = frame.assign(mean=frame[column], metric=column, direction="min", unit=AS_RECORDED, values="")
    for line, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        if row.direction not in ("max", "min"):
            raise GnnbenchError(f"{path}: line {line}: column 'direction' is {quoted(row.direction)}; expected max or "
                                "min")
        if row.unit not in UNITS:
            raise GnnbenchError(f"{path}: line {line}: column 'unit' is {quoted(row.unit)}; expected fraction (a "
                                "metric in [0, 1], shown in percent) or empty (shown as recorded)")
    duplicated = frame.duplicated(keys, keep=False)
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise GnnbenchError(f"{path}: more than one row for {', '.join(f'{k}={first[k]}' for k in keys)}")
    out = frame.assign(**{c: None if c in LOADING else "" for c in OPTIONAL if c not in frame.columns})
    out["mean"] = _numbers(frame["mean"], path, "mean", infinite=True)  # a diverged seed's inf, as written
    out["mean_decimals"] = frame["mean"].map(written_decimals)  # what a mean without values is known to
    for name in ("n", "failed", "configs_failed", "configs_tried"):  # counts: what compare notes must be counts
        _counts(_numbers(out[name], path, name), out[name], path, name)
    for name in ("failed", "configs_failed", "configs_tried", "params"):  # notes compare them as text: 1.0 is 1
        out[name] = _whole(out[name])
    out["n"] = _numbers(frame["n"], path, "n")
    out["values"] = [_values(v, path, line) for line, v in zip(out.index, out["values"], strict=True)]
    counted = pd.Series([len(v) or math.nan for v in out["values"]], index=out.index)
    out["n"] = out["n"].fillna(counted)  # an empty n: the values say how many
    seeds: list[str] = []  # each cell checked and written as numbers
    for line, text, row in zip(out.index, frame["mean"], out.itertuples(index=False), strict=True):
        _check_values(row, text, path, line)
        seeds.append(_seeds(row, path, line))
    out["seeds"] = seeds
    if column == "mean":
        out = _headline(out, path)
    for name in ("hparams", "protocol"):
        out[name] = [_json_object(text, path, line, name) for line, text in zip(out.index, out[name], strict=True)]
    return out.reset_index(drop=True)


def kernel_profile(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` is a kernel profile read (``kernels.csv``): its rows say which graph they measured
    (:data:`GRAPH`)."""
    return set(GRAPH) <= set(frame.columns)


def graphs_paired(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leaderboards ``a`` and ``b`` read, where both are kernel profiles with each graph that a profile written
    before rows were named by the size asked for (:class:`~gnnbench.kernels.profile.GraphSize`) names by its
    distinct edges (``random-n2000-e19951-f64`` for ``2000:20000:64``) renamed as the other side names the one
    graph of its nodes, distinct edges and features that this side lacks: the same size drawn with the same seed,
    whose rows paired so before. Those records do not keep the size asked for, so the rows of another seed's
    graph stay unpaired (only in A, only in B), as they were."""
    if not (kernel_profile(a) and kernel_profile(b)):
        return a, b
    graphs = [dict(zip(side["dataset"], side[GRAPH].itertuples(index=False, name=None), strict=True))
              for side in (a, b)]  # label -> (nodes, distinct edges, features)
    renamed = []
    for side, own, other in ((a, *graphs), (b, *graphs[::-1])):
        unpaired: dict[tuple[str, ...], list[str]] = {}
        for label, graph in other.items():
            if label not in own:
                unpaired.setdefault(graph, []).append(label)
        older = {label: unpaired[graph][0] for label, graph in own.items() if label not in other
                 and label == "random-n{}-e{}-f{}".format(*graph) and len(unpaired.get(graph, ())) == 1}
        renamed.append(side.assign(dataset=side["dataset"].replace(older)))
    return renamed[0], renamed[1]


def _line_numbers(path: Path, rows: int) -> list[int]:
    """The file line each of the ``rows`` data rows starts on: pandas skips blank lines and reads a quoted line
    break as part of its cell, so a row's position + 2 would name the wrong line after either. Positions + 2
    where Python's csv reader finds another number of rows than pandas did (nothing to align them by)."""
    starts = []
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f)
        next(reader, None)  # the header
        start = reader.line_num + 1
        for fields in reader:
            if fields:  # a blank line reads as no fields
                starts.append(start)
            start = reader.line_num + 1
    return starts if len(starts) == rows else list(range(2, rows + 2))


def leaderboard_csv(path: str | Path) -> Path:
    """``path``, or the ``leaderboard.csv`` in it when it is a results folder (``results/<suite>``)."""
    path = Path(path)
    return path / "leaderboard.csv" if path.is_dir() else path


def _versions_from_records(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A CSV written before the ``versions`` column existed: a row takes the versions of the ``runs.jsonl``
    beside it only where those records reproduce it (its seeds, where the CSV has them, and its values, to their
    written digits), and a warning says so. A CSV from an earlier torch left beside newer records would otherwise
    borrow the new versions, and the upgrade vanish from ``compare``; the other rows' versions stay unknown."""
    records = RunStore(path.parent).latest(history=False)
    if not records or "values" not in frame.columns:
        return frame
    with warnings.catch_warnings():  # what the records hold is the leaderboard's to warn about, not compare's
        warnings.simplefilter("ignore")
        board = leaderboard_frame(runs_frame(records.values()))
    made = {tuple(str(v) for v in key): (seeds, values, versions)
            for *key, seeds, values, versions in board[[*KEYS, "seeds", "values", "versions"]].itertuples(index=False)}
    versions = []
    for line, row in zip(frame.index, frame.to_dict("records"), strict=True):
        key = tuple(row[k] for k in KEYS)
        versions.append(made[key][2] if key in made and _reproduced(row, *made[key][:2], path, line) else "")
    borrowed = sum(map(bool, versions))
    if borrowed:
        others = len(frame) - borrowed
        others = f"; {others} other row{'s' * (others > 1)}: versions unknown" if others else ""
        warnings.warn(f"{path} has no versions column: {borrowed} of its {len(frame)} rows take theirs from "
                      f"{path.parent / RUNS_FILE}, whose records reproduce their seeds and values{others}",
                      stacklevel=3)
    return frame.assign(versions=versions)


def _reproduced(row: dict[str, str], seeds: str, values: np.ndarray, path: Path, line: int) -> bool:
    """The records' seeds (where the CSV has the column) and values are the row's, the values to the sixth
    decimal the leaderboard writes them with."""
    written = _values(row["values"], path, line)
    return (row.get("seeds", seeds) == seeds and len(written) == len(values)
            and bool(np.allclose(written, values, rtol=0, atol=1e-6, equal_nan=True)))


def _rebuilt(path: Path) -> str:
    """``: `gnnbench leaderboard DIR` writes one from the records there`` where DIR, ``path``'s folder, holds
    records, so that a CSV of an older format can be rewritten; nothing where it holds none: the command would
    fail."""
    return (f": `gnnbench leaderboard {path.parent}` writes one from the records there"
            if (path.parent / RUNS_FILE).is_file() else "")


def _json_object(text: str, path: Path, line: int, column: str) -> dict[str, object] | list[dict] | None:
    """A ``hparams`` or ``protocol`` cell -> its JSON object, or the list of them of a row whose runs did not
    share one (:func:`~gnnbench.leaderboard.aggregate.settings_cell`); None when empty or absent (hand-made or
    older CSVs)."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not (isinstance(value, dict) or isinstance(value, list) and value and all(isinstance(v, dict) for v in value)):
        joined = (" (runs of several settings joined by ' | ', a format leaderboard.csv had briefly"
                  f"{_rebuilt(path)})") if " | " in text else ""
        raise GnnbenchError(f"{path}: line {line}: column '{column}' is {quoted(text)}; expected a JSON object (or a "
                            f"list of them){joined}")
    return value


def _numbers(column: pd.Series, path: Path, name: str, infinite: bool = False) -> pd.Series:
    """A column of numbers, empty cells NaN; ``infinite`` admits ``inf`` (a mean the leaderboard wrote for a
    metric that diverged on a seed)."""
    numbers = pd.to_numeric(column, errors="coerce")
    bad = (numbers.isna() & (column != "")) | (np.isinf(numbers) & (not infinite))
    if bad.any():
        text = column[bad].iloc[0]
        undefined = f" (leave it empty for an undefined {name})" if text.strip().lower() == "nan" else ""
        raise GnnbenchError(f"{path}: line {bad.idxmax()}: column {name!r} is {quoted(text)}; expected a "
                            f"{'' if infinite else 'finite '}number{undefined}")
    return numbers


def _counts(numbers: pd.Series, column: pd.Series, path: Path, name: str) -> None:
    """A count column holds whole numbers of at least 0 (or nothing)."""
    bad = numbers.notna() & ((numbers < 0) | (numbers != numbers.round()))
    if bad.any():
        raise GnnbenchError(f"{path}: line {bad.idxmax()}: column {name!r} is {quoted(column[bad].iloc[0])}; "
                            "expected a count (a whole number of at least 0)")


def _whole(column: pd.Series) -> pd.Series:
    """Cells holding a whole number written as one (``59366.0`` -> ``59366``, as pandas writes an int column
    with an empty cell), so that ``compare`` notes a changed count or model size, not a changed spelling; other
    cells as written."""
    numbers = pd.to_numeric(column, errors="coerce")
    whole = numbers.notna() & np.isfinite(numbers) & (numbers == numbers.round())
    return column.where(~whole, numbers[whole].astype("int64").astype(str))


def _seeds(row: Any, path: Path, line: int) -> str:
    """A row's ``seeds`` cell checked and written as numbers (``00;1`` and `` 0;1`` -> ``0;1``), split once: it
    names the seed of each value, in order: --paired pairs by it, and notes compare it. Integers in ASCII digits
    (``--1`` or ``²`` is none); empty stays empty."""
    if not row.seeds:
        return ""
    seeds = row.seeds.split(";")
    if not all(SEED.fullmatch(s) for s in seeds):
        raise GnnbenchError(f"{path}: line {line}: column 'seeds' is {quoted(row.seeds)}; expected integers "
                            "separated by ';'")
    if len(row.values) and len(seeds) != len(row.values):
        raise GnnbenchError(f"{path}: line {line}: column 'seeds' names {len(seeds)} seeds but 'values' holds "
                            f"{len(row.values)}")
    return ";".join(str(int(s)) for s in seeds)


def _values(text: str, path: Path, line: int) -> np.ndarray:
    """``0.8;0.81`` -> array; ``nan`` is a value (a metric undefined on that seed), an empty entry is not."""
    if not text:
        return np.array([], dtype=float)
    try:
        values = np.array([float(v) for v in text.split(";")], dtype=float)  # float("") raises
    except ValueError:
        values = None
    if values is None:
        raise GnnbenchError(f"{path}: line {line}: column 'values' is {quoted(text)}; expected numbers (nan for a "
                            "metric undefined on a seed, inf for one that diverged) separated by ';'")
    return values


def written_decimals(text: str) -> float:
    """The decimals a number is written to (``0.808`` 3, ``8.08e-01`` 3, ``3.33333e-05`` 10, ``8e1`` -1), which
    :func:`mean_tolerance` reads; NaN for an empty or infinite cell."""
    number = Decimal(text.strip()) if text.strip() else Decimal("NaN")
    return float(-number.as_tuple().exponent) if number.is_finite() else math.nan


def mean_tolerance(values: np.ndarray, decimals: float, values_rounding: float | None = None) -> float:
    """How far a mean written to ``decimals`` may lie from the mean of finite ``values`` and still be theirs as
    written: half a unit of its last digit, its own rounding, plus what rounding the values moved their mean by
    (``values_rounding``; by default half a unit of the same digit, as a row's own mean and values are rounded
    apart), or the float error of summing them in another order (a mean written with all its digits), but no more
    than 1% of the largest value's size (at least 1e-6) whatever its digits: a mean written as 0 for values
    averaging 0.45 would hide any change."""
    scale, half = float(np.max(np.abs(values))), 0.5 * 10.0 ** -decimals
    summed = len(values) * float(np.finfo(float).eps) * scale  # sum(v) / n against np.mean(v)
    rounded = half + (half if values_rounding is None else values_rounding)
    return min(max(rounded, summed), max(0.01 * scale, 1e-6))


def _check_values(row: Any, mean_text: str, path: Path, line: int) -> None:
    """A row's ``n`` and ``mean`` must be those of its per-seed ``values``, which the test and the interval use:
    a hand-edited mean would otherwise show one change and test another. ``mean`` is empty when a value is NaN,
    as the leaderboard writes it, and within :func:`mean_tolerance` of the values' mean otherwise. An infinite
    mean must be the values'."""
    values = row.values
    if not len(values):
        return
    if not math.isnan(row.n) and row.n != len(values):
        raise GnnbenchError(f"{path}: line {line}: column 'n' is {row.n:g} but 'values' holds {len(values)}")
    expected = float(np.mean(values))
    if not (math.isfinite(expected) and math.isfinite(row.mean)):
        agree, tolerance = expected == row.mean or math.isnan(expected) and math.isnan(row.mean), 0.0
    else:
        tolerance = mean_tolerance(values, written_decimals(mean_text))
        agree = abs(row.mean - expected) <= tolerance
    if not agree and not mean_text.strip():  # no number to agree: said so, not as a mean of 'empty' to 0 digits
        raise GnnbenchError(f"{path}: line {line}: column 'mean' is empty but 'values' holds {len(values)} values, "
                            f"whose mean is {expected:.6g}; expected that mean (the leaderboard leaves 'mean' empty "
                            "only where a value is NaN)")
    if not agree:
        raise GnnbenchError(f"{path}: line {line}: column 'mean' is {quoted(mean_text)} but the mean of 'values' "
                            f"is {expected:.6g}; expected them to agree to {tolerance:.2g} (one unit of the mean's "
                            "last written digit, at most 1% of the values' size; a NaN value leaves 'mean' empty)")


def _headline(out: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A profile row (``gnnbench profile``) names its headline figure in ``metric``: a kernel's median ``ms``, a
    gather's ``gbps``, a column of the row, which is what its rank and the profile report. That figure is compared
    instead of the mean of the repeats, without a test: the test would be on means. A profile's metric
    (:data:`HEADLINES`) without its column is an error, not a quiet comparison of the means."""
    lacking = out["metric"].isin(HEADLINES) & ~out["metric"].isin(out.columns)
    if lacking.any():
        line, metric = lacking.idxmax(), out.loc[lacking, "metric"].iloc[0]
        raise GnnbenchError(f"{path}: line {line}: metric is {metric!r}, a profile's headline figure, but there is "
                            f"no column {metric!r}; expected it beside the repeats, whose mean a profile does not "
                            "compare")
    extra = set(out.columns) - {*REQUIRED, *OPTIONAL}
    named = out["metric"].isin(extra)
    if named.any():
        figures = pd.Series([out.at[i, m] if m in extra else "" for i, m in out["metric"].items()], index=out.index)
        metrics = "/".join(sorted(set(out.loc[named, "metric"])))
        out.loc[named, "mean"] = _numbers(figures, path, metrics)[named]
        out.loc[named, "mean_decimals"] = figures[named].map(written_decimals)
        out.loc[named, "values"] = pd.Series([np.array([], dtype=float)] * int(named.sum()), index=out.index[named])
    return out
