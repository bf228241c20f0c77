"""Leaderboard figures as inline SVG text (matplotlib, no pyplot state): bars with error bars per dataset,
metric against cost (epoch time, peak memory), and depth curves.

SVGs are deterministic (fixed id salt, no date, no metadata block), so the same records give the same page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import ScalarFormatter

from gnnbench import units
from gnnbench.leaderboard.labels import natural_groups, natural_order
from gnnbench.natural import natural_key

STYLE = {"svg.hashsalt": "gnnbench", "svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
         "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "font.family": "sans-serif"}
MARKERS = "osD^vP*X<>"


def colours(models: Iterable[str]) -> dict[str, tuple]:
    """One colour per model, the same in every figure of a page, in the order the legends list them."""
    palette = mpl.colormaps["tab10"].colors
    return {m: palette[i % len(palette)] for i, m in enumerate(sorted(models, key=natural_key))}


def metric_label(part: pd.DataFrame) -> tuple[float, str]:
    """(scale, axis label) of the metric of ``part``'s rows: fractions are shown in percent."""
    metric, unit = part["metric"].iloc[0], part["unit"].iloc[0]
    return units.scale(unit), f"{metric} (%)" if unit == units.FRACTION else metric


def bars(part: pd.DataFrame, colour: dict[str, tuple]) -> str:
    """One panel per dataset: a bar per model (best first) at its mean test metric, error bar = std."""
    datasets = list(dict.fromkeys(part["dataset"]))
    scale, label = metric_label(part)
    cols = min(len(datasets), 3)
    rows = -(-len(datasets) // cols)
    width = max(3.2, 0.55 * part.groupby("dataset").size().max() + 1.2)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(width * cols, 2.9 * rows), layout="constrained")
        for i, dataset in enumerate(datasets):
            ax = fig.add_subplot(rows, cols, i + 1)
            d = part[part["dataset"] == dataset].sort_values(["rank", "model"], key=natural_order)
            mean, std = finite(d["mean"]).to_numpy(float) * scale, np.nan_to_num(d["std"].to_numpy(float)) * scale
            x = np.arange(len(d))
            ax.bar(x, mean, yerr=std, capsize=3, color=[colour[m] for m in d["model"]], edgecolor="black",
                   linewidth=0.5, error_kw={"elinewidth": 0.8})
            for xi, m, s, n, raw in zip(x, mean, std, d["n"], d["mean"], strict=True):
                text = ("failed" if n == 0 else f"{raw}" if np.isinf(raw) else "–" if np.isnan(m)
                        else f"{m:.1f}" if scale == 100 else f"{m:.3g}")
                ax.annotate(text, (xi, 0 if np.isnan(m) else m + s), xytext=(0, 2),
                            textcoords="offset points", ha="center", va="bottom", fontsize=7)
            ax.set_xticks(x, d["model"], rotation=30 if len(d) > 4 else 0, ha="right" if len(d) > 4 else "center")
            ax.set_title(dataset)
            ax.set_ylabel(label if i % cols == 0 else "")
            ax.grid(axis="x", visible=False)
            ax.margins(y=0.12)
        return svg(fig)


def cost_scatter(part: pd.DataFrame, colour: dict[str, tuple]) -> str:
    """Metric against mean epoch time and against peak memory: colour = model, marker = dataset."""
    scale, label = metric_label(part)
    datasets = sorted(set(part["dataset"]), key=natural_key)
    marker = {d: MARKERS[i % len(MARKERS)] for i, d in enumerate(datasets)}
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(9.5, 3.4), layout="constrained")
        for j, (column, xlabel, factor) in enumerate((("epoch_time_s", "epoch time (ms)", 1000.0),
                                                       ("peak_mem_mb", "peak memory (MB)", 1.0))):
            ax = fig.add_subplot(1, 2, j + 1)
            for r in part.itertuples(index=False):
                cost = getattr(r, column)
                if pd.isna(cost) or np.isinf(r.mean):  # a diverged mean has no place on the axis
                    continue
                ax.errorbar(cost * factor, r.mean * scale, yerr=0 if pd.isna(r.std) else r.std * scale,
                            fmt=marker[r.dataset], color=colour[r.model], markersize=6, capsize=2,
                            markeredgecolor="black", markeredgewidth=0.4)
            costs = part[column].dropna()
            if len(costs) and costs.min() > 0 and costs.max() / costs.min() > 20:
                ax.set_xscale("log")
                ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.margins(0.1)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(label)
        handles = [Line2D([], [], color=colour[m], marker="o", linestyle="", label=m)
                   for m in sorted(set(part["model"]), key=natural_key)]
        handles += [Line2D([], [], color="grey", marker=marker[d], linestyle="", label=d) for d in datasets]
        fig.legend(handles=handles, loc="outside right upper", frameon=False)
        return svg(fig)


def depth_curves(part: pd.DataFrame, colour: dict[str, tuple]) -> str:
    """Per dataset: test metric (error bar = std) and peak memory against a depth hyperparameter."""
    key = part["depth_key"].iloc[0]
    scale, label = metric_label(part)
    datasets = sorted(set(part["dataset"]), key=natural_key)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(4.2 * len(datasets) + 1.2, 5.4), layout="constrained")
        axes = fig.subplots(2, len(datasets), squeeze=False, sharex="col")
        for j, dataset in enumerate(datasets):
            d = part[part["dataset"] == dataset]
            for model, rows in natural_groups(d, "model"):
                rows = rows.sort_values("depth")
                axes[0, j].errorbar(rows["depth"], finite(rows["mean"]) * scale,
                                    yerr=np.nan_to_num(rows["std"]) * scale, marker="o", color=colour[model],
                                    capsize=2, label=model)
                axes[1, j].plot(rows["depth"], rows["peak_mem_mb"], marker="o", color=colour[model], label=model)
            depths = sorted(set(d["depth"]))
            if min(depths) > 0 and max(depths) / min(depths) >= 8:
                axes[0, j].set_xscale("log", base=2)
            axes[1, j].set_xticks(depths, [str(v) for v in depths])
            axes[0, j].set_title(dataset)
            axes[1, j].set_xlabel(key)
        axes[0, 0].set_ylabel(label)
        axes[1, 0].set_ylabel("peak memory (MB)")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper", frameon=False)
        return svg(fig)


def finite(means: pd.Series) -> pd.Series:
    """Means to draw: an infinite one (a regression metric that diverged on a seed) as NaN, which matplotlib
    leaves out, as it cannot place inf on an axis; bars label it."""
    return means.replace([np.inf, -np.inf], np.nan)


def svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element for inlining: no XML prolog, no metadata, no date."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
