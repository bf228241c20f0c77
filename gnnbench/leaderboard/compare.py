"""Two leaderboard CSVs -> per-row deltas, significance and a verdict: did B get better or worse than A?

Rows are joined on (task, dataset, model, config, scenario, metric), or without the config on request. For
each matched row: A's and B's mean, the delta B - A with its (1 - alpha) confidence interval, the delta relative
to |A|, Welch's t-test p-value on the per-seed ``values`` when both sides have at least two, and a verdict in
the metric's direction (``max``: higher is better; ``min``: lower is). The interval says how large a change the
seeds leave possible, and it decides ``same``: a non-significant change is not evidence of no change. A side's
mean is its values' where it has them; against a side with only a written mean, a change within what that mean's
digits leave open is none (:func:`_as_written`). Verdicts:

* ``better`` / ``worse``: p < alpha and the improvement exceeds ``min_effect`` (in the metric's unit, or with
  ``relative`` as a fraction of A's mean: 0.05 is 5 % of each row's baseline, for times and memory);
* ``same``: the interval lies within [-min_effect, +min_effect], so the seeds rule out any change that counts
  (an equivalence test, stricter than TOST at alpha, which uses the 1 - 2 alpha interval);
* ``unclear``: neither, so the seeds cannot tell. With the default ``min_effect`` of 0 every row without a
  significant change is ``unclear``, unless each seed both sides ran has the same value on both (see below);
* one seed on a side is tested against the other side's seeds as one more draw from them (prediction
  interval; test ``one seed``);
* with one seed on each side, no per-seed values, or no spread among them (:func:`difference_test`), no test is
  possible: the verdict then rests on ``min_effect`` alone (``same`` within it) and ``tested`` is False, which
  every output shows;
* ``undefined``: a side's mean is NaN (its metric is undefined on some seed, e.g. roc_auc on a one-class
  split, or every run of the row failed: ``n`` 0), so there is nothing to judge; never counted as ``same``;
* a side with an infinite value (a regression metric that diverged on a seed) is not tested: its mean is
  infinite, and so is the change, which any minimum effect is smaller than; where both sides are infinite the
  change is ``undefined``, not none: their finite seeds may differ by any amount.

With ``paired``, a row whose two sides ran the same seeds (the ``seeds`` column) is tested with the paired
t-test on the per-seed differences instead: before and after a change on one machine, each seed's
initialisation and split are shared, and pairing removes their variance from the test. A row whose sides ran
other seed sets sharing two seeds or more is compared on those seeds alone (means, delta, interval, test and
``n``; a note names the seeds left out). Without ``paired`` a row is paired so only where its sides hold the
same value on every seed they share (a rerun that reproduced exactly, perhaps with seeds added: Welch's test
over all of them would take the shared seeds for independent draws, and the added seeds' chance mean for a
change): its differences are all zero, so its interval is [0, 0] and its verdict ``same``. Other rows keep
Welch's test over all their values.

Nothing is dropped silently: rows present on one side only, changed seed counts and seeds, NaN seeds, a grown
or shrunk grid (``configs_tried``), failed runs, a model of another size (``params``), hyperparameters
that changed under the same configuration label (``hparams`` column), a changed protocol (task options and
budget, a profile's seed, warm-up and repeats: ``protocol`` column), a kernel profile's distinct edges
(``n_edges``: another seed's graph of the size the row names), and changed environments (device,
library versions from the ``versions`` column, or from the ``runs.jsonl`` beside a CSV written before that
column existed), what ``epoch_load_s`` averages (``epoch_load_over``: every epoch in CSVs written before the
column, the epochs after the first since; ``--on epoch_load_s`` leaves a row whose sides differ in it undefined),
and the feature loading mode that ran (``load_mode``) are listed per row in ``notes``.

The tests are :mod:`gnnbench.leaderboard.significance`'s; :mod:`gnnbench.leaderboard.compare_report` shows the
result.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from gnnbench.errors import GnnbenchError
from gnnbench.leaderboard.aggregate import close
from gnnbench.leaderboard.labels import distinct_plugin_files, label_items, natural_groups, natural_order
from gnnbench.leaderboard.read import (
    COSTS,
    KEYS,
    LOADING,
    graphs_paired,
    kernel_profile,
    leaderboard_csv,
    mean_tolerance,
    read_leaderboard,
    written_decimals,
)
from gnnbench.leaderboard.significance import difference_test, holm
from gnnbench.leaderboard.write import csv_float
from gnnbench.natural import natural_key
from gnnbench.settings import described, differing, flatten, seed_ranges, shown
from gnnbench.units import FRACTION, shown_unit

COMPARE_COLUMNS = [*KEYS, "direction", "unit", "status", "a_mean", "b_mean", "delta", "ci_low", "ci_high", "rel_delta",
                   "a_n", "b_n", "p_value", "tested", "test", "verdict", "notes"]
UNDEFINED = "undefined"
VERDICTS = ("better", "worse", "same", "unclear")  # and UNDEFINED, no verdict


@dataclass
class Comparison:
    """The joined table (one row per key on either side) and what it was computed with."""

    table: pd.DataFrame
    a: Path
    b: Path
    alpha: float
    min_effect: float
    corrected: bool = False  # p-values Holm-adjusted over the tested rows
    paired: bool = False  # rows whose sides share seeds tested paired on them
    column: str = "mean"  # what was compared: the test metric or a cost
    without_cost: int = 0  # rows left out: the cost column empty on both sides
    relative: bool = False  # min_effect is a fraction of each row's A mean
    #: compared on a time: per speed-probe workload both sides ran, B's probe over A's, a median over the table's
    #: rows that kept one on both sides, and their count (:func:`probe_ratios`)
    probes: dict[str, tuple[float, int]] = field(default_factory=dict)
    #: compared on a time: ``A`` or ``B`` where that side's rows carry no speed probe and the other's do
    #: (:func:`unprobed_side`), so the machines' speeds cannot be compared; empty otherwise
    unprobed: str = ""
    #: the ``--fail-on-regression`` threshold where a gate was asked: the summary then says what the gate judged
    #: beyond the table (:meth:`moved`), so that a report kept does not contradict its exit status
    gate: float | None = None

    @property
    def effect(self) -> str:
        """The minimum effect as given: ``0.01`` in the metric's unit, ``5%`` of A's mean."""
        return f"{100 * self.min_effect:g}%" if self.relative else f"{self.min_effect:g}"

    def regressions(self, threshold: float = 0.0) -> pd.DataFrame:
        """Rows whose verdict is ``worse`` by more than ``threshold`` (in the metric's unit). An untested row (no
        per-seed values or no spread among them, or a cost) counts only when a minimum effect or a threshold says
        what size matters: without a test, any change at all would fail a gate. A row whose selected
        configuration moved is judged as ``ignore_config`` joins it, each side's selection against the other's: a
        grid that now selects another, worse configuration would otherwise escape the gate."""
        _warn_unit(self.table, "--fail-on-regression", threshold)
        t = pd.concat([self.table, self.moved], ignore_index=True) if len(self.moved) else self.table
        return self.regressed(t, threshold)

    def regressed(self, t: pd.DataFrame, threshold: float) -> pd.DataFrame:
        """The rows of ``t`` that :meth:`regressions` counts at ``threshold``."""
        sized = t["tested"] | (self.min_effect > 0 or threshold > 0) | np.isinf(t["improvement"])
        return t[(t["verdict"] == "worse") & (t["improvement"] < -threshold) & sized]

    @cached_property
    def moved(self) -> pd.DataFrame:
        """The rows whose selected configuration moved (:meth:`moved_configs`) as ``ignore_config`` joins them,
        ``config`` reading ``X -> Y``: what :meth:`regressions` judges besides the table. Empty where none moved."""
        if not self.moved_configs():
            return self.table.iloc[:0]
        with warnings.catch_warnings():  # the same warnings as this comparison's
            warnings.simplefilter("ignore")
            selected = compare(self.a, self.b, self.alpha, self.min_effect, self.column, ignore_config=True,
                               correct=self.corrected, paired=self.paired, relative=self.relative).table
        return selected[selected["config"].str.contains(" -> ", regex=False)]

    def missing(self) -> pd.DataFrame:
        """Rows that A has and B lost, with a ``reason``: no row of B under any configuration (every run of it
        was dropped), or no mean B can give under any configuration, the one its grid now selects included: every
        run failed (``n`` 0) or the mean is NaN. Not regressions (there is nothing to test), but a gate wants
        them: a model that now crashes on every seed is no worse by any test."""
        t = self.table
        rows = list(t[[k for k in KEYS if k != "config"]].itertuples(index=False, name=None))
        b_rows = {row for row, status in zip(rows, t["status"], strict=True) if status != "only in A"}
        b_means = {row for row, mean in zip(rows, t["b_mean"], strict=True) if not math.isnan(mean)}
        b_failed = {row for row, n in zip(rows, t["b_n"], strict=True) if n == 0}
        no_row = np.array([row not in b_rows for row in rows], dtype=bool)  # only A's rows can lack one
        no_mean = np.array([row not in b_means for row in rows], dtype=bool) & t["a_mean"].notna().to_numpy()
        lost = no_row | no_mean  # a row only in B has no mean in A
        every_run_failed = np.array([row in b_failed for row in rows], dtype=bool) & ~no_row
        reason = np.select([no_row, every_run_failed], ["no row in B", "every run failed in B"],
                           f"no {'mean' if self.column == 'mean' else self.column} in B")
        return t[lost].assign(reason=reason[lost])

    def moved_configs(self) -> list[str]:
        """``Cora gat (default -> lr=0.01)`` for every row on one side only whose (task, dataset, model,
        scenario, metric) is on the other side under another configuration: the grid selected differently, so
        the table cannot join them (``ignore_config`` does; :meth:`regressions` judges them so)."""
        one_sided = self.table[self.table["status"] != "both"]
        one_sided = one_sided[(one_sided["a_n"] != 0) & (one_sided["b_n"] != 0)]  # every run failed: not a choice
        moved = []
        for (task, dataset, model, *_), group in natural_groups(one_sided, [k for k in KEYS if k != "config"]):
            configs = {side: ", ".join(group.loc[group["status"] == side, "config"])
                       for side in ("only in A", "only in B")}
            if all(configs.values()):
                moved.append(f"{task} {dataset} {model} ({configs['only in A']} -> {configs['only in B']})")
        return moved


def compare(a: str | Path, b: str | Path, alpha: float = 0.05, min_effect: float = 0.0,
            column: str = "mean", ignore_config: bool = False, correct: bool = False,
            paired: bool = False, relative: bool = False) -> Comparison:
    """Join leaderboards ``a`` (the baseline) and ``b`` (the candidate) and judge every row on ``column``.

    ``ignore_config`` joins without the configuration: each model's validation-selected configuration on one
    side meets the other side's, whatever they are (``config`` then reads ``X -> Y`` where they differ).
    ``correct`` replaces the tested rows' p-values by Holm's adjustment over all of them, so that with many rows
    a chance ``better`` or ``worse`` somewhere stays below ``alpha``. ``paired`` tests a row whose sides share two
    seeds or more with the paired t-test on those seeds. ``relative`` reads ``min_effect`` as a fraction of each
    row's A mean.
    """
    if column not in ("mean", *COSTS):
        raise GnnbenchError(f"--on must be mean or one of {', '.join(COSTS)}, got {column!r}")
    if not 0 < alpha < 1:
        raise GnnbenchError(f"--alpha must be in (0, 1), got {alpha}")
    if not 0 <= min_effect < math.inf:
        raise GnnbenchError(f"--min-effect must be a finite number >= 0, got {min_effect}")
    a, b = leaderboard_csv(a), leaderboard_csv(b)
    keys = [k for k in KEYS if k != "config"] if ignore_config else KEYS
    left, right = graphs_paired(read_leaderboard(a, column, keys), read_leaderboard(b, column, keys))
    joined = left.merge(right, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    joined = joined.sort_values(keys, key=natural_order, kind="stable")  # HeteroEdgeCount-2 before -10, as on the pages
    rows = []
    for r in joined.to_dict("records"):
        if ignore_config:
            r["config"] = " -> ".join(dict.fromkeys(c for c in (r["config_a"], r["config_b"]) if isinstance(c, str)))
        side = {"both": "both", "left_only": "only in A", "right_only": "only in B"}[r["_merge"]]
        rows.append(_judge(r, side, a, b, paired, 1 - alpha))
    table = pd.DataFrame(rows, columns=[*COMPARE_COLUMNS, "improvement"])
    # a model without that cost on either side (epoch_load_s of one that loads nothing) has nothing to compare
    costless = table["a_mean"].isna() & table["b_mean"].isna() & (column != "mean")
    if len(table) and costless.all():  # a gate on nothing would pass whatever B holds
        raise GnnbenchError(f"--on {column}: no row of {a} or {b} has a value in {column}; nothing to compare (a "
                            "leaderboard has epoch_load_s only for models that load features in batches)")
    table = table[~costless].reset_index(drop=True)
    if not relative:
        _warn_unit(table, "--min-effect", min_effect)
    _warn_untestable(table, [(a, left), (b, right)], keys, paired, min_effect, column)
    tested = table["tested"].astype(bool)
    if correct and tested.any():
        table.loc[tested, "p_value"] = holm(table.loc[tested, "p_value"].to_numpy(dtype=float))
    both = table["status"] == "both"
    table.loc[both, "verdict"] = [
        _verdict(r.improvement, r.p_value, (r.ci_low, r.ci_high), r.tested, alpha,
                 min_effect * abs(r.a_mean) if relative else min_effect) for r in table[both].itertuples()]
    kept = joined[~costless.to_numpy()]  # the table's rows are joined's, in its order
    return Comparison(table=table, a=a, b=b, alpha=alpha, min_effect=min_effect, corrected=correct, paired=paired,
                      column=column, without_cost=int(costless.sum()), relative=relative,
                      probes=probe_ratios(kept) if column in TIMES else {},
                      unprobed=unprobed_side(kept) if column in TIMES else "")


#: The costs a machine's speed moves: compared on one, the summary says how fast each side's machine ran
TIMES = ("epoch_time_s", "epoch_load_s")


def probe_ratios(joined: pd.DataFrame) -> dict[str, tuple[float, int]]:
    """Workload -> the median over the rows both sides probed with it (``speed_probe_ms``: leaderboards of records
    that keep ``env.speed_probe``) of B's probe over A's, and how many rows that is: a time compared includes how
    fast each machine ran that day. Rows whose sides ran other workloads, or kept none, are left out; ``joined``
    holds the rows the table keeps."""
    ratios: dict[str, list[float]] = {}
    for r in joined[joined["_merge"] == "both"].to_dict("records"):
        workload = r["speed_probe_workload_a"]
        if workload and workload == r["speed_probe_workload_b"] and r["speed_probe_ms_a"] and r["speed_probe_ms_b"]:
            ratios.setdefault(workload, []).append(float(r["speed_probe_ms_b"]) / float(r["speed_probe_ms_a"]))
    return {workload: (float(np.median(r)), len(r)) for workload, r in sorted(ratios.items())}


def unprobed_side(joined: pd.DataFrame) -> str:
    """``A`` or ``B`` where none of that side's rows among ``joined`` (the rows the table keeps) carries a speed
    probe and some of the other side's do: a leaderboard of records made before the probe was recorded, against a
    newer one. Empty otherwise: both probed (:func:`probe_ratios`), or neither."""
    probed = [joined[f"speed_probe_ms_{side}"].fillna("").astype(bool).any() for side in ("a", "b")]
    return "" if probed[0] == probed[1] else "B" if probed[0] else "A"


#: A size on a fraction metric from which it was likely meant in the points the table shows (0.5 for half a
#: point is 50 points)
POINTS_LIKELY = 0.2


def _warn_unit(table: pd.DataFrame, option: str, value: float) -> None:
    """A size of :data:`POINTS_LIKELY` or more on a fraction metric: the table shows points, so it was likely
    meant as points."""
    fractions = sorted(set(table.loc[table["unit"] == FRACTION, "metric"]))
    if value >= POINTS_LIKELY and fractions:
        beyond = ", more than any change" if value >= 1 else ""
        warnings.warn(f"{option} {value:g} is in the metric's unit: on {', '.join(fractions)} (a fraction) that is "
                      f"{100 * value:g} points{beyond}; 0.01 is one point", stacklevel=3)


def _warn_untestable(table: pd.DataFrame, sides: list[tuple[Path, pd.DataFrame]], keys: list[str], paired: bool,
                     min_effect: float, column: str) -> None:
    """What leaves a comparison with less to judge than it seems: no row joined at all, a side of several seeds
    without per-seed values (a CSV trimmed of its ``values`` column: none of its rows can be tested, so a gate
    without a size passes whatever they lost), rows without a test at a minimum effect of 0 (any change at all is a
    verdict there), ``paired`` on a side without seeds."""
    loose = [k for k in keys if k != "config"]  # a row whose selected configuration moved still matches
    a_rows, b_rows = (set(frame[loose].itertuples(index=False, name=None)) for _, frame in sides)
    if a_rows and b_rows and not a_rows & b_rows:
        (a, left), (b, right) = sides
        why = "different kinds of results?"
        if kernel_profile(left) and kernel_profile(right):
            graphs = [", ".join(sorted(set(frame["dataset"]), key=natural_key)) for frame in (left, right)]
            why = (f"kernel profiles of other graphs ({graphs[0]} vs {graphs[1]})? A profile written before rows "
                   "were named by the size asked for names each graph by its distinct edges, which another seed "
                   "draws otherwise")
        warnings.warn(f"no row of {a} matches one of {b} on ({', '.join(loose)}): {why}", stacklevel=3)
    for path, frame in sides if column == "mean" else ():  # a cost has no per-seed values on either side
        # nor a profile's headline figure, a median named by a column of its own (read_leaderboard)
        several = frame[(frame["n"] > 1) & ~frame["metric"].isin(frame.columns)]
        if len(several) and not any(map(len, several["values"])):
            warnings.warn(f"{path} has no per-seed values (no 'values' column, or every cell empty) on rows of "
                          "several seeds: none of its rows can be tested, and --fail-on-regression counts an "
                          "untested row only with --min-effect or a threshold", stacklevel=3)
    both = table["status"] == "both"
    changed = table["improvement"].fillna(0) != 0
    finite = np.isfinite(table["improvement"].fillna(0))  # an infinite change is beyond any minimum effect
    untested = int((both & ~table["tested"].astype(bool) & changed & finite).sum())
    if untested and min_effect == 0:
        warnings.warn(f"{untested} row{'s' * (untested > 1)} without a test (one seed a side, seeds without spread, a "
                      "cost or a profile's median) at --min-effect 0: any change at all is better or worse there; "
                      "set --min-effect to the change that matters", stacklevel=3)
    unseeded = [str(path) for path, frame in sides if (frame["seeds"] == "").all()]
    if paired and unseeded:
        warnings.warn(f"--paired: {' and '.join(dict.fromkeys(unseeded))} name{'s' * (len(unseeded) == 1)} no seeds, "
                      "so the rows are tested with Welch's", stacklevel=3)


#: The cells of a row that is not judged: on one side only, or recorded in another unit on each side.
UNJUDGED = {"delta": math.nan, "ci_low": math.nan, "ci_high": math.nan, "rel_delta": math.nan, "p_value": math.nan,
            "tested": False, "test": "", "verdict": "", "improvement": math.nan}


def _judge(r: dict, side: str, a: Path, b: Path, paired: bool, confidence: float) -> dict:
    key = {k: r[k] for k in KEYS}
    if side != "both":
        present = "_a" if side == "only in A" else "_b"
        return {**key, "direction": r[f"direction{present}"], "unit": r[f"unit{present}"], "status": side,
                "a_mean": r["mean_a"], "b_mean": r["mean_b"], "a_n": r["n_a"], "b_n": r["n_b"], "notes": "",
                **UNJUDGED}
    if r["direction_a"] != r["direction_b"]:
        raise GnnbenchError(f"{b}: column 'direction' is {r['direction_b']!r} for "
                            f"{', '.join(f'{k}={v}' for k, v in key.items())} but {r['direction_a']!r} in {a}")
    notes = _changes(r)
    both = {**key, "direction": r["direction_a"], "unit": r["unit_a"], "status": "both", "a_n": r["n_a"],
            "b_n": r["n_b"], "notes": "; ".join(notes)}
    # 0.808 against 80.8 is no change of 79.99, nor a mean over every epoch one over the epochs after the first:
    # nothing to judge (undefined)
    redefined = (column := DEFINED_BY.get(r["metric"])) is not None and r[f"{column}_a"] != r[f"{column}_b"]
    if r["unit_a"] != r["unit_b"] or redefined:
        return {**both, "a_mean": r["mean_a"], "b_mean": r["mean_b"], **UNJUDGED}
    same_seeds = bool(r["seeds_a"]) and r["seeds_a"] == r["seeds_b"]  # values are ordered by seed
    reproduced = same_seeds and np.array_equal(r["values_a"], r["values_b"])  # every seed's value, exactly
    shared = None if same_seeds else _shared_seeds(r, paired)
    if shared:  # judged on the seeds both sides ran alone, paired
        r["values_a"], r["values_b"], note = shared
        both = {**both, "a_n": len(r["values_a"]), "b_n": len(r["values_b"]), "notes": "; ".join([*notes, note])}
    for s in ("a", "b"):  # the test reads the values, so the delta does too: a rounded mean could flip its sign
        if len(r[f"values_{s}"]):
            r[f"mean_{s}"] = float(np.mean(r[f"values_{s}"]))
    # equal within float noise is equal: [0.8] * 3 and [0.8] * 2 average to means 1e-16 apart; inf - inf is NaN
    alike = close(r["mean_a"], r["mean_b"]) or _as_written(r)
    delta = 0.0 if np.isfinite(r["mean_a"]) and alike else r["mean_b"] - r["mean_a"]
    test = "paired" if shared or same_seeds and (paired or reproduced) else "welch"
    if test == "welch" and sorted(map(len, (r["values_a"], r["values_b"])))[0] == 1:
        test = "one seed"  # against the other side's seeds (difference_test)
    infinite = any(np.isinf(r[f"values_{s}"]).any() or np.isinf(r[f"mean_{s}"]) for s in ("a", "b"))
    p, low, high = ((math.nan,) * 3 if infinite  # no variance to test against: the change is infinite, or NaN
                    else difference_test(r["values_a"], r["values_b"], test == "paired", confidence))
    return {**both, "a_mean": r["mean_a"], "b_mean": r["mean_b"], "delta": delta, "ci_low": low, "ci_high": high,
            "rel_delta": delta / abs(r["mean_a"]) if r["mean_a"] else math.nan, "p_value": p,
            "tested": not math.isnan(p), "test": test if not math.isnan(p) else "", "verdict": "",
            "improvement": (1.0 if r["direction_a"] == "max" else -1.0) * delta}


def _shared_seeds(r: dict, paired: bool) -> tuple[np.ndarray, np.ndarray, str] | None:
    """Each side's values on the seeds both sides ran, in seed order, and the note that says so, for a row whose
    sides ran other seed sets sharing two seeds or more, where ``paired`` asks to pair or every shared seed holds
    the same value on both sides (B reran A's seeds and added others: Welch's test over all of them would take the
    shared seeds for independent draws, and the added seeds' chance mean for a change). None otherwise, and where
    a side lacks seeds or values, or counts a seed twice (which of its values would pair?)."""
    cells = [r["seeds_a"], r["seeds_b"]]
    if not all(cells) or any(map(_repeated, cells)) or not all(len(r[f"values_{s}"]) for s in ("a", "b")):
        return None
    # a seed to its value's position: seed 3 of a side that ran 0, 1, 3 is its third value
    index = [{int(seed): i for i, seed in enumerate(cell.split(";"))} for cell in cells]
    shared = sorted(index[0].keys() & index[1].keys())
    values = [r[f"values_{s}"][[positions[seed] for seed in shared]] for s, positions in zip("ab", index, strict=True)]
    if len(shared) < 2 or not (paired or np.array_equal(*values)):
        return None
    left_out = [f"{side}'s {seed_ranges(positions.keys() - set(shared), sep=';')}"
                for side, positions in zip("AB", index, strict=True) if len(positions) > len(shared)]
    note = f"compared on the {len(shared)} seeds both ran ({seed_ranges(shared, sep=';')})"
    return values[0], values[1], note + (f", leaving out {' and '.join(left_out)}" if left_out else "")


def _as_written(r: dict) -> bool:
    """One side has per-seed values, the other only a written mean (a hand-made CSV, or one without the column),
    and that mean is the values' mean as it could have been written: within half a unit of its last digit and what
    rounding the values moved their mean by (:func:`~gnnbench.leaderboard.read.mean_tolerance`). Values averaging
    0.1053333 against a written 0.105333 are no change, though six decimals' rounding of a mean below 0.5 exceeds
    :func:`close`'s tolerance; against a written 0.82, values averaging 0.825667 (0.83 to two decimals) are."""
    sides = [s for s in ("a", "b") if len(r[f"values_{s}"])]
    if len(sides) != 1:
        return False
    counted, written = sides[0], "b" if sides == ["a"] else "a"
    gap = abs(r[f"mean_{written}"] - r[f"mean_{counted}"])  # NaN or inf where a mean is: no written digits
    values = r[f"values_{counted}"]
    if not np.isfinite(gap):
        return False
    # the values as the leaderboard writes them (csv_float), each off by at most half a unit of its last digit
    rounding = max(0.5 * 10.0 ** -written_decimals(csv_float(v, 6)) for v in values)
    return bool(gap <= mean_tolerance(values, r[f"mean_decimals_{written}"], rounding))


def _verdict(improvement: float, p: float, interval: tuple[float, float], tested: bool, alpha: float,
             min_effect: float) -> str:
    """better / worse when beyond the minimum effect and significant (or untested); same when the interval of
    the change (untested: the change) lies within the minimum effect; unclear otherwise."""
    if math.isnan(improvement):
        return UNDEFINED  # a mean is NaN (the metric undefined on some seed), or both infinite: nothing to judge
    if abs(improvement) > min_effect and (not tested or p < alpha):
        return "better" if improvement > 0 else "worse"
    largest = max(map(abs, interval)) if tested else abs(improvement)
    return "same" if largest <= min_effect else "unclear"


#: Counts compared where both sides have them: ``failed`` runs of the row's configuration, ``configs_failed``
#: (configurations that failed on every seed), ``configs_tried`` (the grid's size). A side without one (a CSV
#: written before ``configs_failed`` existed, a hand-made one) is not noted: ``n`` already says what it counts,
#: and a note on every row of an older CSV would bury the changes.
COUNTS = ("failed", "configs_failed", "configs_tried")
#: A figure compared whose definition a column of its row names: sides that differ in it measure different things.
DEFINED_BY = {"epoch_load_s": "epoch_load_over"}
#: What a row's runs were made with: ``params`` (the same hyperparameters building another model: a library change),
#: ``device``, ``kernel``, ``heap`` (the heap setting, which moves CPU epoch times), ``hparams`` (same config label,
#: other values), ``protocol``, ``n_edges`` (a kernel profile's distinct edges: another seed draws another graph of
#: the size asked for, which names the row), ``versions``, ``sources`` (the sha256 prefixes of the plugin files, and
#: of a plugin dataset's data, the runs used), ``epoch_load_over`` (what ``epoch_load_s`` averages: a row compared
#: on it is undefined where it differs), ``load_mode`` (the feature loading that ran: ``cpu -> gpu_direct`` moves
#: ``epoch_load_s`` under one ``hparams`` of ``load_mode: auto``). Noted where they differ, and as ``device unknown
#: in A`` where one side lacks the column or the cell, as a change could hide there; not where both lack it (a
#: profile's ``params``), nor on a side whose every run failed (``n`` 0: nothing ran on a device, no model was
#: built, no configuration selected). An empty cell of :data:`~gnnbench.leaderboard.read.LOADING` is known: nothing
#: loaded (:data:`NOT_LOADED`, ``load_mode – -> cpu``); only a CSV without the column leaves it unknown, and that
#: is noted only against a row that loaded: against one that loaded nothing, every row of an older CSV would say it.
SETTINGS = ("params", "device", "kernel", "heap", "hparams", "protocol", "n_edges", "versions", "sources",
            "epoch_load_over", "load_mode")
#: A :data:`~gnnbench.leaderboard.read.LOADING` setting of a row whose runs loaded nothing, as its notes show it
NOT_LOADED = "–"


def _changes(r: dict) -> list[str]:
    """What differs between the two sides besides the metric: its unit, seeds, failed runs, the grid, the model's
    size, device, hyperparameters, protocol, library versions, what epoch_load_s averages. A row whose unit differs,
    or the column that defines the figure compared (:data:`DEFINED_BY`), is undefined."""
    notes = [f"unit {shown_unit(r['unit_a'])} -> {shown_unit(r['unit_b'])}"] if r["unit_a"] != r["unit_b"] else []
    seeds = [r[f"seeds_{side}"] for side in ("a", "b")]  # read_leaderboard's: "" where a side names none
    ranges = [_seed_ranges(cell) if cell else "" for cell in seeds]
    if math.isnan(r["n_a"]) != math.isnan(r["n_b"]):  # an empty n without values to count (read_leaderboard)
        notes.append(f"n unknown in {'A' if math.isnan(r['n_a']) else 'B'}")
    elif r["n_a"] != r["n_b"] and not math.isnan(r["n_a"]):
        notes.append(f"n {n_text(r['n_a'])} -> {n_text(r['n_b'])}")
    if all(seeds) and ranges[0] != ranges[1]:
        notes.append(f"seeds {ranges[0]} -> {ranges[1]}")
    elif any(seeds) and not all(seeds):  # an older CSV: an exact rerun cannot be told there
        lacking = "a" if seeds[1] else "b"
        if r[f"n_{lacking}"] != 0:  # every run failed: no seed ran
            notes.append(f"seeds unknown in {lacking.upper()}")
    for side, text in zip("AB", seeds, strict=True):  # records of an earlier suite file left in the folder
        if repeated := _repeated(text):
            notes.append(f"seed{'s' * (len(repeated) > 1)} {', '.join(repeated)} counted more than once in {side}")
    for side in ("a", "b"):  # a NaN seed leaves the mean undefined, an infinite one infinite: say where
        values = r[f"values_{side}"]
        for kind, count in (("NaN", np.isnan(values).sum()), ("inf", np.isinf(values).sum())):
            if count:
                notes.append(f"{kind} on {count} of {len(values)} seeds in {side.upper()}")
    for column in COUNTS:
        before, after = r.get(f"{column}_a"), r.get(f"{column}_b")
        if before and after and before != after:
            notes.append(f"{column} {before} -> {after}")
    for column in SETTINGS:
        before, after = (_settings(column, r[f"{column}_{side}"], r[f"n_{side}"] != 0) for side in ("a", "b"))
        lacking = "a" if before is None else "b"
        if before is not None and after is not None:
            notes += _setting_changes(column, before, after)
        elif ((before is None) != (after is None) and r[f"n_{lacking}"] != 0 and column != "heap"
              and NOT_LOADED not in (before, after)):  # the heap: versions says what was recorded
            notes.append(f"{column} unknown in {lacking.upper()}")
    if r["heap_a"] and r["heap_b"]:  # a record without env.allocator ran under the defaults, as its heap cell says
        notes = [note for note in notes if not note.startswith("allocator not recorded in")]
    return notes


def _repeated(seeds: str) -> list[str]:
    """The seeds a ``seeds`` cell (``0;0;1;1``) holds more than once."""
    items = seeds.split(";") if seeds else []
    return sorted({s for s in items if items.count(s) > 1}, key=natural_key)


def _seed_ranges(seeds: str) -> str:
    """``0;1;2;3;7`` -> ``0-3;7``: a row's ``seeds`` cell, each seed once (:func:`_repeated` says which it holds
    more than once). The cell is read_leaderboard's: integers."""
    return seed_ranges((int(s) for s in seeds.split(";")), sep=";")


def _assignments(setting: dict[str, object], keys: list[str]) -> str:
    """``hidden_channels=16, lr=0.01, dropout=–``: ``keys`` as ``setting`` has them (``–``: not set)."""
    return ", ".join(f"{k}={shown(setting, k)}" for k in keys)


def _settings(column: str, cell: object, ran: bool) -> str | list[dict[str, object]] | None:
    """A cell of :data:`SETTINGS` as compared: ``params``, ``device``, ``kernel``, ``heap``, ``epoch_load_over`` and
    ``load_mode`` as written; ``hparams``, ``protocol`` and ``versions`` as the settings of the row's runs, flat:
    one, or each distinct one of a row whose runs did not share them (a JSON list; versions joined by `` | ``).
    :data:`NOT_LOADED` for an empty loading cell of a side whose runs ``ran`` (not all failed): they loaded
    nothing. None when the column is absent or the cell otherwise empty (older or hand-made CSVs)."""
    if column in ("versions", "sources"):
        return _parse_labels(cell)
    if cell == "" and ran and column in LOADING:
        return NOT_LOADED
    if cell is None or cell == "":  # not ``{}``: no hyperparameters is a setting
        return None
    if isinstance(cell, str):
        return cell
    settings = cell if isinstance(cell, list) else [cell]
    return [flatten(s) for s in settings] if column == "protocol" else settings


def _setting_changes(column: str, before: str | list[dict[str, object]],
                     after: str | list[dict[str, object]]) -> list[str]:
    """``device cpu -> cuda`` for a cell compared as written. A side whose runs did not share their settings
    (records of an earlier suite file, runs in several environments) is named with what varies within it; the
    keys each side's runs share are compared across (``hparams lr=0.01 -> lr=0.1``; versions one note per
    package: ``torch 2.13.0 -> 2.14.0``; sources one per plugin part: ``plugin model 1a2b3c4d5e6f -> ...``)."""
    if isinstance(before, str) or isinstance(after, str):  # a cell joining several with ";" is a mixed side
        mixed = [f"{column} mixed in {side}: {' vs '.join(sorted(cell.split(';'), key=natural_key))}"
                 for side, cell in zip("AB", (str(before), str(after)), strict=True) if ";" in cell]
        return mixed or ([f"{column} {before} -> {after}"] if before != after else [])
    mixed = {side: distinct_plugin_files(settings) if column == "sources" else settings
             for side, settings in zip("AB", (before, after), strict=True)}
    # keys joined by ", ": "; " separates a row's notes, and the tables split on it to state common ones once
    notes = [f"{column} mixed in {side}: {described(_natural_order(settings), join=', ')}"
             for side, settings in mixed.items() if len(settings) > 1]
    varying = {*differing(before), *differing(after)}
    changed = [k for k in differing([before[0], after[0]]) if k not in varying]
    if column in ("versions", "sources"):
        prefix = "plugin " if column == "sources" else ""
        return notes + [prefix + _version_change(name, before[0], after[0]) for name in changed]
    if changed:
        notes.append(f"{column} {_assignments(before[0], changed)} -> {_assignments(after[0], changed)}")
    return notes


def _natural_order(settings: list[dict[str, object]]) -> list[dict[str, object]]:
    """A mixed side's settings by the values of the keys that vary among them, in :func:`natural_key` order
    (``epochs 20 vs 30``): a ``protocol`` list is in the order of its row's runs, which differs from row to row,
    and a note that reads ``20 vs 30`` on one row and ``30 vs 20`` on the next is not stated once for them all.
    Whole settings are ordered, so each keeps its values together across keys."""
    keys = differing(settings)
    return sorted(settings, key=lambda setting: [natural_key(shown(setting, k)) for k in keys])


#: Keys the ``versions`` column holds for every record since it names them (``versions_label``: the threads, the
#: heap setting, the commit and the CPU capability, which every record now has, a commit unless gnnbench ran from
#: outside a checkout; the runs made side by side, which the local and process executors record): a side without
#: one was written before, or by an executor that cannot tell (``ray``), not run without it.
RECORDED_LATER = ("allocator", "concurrent_runs", "cpu_capability", "git_commit", "threads")


def _version_change(name: str, before: dict[str, object], after: dict[str, object]) -> str:
    """``torch 2.13.0 -> 2.14.0``, ``torch_scatter 2.1.2 -> –`` (uninstalled), but ``threads not recorded in A``
    for a key of :data:`RECORDED_LATER` one side lacks: ``–`` would read as a change."""
    if name in RECORDED_LATER and (name in before) != (name in after):
        return f"{name} not recorded in {'B' if name in before else 'A'}"
    return f"{name} {shown(before, name)} -> {shown(after, name)}"


def _parse_labels(text: object) -> list[dict[str, object]] | None:
    """``python=3.11.7;torch=2.13.0`` -> ``[{"python": "3.11.7", "torch": "2.13.0"}]``, one dict per environment
    (or set of plugin sources) of a row whose runs used several (``env1 | env2``); None when the column is absent
    or empty (older CSVs; ``sources`` of gnnbench's own parts)."""
    if not isinstance(text, str) or not text:
        return None
    return [label_items(env) for env in text.split(" | ")]


def n_text(value: float) -> str:
    """A seed count as the tables show it: blank where a side has no row."""
    return "" if value is None or math.isnan(value) else str(int(value))
