from __future__ import annotations

import io
import json
import math
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gnnbench.cli import main
from gnnbench.errors import GnnbenchError
from gnnbench.harness.store import RunStore
from gnnbench.leaderboard import compare, read, significance
from gnnbench.leaderboard import compare_report as report
from gnnbench.leaderboard.aggregate import COLUMNS, close
from gnnbench.leaderboard.write import csv_float

BASE = [0.80, 0.81, 0.82, 0.80, 0.81]
DROP = [0.76, 0.77, 0.75, 0.78, 0.76]  # 4.4 points lower, well outside the noise
VERSIONS = "python=3.11.7;torch=2.13.0+cpu;torch_geometric=2.8.1"


def row(model, values, dataset="Cora", metric="accuracy", direction="max", config="default", device="cpu-x",
        versions=VERSIONS, **extra):
    return {"suite": "s", "task": "node_classification", "dataset": dataset, "model": model, "config": config,
            "scenario": "none", "metric": metric, "direction": direction,
            "mean": f"{np.mean(values):.6f}" if values else "",
            "std": f"{np.std(values, ddof=1):.6f}" if len(values) > 1 else "", "n": len(values),
            "values": ";".join(f"{v:.6f}" for v in values), "val_mean": "0.5", "params": 1, "epoch_time_s": 0.1,
            "peak_mem_mb": 1.0, "kernel": "scatter", "rank": 1, "seeds": ";".join(map(str, range(len(values)))),
            "device": device, "versions": versions, **extra}


def write(path, rows):
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def pair(tmp_path):
    a = write(tmp_path / "a.csv", [row("gcn", BASE), row("gat", BASE), row("mlp", BASE, dataset="CiteSeer"),
                                   row("gin", [0.7, 0.71, 0.69], metric="mae", direction="min")])
    b = write(tmp_path / "b.csv", [row("gcn", DROP), row("gat", [v + 0.001 for v in BASE]),
                                   row("sage", BASE, dataset="CiteSeer"),
                                   row("gin", [0.60, 0.61, 0.59], metric="mae", direction="min")])
    return a, b


def test_people_read_p_values_in_a_column_and_the_minimum_effect_in_the_tables_points(pair, tmp_path, capsys):
    """Three decimals line p-values up (``<0.001`` below; the CSV keeps six digits); a minimum effect given as a
    fraction is also said in the points the table shows, for fraction metrics only."""
    result = compare.compare(*pair, min_effect=0.02)
    shown = {r["model"]: r["p"] for r in report.display_rows(result)}
    assert shown["gcn"] == "<0.001" and re.fullmatch(r"\d\.\d{3}", shown["gat"]) and shown["mlp"] == "n/a"
    assert [report.p_text(p) for p in (0.0278, 0.00049, 0.0005, 1.0)] == ["0.028", "<0.001", "0.001", "1.000"]
    assert "minimum effect 0.02 (2 points on fraction metrics)." in report.to_markdown(result)  # gin's mae is not
    accuracy = write(tmp_path / "c.csv", [row("gcn", BASE)]), write(tmp_path / "d.csv", [row("gcn", DROP)])
    assert report.effect_text(compare.compare(*accuracy, min_effect=0.01)) == "0.01 (1 point)"
    assert report.effect_text(compare.compare(*accuracy)) == "0"
    assert report.effect_text(compare.compare(*accuracy, min_effect=0.1, relative=True)) == "10% of A"
    assert main(["compare", *map(str, accuracy), "--min-effect", "0.015"]) == 0
    assert "minimum effect 0.015 (1.5 points)." in capsys.readouterr().out


def verdicts(result):
    return {(r.dataset, r.model): (r.status, r.verdict) for r in result.table.itertuples()}


def test_a_known_regression_is_flagged_with_the_welch_p_value(pair):
    result = compare.compare(*pair)
    gcn = result.table.set_index("model").loc["gcn"]
    assert gcn["verdict"] == "worse" and gcn["tested"]
    assert gcn["delta"] == pytest.approx(0.764 - 0.808)
    assert gcn["rel_delta"] == pytest.approx(-0.044 / 0.808)
    # Welch by hand: t = (mean_b - mean_a) / sqrt(var_a/n_a + var_b/n_b), Welch-Satterthwaite degrees of freedom.
    va, vb = np.var(BASE, ddof=1) / 5, np.var(DROP, ddof=1) / 5
    t = (np.mean(DROP) - np.mean(BASE)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / 4 + vb**2 / 4)
    assert gcn["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9)
    assert gcn["p_value"] == pytest.approx(stats.ttest_ind(BASE, DROP, equal_var=False).pvalue, rel=1e-9)
    assert gcn["p_value"] < 1e-3


def test_units_come_from_the_csv_or_for_an_older_one_from_the_metric_s_name(tmp_path, capsys):
    """A plugin metric in percent already (unit empty) is shown as recorded, not multiplied again; a CSV without
    the column (written before units were recorded) shows accuracy in points, and a row whose unit changed
    between the sides says so."""
    old = write(tmp_path / "old.csv", [row("gcn", BASE), row("gat", BASE)])
    new = write(tmp_path / "new.csv", [row("gcn", BASE, unit="fraction"),
                                       row("gat", [100 * v for v in BASE], unit="")])
    table = compare.compare(old, new).table.set_index("model")
    assert table["unit"].to_dict() == {"gcn": "fraction", "gat": "fraction"}  # the row is shown in A's
    assert "unit fraction -> as recorded" in table.loc["gat", "notes"]
    assert "unit" not in table.loc["gcn", "notes"]
    # the same accuracies, in percent on one side: no change of 80 points to call better, nor a regression
    assert table.loc["gat", "verdict"] == "undefined" and math.isnan(table.loc["gat", "delta"])
    assert compare.compare(new, old).regressions().empty
    shown = {r["model"]: r for r in report.display_rows(compare.compare(new, new))}
    assert shown["gcn"]["A"].startswith("80.80") and shown["gat"]["A"].startswith("80.8000")
    write(tmp_path / "bad.csv", [row("gcn", BASE, unit="percent")])
    with pytest.raises(GnnbenchError, match=r"bad.csv: line 2: column 'unit' is 'percent'; expected fraction"):
        compare.compare(old, tmp_path / "bad.csv")


def test_the_points_warning_follows_the_unit_not_the_name(tmp_path):
    a = write(tmp_path / "a.csv", [row("gcn", BASE, metric="balanced", unit="fraction")])
    b = write(tmp_path / "b.csv", [row("gcn", DROP, metric="balanced", unit="fraction")])
    with pytest.warns(UserWarning, match="on balanced \\(a fraction\\) that is 50 points"):
        compare.compare(a, b, min_effect=0.5)
    c = write(tmp_path / "c.csv", [row("gcn", BASE, unit="")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare.compare(c, c, min_effect=0.5)


def test_equal_constant_sides_are_a_tie_only_when_the_same_seeds_reproduced_it(tmp_path):
    """Three seeds at 0.8 against two other seeds at 0.8 may tie by chance: untested, so ``same*`` rests on the
    minimum effect; the same seeds reproducing every value are tested paired, interval [0, 0]. Means 1e-16 apart
    (three 0.8s and two) are no change: not ``worse`` at a minimum effect of 0, nor ``-0.00``."""
    a = write(tmp_path / "a.csv", [row("gcn", [0.8] * 3, seeds=""), row("gat", [0.8] * 3)])
    b = write(tmp_path / "b.csv", [row("gcn", [0.8] * 2, seeds=""), row("gat", [0.8], seeds="7")])
    result = compare.compare(a, b)
    table = result.table.set_index("model")
    assert (table["delta"] == 0).all() and not table["tested"].any() and table["p_value"].isna().all()
    assert set(table["verdict"]) == {"same"}
    shown = {r["model"]: r for r in report.display_rows(result)}
    assert shown["gcn"]["verdict"] == shown["gat"]["verdict"] == "same*"
    assert shown["gcn"]["delta"] == "+0.00" and shown["gcn"]["rel"] == "+0.00%"
    reproduced = compare.compare(a, a).table.set_index("model").loc["gat"]
    assert (reproduced["test"], reproduced["p_value"], reproduced["ci_low"], reproduced["ci_high"],
            reproduced["verdict"]) == ("paired", 1.0, 0.0, 0.0, "same")


def test_verdicts_respect_direction_noise_and_one_sided_rows(pair):
    assert verdicts(compare.compare(*pair)) == {
        ("Cora", "gcn"): ("both", "worse"),
        ("Cora", "gat"): ("both", "unclear"),  # +0.1 point, inside the noise: five seeds cannot tell
        ("Cora", "gin"): ("both", "better"),  # MAE went down: better
        ("CiteSeer", "mlp"): ("only in A", ""),
        ("CiteSeer", "sage"): ("only in B", ""),
    }
    flipped = verdicts(compare.compare(pair[1], pair[0]))
    assert flipped[("Cora", "gcn")] == ("both", "better") and flipped[("Cora", "gin")] == ("both", "worse")
    # gat's 95% interval is [-1.1, +1.3] points: within a minimum effect of 1.5 points, not of 1
    assert verdicts(compare.compare(*pair, min_effect=0.015))[("Cora", "gat")] == ("both", "same")
    assert verdicts(compare.compare(*pair, min_effect=0.01))[("Cora", "gat")] == ("both", "unclear")


def test_a_change_is_same_only_when_its_interval_lies_within_the_minimum_effect(tmp_path):
    a = write(tmp_path / "a.csv", [row("gcn", BASE)])
    b = write(tmp_path / "b.csv", [row("gcn", [v - 0.02 for v in BASE])])  # 2 points lower, same spread
    assert compare.compare(a, b).table["p_value"].item() < 0.01
    assert compare.compare(a, b).table["verdict"].item() == "worse"
    # the 95% interval is [-3.2, -0.8] points: smaller than 3 points, but not shown to be
    assert compare.compare(a, b, min_effect=0.03).table["verdict"].item() == "unclear"
    assert compare.compare(a, b, min_effect=0.033).table["verdict"].item() == "same"
    with pytest.warns(UserWarning, match=r"--min-effect 2 is in the metric's unit: on accuracy \(a fraction\) that "
                                         r"is 200 points"):  # meant as 2 points, the unit the table shows
        compare.compare(a, b, min_effect=2)
    with pytest.warns(UserWarning, match=r"--fail-on-regression 1 is in the metric's unit"):
        compare.compare(a, b).regressions(1)
    with pytest.warns(UserWarning, match=r"--min-effect 0.5 is in the metric's unit: .* that is 50 points; 0.01"):
        compare.compare(a, b, min_effect=0.5)  # meant as half a point
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare.compare(a, b, min_effect=0.05)  # five points: plausible as meant


def test_paired_tests_rows_with_the_same_seeds_on_the_differences(tmp_path):
    """Seeds spread over 6 points, and B is one point above A on every seed: Welch sees noise, pairing does not."""
    spread = [0.78, 0.80, 0.82, 0.84, 0.81]
    shifted = [v + 0.01 + e for v, e in zip(spread, [0.001, -0.001, 0.0005, 0.0, -0.0005], strict=True)]
    a = write(tmp_path / "a.csv", [row("gcn", spread), row("gat", spread)])
    b = write(tmp_path / "b.csv", [row("gcn", shifted), row("gat", shifted, seeds="5;6;7;8;9")])
    welch = compare.compare(a, b).table.set_index("model")
    paired = compare.compare(a, b, paired=True).table.set_index("model")
    assert welch.loc["gcn", ["verdict", "test"]].tolist() == ["unclear", "welch"]
    assert paired.loc["gcn", ["verdict", "test"]].tolist() == ["better", "paired"]
    assert paired.loc["gcn", "p_value"] == pytest.approx(stats.ttest_rel(shifted, spread).pvalue)
    assert paired.loc["gat", ["verdict", "test"]].tolist() == ["unclear", "welch"]  # other seeds: nothing to pair
    assert "| p (Welch or paired) |" in report.to_markdown(compare.compare(a, b, paired=True))
    shown = {r["model"]: r["p"] for r in report.display_rows(compare.compare(a, b, paired=True))}
    assert shown["gat"].endswith(" welch") and not shown["gcn"].endswith(" paired")  # the row not tested as asked
    assert ("(--paired: 1 row tested with Welch's, its sides sharing fewer than two seeds, or a side without seeds or "
            "values or counting a seed twice)") in report.summary(
        compare.compare(a, b, paired=True))
    assert all(map(math.isnan, significance.difference_test([0.8, 0.9], [0.81, 0.91], paired=True)))  # no spread
    assert significance.difference_test([0.8, 0.9], [0.8, 0.9], paired=True) == (1.0, 0.0, 0.0)
    interval = stats.ttest_rel(shifted, spread).confidence_interval(0.95)
    assert paired.loc["gcn", ["ci_low", "ci_high"]].tolist() == pytest.approx([interval.low, interval.high])


def test_seeds_added_to_a_reproduced_rerun_are_left_out_not_taken_for_a_change(tmp_path, capsys):
    """B reran A's five seeds exactly and added five whose mean happens to be lower: Welch's test over all ten
    would take the five shared seeds for independent draws and call B worse. Compared on the shared seeds alone,
    paired, nothing changed, and the gate passes."""
    added = [0.70, 0.71, 0.69, 0.70, 0.72]
    a = write(tmp_path / "a.csv", [row("gcn", BASE)])
    b = write(tmp_path / "b.csv", [row("gcn", BASE + added)])
    gcn = compare.compare(a, b).table.iloc[0]
    assert (gcn["test"], gcn["verdict"], gcn["ci_low"], gcn["ci_high"], gcn["delta"]) == ("paired", "same", 0, 0, 0)
    assert (gcn["a_n"], gcn["b_n"], gcn["b_mean"]) == (5, 5, pytest.approx(np.mean(BASE)))
    assert gcn["notes"] == "n 5 -> 10; seeds 0-4 -> 0-9; compared on the 5 seeds both ran (0-4), leaving out B's 5-9"
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression"]) == 0
    assert "regression" not in capsys.readouterr().err
    reference = Path(__file__).resolve().parents[1] / "results" / "reference"
    every = compare.compare(reference / "architecture_search", reference / "architecture_search_seeds")
    assert set(every.table.loc[every.table["status"] == "both", "verdict"]) == {"same"}
    assert report.common_notes(every) == ["n 10 -> 50", "seeds 0-9 -> 0-49",
                                          "compared on the 10 seeds both ran (0-9), leaving out B's 10-49"]


def test_paired_pairs_the_seeds_both_sides_ran_and_welch_keeps_shared_seeds_that_differ(tmp_path):
    """Seeds 0-2 against 0-4 (and 1-3 against 0-2, each side with one of its own): ``--paired`` pairs the shared
    seeds and says which it left out; without it, shared seeds that changed are Welch's over every value, as are
    sides sharing one seed under ``--paired``."""
    spread = [0.78, 0.80, 0.82, 0.84, 0.81]
    shifted = [v + 0.01 + e for v, e in zip(spread, [0.001, -0.001, 0.0005, 0.0, -0.0005], strict=True)]
    a = write(tmp_path / "a.csv", [row("gcn", spread[:3]), row("gat", spread[1:4], seeds="1;2;3"),
                                   row("gin", spread[:3])])
    b = write(tmp_path / "b.csv", [row("gcn", shifted), row("gat", shifted[:3]),
                                   row("gin", shifted[2:5], seeds="2;3;4")])
    paired = compare.compare(a, b, paired=True).table.set_index("model")
    assert paired.loc["gcn", ["test", "a_n", "b_n"]].tolist() == ["paired", 3, 3]
    assert paired.loc["gcn", "p_value"] == pytest.approx(stats.ttest_rel(shifted[:3], spread[:3]).pvalue)
    assert paired.loc["gcn", "delta"] == pytest.approx(np.mean(shifted[:3]) - np.mean(spread[:3]))
    assert paired.loc["gcn", "notes"].endswith("compared on the 3 seeds both ran (0-2), leaving out B's 3-4")
    assert paired.loc["gat", "p_value"] == pytest.approx(stats.ttest_rel(shifted[1:3], spread[1:3]).pvalue)
    assert paired.loc["gat", "notes"].endswith("compared on the 2 seeds both ran (1-2), leaving out A's 3 and B's 0")
    assert paired.loc["gin", ["test", "a_n", "b_n"]].tolist() == ["welch", 3, 3]  # one shared seed: nothing to pair
    welch = compare.compare(a, b).table.set_index("model")
    assert welch.loc["gcn", ["test", "a_n", "b_n"]].tolist() == ["welch", 3, 5]
    assert welch.loc["gcn", "p_value"] == pytest.approx(stats.ttest_ind(shifted, spread[:3], equal_var=False).pvalue)
    assert "compared on" not in "".join(welch["notes"])


def test_seeds_are_read_as_integers_so_two_spellings_of_one_seed_are_one_seed(tmp_path):
    """``00`` and `` 0`` are seed 0: a side writing ``0;00;1;2`` counts seed 0 twice (its first value was silently
    dropped when pairing); `` 0; 1; 2`` against ``0;1;2`` are the same seeds (no note of seeds compared); ``--1``
    is no seed (it crashed the pairing with a ValueError) but an error naming the column."""
    a = write(tmp_path / "a.csv", [row("gcn", [0.8, 0.81, 0.82]), row("gat", [0.8, 0.81, 0.82])])
    b = write(tmp_path / "b.csv", [row("gcn", [0.7, 0.8, 0.81, 0.82], seeds="0;00;1;2"),
                                   row("gat", [0.8, 0.81, 0.83], seeds=" 0; 1; 2")])
    t = compare.compare(a, b, paired=True).table.set_index("model")
    assert "seed 0 counted more than once in B" in t.loc["gcn", "notes"] and t.loc["gcn", "test"] == "welch"
    assert t.loc["gat", ["test", "notes"]].tolist() == ["paired", ""]
    bad = write(tmp_path / "bad.csv", [row("gcn", [0.8, 0.81, 0.82], seeds="--1;1;2")])
    with pytest.raises(GnnbenchError, match=r"column 'seeds' is '--1;1;2'; expected integers"):
        compare.compare(a, bad)
    huge = write(tmp_path / "huge.csv", [row("gcn", [0.8, 0.81, 0.82], seeds="0;1;" + "9" * 5000)])
    with pytest.raises(GnnbenchError, match=r"'seeds' is '0;1;9{33}\.\.\.9{38}'; expected integers"):
        compare.compare(a, huge)  # past the digits Python reads from text: a ValueError traceback


def test_the_markdown_p_header_names_the_tests_the_rows_used(tmp_path):
    """``--paired`` with every row paired is ``p (paired)``, not ``Welch or paired``; a cost, which no row tests,
    is ``p (no test)``, not ``Welch``."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE), row("gat", BASE)])
    b = write(tmp_path / "b.csv", [row("gcn", DROP), row("gat", DROP)])
    assert "| p (paired) |" in report.to_markdown(compare.compare(a, b, paired=True))
    assert "| p (paired, Holm) |" in report.to_markdown(compare.compare(a, b, paired=True, correct=True))
    assert "| p (Welch) |" in report.to_markdown(compare.compare(a, b))
    cost = compare.compare(a, b, column="epoch_time_s", min_effect=0.01, correct=True)
    assert "| p (no test) |" in report.to_markdown(cost)


def test_seeds_that_tie_by_chance_are_no_certain_change(tmp_path, capsys):
    """Two seeds of an accuracy on 1,000 test nodes that happen to agree on each side (as Cora GCN's seeds 5 and 8,
    0 and 3 of the reference do) leave no variance to test against: untested, starred, and no gate fails on them
    unless a minimum effect says what size counts."""
    a = write(tmp_path / "a.csv", [row("gcn", [0.819, 0.819])])
    b = write(tmp_path / "b.csv", [row("gcn", [0.817, 0.817])])
    with pytest.warns(UserWarning, match="seeds without spread"):
        result = compare.compare(a, b)
    gcn = result.table.iloc[0]
    assert not gcn["tested"] and math.isnan(gcn["p_value"]) and gcn["verdict"] == "worse"
    assert report.display_rows(result)[0]["verdict"] == "worse*"
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression"]) == 0
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression", "--min-effect", "0.001"]) == 1
    capsys.readouterr()
    for values_b in ([0.801] * 3, [0.799]):  # three seeds each, or one against three: 0.8's mean is 0.8000000000000002
        tied = compare.compare(write(tmp_path / "a3.csv", [row("gcn", [0.8] * 3)]),
                               write(tmp_path / "b3.csv", [row("gcn", values_b)]), min_effect=0.01)
        assert not tied.table["tested"].item() and math.isnan(tied.table["p_value"].item())


def test_paired_differences_equal_up_to_float_noise_are_no_certain_change(tmp_path):
    """B is 1.3 points above A on every seed; written to six digits, b - a differs between seeds by 1e-16 alone.
    A t-test on that noise would call the change certain (p near 0): it is left untested, as an exact tie is."""
    values_a, values_b = [0.570262, 0.845272, 0.716584], [0.583262, 0.858272, 0.729584]
    assert all(map(math.isnan, significance.difference_test(values_a, values_b, paired=True)))
    a = write(tmp_path / "a.csv", [row("gcn", values_a)])
    b = write(tmp_path / "b.csv", [row("gcn", values_b)])
    gcn = compare.compare(a, b, paired=True, min_effect=0.01).table.iloc[0]
    assert not gcn["tested"] and math.isnan(gcn["p_value"]) and gcn["verdict"] == "better"


def test_the_delta_is_the_values_delta_when_a_rounded_mean_would_flip_it(tmp_path):
    """A hand-made CSV may round its mean by one unit of the last digit: the delta, like the test, reads the
    values, so B better on every seed is never called worse."""
    values = [0.7101, 0.7151, 0.7201]
    a = write(tmp_path / "a.csv", [{**row("gcn", values), "mean": "0.72"}])
    better = [v + 0.003 + e for v, e in zip(values, [0, 1e-4, -1e-4], strict=True)]
    b = write(tmp_path / "b.csv", [{**row("gcn", better), "mean": "0.718"}])
    gcn = compare.compare(a, b, paired=True).table.iloc[0]
    assert gcn["delta"] == pytest.approx(0.003) and gcn["verdict"] == "better"
    assert gcn["ci_low"] <= gcn["delta"] <= gcn["ci_high"]


@pytest.mark.parametrize(("values", "metric", "direction"), [
    ([0.091, 0.122, 0.103], "accuracy", "max"),  # 0.1053333 written 0.105333: 3.2e-6 apart, relatively
    ([1.5e-05, 1.2e-05, 1.1e-05], "mse", "min"),  # below 1e-4, six significant digits: 1.26667e-05, 2.6e-6 apart
])
def test_a_mean_written_without_values_is_the_same_as_the_values_it_was_written_from(tmp_path, values, metric,
                                                                                     direction):
    """A row without per-seed values (a hand-made CSV, or one written before the column) knows its mean to the
    digits written. The same runs on the other side, with their values, are then the same, not worse (or better)
    by the rounding of a mean below 0.5, which exceeds the tie tolerance, and fail no gate."""
    mean = csv_float(float(np.mean(values)), 6)
    assert not close(float(np.mean(values)), float(mean))  # what the tie tolerance alone called a change
    full = {**row("gcn", values, metric=metric, direction=direction), "mean": mean,
            "values": ";".join(csv_float(v, 6) for v in values)}
    a = write(tmp_path / "a.csv", [full])
    b = write(tmp_path / "b.csv", [{**full, "values": ""}])
    for first, second in ((a, b), (b, a)):
        assert main(["compare", str(first), str(second), "-q", "--fail-on-regression", "1e-12"]) == 0
        r = compare.compare(first, second).table.iloc[0]
        assert (r.delta, r.rel_delta, r.verdict, r.tested) == (0.0, 0.0, "same", False)
        assert math.isnan(r.ci_low) and math.isnan(r.p_value)


def test_a_mean_written_without_values_is_the_same_within_its_digits_and_at_most_one_percent(tmp_path):
    """Values averaging 0.1053333 against a hand-made mean: 0.1053 (four decimals) and 0.105 are them as written,
    no change; 0.1060 is a change of 0.000667, not one rounded to 0.0007, and 0.106 is one too (0.1053333 rounds to
    0.105: one unit of the last digit, which a row's own mean may be off by, is too much here). A 1 or 0, whose
    last digit would cover any accuracy, may lie no more than 1% of the values' size from them: a change."""
    values = [0.091, 0.122, 0.103]
    a = write(tmp_path / "a.csv", [row("gcn", values)])
    for written, delta, verdict in (("0.1053", 0.0, "same"), ("0.105", 0.0, "same"), ("0.1060", 0.0006667, "better"),
                                    ("0.106", 0.0006667, "better"),
                                    ("1", 0.8946667, "better"), ("0", -0.1053333, "worse")):
        b = write(tmp_path / "b.csv", [{**row("gcn", values), "mean": written, "values": ""}])
        r = compare.compare(a, b, min_effect=1e-5).table.iloc[0]
        assert r.verdict == verdict and r.delta == pytest.approx(delta, abs=1e-7)


def test_a_mean_written_from_unrounded_values_is_the_same_as_their_rounded_values(tmp_path):
    """The leaderboard writes the mean of the unrounded values and the values rounded: seeds at 0.1000004,
    0.1000004 and 0.1000014 are written 0.100000;0.100000;0.100001, their mean 0.100001, one unit from what the
    written values average to, rounded. Without the values column the same runs are still the same."""
    a = write(tmp_path / "a.csv", [{**row("gcn", [0.1, 0.1, 0.100001]), "mean": "0.100001"}])
    b = write(tmp_path / "b.csv", [{**row("gcn", [0.1, 0.1, 0.100001]), "mean": "0.100001", "values": ""}])
    assert compare.compare(a, b).table.iloc[0].verdict == "same"


def test_every_tested_row_has_the_confidence_interval_of_its_delta(tmp_path):
    """Three seeds a side: no significant change, yet the interval shows a change of several points is not ruled
    out, so the verdict is 'unclear', not 'same'."""
    a = write(tmp_path / "a.csv", [row("gcn", [0.80, 0.82, 0.84])])
    b = write(tmp_path / "b.csv", [row("gcn", [0.79, 0.80, 0.84])])
    result = compare.compare(a, b, alpha=0.1)
    interval = stats.ttest_ind([0.79, 0.80, 0.84], [0.80, 0.82, 0.84], equal_var=False).confidence_interval(0.9)
    (r,) = result.table.itertuples()
    assert r.verdict == "unclear" and (r.ci_low, r.ci_high) == pytest.approx((interval.low, interval.high))
    assert r.ci_low < -0.03 and r.ci_high > 0.02
    shown = report.to_markdown(result)
    assert "| 90% CI of Δ |" in shown and f"[{100 * interval.low:+.2f}, {100 * interval.high:+.2f}]" in shown


def test_holm_adjusts_over_the_tested_rows_and_can_turn_a_verdict(tmp_path):
    """Holm by hand: the k-th smallest of m p-values times (m - k + 1), running maximum, at most 1."""
    raw = np.array([0.01, 0.04, 0.03, 0.5])
    assert significance.holm(raw) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    slightly = [v - 0.014 for v in BASE]  # p = 0.03 alone, 0.09 as one of three
    a = write(tmp_path / "a.csv", [row(m, BASE) for m in ("gcn", "gat", "sage")] + [row("mlp", [0.8])])
    b = write(tmp_path / "b.csv", [row("gcn", slightly), row("gat", BASE), row("sage", BASE), row("mlp", [0.7])])
    with pytest.warns(UserWarning, match="1 row without a test"):  # mlp's single seed
        plain, corrected = compare.compare(a, b), compare.compare(a, b, correct=True)
    p = plain.table.set_index("model")["p_value"]
    assert p["gcn"] < 0.05 and plain.table.set_index("model").loc["gcn", "verdict"] == "worse"
    t = corrected.table.set_index("model")
    assert t.loc["gcn", "p_value"] == pytest.approx(min(1.0, 3 * p["gcn"]))  # three tested rows; mlp has one seed
    assert t.loc["gcn", "verdict"] == "unclear" and math.isnan(t.loc["mlp", "p_value"])
    assert "(p Holm-adjusted over 3 tested rows)" in report.summary(corrected)
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression"]) == 1
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression", "--holm"]) == 0


def test_single_seed_rows_have_no_p_value_and_say_so(tmp_path, capsys):
    a = write(tmp_path / "a.csv", [row("gcn", [0.80]), row("gat", [0.80])])
    b = write(tmp_path / "b.csv", [row("gcn", [0.75]), row("gat", [0.79])])
    result = compare.compare(a, b, min_effect=0.02)
    t = result.table.set_index("model")
    assert math.isnan(t.loc["gcn", "p_value"]) and not t.loc["gcn", "tested"]
    assert (t.loc["gcn", "verdict"], t.loc["gat", "verdict"]) == ("worse", "same")
    shown = {r["model"]: r for r in report.display_rows(result)}
    assert (shown["gcn"]["p"], shown["gcn"]["verdict"]) == ("n/a", "worse*")
    assert report.UNTESTED in report.to_markdown(result)
    # untested, a gate needs a size: a minimum effect or a threshold
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression"]) == 0
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression", "--min-effect", "0.02"]) == 1
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression", "0.02"]) == 1
    assert "accuracy 80.00 -> 75.00, untested" in capsys.readouterr().err


def test_a_side_without_per_seed_values_is_named_where_its_rows_cannot_be_tested(tmp_path, capsys):
    """A CSV trimmed of its ``values`` column loses every row's test: a gate without a size passes a drop of five
    points over three seeds, so the warning names the file and the column, not only the usual reasons."""
    a = write(tmp_path / "a.csv", [row("gcn", [0.80, 0.81, 0.79])])
    b = write(tmp_path / "b.csv", [row("gcn", [0.75, 0.76, 0.74])])
    pd.read_csv(b).drop(columns=["values"]).to_csv(b, index=False)
    with pytest.warns(UserWarning, match=r"b\.csv has no per-seed values \(no 'values' column"):
        assert compare.compare(a, b).table.iloc[0]["verdict"] == "worse"
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression", "0.01"]) == 1
    with warnings.catch_warnings():  # both sides with their values, or profiles (medians, untested): no warning
        warnings.simplefilter("error")
        compare.compare(a, a)
        profile = Path(__file__).resolve().parents[1] / "results" / "reference" / "profile"
        compare.compare(profile / "kernels.csv", profile / "kernels.csv", min_effect=0.1, relative=True)
        compare.compare(profile / "loading.csv", profile / "loading.csv", min_effect=0.1, relative=True)


def test_one_seed_against_many_is_tested_as_one_more_draw_from_them(tmp_path):
    """A change tried on one seed against a baseline of ten: the prediction interval of one more seed, so a
    value inside the baseline's spread is unclear, not `worse*` on the point estimate alone."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE * 2), row("gat", BASE * 2)])
    b = write(tmp_path / "b.csv", [row("gcn", [0.80]), row("gat", [0.70])])
    t = compare.compare(a, b).table.set_index("model")
    s, n = np.std(BASE * 2, ddof=1), 10
    for model, value in (("gcn", 0.80), ("gat", 0.70)):
        statistic = (value - np.mean(BASE * 2)) / (s * math.sqrt(1 + 1 / n))
        assert t.loc[model, "p_value"] == pytest.approx(2 * stats.t.sf(abs(statistic), n - 1))
        assert t.loc[model, "test"] == "one seed" and t.loc[model, "tested"]
    half = stats.t.ppf(0.975, n - 1) * s * math.sqrt(1 + 1 / n)
    delta = 0.70 - np.mean(BASE * 2)
    assert t.loc["gat", ["ci_low", "ci_high"]].tolist() == pytest.approx([delta - half, delta + half])
    assert (t.loc["gcn", "verdict"], t.loc["gat", "verdict"]) == ("unclear", "worse")
    flipped = compare.compare(b, a).table.set_index("model")  # the one seed in A: the same test, mirrored
    assert flipped.loc["gat", "p_value"] == pytest.approx(t.loc["gat", "p_value"])
    assert "| p (Welch or one seed) |" not in report.to_markdown(compare.compare(a, b))
    assert "| p (one seed) |" in report.to_markdown(compare.compare(a, b))


def test_one_seed_in_a_is_labelled_a_one_seed_test_as_in_b(tmp_path):
    """A baseline run on one seed against a candidate on three is the same prediction test as the mirror case:
    the ``test`` column must say so, not ``welch``, or a reader takes it for a two-sample test."""
    a = write(tmp_path / "a.csv", [row("gcn", [0.80])])
    b = write(tmp_path / "b.csv", [row("gcn", [0.80, 0.81, 0.82])])
    (r,) = compare.compare(a, b).table.itertuples()
    assert (r.test, r.tested) == ("one seed", True)


def test_a_nan_mean_is_undefined_never_same(tmp_path):
    """A side whose mean is NaN (a leaderboard writes it empty: roc_auc on a one-class split) has nothing to
    judge: the row is neither within noise nor judged on the effect size."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE), row("gat", BASE)])
    b = write(tmp_path / "b.csv", [row("gcn", [0.8, math.nan], mean="", std=""), row("gat", BASE)])
    result = compare.compare(a, b)
    assert verdicts(result) == {("Cora", "gcn"): ("both", "undefined"), ("Cora", "gat"): ("both", "same")}
    assert report.summary(result) == ("0 better, 0 worse, 1 same, 0 unclear, 1 undefined (a mean is NaN, every run "
                                       "failed, both means are infinite, or the sides differ in unit or "
                                       "epoch_load_over: see notes); 0 only in A, 0 only in B")
    shown = {r["model"]: r for r in report.display_rows(result)}
    assert (shown["gcn"]["B"], shown["gcn"]["delta"], shown["gcn"]["verdict"]) == ("–", "–", "undefined")
    assert report.UNTESTED not in report.to_markdown(result)


def test_fail_on_missing_names_rows_b_lost_but_not_a_moved_configuration(tmp_path, capsys):
    """A model that crashes on every seed in B has no mean there: no regression can flag it, the opt-in gate does."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE), row("gat", BASE), row("mlp", BASE),
                                   row("sage", BASE, config="lr=0.01"), row("gin", BASE, config="lr=0.01"),
                                   row("sgc", BASE)])
    b = write(tmp_path / "b.csv", [row("gcn", BASE), row("gat", [0.8, math.nan], mean="", std=""),
                                   row("sage", BASE, config="lr=0.1"), row("gin", [0.8, math.nan], mean="", std="",
                                                                           config="lr=0.1"), row("gcn2", BASE),
                                   row("sgc", [], failed=3)])
    result = compare.compare(a, b)
    # sage moved and kept a mean, gcn2 is new; gin moved to a configuration without a mean; sgc failed everywhere
    assert sorted(result.missing()["model"]) == ["gat", "gin", "mlp", "sgc"]
    assert verdicts(result)[("Cora", "sgc")] == ("both", "undefined")
    # every run of another configuration failed: no selection moved, the row is missing for that reason
    tuned = write(tmp_path / "a2.csv", [row("gcn", BASE, config="lr=0.01")])
    crashed = write(tmp_path / "b2.csv", [row("gcn", [], config="none selected", failed=6)])
    moved = compare.compare(tuned, crashed)
    assert moved.moved_configs() == [] and moved.missing()["reason"].tolist() == ["every run failed in B"]
    blank = write(tmp_path / "b3.csv", [row("gcn", [0.8, math.nan], config="lr=0.01", mean="", std="", n="")])
    # a blank n (a hand-made CSV) is no count at all: not read as "every run failed"
    assert compare.compare(tuned, blank).missing()["reason"].tolist() == ["no mean in B"]
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression"]) == 0
    assert "note: every run failed in B: node_classification Cora sgc (--fail-on-missing fails the gate on them)" \
        in capsys.readouterr().err
    assert main(["compare", str(a), str(b), "-q", "--fail-on-missing"]) == 1
    err = capsys.readouterr().err
    assert "missing: node_classification Cora mlp (default, none): accuracy 80.80 -> no row in B" in err
    assert "missing: node_classification Cora gat (default, none): accuracy 80.80 -> no mean in B" in err
    assert "missing: node_classification Cora gin (lr=0.01, none): accuracy 80.80 -> no mean in B" in err
    assert "missing: node_classification Cora sgc (default, none): accuracy 80.80 -> every run failed in B" in err
    assert main(["compare", str(a), str(a), "-q", "--fail-on-missing"]) == 0


def test_rows_are_listed_with_the_numbers_in_their_names_in_numeric_order(tmp_path):
    """Datasets, models and configurations as the leaderboard pages list them: HeteroEdgeCount-2 before -10, m2
    before m10, K=2 before K=16, in the table, the Markdown report and the CSV."""
    natural = [("HeteroEdgeCount-2", "m2", "K=2"), ("HeteroEdgeCount-2", "m2", "K=16"),
               ("HeteroEdgeCount-2", "m10", "K=2"), ("HeteroEdgeCount-10", "m2", "K=2")]
    a = write(tmp_path / "a.csv", [row(m, BASE, dataset=d, config=c) for d, m, c in reversed(natural)])
    result = compare.compare(a, a)
    assert list(result.table[["dataset", "model", "config"]].itertuples(index=False, name=None)) == natural
    markdown = report.to_markdown(result)
    where = [markdown.index(f"| {d} | {m} | {c} |") for d, m, c in natural]
    assert where == sorted(where)
    written = pd.read_csv(io.StringIO(report.to_csv(result)))
    assert list(written[["dataset", "model", "config"]].itertuples(index=False, name=None)) == natural


def test_a_note_every_compared_row_shares_is_stated_once_for_people(tmp_path):
    """A new torch under every row is one fact: the Markdown and terminal tables say it once under the table; the
    CSV, for scripts, keeps it on each row."""
    newer = VERSIONS.replace("2.13.0+cpu", "2.14.0+cpu")
    a = write(tmp_path / "a.csv", [row("gcn", BASE), row("gat", BASE)])
    b = write(tmp_path / "b.csv", [row("gcn", BASE, versions=newer), row("gat", BASE[:3], versions=newer)])
    result = compare.compare(a, b)
    assert report.common_notes(result) == ["torch 2.13.0+cpu -> 2.14.0+cpu"]
    assert {r["model"]: r["notes"] for r in report.display_rows(result)} == {
        "gat": "n 5 -> 3; seeds 0-4 -> 0-2; compared on the 3 seeds both ran (0-2), leaving out A's 3-4", "gcn": ""}
    assert "Every compared row: torch 2.13.0+cpu -> 2.14.0+cpu." in report.to_markdown(result)
    assert report.to_csv(result).count("torch 2.13.0+cpu -> 2.14.0+cpu") == 2


def test_a_side_whose_row_mixes_settings_or_repeats_seeds_is_named(tmp_path):
    """Runs of an edited suite file rerun into the same folder: B's row averages two budgets over repeated
    seeds, and its cells say so (``settings_cell``); compare names the mixture rather than one side's first."""
    protocol = '{{"epochs":{},"patience":null,"task_options":{{"split":"public"}}}}'
    a = write(tmp_path / "a.csv", [row("gcn", BASE[:3], protocol=protocol.format(30), hparams="{}")])
    mixed = f"[{protocol.format(30)},{protocol.format(60)}]"
    b = write(tmp_path / "b.csv", [row("gcn", BASE + [0.8], protocol=mixed, hparams="{}",
                                       seeds="0;0;1;1;2;2")])
    assert compare.compare(a, b).table["notes"].tolist() == [
        "n 3 -> 6; seeds 0, 1, 2 counted more than once in B; protocol mixed in B: epochs 30 vs 60"]


def test_a_mixed_side_is_named_in_the_natural_order_of_its_values_whatever_its_row_s_order(tmp_path):
    """A ``protocol`` list is in the order of its row's runs, so a folder mixing two budgets lists 20 first on one
    row and 30 on the next: the note reads ``epochs 20 vs 30`` on both, and is stated once for every row. So are
    versions (torch 2.9.0 before 2.13.0, which a plain sort puts after) and a heap cell written in either order."""
    protocol = '{{"epochs":{},"patience":null,"task_options":{{}}}}'
    newer = VERSIONS.replace("2.13.0+cpu", "2.9.0+cpu")
    a = write(tmp_path / "a.csv", [row(model, BASE, protocol=protocol.format(20), heap="allocator defaults")
                                   for model in ("gcn", "gat")])
    b = write(tmp_path / "b.csv", [
        row(model, BASE, protocol=f"[{protocol.format(first)},{protocol.format(second)}]", heap=heap,
            versions=versions)
        for model, first, second, heap, versions in (
            ("gcn", 20, 30, "allocator defaults;kept freed memory", f"{VERSIONS} | {newer}"),
            ("gat", 30, 20, "kept freed memory;allocator defaults", f"{newer} | {VERSIONS}"))])
    mixed = ["heap mixed in B: allocator defaults vs kept freed memory", "protocol mixed in B: epochs 20 vs 30",
             "versions mixed in B: torch 2.9.0+cpu vs 2.13.0+cpu"]
    result = compare.compare(a, b)
    assert result.table["notes"].tolist() == ["; ".join(mixed)] * 2
    assert report.common_notes(result) == mixed


def test_a_row_whose_runs_used_several_environments_is_named_mixed_and_its_shared_versions_compared(tmp_path):
    """B's row averages runs under two torches (its versions cell joins them with `` | ``): compare says so, and
    still reads the Python every run of B shares against A's, rather than taking the joined cell for one
    package that A lacks and every package of A for removed."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE)])
    newer = VERSIONS.replace("3.11.7", "3.12.1")
    b = write(tmp_path / "b.csv", [row("gcn", BASE, versions=f"{newer} | {newer.replace('2.13.0', '2.14.0')}")])
    assert compare.compare(a, b).table["notes"].tolist() == [
        "versions mixed in B: torch 2.13.0+cpu vs 2.14.0+cpu; python 3.11.7 -> 3.12.1"]
    reference = Path(__file__).resolve().parents[1] / "results" / "reference"
    result = compare.compare(reference / "architecture_search", reference / "architecture_search_trained")
    assert set(result.table.loc[result.table["status"] == "both", "notes"]) == {
        "heap mixed in B: allocator defaults vs kept freed memory; versions mixed in B: allocator glibc (trim "
        "threshold 1024 MiB, mmap threshold 32 MiB) vs –, git_commit 9e5a10fbeb61 vs 04e3112bbac8, torch_scatter "
        "2.1.2 vs –"}
    # one note, whole: the tables split a row's notes on "; " to state the ones every row has once
    assert not any(note.startswith("git_commit") for note in result.table["notes"].iloc[0].split("; "))


def test_threads_and_heap_an_older_csv_never_recorded_are_not_read_as_a_change(tmp_path):
    """A CSV written before the versions column named threads and the heap setting, against one rebuilt from the
    same records: ``threads – -> 1`` would claim a change that never happened."""
    recorded = f"allocator=default;{VERSIONS};threads=1"
    a = write(tmp_path / "a.csv", [row("gcn", BASE), row("gat", BASE, versions=recorded)])
    b = write(tmp_path / "b.csv", [row("gcn", BASE, versions=recorded),
                                   row("gat", BASE, versions=recorded.replace("threads=1", "threads=4"))])
    assert compare.compare(a, b).table.set_index("model")["notes"].to_dict() == {
        "gcn": "allocator not recorded in A; threads not recorded in A", "gat": "threads 1 -> 4"}


def test_the_heap_setting_is_compared_and_says_what_a_versions_column_left_unrecorded(tmp_path):
    """The heap setting moves CPU epoch times (1.27x on the quickstart's GCN): a change of it is noted from the
    ``heap`` column, which reads a record without ``env.allocator`` as the defaults it ran under, where the
    versions column can only say the allocator was not recorded."""
    kept = f"allocator=glibc (trim threshold 1024 MiB, mmap threshold 32 MiB);{VERSIONS};threads=1"
    a = write(tmp_path / "a.csv", [row("gcn", BASE, versions=f"{VERSIONS};threads=1", heap="allocator defaults"),
                                   row("gat", BASE, versions=kept, heap="kept freed memory"),
                                   row("sage", BASE, versions=f"{VERSIONS};threads=1"),  # a CSV before heap
                                   row("mlp", BASE, versions=kept, heap="kept freed memory")])
    b = write(tmp_path / "b.csv", [row("gcn", BASE, versions=kept, heap="kept freed memory"),
                                   row("gat", BASE, versions=kept, heap="kept freed memory"),
                                   row("sage", BASE, versions=kept, heap="kept freed memory"),
                                   row("mlp", BASE, versions=kept, heap="allocator defaults;kept freed memory")])
    assert compare.compare(a, b, column="epoch_time_s").table.set_index("model")["notes"].to_dict() == {
        "gcn": "heap allocator defaults -> kept freed memory", "gat": "", "sage": "allocator not recorded in A",
        "mlp": "heap mixed in B: allocator defaults vs kept freed memory"}


def test_a_setting_one_side_lacks_is_unknown_there_not_unchanged(tmp_path):
    """A CSV written before the protocol column, or a hand-made one without a device: a budget or a device could
    have changed there, as a torch could where a side lacks versions. Not noted: a setting both sides lack, a
    count one side lacks, and the settings of a side whose every run failed."""
    protocol = '{"epochs":200,"patience":null,"task_options":{}}'
    a = write(tmp_path / "a.csv", [row("gcn", BASE, protocol=protocol, failed=0), row("gat", BASE, protocol=protocol),
                                   row("gin", BASE, protocol=protocol, hparams="{}")])
    b = write(tmp_path / "b.csv", [row("gcn", BASE, device="", params="", failed=""), row("gat", BASE, versions=""),
                                   {**row("gin", [], device="", versions="", params=""), "failed": 5}])
    assert compare.compare(a, b).table.set_index("model")["notes"].to_dict() == {
        "gcn": "params unknown in B; device unknown in B; protocol unknown in B",
        "gat": "protocol unknown in B; versions unknown in B",
        "gin": "n 5 -> 0"}


def test_a_side_without_seeds_is_named_as_the_reason_a_rerun_reads_unclear(tmp_path):
    """An exact rerun against a CSV written without the seeds column cannot be told from one of other seeds: it is
    ``unclear``, and the note says why. Not noted where both sides lack the seeds."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE, seeds=""), row("gat", BASE, seeds="")])
    b = write(tmp_path / "b.csv", [row("gcn", BASE), row("gat", BASE, seeds="")])
    table = compare.compare(a, b).table.set_index("model")
    assert table["notes"].to_dict() == {"gcn": "seeds unknown in A", "gat": ""}
    assert table.loc["gcn", "verdict"] == "unclear"
    assert compare.compare(b, a).table.set_index("model").loc["gcn", "notes"] == "seeds unknown in B"


def test_an_empty_n_is_counted_from_the_values_or_unknown(tmp_path):
    """A hand-edited CSV with its n cell emptied: the values still say how many seeds; without them the count is
    unknown, not a change to nothing (``n 5 -> ``)."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE), row("gat", BASE)])
    b = write(tmp_path / "b.csv", [{**row("gcn", BASE), "n": ""}, {**row("gat", BASE), "n": "", "values": ""}])
    result = compare.compare(a, b).table.set_index("model")
    assert result["notes"].to_dict() == {"gcn": "", "gat": "n unknown in B"}
    assert result.loc["gcn", "b_n"] == 5


def test_changed_seeds_device_and_versions_are_listed(tmp_path):
    a = write(tmp_path / "a.csv", [row("gcn", BASE), row("gat", BASE)])
    b = write(tmp_path / "b.csv", [row("gcn", BASE[:3], device="NVIDIA H100"),
                                   row("gat", BASE, versions=VERSIONS.replace("2.13.0+cpu", "2.14.0+cpu"))])
    notes = compare.compare(a, b).table.set_index("model")["notes"]
    assert notes["gcn"] == ("n 5 -> 3; seeds 0-4 -> 0-2; device cpu-x -> NVIDIA H100; compared on the 3 seeds both "
                            "ran (0-2), leaving out A's 3-4")
    assert notes["gat"] == "torch 2.13.0+cpu -> 2.14.0+cpu"
    # the same seeds succeeded on both sides, but B also ran one that failed
    a = write(tmp_path / "a.csv", [row("gcn", BASE, failed=0)])
    b = write(tmp_path / "b.csv", [row("gcn", BASE, failed=1)])
    assert compare.compare(a, b).table["notes"].tolist() == ["failed 0 -> 1"]
    # the row's selection lost a configuration that now crashes on every seed
    a = write(tmp_path / "a.csv", [row("gcn", BASE, configs_failed=0)])
    b = write(tmp_path / "b.csv", [row("gcn", BASE, configs_failed=1)])
    assert compare.compare(a, b).table["notes"].tolist() == ["configs_failed 0 -> 1"]
    # the same hyperparameters build a larger model, the grid grew, and one seed of B is NaN
    a = write(tmp_path / "a.csv", [row("gcn", BASE, configs_tried=1)])
    b = write(tmp_path / "b.csv", [{**row("gcn", [*BASE[:4], math.nan], configs_tried=12, params=2), "mean": ""}])
    assert compare.compare(a, b).table["notes"].tolist() == [
        "NaN on 1 of 5 seeds in B; configs_tried 1 -> 12; params 1 -> 2"]


def test_rows_made_with_other_plugin_code_or_data_say_which_part_changed(tmp_path):
    """Two machines, one plugin model: the numbers differ because one ran an older copy of its file, or the
    dataset's loader returned other data. A row of gnnbench's own parts has no sources on either side."""
    mine = "dataset=aaaaaaaaaaaa;dataset data=bbbbbbbbbbbb;model=cccccccccccc"
    a = write(tmp_path / "a.csv", [row("mine", BASE, sources=mine), row("gcn", BASE, sources=""),
                                   row("theirs", BASE, sources="model=dddddddddddd")])
    b = write(tmp_path / "b.csv", [row("mine", BASE, sources=mine.replace("cccc", "eeee").replace("bbbb", "ffff")),
                                   row("gcn", BASE, sources=""), row("theirs", BASE, sources="")])
    notes = compare.compare(a, b).table.set_index("model")["notes"].to_dict()
    assert notes == {"mine": "plugin dataset data bbbbbbbbbbbb -> ffffffffffff; "
                             "plugin model cccccccccccc -> eeeeeeeeeeee", "gcn": "", "theirs": "sources unknown in B"}


def test_a_seeded_loader_s_data_per_seed_is_no_mixture_but_other_files_are(tmp_path):
    """A loader seeded per run gives each seed its own data digest: one row's cell lists them all, which is no
    mixture of versions; two versions of a plugin file in one row are."""
    seeded = "dataset=aaaaaaaaaaaa;dataset data=111111111111 | dataset=aaaaaaaaaaaa;dataset data=222222222222"
    edited = "dataset=aaaaaaaaaaaa;model=cccccccccccc | dataset=aaaaaaaaaaaa;model=eeeeeeeeeeee"
    a = write(tmp_path / "a.csv", [row("seeded", BASE, sources=seeded), row("edited", BASE, sources=edited)])
    notes = compare.compare(a, a).table.set_index("model")["notes"].to_dict()
    assert notes == {"seeded": "", "edited": "sources mixed in A: model cccccccccccc vs eeeeeeeeeeee; "
                                              "sources mixed in B: model cccccccccccc vs eeeeeeeeeeee"}


def test_seeds_that_differ_across_a_gap_are_noted(tmp_path):
    """Seeds 0, 1, 3 against 0, 2, 3: as many seeds, not the same ones. Merged across the gaps both would read
    0-3 and the change would go unnoted. Seeds 0 and 3 hold the same values on both sides: the row is compared on
    them, and says which it left out."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE[:3], seeds="0;1;3")])
    b = write(tmp_path / "b.csv", [row("gcn", BASE[:3], seeds="0;2;3")])
    assert compare.compare(a, b).table["notes"].tolist() == [
        "seeds 0-1;3 -> 0;2-3; compared on the 2 seeds both ran (0;3), leaving out A's 1 and B's 2"]


def test_reference_leaderboard_against_itself_is_all_same():
    """The same value on every seed: a rerun that reproduced exactly is tested paired, its interval [0, 0]."""
    reference = "results/reference/node_classification/leaderboard.csv"
    result = compare.compare(reference, reference)
    assert set(result.table["verdict"]) == {"same"} and len(result.table) == 8
    assert (result.table["p_value"] == 1.0).all() and (result.table["notes"] == "").all()
    assert (result.table[["ci_low", "ci_high"]] == 0).all().all() and set(result.table["test"]) == {"paired"}
    assert "| p (paired) |" in report.to_markdown(result)  # as every row was tested, --paired or not


def test_markdown_and_csv_outputs(pair, tmp_path):
    result = compare.compare(*pair)
    md = report.to_markdown(result)
    assert "**1 better, 1 worse, 0 same, 1 unclear; 1 only in A, 1 only in B**" in md
    assert "| Cora | gcn | accuracy | 80.80 (5) | 76.40 (5) | -4.40 | [-5.88, -2.92] | -5.45% | <0.001 | worse |" in md
    text = report.to_csv(result, tmp_path / "c.csv")
    assert (tmp_path / "c.csv").read_text() == text
    frame = pd.read_csv(tmp_path / "c.csv", keep_default_na=False)
    assert list(frame.columns) == [*compare.COMPARE_COLUMNS, "p_adjustment", "alpha", "min_effect"]
    gcn = next(line for line in text.splitlines() if ",gcn," in line)
    assert ",both,0.808000,0.764000,-0.044000,-0.058816,-0.029184,-0.054455,5,5," in gcn
    assert gcn.endswith(",true,welch,worse,,none,0.05,0")
    holm = report.to_csv(compare.compare(*pair, correct=True, alpha=0.01, min_effect=0.02))
    assert next(line for line in holm.splitlines() if ",gcn," in line).endswith(",holm,0.01,0.02")


def test_a_change_between_tiny_means_is_shown_to_their_decimals_not_as_zero(tmp_path):
    """The reference SIR-GCN's test MSE of 1.1e-6 against three times it: its means read 1.1e-06 and 3.3e-06, so
    four fixed decimals would show the change and its interval as +0.0000 and [-0.0000, +0.0000]."""
    reference = "results/reference/synthetic/leaderboard.csv"
    frame = pd.read_csv(reference, keep_default_na=False, dtype=str)
    tiny = (frame["model"] == "sir_gcn") & (frame["metric"] == "mse") & (frame["dataset"] == "HeteroEdgeCount-2")
    values = [3 * float(v) for v in frame.loc[tiny, "values"].item().split(";")]
    frame.loc[tiny, ["values", "mean"]] = [";".join(f"{v:.6g}" for v in values), f"{np.mean(values):.6g}"]
    frame.to_csv(tmp_path / "b.csv", index=False)
    result = compare.compare(reference, tmp_path / "b.csv")
    (mse,) = [r for r in report.display_rows(result) if (r["model"], r["metric"], r["dataset"]) == ("sir_gcn", "mse",
                                                                                                 "HeteroEdgeCount-2")]
    assert (mse["A"], mse["B"], mse["delta"], mse["rel"]) == ("1.1e-06 (3)", "3.3e-06 (3)", "+0.0000022", "+200.00%")
    assert mse["ci"] == "[-0.0000104, +0.0000148]"
    assert "| 1.1e-06 (3) | 3.3e-06 (3) | +0.0000022 | [-0.0000104, +0.0000148] |" in report.to_markdown(result)
    csv = pd.read_csv(io.StringIO(report.to_csv(result)))  # as the CSV's means: six significant digits, not 0.000002
    changes = ["delta", "ci_low", "ci_high"]
    tiny_rows = [frame.loc[(frame["model"] == "sir_gcn") & (frame["metric"] == "mse")
                           & (frame["dataset"] == "HeteroEdgeCount-2"), changes] for frame in
                 (csv, result.table)]
    assert tiny_rows[0].to_numpy() == pytest.approx(tiny_rows[1].to_numpy(), rel=1e-5)


def test_a_change_between_small_means_is_shown_to_their_two_significant_digits(tmp_path):
    """Means of 1.3e-4 and 2e-4 read 0.00013 and 0.00020, not 0.0001 and 0.0002, and their change +0.00007 to the
    same decimals, not +0.0001."""
    a = write(tmp_path / "a.csv", [row("gcn", [0.00012, 0.00013, 0.00014], metric="mse", direction="min")])
    b = write(tmp_path / "b.csv", [row("gcn", [0.00019, 0.00020, 0.00021], metric="mse", direction="min")])
    (gcn,) = report.display_rows(compare.compare(a, b))
    assert (gcn["A"], gcn["B"], gcn["delta"], gcn["ci"]) == ("0.00013 (3)", "0.00020 (3)", "+0.00007",
                                                            "[+0.00005, +0.00009]")


def test_a_change_from_a_tiny_mean_to_a_large_one_keeps_the_large_one_s_decimals(tmp_path):
    """Seven decimals suit a change between two MSEs of 1e-6, not one from 2e-6 to 0.12."""
    a = write(tmp_path / "a.csv", [row("gcn", [1e-6, 3e-6, 2e-6], metric="mse", direction="min")])
    b = write(tmp_path / "b.csv", [row("gcn", [0.12, 0.2, 0.05], metric="mse", direction="min")])
    (gcn,) = report.display_rows(compare.compare(a, b))
    assert (gcn["A"], gcn["B"], gcn["delta"]) == ("2e-06 (3)", "0.1233 (3)", "+0.1233")
    assert re.fullmatch(r"\[-0\.\d{4}, \+0\.\d{4}\]", gcn["ci"])


def test_a_float_residue_between_equal_means_still_reads_as_no_change(tmp_path):
    """compare zeroes a delta within float noise of its means; the tables must not show one its interval or a
    hand-made table carries either: a residue of 1e-16 between means of 0.8 is shown to the means' decimals."""
    a = write(tmp_path / "a.csv", [row("gcn", [0.79, 0.80, 0.81], metric="mse", direction="min")])
    b = write(tmp_path / "b.csv", [row("gcn", [0.78, 0.80, 0.82], metric="mse", direction="min")])
    result = compare.compare(a, b)
    result.table[["delta", "ci_low", "ci_high"]] = [[1e-16, -1e-16, 2e-16]]
    (gcn,) = report.display_rows(result)
    assert (gcn["A"], gcn["B"], gcn["delta"], gcn["ci"]) == ("0.8000 (3)", "0.8000 (3)", "+0.0000",
                                                            "[-0.0000, +0.0000]")


def test_cli_exit_codes(pair, capsys, tmp_path):
    a, b = map(str, pair)
    assert main(["compare", a, b, "-q"]) == 0  # no gate: a report only
    assert main(["compare", a, b, "-q", "--fail-on-regression"]) == 1
    assert "regression: node_classification Cora gcn" in capsys.readouterr().err
    assert main(["compare", a, b, "-q", "--fail-on-regression", "0.05"]) == 0  # a 4.4-point drop < 5 points
    assert main(["compare", b, a, "-q", "--fail-on-regression"]) == 1  # MAE went up
    assert main(["compare", a, a, "-q", "--fail-on-regression"]) == 0
    assert main(["compare", a, b, "--md", str(tmp_path / "c.md"), "--csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(",".join(compare.COMPARE_COLUMNS)) and (tmp_path / "c.md").read_text().startswith("# ")


def test_outputs_never_replace_an_input_records_or_a_table_built_from_them(pair, tmp_path, capsys):
    """``--md``/``--csv`` take an optional PATH: a slip of the arguments must not destroy what nothing rebuilds."""
    a, b = pair
    results = tmp_path / "results" / "s"
    results.mkdir(parents=True)
    records, built, profile = results / "runs.jsonl", results / "leaderboard.md", tmp_path / "kernels.md"
    expected, suite = results / "expected.json", tmp_path / "s.yaml"
    (tmp_path / "kernels.jsonl").write_text("")
    before = a.read_text()
    for path in (records, built, profile, expected, suite):
        path.write_text("kept\n")
    for flag, path, why in (("--md", records, "it holds records"), ("--csv", a, "it is an input of this comparison"),
                            ("--md", built, "gnnbench builds it from the records beside it"),
                            ("--csv", profile, "gnnbench builds it from the records beside it"),
                            ("--md", expected, "it notes the runs a suite expects beside its records"),
                            ("--md", suite, "it is a .yaml file, code or configuration, not a report"),
                            ("--csv", built, "gnnbench builds it from the records beside it")):
        assert main(["compare", str(a), str(b), "--md", str(tmp_path / "c.md"), flag, str(path)]) == 2
        assert capsys.readouterr().err == (f"gnnbench: error: {flag}: will not write over {path}: {why}; name "
                                           "another file\n")
        assert not (tmp_path / "c.md").exists()  # nothing written when one output is refused
    link = tmp_path / "report.md"
    link.symlink_to(records)  # what would be written is the file it points to
    assert main(["compare", str(a), str(b), "--md", str(link)]) == 2
    assert f"will not write over {link}: it holds records" in capsys.readouterr().err
    (results / "runs.md").write_text("mine\n")  # no table gnnbench builds, though beside runs.jsonl
    assert main(["compare", str(a), str(b), "-q", "--md", str(results / "runs.md")]) == 0
    assert [p.read_text() for p in (records, built, profile, expected, suite)] == ["kept\n"] * 5
    assert a.read_text() == before
    with pytest.raises(SystemExit):  # --md's PATH is optional: `--md A B` would read A as the file to write
        main(["compare", "--md", str(results), str(results)])
    assert f"argument --md: {results} is a folder, not a file to write" in capsys.readouterr().err
    for name in ("c.md", "report.txt"):  # any other file: replaced, as a report is (its own, written before)
        (tmp_path / name).write_text("an earlier comparison\n")
        assert main(["compare", str(a), str(b), "-q", "--md", str(tmp_path / name)]) == 0
        assert (tmp_path / name).read_text().startswith("# Compare")


def test_bad_input_names_the_file_and_the_column(pair, tmp_path, capsys):
    a, _ = pair
    assert main(["compare", str(a), str(tmp_path / "nothing.csv")]) == 2
    assert capsys.readouterr().err == f"gnnbench: error: {tmp_path / 'nothing.csv'}: no such leaderboard CSV\n"
    broken = write(tmp_path / "broken.csv", [{k: v for k, v in row("gcn", BASE).items() if k != "direction"}])
    assert main(["compare", str(a), str(broken)]) == 2
    assert f"{broken}: missing column 'direction'" in capsys.readouterr().err
    bad = write(tmp_path / "bad.csv", [row("gcn", BASE, direction="up")])
    assert main(["compare", str(bad), str(a)]) == 2
    assert f"{bad}: line 2: column 'direction' is 'up'; expected max or min" in capsys.readouterr().err
    values = write(tmp_path / "values.csv", [{**row("gcn", BASE), "values": "0.8;x"}])
    assert main(["compare", str(values), str(a)]) == 2
    assert f"{values}: line 2: column 'values' is '0.8;x'" in capsys.readouterr().err


def test_a_side_without_rows_is_refused_not_passed(pair, tmp_path, capsys):
    """A header-only CSV (a leaderboard of a suite whose records gave no row) would pass any gate."""
    header = tmp_path / "header.csv"
    header.write_text(pair[0].read_text().splitlines()[0] + "\n")
    assert main(["compare", str(pair[0]), str(header), "-q", "--fail-on-regression"]) == 2
    assert capsys.readouterr().err == f"gnnbench: error: {header}: no rows, only a header; expected a leaderboard " \
                                      "with rows to compare\n"


def test_a_row_given_twice_is_refused_not_compared_twice(pair, tmp_path, capsys):
    """A hand-merged CSV holding one row twice (another mean under the same key) would pass a gate on one copy."""
    twice = write(tmp_path / "twice.csv", [row("gcn", DROP), row("gat", BASE), row("gcn", BASE)])
    assert main(["compare", str(pair[0]), str(twice), "-q", "--fail-on-regression"]) == 2
    assert f"gnnbench: error: {twice}: more than one row for " in capsys.readouterr().err


def test_a_briefly_written_joined_settings_cell_is_quoted_short_with_the_way_to_rebuild_it(tmp_path):
    """A leaderboard.csv format that joined a row's settings with `` | `` (its cells run to hundreds of
    characters): the error quotes the cell's start and end and says how to rewrite it, where the records are
    there."""
    hparams = json.dumps({f"option_{i}": i for i in range(30)}, separators=(",", ":"))
    folder = tmp_path / "suite"
    folder.mkdir()
    joined = f"{hparams} | {hparams}"
    old = write(folder / "leaderboard.csv", [row("gcn", BASE, hparams=joined)])
    shortened = """'{"option_0":0,"option_1":1,"option_2"..._27":27,"option_28":28,"option_29":29}'"""
    message = (f"{old}: line 2: column 'hparams' is {shortened}; "
               "expected a JSON object (or a list of them) (runs of several settings joined by ' | ', a format "
               "leaderboard.csv had briefly")
    with pytest.raises(GnnbenchError, match=re.escape(message + ")")):
        compare.compare(old, old)
    (folder / "runs.jsonl").write_text("")
    with pytest.raises(GnnbenchError, match=re.escape(f"{message}: `gnnbench leaderboard {folder}` writes one from "
                                                      "the records there)")):
        compare.compare(old, old)


def test_the_way_to_rebuild_a_csv_is_given_only_where_its_records_are(tmp_path):
    """``gnnbench leaderboard DIR`` fails in a folder without records: no hint to run it there."""
    stable = write(tmp_path / "leaderboard.csv", [{k: v for k, v in row("gcn", BASE).items() if k != "epoch_time_s"}])
    message = f"{stable}: missing column 'epoch_time_s' (a leaderboard CSV has "
    with pytest.raises(GnnbenchError, match=re.escape(message) + r".*a leaderboard written before it had "
                                            r"epoch_time_s$"):
        compare.compare(stable, stable, column="epoch_time_s")
    (tmp_path / "runs.jsonl").write_text("")
    with pytest.raises(GnnbenchError, match=r"written before it had epoch_time_s: `gnnbench leaderboard "
                                            f"{re.escape(str(tmp_path))}` writes one from the records there$"):
        compare.compare(stable, stable, column="epoch_time_s")


@pytest.mark.parametrize(("edit", "message"), [
    ({"mean": "0.900000"}, "column 'mean' is '0.900000' but the mean of 'values' is 0.808"),  # a hand-edited mean
    ({"mean": "80.8"}, "column 'mean' is '80.8' but the mean of 'values' is 0.808"),  # written in points
    # 1% of the largest value, 0.82: a mean written as a whole number hides any change
    ({"mean": "1"}, "column 'mean' is '1' but the mean of 'values' is 0.808; expected them to agree to 0.0082"),
    ({"n": 10}, "column 'n' is 10 but 'values' holds 5"),
    ({"values": "0.8;;0.81"}, "column 'values' is '0.8;;0.81'; expected numbers (nan for a metric undefined"),
    ({"mean": ""}, "column 'mean' is empty but 'values' holds 5 values, whose mean is 0.808; expected that mean (the "
     "leaderboard leaves 'mean' empty only where a value is NaN)"),
    ({"mean": "inf"}, "column 'mean' is 'inf' but the mean of 'values' is 0.808; expected them to agree to 0 "),
    ({"mean": "nan"}, "column 'mean' is 'nan'; expected a number (leave it empty for an undefined mean)"),
    ({"n": "inf", "values": ""}, "column 'n' is 'inf'; expected a finite number"),
    # a NaN value leaves the mean empty
    ({"values": "0.8;0.81;0.82;0.8;nan"}, "column 'mean' is '0.808000' but the mean of 'values' is nan"),
    # the columns compare reads into notes and pairing: counts and seeds
    ({"n": -1, "values": ""}, "column 'n' is '-1'; expected a count"),
    ({"failed": "1.5"}, "column 'failed' is '1.5'; expected a count"),
    ({"seeds": "a;b;c;d;e"}, "column 'seeds' is 'a;b;c;d;e'; expected integers separated by ';'"),
    ({"seeds": "0;1;2"}, "column 'seeds' names 3 seeds but 'values' holds 5"),
])
def test_a_mean_or_n_that_contradicts_the_values_is_an_error(tmp_path, edit, message):
    """A leaderboard shows `mean` and compare tests `values`: they must agree, or one change is shown and another
    tested; within rounding, the values' mean is taken."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE)])
    b = write(tmp_path / "b.csv", [{**row("gcn", BASE), **edit}])
    with pytest.raises(GnnbenchError, match=f"{b}: line 2: " + re.escape(message)):
        compare.compare(a, b)
    rounded = write(tmp_path / "c.csv", [{**row("gcn", [0.81, 0.81, 0.82]), "mean": "0.8133"}])  # by hand, 4 digits
    assert compare.compare(a, rounded).table["b_mean"].item() == pytest.approx(0.81333333)
    coarse = write(tmp_path / "d.csv", [{**row("gcn", [0.81, 0.81, 0.82]), "mean": "0.81"}])  # 2 digits: 0.3% off
    assert compare.compare(a, coarse).table["b_mean"].item() == pytest.approx(0.81333333)
    signed = write(tmp_path / "e.csv", [{**row("gcn", [0.0123, -0.012]), "mean": "1.5e-4"}])  # near 0, e-notation
    assert compare.compare(signed, signed).table["a_mean"].item() == pytest.approx(1.5e-4)


def test_a_profile_row_compares_its_median_not_the_mean_of_its_repeats(tmp_path):
    """One slow repeat moves the mean of three, not the median the profile reports and ranks by."""
    def timing(repeats, median):  # a profile row has no seeds
        return {**row("csr", repeats, dataset="random-n100", metric="ms", direction="min", seeds=""), "ms": median}
    a = write(tmp_path / "a.csv", [timing([0.04, 0.039, 0.038], 0.039)])
    b = write(tmp_path / "b.csv", [timing([0.5, 0.078, 0.036], 0.078)])
    (r,) = compare.compare(a, b, min_effect=0.01).table.itertuples()
    assert (r.a_mean, r.b_mean, r.tested, r.verdict) == (0.039, 0.078, False, "worse")
    assert r.rel_delta == pytest.approx(1.0)  # the median doubled; the mean of the repeats grew fivefold
    with pytest.warns(UserWarning, match="1 row without a test .* at --min-effect 0: any change at all"):
        compare.compare(a, b)
    with pytest.warns(UserWarning, match=r"no row of .*a.csv matches one of .*c.csv on \(task, dataset, model, "):
        compare.compare(a, write(tmp_path / "c.csv", [row("gcn", BASE)]))
    with pytest.warns(UserWarning, match=r"--paired: .*a.csv and .*b.csv name no seeds"):
        compare.compare(a, b, paired=True, min_effect=0.01)


@pytest.mark.parametrize("name", ["kernels", "loading"])
def test_a_profile_csv_without_the_column_its_metric_names_is_an_error(tmp_path, name):
    """Without its ``ms`` (``gbps``) column a profile row would quietly compare the mean of its repeats."""
    profile = Path(__file__).resolve().parents[1] / "results" / "reference" / "profile" / f"{name}.csv"
    frame = pd.read_csv(profile, dtype=str, keep_default_na=False)
    (metric,) = set(frame["metric"])  # ms, gbps
    frame.drop(columns=metric).to_csv(tmp_path / f"{name}.csv", index=False)
    with pytest.raises(GnnbenchError, match=re.escape(f"{tmp_path / name}.csv: line 2: metric is {metric!r}, a "
                                                      f"profile's headline figure, but there is no column {metric!r}")):
        compare.compare(profile, tmp_path / f"{name}.csv")
    assert metric in read.HEADLINES  # what the profile writes is what compare knows


def test_a_kernel_profile_naming_graphs_by_distinct_edges_pairs_with_the_one_graph_of_those_edges(tmp_path):
    """A kernel profile written before rows were named by the size asked for names a graph by its distinct edges:
    it takes the other side's name of the graph of those nodes, distinct edges and features, but only where that
    is one graph (two sizes that drew as many distinct edges leave it unknown which was drawn), on either side."""
    def timing(dataset, edges):
        return {**row("csr", [1.0], dataset=dataset, metric="ms", direction="min", seeds=""), "ms": 1.0,
                "n_nodes": 100, "n_edges": edges, "features": 8}
    older = write(tmp_path / "a.csv", [timing("random-n100-e490-f8", 490), timing("random-n100-e700-f8", 700)])
    newer = write(tmp_path / "b.csv", [timing("random-n100-e500-f8", 490), timing("random-n100-e710-f8", 700),
                                       timing("random-n100-e720-f8", 700)])
    for a, b, ours, theirs in ((older, newer, "only in A", "only in B"), (newer, older, "only in B", "only in A")):
        table = compare.compare(a, b, min_effect=1.0).table
        assert dict(zip(table["dataset"], table["status"], strict=True)) == {
            "random-n100-e500-f8": "both", "random-n100-e700-f8": ours, "random-n100-e710-f8": theirs,
            "random-n100-e720-f8": theirs}


def test_a_relative_minimum_effect_sizes_each_row_by_its_baseline(tmp_path, capsys):
    """Kernel times from 2 ms to 400 ms: no one size in milliseconds fits them all; 10% of each row's A does."""
    def timing(dataset, median):
        return {**row("csr", [median] * 3, dataset=dataset, metric="ms", direction="min", seeds=""), "ms": median}
    a = write(tmp_path / "a.csv", [timing("small", 2.0), timing("large", 400.0)])
    b = write(tmp_path / "b.csv", [timing("small", 2.1), timing("large", 480.0)])
    verdicts = compare.compare(a, b, min_effect=0.1, relative=True).table.set_index("dataset")["verdict"]
    assert verdicts.to_dict() == {"small": "same", "large": "worse"}  # 5% and 20% slower
    assert main(["compare", str(a), str(b), "--min-effect", "10%", "--fail-on-regression", "--csv", "-"]) == 1
    captured = capsys.readouterr()
    assert "regression: node_classification large csr" in captured.err and " small " not in captured.err
    assert captured.out.splitlines()[1].endswith(",none,0.05,10%")


def test_a_relative_minimum_effect_is_a_fraction_of_a_not_of_b(tmp_path):
    """`--min-effect 10%` of A's 100 ms is 10 ms: 111 ms is worse. Scaled by B's 111 ms (11.1 ms) the slowdown
    would pass as the same, and a gate on a cost would let a regression just over its size through."""
    def timing(median):
        return {**row("csr", [median] * 3, metric="ms", direction="min", seeds=""), "ms": median}
    a, b = write(tmp_path / "a.csv", [timing(100.0)]), write(tmp_path / "b.csv", [timing(111.0)])
    assert compare.compare(a, b, min_effect=0.1, relative=True).table["verdict"].item() == "worse"


def test_a_csv_with_only_the_stable_columns_compares(tmp_path):
    stable = [{k: v for k, v in row("gcn", BASE).items() if k in COLUMNS}]
    a = write(tmp_path / "a.csv", stable)
    result = compare.compare(a, a)  # without seeds, equal values may come from other seeds: Welch's, no verdict
    assert result.table["verdict"].item() == "unclear" and result.table["notes"].item() == ""
    assert result.table["test"].item() == "welch"


def test_empty_config_and_scenario_cells_are_the_default_configuration_on_clean_data(tmp_path):
    """A hand-made CSV may leave them empty: its rows join a written leaderboard's (default, none) rows, and two
    such CSVs join each other, shown under the names gnnbench writes."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE), row("gat", BASE, config="lr=0.1")])
    b = write(tmp_path / "b.csv", [row("gcn", DROP, config="", scenario=""),
                                   row("gat", BASE, config="lr=0.1", scenario="")])
    for left, right in ((a, b), (b, a), (b, b)):
        t = compare.compare(left, right).table.set_index("model")
        assert t["status"].to_dict() == {"gcn": "both", "gat": "both"}
        assert t["config"].to_dict() == {"gcn": "default", "gat": "lr=0.1"} and set(t["scenario"]) == {"none"}
    assert compare.compare(a, b).table.set_index("model").loc["gcn", "verdict"] == "worse"


def test_costs_compare_lower_is_better_without_a_test(tmp_path):
    a = write(tmp_path / "a.csv", [row("gcn", BASE, epoch_time_s=0.10), row("gat", BASE, epoch_time_s=0.10)])
    b = write(tmp_path / "b.csv", [row("gcn", BASE, epoch_time_s=0.20), row("gat", BASE, epoch_time_s=0.05)])
    result = compare.compare(a, b, column="epoch_time_s", min_effect=0.01)
    t = result.table.set_index("model")
    assert (t.loc["gcn", "verdict"], t.loc["gat", "verdict"]) == ("worse", "better")
    assert set(t["metric"]) == {"epoch_time_s"} and not t["tested"].any()
    assert main(["compare", str(a), str(b), "-q", "--on", "epoch_time_s", "--fail-on-regression", "0.05"]) == 1
    assert main(["compare", str(a), str(b), "-q", "--on", "epoch_time_s", "--fail-on-regression", "0.2"]) == 0


def test_ignore_config_pairs_the_selected_configurations(tmp_path):
    a = write(tmp_path / "a.csv", [row("gcn", BASE, config="lr=0.01")])
    b = write(tmp_path / "b.csv", [row("gcn", DROP, config="lr=0.1")])
    assert set(compare.compare(a, b).table["status"]) == {"only in A", "only in B"}
    (r,) = compare.compare(a, b, ignore_config=True).table.itertuples()
    assert (r.config, r.status, r.verdict) == ("lr=0.01 -> lr=0.1", "both", "worse")
    assert main(["compare", str(a), str(b), "-q", "--ignore-config", "--fail-on-regression"]) == 1


@pytest.mark.parametrize("column", ["mean", "epoch_time_s"])
def test_versions_come_from_the_records_beside_an_older_csv_that_they_reproduce(tmp_path, column):
    """A CSV written before the versions column takes them from the runs.jsonl beside it, and says so, but only for
    rows those records reproduce: a row of an earlier run (other values) placed beside newer records must not
    borrow versions it was not made with, or an upgrade between A and B vanishes."""
    import shutil

    reference = Path(__file__).resolve().parents[1] / "results" / "reference" / "node_classification"
    older = tmp_path / "older"
    older.mkdir()
    shutil.copy(reference / "runs.jsonl", older / "runs.jsonl")
    frame = pd.read_csv(reference / "leaderboard.csv", dtype=str, keep_default_na=False).drop(columns="versions")
    earlier = [float(v) - 0.01 for v in frame.at[0, "values"].split(";")]  # the first row from an earlier run
    frame.loc[0, ["values", "mean"]] = ";".join(f"{v:.6f}" for v in earlier), f"{np.mean(earlier):.6f}"
    frame.to_csv(older / "leaderboard.csv", index=False)
    newer = pd.read_csv(reference / "leaderboard.csv", dtype=str, keep_default_na=False)
    newer["versions"] = newer["versions"].str.replace("torch=2.13.0+cpu", "torch=2.14.0+cpu", regex=False)
    newer.to_csv(tmp_path / "newer.csv", index=False)
    with pytest.warns(UserWarning, match=re.escape(
            f"{older / 'leaderboard.csv'} has no versions column: 7 of its 8 rows take theirs from "
            f"{older / 'runs.jsonl'}, whose records reproduce their seeds and values; 1 other row: versions unknown")):
        table = compare.compare(older / "leaderboard.csv", tmp_path / "newer.csv", column=column).table
    notes = table.set_index(["dataset", "model"])["notes"]
    assert notes.pop((frame.at[0, "dataset"], frame.at[0, "model"])) == "versions unknown in A"
    assert set(notes) == {"torch 2.13.0+cpu -> 2.14.0+cpu"}
    (older / "runs.jsonl").write_text("")  # emptied by a prune: nothing to look up, and no error
    notes = set(compare.compare(older / "leaderboard.csv", tmp_path / "newer.csv", column=column).table["notes"])
    assert notes == {"versions unknown in A"}


def test_the_summary_says_how_much_slower_b_s_machine_ran_than_a_s_and_rescales_nothing(tmp_path):
    """Records keep a speed probe (env.speed_probe) and a leaderboard row its runs' median: compared on a time, where
    both sides' rows ran one workload, the ratio of their probes is said, so that a slower day or machine is not
    read as slower code; the times stay as measured. Compared on the metric, a machine's speed is beside the
    point."""
    from gnnbench.leaderboard import build

    reference = Path(__file__).resolve().parents[1] / "results" / "reference" / "quickstart" / "runs.jsonl"
    lines = [json.loads(line) for line in reference.read_text().splitlines()]

    def side(name, probes):
        (folder := tmp_path / name).mkdir(exist_ok=True)
        records = [{**r, "env": {**r["env"], "speed_probe": probes[i]}} if i < len(probes) else r
                   for i, r in enumerate(lines)]
        (folder / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        build(folder)
        return folder

    v1 = "mm n4096 (v1)"
    a = side("a", [{"ms": ms, "workload": v1} for ms in (10.0, 10.1, 9.9)])
    b = side("b", [{"ms": ms, "workload": v1} for ms in (13.8, 13.7, 13.9)])
    result = compare.compare(a, b, column="epoch_time_s")
    note = ("B's speed probes ran 1.38x slower than A's (the median over 1 row both sides probed; mm n4096 (v1)): "
            "time ratios include that, unscaled")
    assert report.summary(result).endswith(f"only in B. {note}") and note in report.to_markdown(result)
    swapped = compare.compare(b, a, column="epoch_time_s")
    assert report.probe_notes(swapped)[0].startswith("B's speed probes ran 1.38x faster than A's")
    assert compare.compare(a, b).probes == {}  # on the test metric
    (alone := tmp_path / "copied").mkdir()  # the CSV carries its rows' probes: no records needed beside it
    (alone / "leaderboard.csv").write_bytes((b / "leaderboard.csv").read_bytes())
    assert compare.compare(a, alone, column="epoch_time_s").probes == result.probes
    unprobed = side("b", [])  # records made before the probe: said, not left to read as machines of one speed
    plain = compare.compare(a, unprobed, column="epoch_time_s")
    assert plain.probes == {} and report.summary(plain).endswith(
        "only in B. B's rows have no speed probes (written before they were recorded): machine speed not compared")
    assert report.probe_notes(compare.compare(unprobed, a, column="epoch_time_s")) == [
        "A's rows have no speed probes (written before they were recorded): machine speed not compared"]
    assert "speed probe" not in report.summary(compare.compare(unprobed, unprobed, column="epoch_time_s"))
    pd.testing.assert_frame_equal(plain.table, result.table)  # the times are compared as measured
    other = side("b", [{"ms": 13.8, "workload": "mm n8192 (v2)"}])  # another workload is never compared
    assert compare.compare(a, other, column="epoch_time_s").probes == {}


def test_the_speed_probe_ratio_counts_only_the_rows_compared(tmp_path):
    """``--on epoch_load_s`` leaves out the rows without loading on either side: the probes' median and its count are
    over the rows the table keeps, not over rows it does not show."""
    def side(path, sign_load, sign_probe, other_probe):
        probe = {"speed_probe_workload": "mm n4096 (v1)"}
        unloaded = [row(model, BASE, epoch_load_s="", speed_probe_ms=other_probe, **probe) for model in ("gcn", "gat")]
        return write(path, [row("sign", BASE, epoch_load_s=sign_load, speed_probe_ms=sign_probe, **probe), *unloaded])

    a, b = side(tmp_path / "a.csv", "0.0002", "10.0", "10.0"), side(tmp_path / "b.csv", "0.0003", "13.0", "20.0")
    result = compare.compare(a, b, column="epoch_load_s", min_effect=0.01, relative=True)
    assert result.table["model"].tolist() == ["sign"] and result.without_cost == 2
    assert result.probes == {"mm n4096 (v1)": (pytest.approx(1.3), 1)}
    assert "(the median over 1 row both sides probed; mm n4096 (v1))" in report.summary(result)


def test_changed_hyperparameters_under_the_same_config_label_are_listed(tmp_path):
    hparams = '{"dropout":0.5,"hidden_channels":16,"lr":0.01}'
    a = write(tmp_path / "a.csv", [row("gcn", BASE, hparams=hparams), row("gat", BASE, hparams=hparams),
                                   row("mlp", BASE, hparams=hparams)])
    b = write(tmp_path / "b.csv", [row("gcn", BASE, hparams=hparams.replace("16", "256").replace("0.01", "0.1")),
                                   row("gat", BASE, hparams=hparams.replace("}", ',"heads":8}')),
                                   row("mlp", BASE, hparams="")])  # a hand-made row: nothing to compare with
    notes = compare.compare(a, b).table.set_index("model")["notes"]
    assert notes["gcn"] == "hparams hidden_channels=16, lr=0.01 -> hidden_channels=256, lr=0.1"
    assert notes["gat"] == "hparams heads=– -> heads=8"
    assert notes["mlp"] == "hparams unknown in B"
    bad = write(tmp_path / "bad.csv", [row("gcn", BASE, hparams="lr=0.01")])
    with pytest.raises(GnnbenchError, match="bad.csv: line 2: column 'hparams' is 'lr=0.01'; expected a JSON"):
        compare.compare(a, bad)


def test_a_changed_protocol_is_listed_so_a_budget_or_split_change_is_not_taken_for_the_method(tmp_path):
    public = '{"epochs":1000,"patience":100,"task_options":{"split":"public"}}'
    a = write(tmp_path / "a.csv", [row("gcn", BASE, protocol=public), row("gat", BASE, protocol=public)])
    b = write(tmp_path / "b.csv", [row("gcn", BASE, protocol=public.replace("1000", "200")),
                                   row("gat", BASE, protocol=public.replace("public", "random"))])
    notes = compare.compare(a, b).table.set_index("model")["notes"]
    assert notes["gcn"] == "protocol epochs=1000 -> epochs=200"
    assert notes["gat"] == "protocol task_options.split=public -> task_options.split=random"
    bad = write(tmp_path / "bad.csv", [row("gcn", BASE, protocol="epochs=200")])
    with pytest.raises(GnnbenchError, match="bad.csv: line 2: column 'protocol' is 'epochs=200'; expected a JSON"):
        compare.compare(a, bad)


def test_a_row_whose_selected_configuration_moved_is_pointed_at_and_gated(tmp_path, capsys):
    """B's grid selects another configuration of gcn, 4.4 points worse: the table cannot join the two rows, but
    the gate compares each side's selection, so a changed selection cannot hide a regression."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE, config="lr=0.01"), row("gat", BASE), row("gin", BASE)])
    b = write(tmp_path / "b.csv", [row("gcn", DROP, config="lr=0.1"), row("gat", BASE),
                                   row("gin", BASE, config="lr=0.1"),  # moved, not worse
                                   row("sage", BASE, config="lr=0.1")])  # new in B: nothing to point at
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression"]) == 1
    assert capsys.readouterr().err == (
        "gnnbench: note: selected under another configuration on each side, so not compared in the table: "
        "node_classification Cora gcn (lr=0.01 -> lr=0.1); node_classification Cora gin (default -> lr=0.1); "
        "--ignore-config compares each side's selected configuration (and --fail-on-regression does)\n"
        "gnnbench: regression: node_classification Cora gcn (lr=0.01 -> lr=0.1, none): accuracy 80.80 -> 76.40, "
        f"p = {stats.ttest_ind(DROP, BASE, equal_var=False).pvalue:.3g}\n")
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression", "0.05"]) == 0  # < 5 points
    capsys.readouterr()
    assert main(["compare", str(a), str(b), "-q", "--ignore-config", "--fail-on-regression"]) == 1
    assert "note:" not in capsys.readouterr().err


def test_every_report_s_summary_says_what_the_gate_judged_beyond_the_table(tmp_path, capsys):
    """The table has a moved configuration only in A and only in B, so its summary reads ``0 worse`` while the gate
    fails on it: the summary of the terminal, the Markdown and the run that writes the CSV says what the gate
    judged, so that a report kept does not contradict the exit status."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE, config="lr=0.01"), row("gin", BASE)])
    b = write(tmp_path / "b.csv", [row("gcn", DROP, config="lr=0.1"), row("gin", BASE, config="lr=0.1")])
    judged = ("--fail-on-regression also judged the 2 rows selected under another configuration on each side, as "
              "--ignore-config joins them: ")
    md, csv = tmp_path / "c.md", tmp_path / "c.csv"
    assert main(["compare", str(a), str(b), "--fail-on-regression", "--md", str(md), "--csv", str(csv)]) == 1
    summary = (f"0 worse, 0 same, 0 unclear; 2 only in A, 2 only in B. {judged}1 regression "
               "(node_classification Cora gcn)")
    assert summary in " ".join(capsys.readouterr().out.split()) and f"{summary}**" in md.read_text()
    assert main(["compare", str(a), str(b), "--fail-on-regression", "0.05", "--md", "-"]) == 0
    assert f"{judged}no regression**" in capsys.readouterr().out
    assert main(["compare", str(a), str(b), "--md", "-"]) == 0  # no gate: nothing judged beyond the table
    assert "--fail-on-regression" not in capsys.readouterr().out


def test_a_grid_csv_names_its_missing_column_once_and_the_file_to_compare(tmp_path, capsys):
    grid = Path(__file__).resolve().parents[1] / "results" / "reference" / "node_classification" / "grid.csv"
    assert main(["compare", str(grid), str(grid)]) == 2
    err = capsys.readouterr().err
    assert f"{grid}: missing column 'mean' (a leaderboard CSV has" in err
    board = grid.with_name("leaderboard.csv")
    assert err.endswith(f"; this is a grid.csv, which has no test metric: compare {board}\n")


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_csv_of_another_delimiter_is_named_for_its_delimiter(tmp_path, separator):
    """A spreadsheet of a locale whose decimal mark is a comma saves with ';': every column read as missing, the
    header one column holding them all."""
    other = tmp_path / "b.csv"
    pd.DataFrame([row("gcn", BASE)]).to_csv(other, index=False, sep=separator)
    with pytest.raises(GnnbenchError, match=re.escape(f"; its header is one column, split by {separator!r}: a "
                                                      "leaderboard CSV is comma-separated (saved with another "
                                                      "delimiter, by a spreadsheet's locale?)") + "$"):
        compare.compare(write(tmp_path / "a.csv", [row("gcn", BASE)]), other)


def test_a_results_folder_stands_for_its_leaderboard_csv(pair, tmp_path, capsys):
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "leaderboard.csv").write_bytes(pair[1].read_bytes())
    result = compare.compare(pair[0], folder)
    assert result.b == folder / "leaderboard.csv"
    assert verdicts(result) == verdicts(compare.compare(*pair))
    assert main(["compare", str(pair[0]), str(folder), "-q", "--fail-on-regression"]) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["compare", str(pair[0]), str(empty)]) == 2
    assert capsys.readouterr().err.endswith(f"{empty / 'leaderboard.csv'}: no such leaderboard CSV\n")
    (empty / "runs.jsonl").write_text("")  # records of an interrupted run, no leaderboard yet
    assert main(["compare", str(pair[0]), str(empty)]) == 2
    assert capsys.readouterr().err.endswith(f"no such leaderboard CSV (its records are there: gnnbench leaderboard "
                                            f"{empty} writes it)\n")
    root = tmp_path / "results"
    (root / "quickstart").mkdir(parents=True)
    (root / "quickstart" / "leaderboard.csv").write_bytes(pair[1].read_bytes())
    assert main(["compare", str(pair[0]), str(root)]) == 2  # a results root: which of its suites?
    assert capsys.readouterr().err.endswith(f"no such leaderboard CSV (a results root? pass one of its suite folders, "
                                            f"{root}/SUITE: quickstart)\n")


def test_rel_delta_is_relative_to_the_size_of_a_negative_baseline(tmp_path):
    """B - A over |A|: a metric from -2 to -1 (a log-likelihood, a negated error) moved +50 %, whatever A's sign."""
    columns = "task,dataset,model,config,scenario,metric,direction,mean,std,n,values,seeds"
    for name, values in (("a", "-2.1;-1.9;-2.0"), ("b", "-1.1;-0.9;-1.0")):
        mean = sum(map(float, values.split(";"))) / 3
        (tmp_path / f"{name}.csv").write_text(
            f"{columns}\nnode_classification,Cora,m,default,none,score,max,{mean},0.1,3,{values},0;1;2\n")
    assert compare.compare(tmp_path / "a.csv", tmp_path / "b.csv").table.iloc[0]["rel_delta"] == pytest.approx(0.5)


def test_compare_notes_a_side_whose_suite_is_not_all_recorded(write_suite, tmp_path, capsys):
    """A leaderboard built after an interrupt or ``--only`` holds part of a suite; compare says so, as its page
    does, rather than judging its rows as if whole."""
    path = write_suite("""\
        name: parts
        defaults: {seeds: 1, epochs: 2}
        experiments:
          - {name: first, task: node_classification, datasets: [Cora], models: [mlp]}
          - {name: second, task: node_classification, datasets: [Cora], models: [gcn]}
        """)
    results = tmp_path / "results"
    assert main(["run", str(path), "--results", str(results), "--only", "first", "-q"]) == 0
    folder = results / "parts"
    capsys.readouterr()
    assert main(["compare", str(folder), str(folder), "-q"]) == 0
    err = capsys.readouterr().err
    assert f"gnnbench: note: B ({folder}): Incomplete: 1 of the 2 runs of suite parts ({path}) are recorded" in err
    assert main(["run", str(path), "--results", str(results), "-q"]) == 0
    capsys.readouterr()
    assert main(["compare", str(folder), str(folder), "-q"]) == 0
    assert "Incomplete" not in capsys.readouterr().err


def test_compare_notes_a_side_whose_suite_is_not_all_recorded_from_its_run_ids_alone(tmp_path, capsys, monkeypatch):
    """The note beside a leaderboard CSV counts the runs of ``runs.jsonl`` (:meth:`RunStore.run_ids`): parsing
    every record, which a 100 MB file of 20,000 takes seconds and a GB to do, is the leaderboard's work, not
    compare's."""
    folder = tmp_path / "quickstart"
    shutil.copytree(Path(__file__).resolve().parents[1] / "results" / "reference" / "quickstart", folder)
    expected = json.loads((folder / "expected.json").read_text())
    expected["run_ids"] = [*expected["run_ids"][1:], "0" * 16]  # one run not recorded, one record of no run of it
    (folder / "expected.json").write_text(json.dumps(expected))
    monkeypatch.setattr(RunStore, "records", lambda *args, **kwargs: pytest.fail("compare parsed the records"))
    assert main(["compare", str(folder), str(folder), "-q"]) == 0
    err = capsys.readouterr().err
    for side in "AB":
        assert (f"gnnbench: note: {side} ({folder}): Incomplete: 8 of the 9 runs of suite quickstart" in err
                and "1 record here is no run of suite quickstart" in err)


def test_the_readme_and_docs_compare_examples_are_what_the_command_prints_now():
    """README and docs/leaderboards.md show the --md output of comparing two reference leaderboards: every line
    they show must be a line the command prints today, in the same order (a new note once went missing there)."""
    root = Path(__file__).resolve().parents[1]
    reference = root / "results" / "reference"
    printed = report.to_markdown(compare.compare(reference / "node_classification" / "leaderboard.csv",
                                                  reference / "quickstart" / "leaderboard.csv", min_effect=0.02))
    lines = printed.splitlines()
    for doc in (root / "README.md", root / "docs" / "leaderboards.md"):
        text = doc.read_text(encoding="utf-8")
        shown = text[text.index("**0 better"):]
        shown = shown[:shown.index("\n\n", shown.index("Every compared row"))].splitlines()
        positions = [lines.index(line) for line in shown if line]  # a ValueError names a line not printed
        assert positions == sorted(positions), doc.name


def test_one_side_without_spread_is_tested_without_scipy_s_precision_warning():
    """Three seeds at 0.8 against three that vary: Welch's test is sound (the other side's variance carries it);
    scipy's 'Precision loss occurred in moment calculation' on stderr only alarmed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p, low, high = significance.difference_test([0.8, 0.8, 0.8], [0.7, 0.75, 0.8])
    with warnings.catch_warnings():  # the reference, scipy's own, warns
        warnings.simplefilter("ignore", RuntimeWarning)
        assert p == pytest.approx(stats.ttest_ind([0.7, 0.75, 0.8], [0.8] * 3, equal_var=False).pvalue)


def test_a_mean_written_with_all_its_digits_agrees_with_its_values(tmp_path):
    """sum(v) / n and np.mean(v) differ in the last bits: a CSV built with pandas' groupby mean writes the one,
    compare computes the other, and the rounding allowance must not fall below that float error."""
    values = [0.554, 0.839, 0.806, 0.602, 0.698, 0.68, 0.761, 0.815, 0.538, 0.511]
    assert sum(values) / len(values) != np.mean(values)  # 0.6803999999999999 against 0.6804
    full = write(tmp_path / "a.csv", [{**row("gcn", values), "mean": repr(sum(values) / len(values))}])
    assert compare.compare(full, full).table["verdict"].item() == "same"


def test_counts_and_model_sizes_pandas_wrote_as_floats_are_no_change(tmp_path):
    """A column with an empty cell (``params`` of a row whose every run failed) comes back from pandas as floats:
    59366.0 is the same model size as 59366, and 0.0 the same count as 0."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE, failed=0), row("gat", BASE, failed=0)])
    b = pd.read_csv(a)
    b.loc[1, ["params", "failed"]] = None  # the empty cells that make pandas write floats
    b.to_csv(tmp_path / "b.csv", index=False)
    assert pd.read_csv(tmp_path / "b.csv", dtype=str).loc[0, ["params", "failed"]].tolist() == ["1.0", "0.0"]
    notes = compare.compare(a, tmp_path / "b.csv").table.set_index("model")["notes"]
    assert notes["gcn"] == "" and notes["gat"] == "params unknown in B"
    more = write(tmp_path / "c.csv", [row("gcn", BASE, failed=1, params=2), row("gat", BASE, failed=0)])
    assert compare.compare(tmp_path / "b.csv", more).table.set_index("model")["notes"]["gcn"] == \
        "failed 0 -> 1; params 1 -> 2"


def test_a_seed_that_diverged_to_inf_is_read_and_is_a_regression_without_a_test(tmp_path, capsys):
    """A regression metric can diverge (``has_metric`` records inf) and the leaderboard then writes ``inf``:
    compare reads its own tables, judges the infinite change untested, and a gate fails on it whatever the
    minimum effect; two infinite means are undefined, not the same: their finite seeds changed."""
    finite = [0.5, 0.52, 0.49]
    with np.errstate(invalid="ignore"):  # row()'s std of an infinite value
        a = write(tmp_path / "a.csv", [row("gin", finite, metric="mae", direction="min"),
                                       row("gcn", [0.4, math.inf, 0.5], metric="mae", direction="min")])
        b = write(tmp_path / "b.csv", [row("gin", [0.5, math.inf, 0.49], metric="mae", direction="min"),
                                       row("gcn", [0.4, math.inf, 0.6], metric="mae", direction="min")])
    assert "inf;" in b.read_text()  # as the leaderboard writes it
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nor a warning to set a minimum effect: an infinite change exceeds any
        t = compare.compare(a, b).table.set_index("model")
    assert t.loc["gin", "b_mean"] == math.inf and t.loc["gin", "verdict"] == "worse" and not t.loc["gin", "tested"]
    assert t.loc["gin", "notes"] == "inf on 1 of 3 seeds in B"
    assert math.isnan(t.loc["gcn", "delta"]) and t.loc["gcn", "verdict"] == "undefined"
    assert t.loc["gcn", "notes"] == "inf on 1 of 3 seeds in A; inf on 1 of 3 seeds in B"
    assert main(["compare", str(a), str(b), "-q", "--fail-on-regression"]) == 1
    err = capsys.readouterr().err
    assert "gnnbench: regression: node_classification Cora gin (default, none): mae 0.5033 -> inf, untested" in err
    assert ("gnnbench: note: node_classification Cora gcn (default, none): mae inf -> inf is undefined, which no "
            "regression gate can judge") in err


def test_an_error_names_the_line_of_the_file_after_blank_lines_and_quoted_line_breaks(tmp_path):
    """pandas skips a blank line and keeps a quoted line break in its cell: the row's position would name the
    wrong line of the file."""
    path = write(tmp_path / "a.csv", [row("gcn", BASE, hparams='{"note": "x"}'), row("gat", BASE),
                                      row("sage", BASE, direction="higher")])
    header, first, second, third = path.read_text().splitlines()
    path.write_text("\n".join([header, first.replace('""x""', '""x\ny""'), "", second, third])
                    + "\n")
    assert len(path.read_text().splitlines()) == 6  # the bad row starts on line 6
    with pytest.raises(GnnbenchError, match=re.escape(f"{path}: line 6: column 'direction' is 'higher'")):
        compare.compare(path, path)


def test_epoch_load_s_under_another_definition_is_noted_and_not_judged(tmp_path):
    """A CSV written when epoch_load_s averaged every epoch (no epoch_load_over column) against one averaging the
    epochs after the first: the loading comparison is undefined, not a 40 % speed-up the definition made; the
    test metric is still judged, with the change noted."""
    a = write(tmp_path / "a.csv", [row("sign", BASE, epoch_load_s="0.00025"), row("gcn", BASE, epoch_load_s="")])
    b = write(tmp_path / "b.csv", [row("sign", BASE, epoch_load_s="0.00015", epoch_load_over="after_first_epoch"),
                                   row("gcn", BASE, epoch_load_s="", epoch_load_over="")])
    loading = compare.compare(a, b, column="epoch_load_s", min_effect=0.01, relative=True)
    assert verdicts(loading) == {("Cora", "sign"): ("both", "undefined")}
    assert loading.table["notes"].tolist() == ["epoch_load_over all_epochs -> after_first_epoch"]
    metric = compare.compare(a, b).table.set_index("model")
    assert metric.loc["sign", "verdict"] == "same" and metric.loc["gcn", "notes"] == ""
    assert metric.loc["sign", "notes"] == "epoch_load_over all_epochs -> after_first_epoch"
    same = write(tmp_path / "c.csv", [row("sign", BASE, epoch_load_s="0.00015", epoch_load_over="after_first_epoch")])
    assert verdicts(compare.compare(b, same, column="epoch_load_s", min_effect=0.01, relative=True)) == {
        ("Cora", "sign"): ("both", "same")}


def test_a_changed_loading_mode_is_noted_and_a_csv_without_the_column_leaves_it_unknown(tmp_path):
    """``load_mode: auto`` in hparams runs ``gpu_direct`` on a GPU and ``cpu`` elsewhere: the mode that ran is the
    leaderboard's ``load_mode``, and compare notes a change as it does a kernel's; a CSV written before the column
    says nothing of it (unknown where the other side's row loaded), and a model that loads nothing has no mode."""
    a = write(tmp_path / "a.csv", [row("sign", BASE, load_mode="cpu"), row("gcn", BASE, load_mode="")])
    b = write(tmp_path / "b.csv", [row("sign", BASE, load_mode="gpu_direct"), row("gcn", BASE, load_mode="")])
    older = write(tmp_path / "older.csv", [row("sign", BASE), row("gcn", BASE)])
    assert compare.compare(a, b).table.set_index("model")["notes"].to_dict() == {
        "gcn": "", "sign": "load_mode cpu -> gpu_direct"}
    assert compare.compare(older, b).table.set_index("model")["notes"].to_dict() == {
        "gcn": "", "sign": "load_mode unknown in A"}


def test_an_empty_loading_cell_is_nothing_loaded_and_only_a_csv_without_the_column_is_unknown(tmp_path):
    """An empty ``load_mode`` or ``epoch_load_over`` cell says the row's runs loaded nothing (a full-batch model):
    against a row that loaded it is a change, not unknown. A CSV without the columns (written before them) is
    unknown where the other side's row loaded, and says nothing against one that loaded nothing; a side whose every
    run failed loaded nothing to compare."""
    loaded = {"epoch_load_s": "0.0002", "epoch_load_over": "after_first_epoch", "load_mode": "cpu"}
    unloaded = dict.fromkeys(loaded, "")
    a = write(tmp_path / "a.csv", [row("sage", BASE, **unloaded), row("gcn", BASE, **unloaded),
                                   row("sign", [], **unloaded)])
    b = write(tmp_path / "b.csv", [row("sage", BASE, **loaded), row("gcn", BASE, **unloaded),
                                   row("sign", BASE, **loaded)])
    older = write(tmp_path / "older.csv", [row("sage", BASE), row("gcn", BASE), row("sign", BASE)])
    assert compare.compare(a, b).table.set_index("model")["notes"].to_dict() == {
        "gcn": "", "sage": "epoch_load_over – -> after_first_epoch; load_mode – -> cpu", "sign": "n 0 -> 5"}
    assert compare.compare(older, b).table.set_index("model")["notes"].to_dict() == {
        "gcn": "", "sage": "epoch_load_over unknown in A; load_mode unknown in A",
        "sign": "epoch_load_over unknown in A; load_mode unknown in A"}
    assert compare.compare(b, older).table.set_index("model")["notes"].to_dict() == {
        "gcn": "", "sage": "epoch_load_over unknown in B; load_mode unknown in B",
        "sign": "epoch_load_over unknown in B; load_mode unknown in B"}


def test_md_and_csv_naming_one_file_is_refused_before_anything_is_written(pair, tmp_path, capsys):
    out = tmp_path / "out.md"
    assert main(["compare", *map(str, pair), "-q", "--md", str(out), "--csv", str(out)]) == 2
    assert capsys.readouterr().err == f"gnnbench: error: --md and --csv both name {out}: the CSV would replace " \
                                      "the Markdown; name two files\n"
    assert not out.exists()


def test_a_cost_no_row_has_is_refused_and_a_lost_cost_is_named_as_the_cost(tmp_path, capsys):
    """``--on epoch_load_s`` of models that load nothing would compare nothing and pass a gate; a row that lost
    only its cost says so, not that its metric is NaN."""
    a = write(tmp_path / "a.csv", [row("gcn", BASE, epoch_load_s=""), row("gat", BASE, epoch_load_s="")])
    assert main(["compare", str(a), str(a), "-q", "--on", "epoch_load_s", "--fail-on-regression"]) == 2
    assert capsys.readouterr().err == f"gnnbench: error: --on epoch_load_s: no row of {a} or {a} has a " \
        "value in epoch_load_s; nothing to compare (a leaderboard has epoch_load_s only for models that load " \
        "features in batches)\n"
    b = write(tmp_path / "b.csv", [row("gcn", BASE, epoch_time_s=""), row("gat", BASE)])
    assert main(["compare", str(a), str(b), "-q", "--on", "epoch_time_s"]) == 0
    assert "gnnbench: note: no epoch_time_s in B: node_classification Cora gcn (--fail-on-missing" in \
        capsys.readouterr().err
