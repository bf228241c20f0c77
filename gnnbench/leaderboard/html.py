"""``leaderboard.html``: one self-contained static page per suite, readable offline and pasteable into a paper.

Everything is inline: CSS, a few lines of JavaScript that sort any table by a clicked column, and the figures
as SVG (see :mod:`gnnbench.leaderboard.plots`). Per (task, scenario, metric): a sortable table, bars with
error bars per dataset, the metric against epoch time and peak memory; then the ranks across datasets, depth
curves where a depth grid was swept, further tables found beside the leaderboard (e.g. kernel or loading
statistics CSVs), the configurations tried, the environment and the failed runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from gnnbench.leaderboard import plots
from gnnbench.leaderboard.labels import natural_groups
from gnnbench.leaderboard.ranks import rank_summaries
from gnnbench.leaderboard.write import (
    environment_lines,
    failed_runs,
    format_metric,
    format_n,
    format_rank,
    load_cells,
    loads,
)
from gnnbench.natural import NUMBER

#: Files beside leaderboard.csv that the page already shows in its own way.
OWN_FILES = {"leaderboard.csv", "grid.csv", "depth.csv"}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1200px;
color:#222;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
h3{font-size:1.05rem}p.note{color:#555;font-size:.9rem}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0 1rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e3e3e3;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none;background:#f6f6f6}
table.sortable th:hover{background:#ececec}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
tr.best td{font-weight:600}figure{margin:.5rem 0 1.2rem}figure svg{max-width:100%;height:auto}
figcaption{color:#555;font-size:.85rem}details{margin:.6rem 0}code{font-size:.85em}
"""

# Click a header to sort by that column, click again to flip: numbers numerically (via data-value), text split as
# natural_key splits it (by NUMBER, whose \w and \d are ASCII in Python, re.ASCII, as in JavaScript), so that a click
# orders names as the tables list them (HeteroEdgeCount-2 before -10, K=-2 before K=2, capitals before small letters),
# and equal keys by their text, natural_key's last item (K=2 before K=2.0, 2 before 2.0). Where they still differ:
# here every number sorts before every text (natural_key puts a blank, or a text starting with a smaller number,
# before it), JavaScript reads 0x10 as a number and Python 1_000, and text compares by UTF-16 unit, not code point
# (which differ only past U+FFFF).
JS = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, index) {
    th.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var text = function (row) {
        var cell = row.cells[index];
        return cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
      };
      var key = function (value) {
        var number = parseFloat(value);
        return value !== "" && !isNaN(number) && isFinite(value) ? number : value.split(/NUMBER/).map(
          function (part, i) { return i % 2 ? parseFloat(part) : part; });
      };
      var order = function (x, y) {
        if (typeof x === "number") { return x < y ? -1 : x > y ? 1 : 0; }
        for (var i = 0; i < Math.min(x.length, y.length); i++) {
          if (x[i] !== y[i]) { return x[i] < y[i] ? -1 : 1; }
        }
        return x.length - y.length;
      };
      var body = table.tBodies[0];
      Array.from(body.rows).sort(function (a, b) {
        var u = text(a), v = text(b), x = key(u), y = key(v);
        if (typeof x !== typeof y) { return (typeof x === "number" ? -1 : 1) * (ascending ? 1 : -1); }
        return (order(x, y) || (u < v ? -1 : u > v ? 1 : 0)) * (ascending ? 1 : -1);
      }).forEach(function (row) { body.appendChild(row); });
    });
  });
});
""".replace("/NUMBER/", f"/{NUMBER.pattern}/")


def to_html(board: pd.DataFrame, grid: pd.DataFrame, depth: pd.DataFrame, records: list[dict[str, Any]],
            suite: str, directory: Path, notes: Sequence[str] = (), notice: str = "",
            environment: Sequence[str] | None = None) -> str:
    """The whole page as one string; ``notes``: what building the tables warned about; ``notice``: runs of the
    suite not recorded yet, records of no run of it; ``environment``: the
    :func:`~gnnbench.leaderboard.write.environment_lines` of ``records``, where the caller has them already."""
    colour = plots.colours(set(board["model"]))
    body = [f"<h1>Leaderboard: {escape(suite)}</h1>",
            *([f"<p><strong>{escape(notice)}</strong></p>"] if notice else []),
            "<p class=note>Validation selects the configuration and the epoch; tables and figures show the test "
            "metric of that choice as mean ± std over seeds (ddof = 1), n = number of seeds. Error bars: ± std. "
            "Click a column header to sort.</p>"]
    for (task, scenario, metric), part in natural_groups(board, ["task", "scenario", "metric"]):
        direction = "higher" if part["direction"].iloc[0] == "max" else "lower"
        title = f"{task} · {metric} ({direction} is better)" + ("" if scenario == "none" else f" · {scenario}")
        body += [f"<h2>{escape(title)}</h2>", _board_table(part),
                 _figure(plots.bars(part, colour), "Test metric per dataset (bars: mean; error bars: ± std)."),
                 _figure(plots.cost_scatter(part, colour), "Test metric (± std) against cost: mean epoch time "
                         "(left) and peak memory (right); colour = model, marker = dataset.")]
    body += _ranks(board)
    if not depth.empty:
        body.append("<h2>Depth studies</h2>")
        for (task, scenario, key, metric), part in natural_groups(depth, ["task", "scenario", "depth_key", "metric"]):
            body += [f"<h3>{escape(f'{task} · {metric} vs {key}' + ('' if scenario == 'none' else f' · {scenario}'))}"
                     "</h3>", _figure(plots.depth_curves(part, colour),
                                      f"Test metric (top, ± std) and peak memory (bottom) against {key}; the other "
                                      "hyperparameters are selected on validation within each depth.")]
    for path in sorted(directory.glob("*.csv")):
        if path.name not in OWN_FILES:
            try:
                table = pd.read_csv(path, keep_default_na=False)
            except (ValueError, OSError) as exc:  # pandas' parse errors and a non-UTF-8 file are ValueErrors
                why = f"not shown on the page, not a readable CSV ({str(exc).splitlines()[0][:200]})"
                warnings.warn(f"{path}: {why}", UserWarning, stacklevel=1)
                notes = [*notes, f"{path.name}: {why}"]  # the page travels; the folder's path is the reader's
                continue
            body += [f"<h2>{escape(path.stem)}</h2>", f"<p class=note>From <code>{escape(path.name)}</code>.</p>",
                     _table(table)]
    if not grid.empty:
        body += ["<details><summary>Every configuration tried (validation numbers only)</summary>",
                 _table(grid.drop(columns=["direction", "unit"])), "</details>"]
    if notes:
        body += ["<h2>Warnings</h2>", "<ul>" + "".join(f"<li>{escape(note)}</li>" for note in notes) + "</ul>"]
    items = [line[2:] for line in (environment_lines(records) if environment is None else environment)
             if line.startswith("- ")]
    if items:
        body += ["<h2>Environment</h2>", "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"]
    failed = failed_runs(records)
    if failed:
        body += [f"<h2>Failed runs ({len(failed)})</h2>",
                 _table(pd.DataFrame([{**row, "error": row["error"][:200]} for row in failed]))]
    return ("<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
            f"<title>gnnbench leaderboard: {escape(suite)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + f"\n<script>{JS}</script>\n</body>\n</html>\n")


def _board_table(part: pd.DataFrame) -> str:
    """The sortable table of a (task, scenario, metric), with loading per epoch and the mode that ran where some
    row loaded its batches from a feature store (:func:`~gnnbench.leaderboard.write.loads`)."""
    loading = loads(part)
    head = [("dataset", False), ("model", False), ("config", False), ("test", True), ("n", True), ("val", True),
            ("params", True), ("epoch ms", True), ("peak MB", True),
            *((("load ms", True), ("load mode", False)) if loading else ()), ("rank", True)]
    rows = []
    for r in part.itertuples(index=False):
        cells = [(r.dataset, None), (r.model, None), (r.config, None),
                 (format_metric(r.mean, r.std, r.unit), r.mean), (format_n(r), r.n),
                 (format_metric(r.val_mean, float("nan"), r.unit), r.val_mean),
                 ("–" if pd.isna(r.params) else f"{int(r.params):,}", r.params),
                 (_number(r.epoch_time_s * 1000, 2), r.epoch_time_s), (_number(r.peak_mem_mb, 1), r.peak_mem_mb),
                 *(zip(load_cells(r), (r.epoch_load_s, None), strict=True) if loading else ()),
                 (format_rank(r.rank), r.rank)]
        rows.append((" class=best" if r.rank == 1 else "", cells))
    return _render(head, rows)


def _table(frame: pd.DataFrame) -> str:
    head = [(str(c), pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]))
            for c in frame.columns]
    rows = [("", [(_cell(v), None) for v in row]) for row in frame.itertuples(index=False)]
    return _render(head, rows)


def _render(head: list[tuple[str, bool]], rows: Iterable[tuple[str, list[tuple[Any, Any]]]]) -> str:
    numeric = [n for _, n in head]
    out = ["<table class=sortable><thead><tr>" + "".join(
        f"<th{' class=num' if n else ''}>{escape(name)}</th>" for name, n in head) + "</tr></thead><tbody>"]
    for attributes, cells in rows:
        tds = []
        for (text, value), n in zip(cells, numeric, strict=True):
            data = "" if value is None or pd.isna(value) else f' data-value="{float(value):.10g}"'
            tds.append(f"<td{' class=num' if n else ''}{data}>{escape(str(text))}</td>")
        out.append(f"<tr{attributes}>" + "".join(tds) + "</tr>")
    return "\n".join(out) + "</tbody></table>"


def _ranks(board: pd.DataFrame) -> list[str]:
    summaries = rank_summaries(board)
    if not summaries:
        return []
    out = ["<h2>Ranks across datasets</h2>", "<p class=note>Per dataset, models ranked by mean test metric "
           "(1 = best, ties share the average rank). Friedman test over datasets; Nemenyi critical difference (CD, "
           "alpha = 0.05): models whose mean ranks differ by less than CD are not significantly different.</p>"]
    for s in summaries:
        datasets = [c for c in s.ranks.columns if c != "mean_rank"]
        head = [("model", False), ("mean rank", True)] + [(d, True) for d in datasets]
        rows = [("", [(model, None), (f"{r['mean_rank']:.2f}", r["mean_rank"])]
                 + [(f"{r[d]:g}", r[d]) for d in datasets]) for model, r in s.ranks.iterrows()]
        friedman = ("Friedman test: needs at least 3 models" if len(s.ranks) < 3 else
                    f"Friedman χ² = {s.friedman_stat:.3f}, p = {s.friedman_p:.3g}")
        groups = "; ".join("{" + ", ".join(g) + "}" for g in s.cliques()) or "none"
        out += [f"<h3>{escape(s.task)} · {escape(s.metric)}"
                + ("" if s.scenario == "none" else f" · {escape(s.scenario)}") + "</h3>", _render(head, rows),
                f"<p class=note>{friedman} (k = {len(s.ranks)}, N = {len(datasets)}); CD = {s.cd:.3f}; not "
                f"significantly different: {escape(groups)}" + "".join(f"; {escape(note)}" for note in s.notes())
                + ".</p>"]
    return out


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _number(value: Any, digits: int) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "–" if pd.isna(value) else f"{value:.6g}"
    return str(value)
