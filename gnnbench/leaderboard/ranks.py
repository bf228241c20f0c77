"""Ranks across datasets (Demšar, JMLR 2006): which models are better over a whole suite, not one dataset.

Per (task, scenario, metric): a dataset on which no model has a mean is left out and listed; a model without a
mean on some other dataset (missing, or NaN) is left out and listed as excluded, and so is one with a failed run
on some dataset (its mean there is over the seeds that survived); each dataset ranks the
remaining models by mean test metric in the metric's direction (ties share the average rank), and a model's mean
rank is averaged over all the datasets. The Friedman test asks whether the mean ranks differ at all (not when
every model ties on every dataset: statistic 0, p 1); the Nemenyi critical difference

    CD = q_alpha / sqrt(2) * sqrt(k (k + 1) / (6 N)),   q_alpha: studentized range quantile, k models, infinite df

says which pairs differ: two models whose mean ranks are closer than CD are not significantly different.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from gnnbench import markdown
from gnnbench.leaderboard.aggregate import tied
from gnnbench.leaderboard.labels import natural_groups
from gnnbench.natural import natural_key

GROUP = ["task", "scenario", "metric"]


@dataclass
class RankSummary:
    """Mean ranks of one (task, scenario, metric) over ``datasets``, with the tests' results."""

    task: str
    scenario: str
    metric: str
    ranks: pd.DataFrame  # model x dataset average ranks, plus "mean_rank"; sorted best first
    excluded: list[str]  # models without a mean on some dataset (a rank needs every model on every dataset)
    incomplete: list[str]  # models with a failed run on some dataset: their mean there leaves out its seed
    left_out: list[str]  # datasets on which no model has a mean: nothing to rank there
    friedman_stat: float
    friedman_p: float
    cd: float
    alpha: float

    def notes(self) -> list[str]:
        """What the ranks leave out, one phrase each, for the Markdown and HTML pages."""
        return ([f"not ranked (missing on some dataset): {', '.join(self.excluded)}"] if self.excluded else []) + (
            [f"not ranked (a failed run on some dataset): {', '.join(self.incomplete)}"] if self.incomplete else []
        ) + ([f"left out (no model has a mean there): {', '.join(self.left_out)}"] if self.left_out else [])

    def cliques(self) -> list[list[str]]:
        """Maximal runs of models (in mean-rank order) whose mean ranks all lie within CD of each other."""
        mean = self.ranks["mean_rank"]
        models = list(mean.index)
        groups: list[list[str]] = []
        for i, model in enumerate(models):
            group = [m for m in models[i:] if mean[m] - mean[model] <= self.cd]
            if len(group) > 1 and not any(set(group) <= set(g) for g in groups):
                groups.append(group)
        return groups


def nemenyi_cd(k: int, n: int, alpha: float = 0.05) -> float:
    """The critical difference of mean ranks for ``k`` models over ``n`` datasets."""
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6 * n)))


def rank_summaries(board: pd.DataFrame, alpha: float = 0.05) -> list[RankSummary]:
    """One summary per (task, scenario, metric) with at least two datasets and two models on all of them."""
    out = []
    for (task, scenario, metric), part in natural_groups(board, GROUP):
        means = part.pivot_table(index="model", columns="dataset", values="mean", aggfunc="first", dropna=False)
        means = means.reindex(index=sorted(means.index, key=natural_key),  # names: the tables' order, and ties'
                              columns=sorted(means.columns, key=natural_key))
        failed = part["failed"].fillna(0) > 0 if "failed" in part else pd.Series(False, index=part.index)
        # a mean over the seeds that survived a failed run is not a result to rank on; a failure is the reason
        # given first, also for a model whose every run failed there (no mean at all)
        measured = means.columns[means.notna().any()]
        incomplete = sorted(set(part.loc[failed & part["dataset"].isin(measured), "model"]), key=natural_key)
        ranked = means.drop(index=incomplete)
        left_out = [d for d in ranked.columns if ranked[d].isna().all()]
        complete = ranked.drop(columns=left_out).dropna()
        if complete.shape[0] < 2 or complete.shape[1] < 2:
            continue
        sign = -1.0 if part["direction"].iloc[0] == "max" else 1.0
        complete = complete.apply(lambda column: pd.Series(tied(column), index=column.index))  # equal means tie
        ranks = complete.apply(lambda column, s=sign: pd.Series(stats.rankdata(s * column.to_numpy()),
                                                                 index=column.index))
        ranks["mean_rank"] = ranks.mean(axis=1)
        ranks = ranks.sort_values("mean_rank", kind="stable")  # ties keep the model names' order
        k, n = complete.shape
        statistic, p = math.nan, math.nan
        if k >= 3:  # every model tied on every dataset: no difference at all, where scipy divides by zero
            all_tied = (ranks.drop(columns="mean_rank").nunique() == 1).all()
            statistic, p = (0.0, 1.0) if all_tied else stats.friedmanchisquare(*complete.to_numpy())
        out.append(RankSummary(task=task, scenario=scenario, metric=metric, ranks=ranks,
                               excluded=sorted(set(part["model"]) - set(complete.index) - set(incomplete),
                                               key=natural_key),
                               incomplete=incomplete, left_out=left_out,
                               friedman_stat=float(statistic), friedman_p=float(p), cd=nemenyi_cd(k, n, alpha),
                               alpha=alpha))
    return out


def rank_markdown(board: pd.DataFrame, alpha: float = 0.05) -> list[str]:
    """The "Ranks across datasets" section of leaderboard.md (empty without two datasets)."""
    summaries = rank_summaries(board, alpha)
    if not summaries:
        return []
    lines = ["## Ranks across datasets", "",
             "Per dataset, models are ranked by mean test metric (1 = best, ties share the average rank); a model "
             "without a result on some dataset is not ranked, so every mean rank is over all the datasets. Friedman "
             "test: do the mean ranks differ at all? Nemenyi "
             f"critical difference (CD, alpha = {alpha:g}): two models whose mean ranks differ by less than CD are "
             "not significantly different (Demšar, JMLR 2006).", ""]
    for s in summaries:
        datasets = [c for c in s.ranks.columns if c != "mean_rank"]
        k, n = len(s.ranks), len(datasets)
        lines += [f"### {s.task} · {s.metric}" + ("" if s.scenario == "none" else f" · scenario {s.scenario}"), "",
                  *markdown.table(["model", "mean rank", *datasets],
                                  [[model, f"{r['mean_rank']:.2f}", *(f"{r[d]:g}" for d in datasets)]
                                   for model, r in s.ranks.iterrows()], right=range(1, n + 2))]
        friedman = ("Friedman test: needs at least 3 models" if k < 3 else
                    f"Friedman χ² = {s.friedman_stat:.3f}, p = {s.friedman_p:.3g}")
        groups = s.cliques()
        lines += ["", f"{friedman} (k = {k} models, N = {n} datasets). Nemenyi CD = {s.cd:.3f}."
                  + (" Not significantly different (mean ranks within CD): "
                     + "; ".join("{" + ", ".join(g) + "}" for g in groups) + "." if groups else
                     " Every pair of models differs by more than CD.")]
        lines += [f"{note[0].upper()}{note[1:]}." for note in s.notes()]
        lines.append("")
    return lines
