"""SAT solving tables: per family, solver and phase policy, what the solver needed on the held-out formulas.

Built from the ``solving`` entries of ``sat_solving`` records (one per formula, solver and policy), for the
configuration the leaderboard selected on validation; entries of several seeds are pooled. ``conflict_reduction``
is ``1 - median_conflicts / median_conflicts(default)`` of the same (model, family, solver) (and
``mean_conflict_reduction`` the same with means): positive means fewer conflicts than the solver's own
phases. Unsolved formulas (budget exhausted) count as the budget's conflicts (their decisions and time as
spent: Glucose runs past the budget), so conflict medians and means are lower bounds where ``solved < runs``.

Paired against the default policy on the same formula: each seed's conflicts minus the default's on that seed
and formula, averaged over the seeds, is one formula's difference; ``fewer`` and ``more`` count the formulas
whose difference is negative or positive, and ``paired_p`` is the two-sided Wilcoxon signed-rank p of those
differences (ties dropped). ``holm_p`` adjusts it by Holm's method over every test of the same model's table (each
family, solver and policy): with dozens of tests, some p below 0.05 is likely by chance alone, and the adjusted
ones bound that chance. The formula is the unit: a policy that does not depend on the seed (the solver's
own phases, all-true, the backbone) solves a formula identically under every seed, and pairing per (seed,
formula) would count it once per seed and understate every p. Medians of a few dozen conflicts move by
run-to-run noise; the paired test says whether a policy's shift is systematic.

``mean_total_s`` is the mean over the formulas of inference plus solve time: what a user of the policy waits
for, since the model runs before the solver can start (the default policy has no inference), less building
the formula's graph, which the data preparation does once.

Coverage, pooled over the formulas: ``phased_fraction`` is the share of variables the policy sets a phase for;
``backbone_fraction`` the share of those that are backbone variables; ``agreement`` the share of these that
get the backbone's phase (satisfiable formulas only). Records made before coverage was recorded give NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from gnnbench import markdown
from gnnbench.leaderboard.labels import natural_groups, natural_order, row_key
from gnnbench.leaderboard.significance import holm

SAT_KEYS = ["task", "dataset", "model", "config", "scenario", "family", "solver", "policy"]
#: The schema of docs/design.md (family ... inference_s) after the row identity, then the extras.
SAT_COLUMNS = [*SAT_KEYS, "formulas", "solved", "median_conflicts", "mean_conflicts", "median_decisions",
               "median_solve_s", "inference_s", "runs", "median_propagations", "mean_solve_s", "conflict_reduction",
               "mean_conflict_reduction", "fewer", "more", "paired_p", "phased_fraction", "backbone_fraction",
               "agreement", "mean_total_s", "holm_p"]
COVERAGE_FIELDS = ["variables", "phased", "phased_backbone", "phased_agree"]


def sat_frame(records: list[dict[str, Any]], board: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, dataset, model, selected config, scenario, family, solver, policy)."""
    selected = {tuple(r) for r in board[["task", "dataset", "model", "config", "scenario"]].itertuples(index=False)}
    parts = []
    for r in records:
        solving = r.get("solving") if r.get("status") == "ok" else None
        if not solving:
            continue
        key = row_key(r)
        if key in selected:
            parts.append(pd.DataFrame(solving).assign(**dict(zip(SAT_KEYS[:5], key, strict=True)),
                                                      seed=r["spec"]["seed"]))
    if not parts:
        return pd.DataFrame(columns=SAT_COLUMNS)
    rows = pd.concat(parts, ignore_index=True)
    rows = rows.reindex(columns=rows.columns.union(COVERAGE_FIELDS, sort=False))  # older records: NaN
    rows[COVERAGE_FIELDS] = rows[COVERAGE_FIELDS].astype(float)
    rows["total_s"] = rows["inference_s"] + rows["solve_s"]
    rows["policy"] = pd.Categorical(rows["policy"], categories=list(dict.fromkeys(rows["policy"])))  # run order
    frame = (rows.groupby(SAT_KEYS, sort=True, observed=True)
                 .agg(formulas=("formula", "nunique"), runs=("formula", "size"), solved=("solved", "sum"),
                      median_conflicts=("conflicts", "median"), mean_conflicts=("conflicts", "mean"),
                      median_decisions=("decisions", "median"), median_propagations=("propagations", "median"),
                      median_solve_s=("solve_s", "median"), mean_solve_s=("solve_s", "mean"),
                      inference_s=("inference_s", "mean"), mean_total_s=("total_s", "mean"),
                      **{f: (f, lambda c: c.sum(min_count=1)) for f in COVERAGE_FIELDS})
                 .reset_index())
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["phased_fraction"] = frame["phased"] / frame["variables"]
        frame["backbone_fraction"] = frame["phased_backbone"] / frame["phased"]
        frame["agreement"] = frame["phased_agree"] / frame["phased_backbone"]
    frame["policy"] = frame["policy"].astype(str)
    frame = frame.merge(_paired_with_default(rows), on=SAT_KEYS, how="left")
    frame["holm_p"] = np.nan
    for _, part in frame[frame["paired_p"].notna()].groupby(SAT_KEYS[:5], sort=False):
        frame.loc[part.index, "holm_p"] = holm(part["paired_p"].to_numpy(dtype=float))
    frame[["fewer", "more"]] = frame[["fewer", "more"]].astype("Int64")
    default = frame[frame["policy"] == "default"].set_index(SAT_KEYS[:-1])
    base = frame.set_index(SAT_KEYS[:-1]).index
    for column, source in (("conflict_reduction", "median_conflicts"), ("mean_conflict_reduction", "mean_conflicts")):
        reference = default[source].reindex(base).to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame[column] = np.where(reference > 0, 1 - frame[source].to_numpy(dtype=float) / reference, np.nan)
    frame = frame.sort_values(SAT_KEYS[:-1], key=natural_order, kind="stable")  # each row's policies in run order
    return frame.reset_index(drop=True)[SAT_COLUMNS]


def _paired_with_default(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (keys, policy): formulas with fewer / more conflicts than the default (the mean over seeds of the
    per-seed differences), and their Wilcoxon p."""
    rows = rows.assign(policy=rows["policy"].astype(str))
    pair = [*SAT_KEYS[:-1], "seed", "formula"]
    default = rows.loc[rows["policy"] == "default", [*pair, "conflicts"]].rename(columns={"conflicts": "baseline"})
    paired = rows.merge(default, on=pair, how="inner")
    if paired.empty:
        return pd.DataFrame(columns=[*SAT_KEYS, "fewer", "more", "paired_p"])
    paired["difference"] = paired["conflicts"] - paired["baseline"]
    per_formula = paired.groupby([*SAT_KEYS, "formula"], sort=False, observed=True)["difference"].mean()

    def summary(difference: pd.Series) -> pd.Series:
        nonzero = difference[difference != 0]
        p = wilcoxon(nonzero).pvalue if len(nonzero) else np.nan
        return pd.Series({"fewer": int((difference < 0).sum()), "more": int((difference > 0).sum()),
                          "paired_p": float(p)})

    return per_formula.groupby(level=SAT_KEYS, sort=False).apply(summary).unstack().reset_index()


def sat_markdown(frame: pd.DataFrame) -> list[str]:
    """Markdown sections: per (dataset, model, family), a solver x policy table."""
    if frame.empty:
        return []
    lines = ["## SAT solving", "",
             "Held-out formulas solved under each phase policy (conflict budget per solve; unsolved formulas count "
             "as the budget's conflicts, their decisions and time as spent). Reduction: 1 - median conflicts / "
             "median conflicts of the default policy, same solver. Fewer / more: formulas that needed fewer / "
             "more conflicts than the default (mean over seeds of the paired differences), p their two-sided "
             "Wilcoxon signed-rank test, Holm its adjustment over every test of the model's tables (all families, "
             "solvers and policies). Phased: share of variables the policy sets; agreement: share of the phased "
             "backbone variables that get the backbone's phase.", ""]
    for (dataset, model, family), part in natural_groups(frame, ["dataset", "model", "family"]):
        header = ["solver", "policy", "solved", "median conflicts", "mean conflicts", "median decisions",
                  "median solve ms", "inference ms", "mean total ms", "reduction (median)", "reduction (mean)",
                  "fewer / more", "p", "Holm", "phased", "agreement"]
        rows = [[r.solver, r.policy, f"{int(r.solved)}/{int(r.runs)}", f"{r.median_conflicts:g}",
                 f"{r.mean_conflicts:.1f}", f"{r.median_decisions:g}", f"{r.median_solve_s * 1000:.2f}",
                 f"{r.inference_s * 1000:.1f}", f"{r.mean_total_s * 1000:.1f}", _percent(r.conflict_reduction),
                 _percent(r.mean_conflict_reduction), f"{_count(r.fewer)} / {_count(r.more)}", _p(r.paired_p),
                 _p(r.holm_p), _share(r.phased_fraction), _share(r.agreement)] for r in part.itertuples(index=False)]
        lines += [f"### {dataset} · {family} · {model}", "",
                  *markdown.table(header, rows, right=range(2, len(header))), ""]
    return lines


def _percent(value: float) -> str:
    return "–" if pd.isna(value) else f"{value * 100:+.1f}%"


def _share(value: float) -> str:
    return "–" if pd.isna(value) else f"{value * 100:.1f}%"


def _count(value: float) -> str:
    return "–" if pd.isna(value) else str(int(value))


def _p(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.2g}"
