"""Leaderboard files: CSV for machines (fixed float formatting, so equal records give byte-identical files) and
Markdown for people (a model x dataset table per task and metric, details, environment, failures)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gnnbench import markdown, units
from gnnbench.files import replaced
from gnnbench.leaderboard.labels import heap_label, natural_groups, scenario_label
from gnnbench.natural import natural_key

FLOAT_DIGITS = {"mean": 6, "std": 6, "val_mean": 6, "val_std": 6, "epoch_time_s": 6, "peak_mem_mb": 2,
                "mean_conflicts": 3, "median_solve_s": 6, "mean_solve_s": 6, "inference_s": 6, "mean_total_s": 6,
                "conflict_reduction": 6, "mean_conflict_reduction": 6,
                "best_epoch_mean": 2, "oracle": 6, "search_wall_s": 3, "child_epochs": 2, "inherited_children": 2,
                "epoch_load_s": 6, "epoch_load_share": 4, "speed_probe_ms": 4}


#: the most decimals a small value is shown to in fixed point (0.00013); below 1e-4 ``1.3e-05`` is shorter than
#: 0.000013, Python's own ``g`` cut
FIXED_DECIMALS = 5


def decimals(value: float, digits: int) -> str:
    """``value`` to ``digits`` decimals for people, but to two significant digits where those would keep fewer: an
    MSE of 1.3e-4 as 0.00013, not 0.0001, and 1.1e-6 as 1.1e-06, not 0.0000 (:func:`shown_decimals`; below 1e-4
    ``.2g``, which drops a trailing zero: 1e-05)."""
    return _to_decimals(value, shown_decimals(value, digits), digits)


def std_text(std: float, mean: float, digits: int) -> str:
    """A std beside its mean: to the decimals the mean is shown to, in its form (0.8420 ± 0.0004, not ± 0.00042;
    0.00013 ± 0.00018; 1.1e-06 ± 1.9e-06), or as :func:`decimals` shows it where those would round it to zero."""
    places = shown_decimals(mean, digits)
    if std != 0 and round(std, places) == 0:
        return decimals(std, digits)
    return _to_decimals(std, places, digits)


def _to_decimals(value: float, places: int, digits: int) -> str:
    """``value`` to ``places`` decimals, or to two significant digits as ``.2g`` where ``places`` are those of a
    value too small for fixed point (more than ``digits`` and :data:`FIXED_DECIMALS`)."""
    return f"{value:.2g}" if places > max(digits, FIXED_DECIMALS) else f"{value:.{places}f}"


def shown_decimals(value: float, digits: int) -> int:
    """The decimals of ``value``'s shown precision: ``digits``, or the place of the second significant digit of a
    nonzero value that ``digits`` would keep fewer of (5 for 1.3e-4 at 4 decimals, 7 for 1.1e-6; 4 for 0.000996,
    which two significant digits round to 0.0010). :func:`decimals` writes that many in fixed point up to
    :data:`FIXED_DECIMALS`, as ``.2g`` beyond (1.1e-06); ``compare`` sizes a change with it."""
    if value == 0 or not math.isfinite(value):
        return digits
    exponent = int(f"{value:.1e}".split("e")[1])  # of ``value`` rounded to two significant digits
    return max(digits, 1 - exponent)


def csv_float(value: float, digits: int) -> str:
    """``value`` to ``digits`` decimals for machines; one below 10^(2 - digits), which those would keep fewer than
    three significant digits of, to six significant digits instead: ``compare`` reads a small metric's seeds."""
    if value != 0 and abs(value) < 10.0 ** (2 - digits):
        return f"{value:.6g}"
    return f"{value:.{digits}f}"


#: the columns of a metric's values, written to six significant digits where six decimals would keep fewer than three
METRIC_COLUMNS = ("mean", "std", "val_mean", "val_std")


def to_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write with every float formatted explicitly: the bytes depend only on the values."""
    out = frame.copy()
    for column in out.columns:
        if column == "values":
            out[column] = [";".join(csv_float(v, 6) for v in vs) for vs in out[column]]
        elif column in FLOAT_DIGITS:
            written = csv_float if column in METRIC_COLUMNS else _fixed
            out[column] = ["" if _missing(v) else written(float(v), FLOAT_DIGITS[column]) for v in out[column]]
        else:
            out[column] = ["" if _missing(v) else str(int(v)) if isinstance(v, (float, np.floating)) and
                           float(v).is_integer() else str(v) for v in out[column]]
    write_text(path, out.to_csv(index=False, lineterminator="\n"))


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` whole: a reader such as ``compare`` running meanwhile sees the old file or the new one."""
    with replaced(path) as partial:
        partial.write_text(text, encoding="utf-8")


def to_markdown(board: pd.DataFrame, records: list[dict[str, Any]], suite: str,
                sections: Iterable[str] = (), notice: str = "", environment: Sequence[str] | None = None) -> str:
    """The leaderboard page: a table per (task, scenario, metric), then ``sections`` (lines of further
    Markdown, e.g. depth studies), the environment and the failed runs; ``notice`` (runs of the suite
    not recorded yet, records of no run of it) atop them all. ``environment``: the :func:`environment_lines` of
    ``records``, where the caller has them already (the HTML page shows them too)."""
    lines = [f"# Leaderboard: {suite}", "", *([f"**{notice}**", ""] if notice else []),
             "Validation selects the configuration and the epoch; the table shows the test metric of that choice as "
             "mean ± std over seeds (ddof = 1), with the number of seeds in parentheses. Best per column in bold.", ""]
    for (task, scenario, metric), part in natural_groups(board, ["task", "scenario", "metric"]):
        direction = part["direction"].iloc[0]
        title = f"## {task} · {metric} ({'higher' if direction == 'max' else 'lower'} is better)"
        lines += [title + ("" if scenario == "none" else f" · scenario {scenario}"), ""]
        lines += _pivot(part)
        lines += ["", "<details><summary>Selected configurations and costs</summary>", ""]
        lines += _details(part)
        lines += ["", "</details>", ""]
    lines += list(sections)
    lines += environment_lines(records) if environment is None else environment
    lines += _failures(records)
    return "\n".join(lines).rstrip() + "\n"


def format_metric(value: float, std: float, unit: str) -> str:
    """``81.5 ± 0.6`` for an accuracy of 0.815 (a fraction, in percent), ``0.3127 ± 0.0040`` for a loss,
    ``0.00013 ± 0.00018`` for a small one (:func:`decimals`, :func:`std_text`)."""
    scale, digits = units.scale(unit), 1 if unit == units.FRACTION else 4
    if _missing(value):
        return "–"
    text = decimals(value * scale, digits)
    return text if _missing(std) else f"{text} ± {std_text(std * scale, value * scale, digits)}"


def format_n(row: Any) -> str:
    """``3``, ``3, 1 failed``, ``4 runs of 2 seeds`` or ``4, mixed settings``: what a leaderboard row's mean is
    over. ``n`` counts runs, which are its seeds unless records of an earlier suite file left in the folder repeat
    seeds or were made with other settings (its ``hparams`` or ``protocol`` cell a JSON list; the Warnings say
    more). Failed: the row's failed runs (those of its configuration, or under cross-validation of any
    configuration, which could have changed a fold's choice)."""
    seeds = str(getattr(row, "seeds", "") or "")
    distinct = len(set(seeds.split(";"))) if seeds else row.n
    mixed = any(str(getattr(row, cell, "")).startswith("[") for cell in ("hparams", "protocol"))
    return ((f"{row.n} runs of {distinct} seeds" if distinct < row.n else str(row.n))
            + (", mixed settings" if mixed else "") + (f", {row.failed} failed" if row.failed else ""))


def format_rank(rank: int | None) -> str:
    """A leaderboard rank; ``–`` for a row left unranked because its mean is NaN."""
    return "–" if rank is None else str(rank)


def _pivot(part: pd.DataFrame) -> list[str]:
    datasets = list(dict.fromkeys(part["dataset"]))
    # names break ties in mean rank: a set's order changes with PYTHONHASHSEED, and the file must not; a model
    # never ranked (NaN means) comes last
    mean_rank = pd.to_numeric(part["rank"]).groupby(part["model"]).mean().fillna(math.inf)
    models = sorted(mean_rank.index, key=lambda m: (mean_rank[m], natural_key(m)))
    rows = []
    for model in models:
        cells = []
        for dataset in datasets:
            hit = part[(part["model"] == model) & (part["dataset"] == dataset)]
            if hit.empty:
                cells.append("–")
                continue
            row = hit.iloc[0]
            cell = f"{format_metric(row['mean'], row['std'], row['unit'])} ({format_n(row)})"
            cells.append(f"**{cell}**" if row["rank"] == 1 else cell)
        rows.append([model, *cells])
    return markdown.table(["model", *datasets], rows)


def _details(part: pd.DataFrame) -> list[str]:
    """One line per row, with how many configurations its selection was among (unequal tuning shows; ``3 (1
    failed)``: one crashed on every seed and could not be chosen) and the kernel that ran (``auto:csr``: what
    ``auto`` chose); the machine and the heap setting too where the rows differ in them, as their costs then
    compare across machines or settings, not models; and where some row loaded its batches from a feature store,
    its loading per epoch and the mode that ran (:func:`loads`)."""
    settings = [c for c in ("device", "heap") if len(set(";".join(part[c]).split(";")) - {""}) > 1]
    loading = loads(part)
    rows = [[r.dataset, r.model, r.config,
             f"{r.configs_tried}" + (f" ({r.configs_failed} failed)" if r.configs_failed else ""),
             format_metric(r.mean, r.std, r.unit), format_metric(r.val_mean, float("nan"), r.unit),
             format_n(r), _int(r.params), _fixed(r.epoch_time_s * 1000, 1), _fixed(r.peak_mem_mb, 1),
             *(load_cells(r) if loading else ()),
             *(getattr(r, c) for c in settings), r.kernel, format_rank(r.rank)] for r in part.itertuples(index=False)]
    header = ["dataset", "model", "config", "tried", "test", "val", "n", "params", "epoch ms", "peak MB",
              *(("load ms", "load mode") if loading else ()), *settings, "kernel", "rank"]
    return markdown.table(header, rows, right={3, 6, 7, 8, 9, *({10} if loading else ()), len(header) - 1})


def loads(part: pd.DataFrame) -> bool:
    """Whether some row of a table gathered its batches from a feature store (its records' ``loading`` names the
    mode that ran: ``load_mode``, a string in every row, empty in one whose every run failed): only then do the
    pages show its loading columns, which would be empty for every other suite."""
    return bool(part["load_mode"].ne("").any())


def load_cells(row: Any) -> tuple[str, str]:
    """``load ms`` and ``load mode`` of a row: its ``epoch_load_s`` in milliseconds to two decimals (loading
    takes 0.18 ms per epoch on Cora), to two significant digits where those keep fewer (:func:`decimals`), and
    the mode(s) that ran; ``–`` for a row that loads nothing."""
    ms = "–" if _missing(row.epoch_load_s) else decimals(row.epoch_load_s * 1000, 2)
    return ms, row.load_mode or "–"


def environment_lines(records: list[dict[str, Any]]) -> list[str]:
    """Markdown lines: the distinct devices, threads, runs made side by side, versions and commits the records ran
    with, and how fast the machine ran their speed probe (per workload: the median, the range and the count of
    runs), where the records keep these."""
    envs = [r["env"] for r in records if r.get("status") == "ok" and "env" in r]
    if not envs:
        return []

    def distinct(values: Iterable[Any]) -> str:
        return ", ".join(sorted({str(v) for v in values if v is not None})) or "–"

    packages = sorted({p for e in envs for p, v in e.get("versions", {}).items() if v})
    side = distinct(e.get("concurrent_runs") for e in envs)
    probes: dict[str, list[float]] = {}
    for probe in (e["speed_probe"] for e in envs if "speed_probe" in e):
        probes.setdefault(probe["workload"], []).append(probe["ms"])
    return ["## Environment", "",
            f"- device: {distinct(e.get('device_name') for e in envs)} ({distinct(e.get('device') for e in envs)}), "
            f"threads: {distinct(e.get('threads') for e in envs)}, heap: {distinct(heap_label(e) for e in envs)}"
            + (f", runs side by side: {side}" if side != "–" else ""),
            *(f"- speed probe: median {np.median(ms):.3g} ms, {min(ms):.3g}-{max(ms):.3g} over {len(ms)} runs "
              f"({workload})" for workload, ms in sorted(probes.items())),
            f"- python {distinct(e.get('python') for e in envs)}; "
            + "; ".join(f"{p} {distinct(e.get('versions', {}).get(p) for e in envs)}" for p in packages),
            f"- gnnbench commit: {distinct(e.get('git_commit') for e in envs)}",
            ""]


def warning_lines(notes: Sequence[str]) -> list[str]:
    """A Markdown section of what building the tables warned about (records made with other settings under one
    configuration label, ...): a row's numbers are only as good as these say."""
    return ["## Warnings", "", *(f"- {note}" for note in notes), ""] if notes else []


def failed_runs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per failed record: dataset, model, config, the scenario where any failed run has one, seed and
    the error (type: message, on one line)."""
    failed = [r for r in records if r.get("status") != "ok"]
    scenarios = any(r["spec"].get("scenario") is not None for r in failed)
    rows = []
    for r in failed:
        s, e = r["spec"], r.get("error", {})
        rows.append({"dataset": s["dataset"], "model": s["model"], "config": s.get("config", ""),
                     **({"scenario": scenario_label(s.get("scenario"))} if scenarios else {}), "seed": s["seed"],
                     "error": " ".join(f"{e.get('type', '')}: {e.get('message', '')}".split())})
    return rows


def _failures(records: list[dict[str, Any]]) -> list[str]:
    rows = failed_runs(records)
    if not rows:
        return []
    columns = list(rows[0])
    cells = [[row[c] if c != "error" else row[c][:300] for c in columns] for row in rows]
    return [f"## Failed runs ({len(rows)})", "", *markdown.table(columns, cells, right={columns.index("seed")}), ""]


def _fixed(value: Any, digits: int) -> str:
    return "" if _missing(value) else f"{float(value):.{digits}f}"


def _int(value: Any) -> str:
    return "–" if _missing(value) else f"{int(value):,}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)) or value is pd.NA
