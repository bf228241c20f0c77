"""Records -> leaderboard tables (pandas), with the selection rules of ``shared`` protocols.

* one row per run (:func:`runs_frame`) from the latest record of each run_id;
* per configuration (:func:`grid_frame`): validation mean/std and n, never a test number, so the grid view
  cannot be used to pick on test;
* per (task, dataset, model, scenario) (:func:`leaderboard_frame`): the configuration with the best mean
  validation metric, and the test metric of that configuration as mean, std (ddof = 1), n and per-seed values;
  ranks within (task, dataset, scenario) by that mean in the metric's direction. Under cross-validation
  (records whose ``split`` is ``cv(...)``: the seed is the fold) each fold selects its own configuration on its
  own validation holdout, as Errica et al. do: another fold's holdout holds this fold's test graphs, so a mean
  over folds would let them choose the configuration this fold reports with.

A metric can be NaN legitimately (roc_auc on a one-class split, an empty split). Means are taken without
skipping NaN, so one such seed makes a configuration's mean NaN rather than a mean of the other seeds under an
``n`` that counts all: a NaN validation mean is selected only when no configuration of the row is finite on
every seed, and a NaN test mean is left unranked (``rank`` None).
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from gnnbench.harness.spec import label_names
from gnnbench.leaderboard.labels import (
    distinct_plugin_files,
    heap_label,
    kernel_label,
    label_items,
    load_over_label,
    natural_order,
    row_key,
    setting_differences,
    settings_cell,
    sources_label,
    versions_label,
)
from gnnbench.natural import natural_key
from gnnbench.settings import canonical_json, described, differing, flatten
from gnnbench.units import shown_unit, unit_by_name

#: The first columns of leaderboard.csv, in this order (a stable schema other tools parse).
COLUMNS = ["suite", "task", "dataset", "model", "config", "scenario", "metric", "direction", "mean", "std", "n",
           "values", "val_mean", "params", "epoch_time_s", "peak_mem_mb", "kernel", "rank"]
EXTRA_COLUMNS = ["val_std", "seeds", "configs_tried", "failed", "best_epoch_mean", "device", "hparams", "protocol",
                 "versions", "epoch_load_s", "epoch_load_share", "configs_failed", "heap", "sources", "unit",
                 "epoch_load_over", "speed_probe_ms", "speed_probe_workload", "load_mode"]
ROW_KEYS = ["task", "dataset", "model", "scenario"]
#: Means closer than this, relatively, are equal. Per-seed metrics are float32 values (an accuracy of 0.7 is
#: recorded as 0.699999988), so equal sums of fractions reached on other seeds give means some 1e-8 apart.
TIE_TOLERANCE = 1e-6
#: The protocol a run's spec sets besides its row, hyperparameters and seed: the task's options and the budget.
PROTOCOL_KEYS = ("task_options", "epochs", "patience")
GROUP_KEYS = ["task", "dataset", "scenario"]
#: More configurations than this warned about for one cause are told in one line (:func:`summarised`), which
#: names :data:`ALIKE_EXAMPLES` of them; up to this many, each in its own.
ALIKE_SHOWN = 5
ALIKE_EXAMPLES = 3


class ConfigurationWarning(UserWarning):
    """A warning about one configuration that many may share the cause of (records of an earlier suite file left in
    the folder: one per configuration of a grid, hundreds): ``where`` names the configuration, ``cause`` says what
    is amiss in words true of each, for :func:`summarised` to say once for many."""

    def __init__(self, where: str, text: str, cause: str) -> None:
        super().__init__(f"{where}: {text}")
        self.where, self.cause = where, cause


def runs_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per run: identity, seed, selected-epoch val/test metric, cost. Failed runs have status 'failed'."""
    rows = []
    for r in records:
        spec = r["spec"]
        row = {
            "run_id": r["run_id"], "status": r["status"], "suite": spec.get("suite", ""),
            **dict(zip(("task", "dataset", "model", "config", "scenario"), row_key(r), strict=True)),
            "seed": spec["seed"], "kernel": kernel_label(r), "metric": r.get("metric"), "direction": r.get("direction"),
            "unit": r["unit"] if "unit" in r else unit_by_name(r.get("metric")),
            "versions": versions_label(r.get("env", {})),
            "sources": sources_label(r),
            "hparams": canonical_json(spec.get("hparams", {})),
            "effective_hparams": canonical_json(r.get("effective_hparams", {})),
            "protocol": canonical_json({k: spec.get(k) for k in PROTOCOL_KEYS}),
        }
        if r["status"] == "ok":
            metric, probe = r["metric"], r.get("env", {}).get("speed_probe", {})
            row.update(
                cv=str(r.get("split", "")).startswith("cv("), test=r["metrics"]["test"][metric],
                val=r["metrics"]["val"][metric], val_loss=r["metrics"]["val"].get("loss", np.nan),
                params=r.get("params"), epoch_time_s=r.get("epoch_time_s"),
                peak_mem_mb=r.get("memory", {}).get("peak_mb"), best_epoch=r.get("best_epoch"),
                device=r.get("env", {}).get("device_name") or "",
                heap=heap_label(r.get("env", {})),
                load_s=r.get("loading", {}).get("epoch_load_s", np.nan),  # models gathering from a feature store
                load_share=r.get("loading", {}).get("epoch_load_share", np.nan), load_over=load_over_label(r),
                load_mode=r.get("loading", {}).get("mode", ""),  # what ran: load_mode auto names no mode
                probe_ms=probe.get("ms", np.nan), probe_workload=probe.get("workload", ""),
            )
        rows.append(row)
    return pd.DataFrame(rows)


def grid_frame(runs: pd.DataFrame, row_keys: list[str] = ROW_KEYS) -> pd.DataFrame:
    """Per configuration: validation mean/std, n, and whether selection chose it (no test metric here).

    ``row_keys`` are the columns one selection is made within (a leaderboard row); the configuration is
    chosen among the rows' configurations.
    """
    ok = _ok(runs)
    config_keys = [*row_keys, "config"]
    failed = runs[runs["status"] != "ok"].groupby(config_keys, sort=False).agg(
        failed=("status", "size"), metric=("metric", "first"), direction=("direction", "first"),
        unit=("unit", "first"))
    if ok.empty:
        empty = pd.DataFrame(columns=[*config_keys, "metric", "direction", "unit", "val_mean", "val_std", "n", "failed",
                                      "selected"])
        return _with_failed_configs(empty, failed, config_keys)
    configs = ok.groupby(config_keys, sort=False)  # in natural order at the end; selection reads no row order
    grid = configs.agg(metric=("metric", "first"), direction=("direction", "first"), unit=("unit", "first"),
                       n=("val", "size")).reset_index()
    # each configuration's validation values as an array, reduced by NumPy as a per-group lambda did, at a fraction
    # of pandas' cost per group (the mean: Series.mean(skipna=False)'s sum and division)
    val, positions = ok["val"].to_numpy(dtype=float), configs.indices
    vals = [val[positions[key]] for key in grid[config_keys].itertuples(index=False, name=None)]
    grid.insert(grid.columns.get_loc("n"), "val_mean", [v.mean() for v in vals])
    grid.insert(grid.columns.get_loc("n"), "val_std", [spread(v) for v in vals])
    grid["selected"] = False
    failed_of = failed["failed"].to_dict()  # a MultiIndex's lookup per key goes through its levels
    grid["failed"] = [int(failed_of.get(key, 0)) for key in grid[config_keys].itertuples(index=False, name=None)]
    grid.loc[_selected_index(grid, row_keys), "selected"] = True
    for row, runs_of_row in ok.groupby(row_keys, sort=False):  # cross-validation: chosen by at least one fold
        if runs_of_row["cv"].all():
            mine = (grid[row_keys] == pd.Series(row, index=row_keys)).all(axis=1)
            grid.loc[mine, "selected"] = grid.loc[mine, "config"].isin(set(_chosen_per_fold(runs_of_row)["config"]))
    return _with_failed_configs(grid, failed, config_keys)


def _with_failed_configs(grid: pd.DataFrame, failed: pd.DataFrame, config_keys: list[str]) -> pd.DataFrame:
    """``grid`` with a row (``n`` 0, no validation mean, never selected; the metric its failed records name) for
    every configuration whose every run failed: it was tried, and a crash at some setting (out of memory at the
    widest layer) is what a grid should show. ``failed``: per configuration, its failed runs and their metric."""
    known = set(grid[config_keys].itertuples(index=False, name=None))
    lost = failed[[key not in known for key in failed.index]]
    extra = lost.reset_index().assign(n=0, selected=False)
    grid = pd.concat([grid, extra], ignore_index=True) if len(lost) else grid
    order = [c for c in grid.columns if c != "selected"] + ["selected"]
    return grid.sort_values(config_keys, key=natural_order, kind="stable").reset_index(drop=True)[order]


def leaderboard_frame(runs: pd.DataFrame, row_keys: list[str] = ROW_KEYS, grid: pd.DataFrame | None = None
                      ) -> pd.DataFrame:
    """One row per ``row_keys`` (task, dataset, model, scenario): the validation-selected configuration's
    test results. Extra ``row_keys`` (e.g. a depth) are kept as columns after the schema's. ``grid``: the
    :func:`grid_frame` of ``runs`` and ``row_keys``, where the caller has it already."""
    extra_keys = [k for k in row_keys if k not in ROW_KEYS]
    columns = COLUMNS + EXTRA_COLUMNS + extra_keys
    grid = grid_frame(runs, row_keys) if grid is None else grid
    config_keys = [*row_keys, "config"]
    ok = _ok(runs)
    # positions of each configuration's and row's runs: only the selected ones' are taken as frames
    runs_of, rows_of = ok.groupby(config_keys).indices, ok.groupby(row_keys).indices
    every_run_of = runs.groupby(row_keys).indices  # a failed run counts in ``failed`` too
    # per row, as dicts: a MultiIndex's lookup per key goes through its levels
    failed_in_row = grid.groupby(row_keys)["failed"].sum().to_dict()
    tried = grid.groupby(row_keys).size().to_dict()
    lost = grid[grid["n"] == 0].groupby(row_keys).size().to_dict()  # configurations whose every run failed
    _warn_mixed_columns(ok, [*GROUP_KEYS, *extra_keys])
    rows = []
    for sel in grid[grid["selected"]].drop_duplicates(row_keys).itertuples(index=False):
        key = tuple(getattr(sel, k) for k in config_keys)
        group = ok.iloc[runs_of[key]].sort_values("seed")
        config, hparams, val_mean, val_std = sel.config, settings_cell(group["hparams"]), sel.val_mean, sel.val_std
        n_failed = int(sel.failed)
        plugin_files: dict[str, list[dict[str, object]]] = {}  # configuration -> its runs' plugin file versions
        for label, part in runs.iloc[every_run_of[key[:-1]]].groupby("config"):  # the selection compares them all
            plugin_files[label] = distinct_plugin_files(label_items(sources) for sources in part["sources"])
            _warn_mixed_runs(sel, label, part, plugin_files[label])
            _warn_effective_hparams(sel, label, part)
        _warn_mixed_versions(sel, plugin_files)
        if (row := ok.iloc[rows_of[key[:-1]]])["cv"].all():  # each fold chose its own configuration
            group = _chosen_per_fold(row)
            config, hparams = _per_fold_label(group)
            val = group["val"].to_numpy(dtype=float)
            val_mean, val_std = val.mean(), spread(val)
            n_failed = int(failed_in_row.get(key[:-1], 0))  # any configuration's failure could change a fold's
        _warn_mixed_costs(sel, config, group)
        test = group["test"].to_numpy(dtype=float)
        rows.append({**{k: getattr(sel, k) for k in extra_keys},
            "suite": ";".join(sorted(set(group["suite"]))), "task": sel.task, "dataset": sel.dataset,
            "model": sel.model, "config": config, "scenario": sel.scenario, "metric": sel.metric,
            "direction": sel.direction, "unit": sel.unit, "mean": test.mean(),
            "std": spread(test), "n": len(test), "values": test, "val_mean": val_mean,
            "params": int(group["params"].dropna().iloc[0]) if group["params"].notna().any() else None,
            "epoch_time_s": group["epoch_time_s"].mean(), "peak_mem_mb": group["peak_mem_mb"].mean(),
            "kernel": ";".join(sorted(set(group["kernel"]))), "val_std": val_std,
            "seeds": ";".join(str(s) for s in group["seed"]),
            "configs_tried": int(tried[key[:-1]]),
            "failed": n_failed, "best_epoch_mean": group["best_epoch"].mean(),
            "device": ";".join(sorted(set(group["device"]))), "heap": ";".join(sorted(set(group["heap"]))),
            "hparams": hparams,
            "protocol": settings_cell(group["protocol"]),
            "versions": " | ".join(sorted(set(group["versions"]))),
            "sources": " | ".join(sorted(set(group["sources"]) - {""})),
            "configs_failed": int(lost.get(key[:-1], 0)), **_loading_cells(sel, config, group),
            **_probe_cells(group),
        })
    rows += _all_failed_rows(runs, grid, row_keys, columns, tried)
    if not rows:
        return pd.DataFrame(columns=columns)
    board = pd.DataFrame(rows)
    board["rank"] = _ranks(board, [*GROUP_KEYS, *extra_keys])
    board = board.sort_values([*GROUP_KEYS, *extra_keys, "rank", "model"], key=natural_order,
                              kind="stable").reset_index(drop=True)
    return board[columns]


def _all_failed_rows(runs: pd.DataFrame, grid: pd.DataFrame, row_keys: list[str], columns: list[str],
                     tried: dict[tuple, int]) -> list[dict[str, Any]]:
    """A row (``n`` 0, no mean, unranked, its failures counted) for every leaderboard row whose every run failed:
    a model that crashed everywhere belongs in the table as a failure, not out of it. Its metric is the one its
    failed records name (records made before failed ones named it give no row). ``tried``: the configurations
    of each row."""
    selected = set(grid.loc[grid["selected"], row_keys].itertuples(index=False, name=None))
    rows = []
    for key, group in runs[runs["status"] != "ok"].groupby(row_keys, sort=True):
        named = group[group["metric"].notna()]
        if key in selected or named.empty:
            continue
        configs = sorted(set(group["config"]))
        one = len(configs) == 1
        rows.append({**dict.fromkeys(columns, np.nan), **dict(zip(row_keys, key, strict=True)),
                     "suite": ";".join(sorted(set(group["suite"]))), "config": configs[0] if one else "none selected",
                     "metric": named["metric"].iloc[0], "direction": named["direction"].iloc[0],
                     "unit": named["unit"].iloc[0], "n": 0,
                     "values": np.array([]), "params": None, "kernel": ";".join(sorted(set(group["kernel"]))),
                     "seeds": "", "configs_tried": int(tried[key]), "configs_failed": int(tried[key]),
                     "failed": len(group), "device": "", "heap": "", "load_mode": "",
                     "hparams": settings_cell(group["hparams"]) if one else "",
                     "protocol": settings_cell(group["protocol"]),
                     "versions": " | ".join(sorted(set(group["versions"]) - {""})),
                     "sources": " | ".join(sorted(set(group["sources"]) - {""}))})
    return rows


def summarised(caught: Iterable[warnings.WarningMessage]) -> list[tuple[Warning, type[Warning]]]:
    """The messages and categories of ``caught``, but a :class:`ConfigurationWarning` whose cause more than
    :data:`ALIKE_SHOWN` configurations share told once for all, where the first was, naming a few: a folder
    holding records of an earlier suite file warns of each configuration it shares, hundreds of lines that would
    bury the other warnings, and the notice after them that ``gnnbench prune`` sets such records aside."""
    caught = list(caught)
    alike: dict[str, dict[str, None]] = {}  # cause -> the configurations it names, in order
    for w in caught:
        if isinstance(w.message, ConfigurationWarning):
            alike.setdefault(w.message.cause, {})[w.message.where] = None
    told: list[tuple[Warning, type[Warning]]] = []
    said: set[str] = set()  # the causes told for all
    for w in caught:
        cause = w.message.cause if isinstance(w.message, ConfigurationWarning) else None
        if cause is None or len(alike[cause]) <= ALIKE_SHOWN:
            told.append((w.message, w.category))
        elif cause not in said:
            said.add(cause)
            where = list(alike[cause])
            told.append((UserWarning(f"{len(where)} configurations: {cause}; e.g. "
                                     f"{', '.join(where[:ALIKE_EXAMPLES])} and {len(where) - ALIKE_EXAMPLES} more"),
                         UserWarning))
    return told


def tied(values: ArrayLike) -> np.ndarray:
    """``values`` with each one that lies within TIE_TOLERANCE of the smallest of its run (in sorted order)
    replaced by that smallest one, so that equal means compare equal: to share a rank, or to reach a selection's
    tie-break. Give it only values compared with each other (one leaderboard group, one dataset). NaN stays."""
    array = np.asarray(values, dtype=float)
    out = array.ravel().copy()
    start = np.nan
    for i in np.argsort(out, kind="stable"):  # NaN sorts last
        if np.isnan(out[i]):
            break
        if not close(out[i], start):
            start = out[i]
        out[i] = start
    return out.reshape(array.shape)


def spread(values: np.ndarray) -> float:
    """The standard deviation over seeds (ddof = 1); NaN for one seed, and for a value that is NaN or inf (a
    metric undefined or diverged on a seed: there is no spread to give, and NumPy would warn on inf); exactly 0
    for seeds of one value, where NumPy's mean can leave a residue of 1e-17."""
    if len(values) < 2 or not np.isfinite(values).all():
        return math.nan
    return 0.0 if np.ptp(values) == 0 else float(np.std(values, ddof=1))


def close(a: float, b: float) -> bool:
    """Equal within :data:`TIE_TOLERANCE`, relatively."""
    return bool(a == b or (np.isfinite(a) and np.isfinite(b) and abs(a - b) <= TIE_TOLERANCE * max(abs(a), abs(b))))


def _ranks(board: pd.DataFrame, rank_keys: list[str]) -> pd.Series:
    """1 = best within ``rank_keys`` in the metric's direction, ties sharing the better rank. A row with a failed
    run ranks after every row without one, as a configuration does in selection: its mean leaves out the seeds
    where it failed, so it would win by losing its worst seeds (under cross-validation a failure of any
    configuration counts: it could have changed a fold's choice). A NaN mean is unranked (None)."""
    groups = [board[k] for k in rank_keys]
    signed = pd.Series(np.where(board["direction"] == "max", -board["mean"], board["mean"]), index=board.index)
    signed = signed.groupby(groups).transform(tied).to_numpy()
    incomplete = board["failed"].to_numpy() > 0
    def among(rows: np.ndarray) -> pd.Series:
        return pd.Series(np.where(rows, signed, np.nan)).groupby(groups).rank(method="min")

    ahead = pd.Series(~incomplete & ~np.isnan(signed)).groupby(groups).transform("sum")
    ranks = among(~incomplete).fillna(among(incomplete) + ahead)
    return pd.Series([None if np.isnan(r) else int(r) for r in ranks], dtype=object)


def _ok(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] == "ok"]


def _warn_mixed_runs(sel: Any, config: str, runs: pd.DataFrame, sources: list[dict[str, object]]) -> None:
    """Runs under the configuration label ``config`` that are not one configuration's seeds: a seed recorded twice,
    runs made with other settings (records made under other defaults, or by another suite writing the same folder),
    or with other versions of a plugin file (``sources``: the :func:`distinct_plugin_files` of ``runs``). The row
    still counts them all."""
    problems = []  # read as plain lists: this runs for every configuration of every row
    repeated = sorted(seed for seed, count in Counter(runs["seed"].tolist()).items() if count > 1)
    if repeated:
        problems.append(f"seed{'s' * (len(repeated) > 1)} {', '.join(map(str, repeated))} recorded by more than one "
                        "run")
    settings = set(zip(runs["protocol"], runs["hparams"], strict=True))
    if len(settings) > 1:
        problems.append(f"runs made with different settings ({setting_differences(settings)})")
    guess = " (records made under other defaults or an earlier version of the suite file?)" if problems else ""
    units = sorted({unit for metric, unit in zip(runs["metric"], runs["unit"], strict=True)
                    if pd.notna(metric)})  # an old failed record names no metric
    if len(units) > 1:  # a task that changed its unit: the row is shown in its first record's
        problems.append(f"runs recorded in different units ({' vs '.join(map(shown_unit, units))})")
    if len(sources) > 1:
        problems.append(f"runs made with {len(sources)} versions of their plugin files "
                        f"({', '.join(differing(sources))})")
    if problems:
        shared = ["seeds recorded by more than one run", *problems[1:]] if repeated else problems  # seeds: its own
        prune = "until `gnnbench prune` sets the old ones aside"
        scenario = "" if sel.scenario == "none" else f" under {sel.scenario}"  # else rows of scenarios read alike
        warnings.warn(ConfigurationWarning(f"{sel.task} {sel.dataset} {sel.model} ({config}){scenario}",
                                           f"{'; '.join(problems)}{guess}; the row uses them all {prune}",
                                           f"{'; '.join(shared)}{guess}; their rows use them all {prune}"),
                      stacklevel=3)


def _warn_mixed_versions(sel: Any, plugin_files: dict[str, list[dict[str, object]]]) -> None:
    """A row whose configurations were made with different versions of a plugin file (a grid extended after the
    file was edited): its selection then compares code as well as hyperparameters. ``plugin_files``: per
    configuration of the row, the :func:`distinct_plugin_files` of its runs. A configuration that mixes versions
    itself is :func:`_warn_mixed_runs`'s; configurations whose records name no plugin file (gnnbench's own parts,
    records made before records named their files) are left out."""
    made_with = {config: files for config, files in plugin_files.items() if files}
    if len({frozenset(map(canonical_json, files)) for files in made_with.values()}) < 2:
        return
    versions = distinct_plugin_files(files for per_config in made_with.values() for files in per_config)
    parts = differing(versions)
    by_version = "; ".join(
        " ".join(f"{part}={version[part]}" if part in version else f"no {part} file" for part in parts) + ": "
        + ", ".join(sorted((c for c, files in made_with.items() if version in files), key=natural_key))
        for version in versions)
    warnings.warn(f"{sel.task} {sel.dataset} {sel.model}: its configurations were made with {len(versions)} versions "
                  f"of their plugin files ({by_version}), so selecting among them compares code, not only "
                  "hyperparameters, until `gnnbench prune` sets the old ones aside", stacklevel=3)


def _warn_effective_hparams(sel: Any, config: str, runs: pd.DataFrame) -> None:
    """The runs of the configuration label ``config`` whose label names a hyperparameter their model ran with
    another value of (its records' ``effective_hparams``: ForwardGNN-FF's ``num_negatives`` above C - 1): the
    config label and the ``hparams`` cell name the values given, which are the runs' identity, so a row labelled
    ``num_negatives=10`` on a 7-class dataset would not say that 6 ran. A key the label leaves out was left at its
    default, whose documented meaning may be the capped value (FF's 100: every wrong class): the record keeps it,
    the warning does not."""
    changes = set()
    for given, used in set(zip(runs["hparams"], runs["effective_hparams"], strict=True)):  # runs_frame's JSON
        if used == "{}":  # every value ran as given: most runs
            continue
        given, used = json.loads(given), json.loads(used)
        named = [k for k in used if k in given and label_names(config, k, given[k])]
        if named:
            changes.add(described([{k: given[k] for k in named}, {k: used[k] for k in named}], sep=" -> "))
    if changes:
        warnings.warn(f"{sel.task} {sel.dataset} {sel.model} ({config}): the model ran with other values than it was "
                      f"given ({'; '.join(sorted(changes))}: its records' effective_hparams); the config label and "
                      "hparams name the values given", stacklevel=3)


def _warn_mixed_columns(runs: pd.DataFrame, rank_keys: list[str]) -> None:
    """A column (task label, dataset, scenario) whose models ran under different task options: ranked together,
    each was scored under its own protocol (node classification's split is not in its task label). A suite file
    refuses this; records of several suites merged into one folder can still bring it."""
    for key, part in runs.groupby(rank_keys, sort=True):
        options = sorted({canonical_json(json.loads(p).get("task_options")) for p in set(part["protocol"])})
        if len(options) > 1:
            task, dataset, scenario = key[:3]
            where = f"{task} {dataset}" + ("" if scenario == "none" else f" under {scenario}")
            shown = described([flatten({"task_options": json.loads(o)}) for o in options])
            warnings.warn(f"{where}: its models ran under different task options ({shown}); their ranks compare "
                          "different protocols", stacklevel=3)


def _probe_cells(runs: pd.DataFrame) -> dict[str, Any]:
    """A row's median speed probe over its runs (``env.speed_probe``) and the workload they ran, from which
    ``compare`` tells how fast each side's machine ran; empty where no run kept one, and the median empty where the
    runs ran several workloads (joined by ``;``), which do not compare."""
    probed = runs[runs["probe_ms"].notna()]
    workloads = sorted(set(probed["probe_workload"]))
    return {"speed_probe_ms": probed["probe_ms"].median() if len(workloads) == 1 else np.nan,
            "speed_probe_workload": ";".join(workloads)}


def _warn_mixed_costs(sel: Any, config: str, runs: pd.DataFrame) -> None:
    """A row whose runs ran on several machines, heap settings or kernels: its epoch time and peak memory average
    them, which no single machine would give (the heap setting alone made the quickstart's GCN epochs 1.27x
    faster: docs/BENCHMARKS.md). Kernels differ within a configuration where ``auto`` chose in several processes
    (the process and ray executors' workers) between backends within its timing noise."""
    counts = {c: sorted(runs[c].replace("", "unnamed").value_counts().items()) for c in ("device", "heap", "kernel")}
    mixed = [f"{c} {', '.join(f'{v}: {n}' for v, n in seen)}" for c, seen in counts.items() if len(seen) > 1]
    if mixed:
        warnings.warn(f"{sel.task} {sel.dataset} {sel.model} ({config}): its epoch time and peak memory average "
                      f"runs of several settings ({'; '.join(mixed)})", stacklevel=3)


def _loading_cells(sel: Any, config: str, runs: pd.DataFrame) -> dict[str, Any]:
    """A row's mean loading per epoch and its share, what they average (``epoch_load_over``), and the modes that
    loaded (``load_mode``: the records' ``loading.mode``, distinct ones joined by ``;``), as the ``load_mode``
    of ``hparams`` may be ``auto``, which names none. Runs recorded under both definitions (a folder resumed
    across the change to the epochs after the first) give no mean: one of both would measure neither, so the
    cells stay empty and a warning names the mixture. Runs of several modes are averaged, with a warning: a copy
    through the CPU and a GPU-direct gather are different measurements."""
    over = sorted(set(runs["load_over"]) - {""})
    modes = {"load_mode": ";".join(sorted(set(runs["load_mode"]) - {""}))}
    if ";" in modes["load_mode"]:
        warnings.warn(f"{sel.task} {sel.dataset} {sel.model} ({config}): its epoch_load_s and epoch_load_share "
                      f"average runs of several load modes ({modes['load_mode'].replace(';', ', ')})", stacklevel=3)
    if len(over) > 1:
        warnings.warn(f"{sel.task} {sel.dataset} {sel.model} ({config}): epoch_load_s and epoch_load_share left "
                      f"empty: its runs averaged their loading over different epochs ({', '.join(over)})",
                      stacklevel=3)
        return {"epoch_load_s": np.nan, "epoch_load_share": np.nan, "epoch_load_over": ";".join(over), **modes}
    return {"epoch_load_s": runs["load_s"].mean(), "epoch_load_share": runs["load_share"].mean(),
            "epoch_load_over": "".join(over), **modes}


def _chosen_per_fold(runs: pd.DataFrame) -> pd.DataFrame:
    """One leaderboard row's runs under cross-validation: per seed (fold), the run of the configuration with the
    best validation metric on that fold, NaN last; ties (frequent on a small holdout) to the lower validation
    loss, as the epoch's are, then to the config label."""
    score = np.where(runs["direction"] == "max", -runs["val"], runs["val"])
    ordered = runs.assign(_score=score).sort_values(["seed", "_score", "val_loss", "config"], kind="stable")
    return ordered.groupby("seed", sort=True).head(1).drop(columns="_score")


def _per_fold_label(chosen: pd.DataFrame) -> tuple[str, str]:
    """The config and hparams cells of a cross-validated row: the one configuration every fold chose, or each
    chosen one with its number of folds, most chosen first (hparams: a JSON object from config label to its
    hyperparameters, so the cell stays one JSON object)."""
    counts = chosen.groupby(["config", "hparams"]).size().reset_index(name="folds")
    if len(counts) == 1:
        return counts["config"].iloc[0], counts["hparams"].iloc[0]
    counts = counts.sort_values(["folds", "config"], ascending=[False, True], kind="stable")
    config = "; ".join(f"{c} ({k} fold{'s' * (k > 1)})" for c, k in zip(counts["config"], counts["folds"], strict=True))
    hparams = {c: json.loads(h) for c, h in zip(counts["config"], counts["hparams"], strict=True)}
    return config, json.dumps(hparams, separators=(",", ":"))


def _selected_index(grid: pd.DataFrame, row_keys: list[str]) -> list[int]:
    """Per row key: best mean validation metric, NaN last; ties -> more seeds, then the config label in plain string
    order (K=16 before K=2, unlike the grid's natural order, so no selection moved when that came in), whatever the
    grid's row order. A configuration with a failed run (``failed`` above 0) or a NaN validation seed ranks
    after every one with neither: a failure's mean leaves out the seeds where it failed, so it would win by
    survivorship; among those, the best finite mean still wins."""
    signed = pd.Series(np.where(grid["direction"] == "max", -grid["val_mean"], grid["val_mean"]), index=grid.index)
    score = signed.groupby([grid[k] for k in row_keys]).transform(tied)
    ordered = grid.assign(_score=score, _n=-grid["n"], _incomplete=(grid["failed"] > 0) | grid["val_mean"].isna())
    ordered = ordered.sort_values([*row_keys, "_incomplete", "_score", "_n", "config"], kind="stable")
    return ordered.groupby(row_keys, sort=False).head(1).index.tolist()
