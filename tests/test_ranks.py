from __future__ import annotations

import math

import pandas as pd
import pytest

from gnnbench.leaderboard.ranks import nemenyi_cd, rank_markdown, rank_summaries


def table(means: dict[str, list[float]], direction: str = "max", metric: str = "accuracy") -> pd.DataFrame:
    rows = [{"task": "t", "scenario": "none", "metric": metric, "direction": direction, "dataset": f"D{i}",
             "model": model, "mean": value}
            for model, values in means.items() for i, value in enumerate(values) if value is not None]
    return pd.DataFrame(rows)


# a always first; b second except on D4, where c beats it; e has one dataset only.
MEANS = {"a": [0.9, 0.9, 0.9, 0.9, 0.9], "b": [0.8, 0.8, 0.8, 0.8, 0.5], "c": [0.7, 0.7, 0.7, 0.7, 0.6],
         "e": [0.99, None, None, None, None]}


def test_mean_ranks_friedman_and_critical_difference_by_hand():
    (s,) = rank_summaries(table(MEANS))
    assert s.ranks["mean_rank"].to_dict() == pytest.approx({"a": 1.0, "b": 2.2, "c": 2.8})
    assert s.excluded == ["e"]
    # chi2_F = 12 N / (k (k + 1)) * (sum_j R_j^2 - k (k + 1)^2 / 4) = 5 * (1 + 4.84 + 7.84 - 12) = 8.4
    assert s.friedman_stat == pytest.approx(8.4)
    assert s.friedman_p == pytest.approx(math.exp(-4.2))  # chi-square with 2 dof: sf(x) = exp(-x / 2)
    # Demsar's table: q_0.05 = 2.343 for k = 3; CD = 2.343 * sqrt(3 * 4 / (6 * 5))
    assert s.cd == pytest.approx(2.3437 * math.sqrt(12 / 30), abs=1e-3)
    assert s.cliques() == [["a", "b"], ["b", "c"]]  # a-c differ by 1.8 > CD = 1.48


@pytest.mark.parametrize(("k", "q"), [(2, 1.960), (4, 2.569), (10, 3.164)])
def test_nemenyi_quantiles_match_demsar_table(k, q):
    assert nemenyi_cd(k, 6) == pytest.approx(q * math.sqrt(k * (k + 1) / 36), abs=2e-3)


def test_means_equal_but_for_their_last_bit_tie_in_the_ranks_and_in_the_friedman_test():
    noisy = 0.7350000023841858  # the mean of ten float32 accuracies summing to 7.35
    exact = {"a": [0.735, 0.9, 0.735], "b": [0.735, 0.8, 0.735], "c": [0.5, 0.5, 0.5]}
    (tied,) = rank_summaries(table(exact))
    (s,) = rank_summaries(table({**exact, "a": [noisy, 0.9, noisy]}))
    assert noisy != 0.735 and s.ranks.loc["a", "D0"] == s.ranks.loc["b", "D0"] == 1.5
    assert (s.friedman_stat, s.friedman_p) == (tied.friedman_stat, tied.friedman_p)  # not p < 0.05 by float noise
    assert s.friedman_p > 0.05


def test_lower_is_better_metrics_and_ties_share_the_average_rank():
    (s,) = rank_summaries(table({"x": [1.0, 2.0], "y": [1.0, 3.0], "z": [0.5, 3.0]}, "min", "mae"))
    assert s.ranks.loc["z", ["D0", "D1"]].tolist() == [1.0, 2.5]
    assert s.ranks.loc["x", ["D0", "D1"]].tolist() == [2.5, 1.0]
    assert list(s.ranks.index) == ["x", "z", "y"]  # mean ranks 1.75, 1.75 (name order), 2.5


def test_markdown_section_and_what_is_left_out():
    text = "\n".join(rank_markdown(table(MEANS)))
    assert "| a | 1.00 | 1 | 1 | 1 | 1 | 1 |" in text and "| b | 2.20 | 2 | 2 | 2 | 2 | 3 |" in text
    assert "Friedman χ² = 8.400, p = 0.015 (k = 3 models, N = 5 datasets). Nemenyi CD = 1.482." in text
    assert "{a, b}; {b, c}" in text and "Not ranked (missing on some dataset): e." in text
    two = "\n".join(rank_markdown(table({"a": [0.9, 0.8], "b": [0.7, 0.6]})))
    assert "Friedman test: needs at least 3 models" in two
    assert rank_markdown(table({"a": [0.9], "b": [0.8]})) == []  # one dataset: nothing to aggregate


def test_models_without_a_mean_on_some_dataset_are_listed_and_the_rest_ranked_over_all_datasets():
    """A NaN mean (a metric undefined on some seed) leaves a model out as a missing dataset does, and it is
    named even when it has no mean anywhere; no dataset is dropped for it."""
    (s,) = rank_summaries(table({**MEANS, "f": [math.nan] * 5, "g": [0.1, math.nan, 0.1, 0.1, 0.1]}))
    assert s.excluded == ["e", "f", "g"]
    assert [c for c in s.ranks.columns if c != "mean_rank"] == ["D0", "D1", "D2", "D3", "D4"]
    assert s.ranks["mean_rank"].to_dict() == pytest.approx({"a": 1.0, "b": 2.2, "c": 2.8})


def test_a_dataset_on_which_no_model_has_a_mean_is_left_out_and_named():
    means = {model: [*values, math.nan] for model, values in MEANS.items() if model != "e"}  # D5: all NaN
    (s,) = rank_summaries(table(means))
    assert s.left_out == ["D5"] and s.excluded == []
    assert s.ranks["mean_rank"].to_dict() == pytest.approx({"a": 1.0, "b": 2.2, "c": 2.8})
    assert "Left out (no model has a mean there): D5." in "\n".join(rank_markdown(table(means)))


def test_a_dataset_where_every_run_failed_leaves_every_model_ranked_on_the_others():
    """Every model ran out of memory on one large graph: that dataset is left out, no model is incomplete."""
    means = {model: [*values, math.nan] for model, values in MEANS.items() if model != "e"}  # D5: every run failed
    board = table(means)
    board["failed"] = [3 * int(d == "D5") for d in board["dataset"]]
    (s,) = rank_summaries(board)
    assert (s.left_out, s.incomplete) == (["D5"], [])
    assert s.ranks["mean_rank"].to_dict() == pytest.approx({"a": 1.0, "b": 2.2, "c": 2.8})


def test_models_tied_on_every_dataset_do_not_differ_at_all():
    (s,) = rank_summaries(table({"a": [0.5, 0.7], "b": [0.5, 0.7], "c": [0.5, 0.7]}))
    assert (s.friedman_stat, s.friedman_p) == (0.0, 1.0)  # scipy's statistic divides by zero here


def test_a_model_with_a_failed_run_on_some_dataset_is_not_ranked():
    """f beats every model on every dataset, but on D1 only over the seeds that survived a failed run."""
    board = table({**MEANS, "f": [0.95] * 5})
    board["failed"] = [int(m == "f" and d == "D1") for m, d in zip(board["model"], board["dataset"], strict=True)]
    (s,) = rank_summaries(board)
    assert list(s.ranks.index) == ["a", "b", "c"] and (s.incomplete, s.excluded) == (["f"], ["e"])
    assert "Not ranked (a failed run on some dataset): f." in "\n".join(rank_markdown(board))
    # a dataset where no model has a mean changes nothing about that
    nan_everywhere = table({m: [*v, math.nan] for m, v in {**MEANS, "f": [0.95] * 5}.items()})
    nan_everywhere["failed"] = [int(m == "f" and d == "D1") for m, d in
                                zip(nan_everywhere["model"], nan_everywhere["dataset"], strict=True)]
    (s,) = rank_summaries(nan_everywhere)
    assert list(s.ranks.index) == ["a", "b", "c"] and s.incomplete == ["f"] and s.left_out == ["D5"]
    # a model whose every run failed on D1 has no mean there: a failure, not a missing result
    board = table({**MEANS, "f": [math.nan, 0.95, 0.95, 0.95, 0.95]})
    board["failed"] = [3 * int(m == "f" and d == "D0") for m, d in zip(board["model"], board["dataset"], strict=True)]
    (s,) = rank_summaries(board)
    assert (s.incomplete, s.excluded) == (["f"], ["e"])
