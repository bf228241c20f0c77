"""Significance of a difference between two sets of per-seed values: the tests ``gnnbench compare`` judges a row
with, and Holm's adjustment over many rows. Pure functions of numbers, kept apart from the joining of
leaderboards (:mod:`gnnbench.leaderboard.compare`) so each can be read and tested alone."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats


def difference_test(a: Sequence[float], b: Sequence[float], paired: bool = False,
                    confidence: float = 0.95) -> tuple[float, float, float]:
    """(two-sided p, interval low, interval high) for mean(b) - mean(a): Welch's t-test, or with ``paired`` the
    paired t-test on b - a (the same seeds, in the same order).

    One value on a side against two or more on the other (a change tried on one seed) is tested as one more
    draw from the other side's seeds: t = (b - mean(a)) / (s sqrt(1 + 1/n)) with the n seeds' standard
    deviation s and n - 1 degrees of freedom, its interval the prediction interval. It assumes the one seed
    varies as the n do. NaN with fewer values than that (one against one; unequal pairs).

    Without any spread (every seed the same value, or the same difference when paired) there is no variance to
    test against. Paired, a difference of 0 on every seed is a rerun that reproduced exactly: no change (p 1,
    interval [0, 0]). Anything else is left untested (NaN), equal constant sides of other seeds included: a few
    seeds of a metric that moves in coarse steps (one test node in a thousand) tie by chance often enough that
    calling such a difference, or such a tie, certain would judge noise."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not paired and min(len(a), len(b)) == 1 and max(len(a), len(b)) >= 2:
        return _one_draw_test(a, b, confidence)
    if len(a) < 2 or len(b) < 2 or (paired and len(a) != len(b)):
        return math.nan, math.nan, math.nan
    if (_constant(b - a) if paired else _constant(a) and _constant(b)):  # the same value, or the same change
        reproduced = paired and _constant(np.concatenate([b - a, [0.0]]))
        return (1.0, 0.0, 0.0) if reproduced else (math.nan, math.nan, math.nan)
    with warnings.catch_warnings():  # one side's seeds all equal (the other's not): Welch's test is sound
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        result = stats.ttest_rel(b, a) if paired else stats.ttest_ind(b, a, equal_var=False)
    low, high = result.confidence_interval(confidence)
    return float(result.pvalue), float(low), float(high)


def _one_draw_test(a: np.ndarray, b: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """:func:`difference_test` for one value on a side: that value against the other side's seeds."""
    seeds = a if len(b) == 1 else b
    delta = float(b.mean() - a.mean())
    if _constant(seeds):
        return math.nan, math.nan, math.nan
    spread = float(np.std(seeds, ddof=1))
    scale, dof = spread * math.sqrt(1 + 1 / len(seeds)), len(seeds) - 1
    half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * scale
    return float(2 * stats.t.sf(abs(delta) / scale, dof)), delta - half, delta + half


def _constant(values: np.ndarray) -> bool:
    """Every value the same, up to the float noise of a subtraction (b - a of equal shifts): a variance of
    [0.8, 0.8, 0.8] is 1e-32, not 0, and would make a tie a certainty."""
    return float(np.ptp(values)) <= 1e-12 * max(1.0, float(np.max(np.abs(values))))


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment: the k-th smallest of m p-values times (m - k + 1), kept monotone and at
    most 1. Comparing them with alpha bounds the chance of any false verdict among the m rows by alpha."""
    order = np.argsort(p_values, kind="stable")
    m = len(p_values)
    adjusted = np.minimum(1.0, np.maximum.accumulate(p_values[order] * (m - np.arange(m))))
    out = np.empty(m)
    out[order] = adjusted
    return out
