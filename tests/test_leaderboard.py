from __future__ import annotations

import csv
import json
import math
import random
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnnbench import leaderboard
from gnnbench.harness.spec import RunSpec, config_label, label_names
from gnnbench.leaderboard.aggregate import ALIKE_SHOWN, COLUMNS, grid_frame, leaderboard_frame, runs_frame, tied
from gnnbench.leaderboard.write import format_metric, to_markdown
from gnnbench.natural import natural_key

_counter = iter(range(10**6))


def rec(model, dataset, seed, val, test, config="default", status="ok", metric="accuracy", direction="max",
        run_id=None, **extra):
    spec = {"suite": "hand", "task": "node_classification", "task_options": {}, "dataset": dataset, "model": model,
            "config": config, "seed": seed, "epochs": 10, "patience": None, "device": "cpu", "kernel": "scatter",
            "hparams": {"c": config}}
    record = {"run_id": run_id or f"r{next(_counter)}", "status": status, "spec": spec, "metric": metric,
              "direction": direction}
    if status == "ok":
        record.update(metrics={"val": {metric: val}, "test": {metric: test}},
                      params=100, epoch_time_s=0.01, memory={"peak_mb": 5.0}, best_epoch=3,
                      env={"device_name": "cpu-x"}, **extra)
    else:
        record["error"] = {"type": "RuntimeError", "message": "boom"}
    return record


def write_runs(path: Path, records: list[dict]) -> None:
    """``records`` written into ``path`` as the driver writes them, each run_id the hash of its spec (set in place,
    so that the records name the runs the file holds; a store skips a record whose spec is not its run's)."""
    for record in records:
        record["run_id"] = RunSpec.from_dict(record["spec"]).run_id
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def board(records):
    return leaderboard_frame(runs_frame(records))


def test_every_task_names_its_metric_s_unit_as_its_older_records_were_shown():
    """A task's unit is carried by its records; records made before then take it from the metric's name. A built-in
    task whose unit differed from that would show its old and new records in different units."""
    from gnnbench.registry import TASKS
    from gnnbench.units import FRACTION, unit_by_name

    units = {TASKS.get(name).obj.metric: TASKS.get(name).obj.unit for name in TASKS}  # each names its unit
    assert units["rocauc"] == units["average_precision"] == units["accuracy"] == FRACTION
    assert units["mae"] == units["rmse"] == ""
    assert all(unit == unit_by_name(metric) for metric, unit in units.items())


def test_a_record_s_unit_decides_how_its_metric_is_shown_and_older_records_take_it_from_the_name():
    """A plugin task's metric in [0, 1] under a name gnnbench does not know is shown in percent when its task
    says so; one named like a fraction but recorded in percent already is shown as recorded."""
    records = [{**rec("a", "Cora", 0, 0.5, 0.8123), "unit": "fraction"},
               {**rec("b", "Cora", 0, 0.5, 0.7), "metric": "balanced", "unit": "fraction"},
               {**rec("c", "Cora", 0, 50.0, 81.23), "unit": ""},
               rec("d", "Cora", 0, 0.5, 0.8123)]  # no unit: made before units were recorded; accuracy is a fraction
    records[1]["metrics"] = {"val": {"balanced": 0.5}, "test": {"balanced": 0.7}}
    frame = board(records).set_index("model")
    assert frame["unit"].to_dict() == {"a": "fraction", "b": "fraction", "c": "", "d": "fraction"}
    page = to_markdown(frame.reset_index(), records, "s")
    assert "81.2 (1)" in page and "70.0 (1)" in page and "81.2300 (1)" in page and "8123" not in page


@pytest.mark.parametrize("metric", ["mrr", "hits@10"])
def test_ranking_metrics_are_fractions_shown_in_points(tmp_path, metric):
    """An MRR or a hits@k is a fraction: a record made before records carried their unit, a plugin task naming
    none and a leaderboard CSV without the column all show 0.8123 as 81.2 points, not as 0.8123."""
    from gnnbench.leaderboard.read import read_leaderboard
    from gnnbench.tasks.node import NodeClassification

    record = rec("a", "Cora", 0, 0.5, 0.8123, metric=metric)  # no unit: the metric's name tells it
    frame = board([record])
    assert frame["unit"].tolist() == ["fraction"]
    page = to_markdown(frame, [record], "s")
    assert "81.2 (1)" in page and "0.8123" not in page
    assert type("Ranking", (NodeClassification,), {"unit": None, "metric": metric}).metric_unit() == "fraction"
    path = tmp_path / "leaderboard.csv"
    stable = ["task", "dataset", "model", "config", "scenario", "metric", "direction", "mean", "n"]
    frame[stable].to_csv(path, index=False)  # written before the unit column
    assert read_leaderboard(path)["unit"].tolist() == ["fraction"]  # compare shows it in points too


def test_a_task_with_an_unknown_unit_is_refused_and_one_naming_none_gets_its_metric_s_name_s():
    """A plugin task written before tasks named units keeps the unit its records were shown in: its ``accuracy``
    stays in percent, its ``balanced`` as recorded, until it names one."""
    from gnnbench.tasks.base import task_class_problem
    from gnnbench.tasks.node import NodeClassification

    percent = type("Percent", (NodeClassification,), {"unit": "percent"})
    assert "has unit = 'percent'; expected 'fraction'" in task_class_problem(NodeClassification.name, percent)
    assert task_class_problem(NodeClassification.name, NodeClassification) is None
    unnamed = type("Unnamed", (NodeClassification,), {"unit": None})
    assert task_class_problem(NodeClassification.name, unnamed) is None and unnamed.metric_unit() == "fraction"
    assert type("Balanced", (unnamed,), {"metric": "balanced"}).metric_unit() == ""


def test_a_row_whose_runs_were_recorded_in_different_units_is_warned_about():
    """A task that changed its unit between runs: the row shows its first record's, and says so."""
    records = [{**rec("m", "Cora", 0, 0.5, 0.81), "unit": "fraction"}, {**rec("m", "Cora", 1, 50.0, 82.0), "unit": ""}]
    with pytest.warns(UserWarning, match=r"runs recorded in different units \(as recorded vs fraction\)"):
        board(records)
    unnamed = {**rec("m", "Cora", 2, 0, 0, status="failed"), "metric": None}  # failed before records named it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        board([records[0], unnamed])


def fold(model, seed, val, test, config, val_loss=0.5, **extra):
    """A cross-validation record: the seed is the fold."""
    record = rec(model, "MUTAG", seed, val, test, config=config, split=f"cv(folds=3,split_seed=0,val=0.1):fold={seed}",
                 **extra)
    record["metrics"]["val"]["loss"] = val_loss
    return record


def test_a_row_whose_folds_chose_differently_can_be_compared(tmp_path):
    from gnnbench.leaderboard import compare
    from gnnbench.leaderboard import compare_report as report

    records = [fold("m", 0, 0.9, 0.6, "a"), fold("m", 0, 0.6, 0.9, "b"), fold("m", 1, 0.6, 0.7, "a"),
               fold("m", 1, 0.7, 0.5, "b")]
    write_runs(tmp_path / "runs.jsonl", records)
    csv = leaderboard.build(tmp_path).csv
    result = compare.compare(csv, csv)
    assert report.summary(result).startswith("0 better, 0 worse, 1 same")


def test_under_cross_validation_each_fold_selects_its_own_configuration():
    """Errica et al.: fold 0's validation holdout holds other folds' test graphs, so a mean over folds would let
    them choose the configuration those folds report with. Here the mean over folds prefers `a` (0.70 vs 0.67);
    folds 1 and 2 each prefer `b` on their own validation; fold 2's tie goes to the lower validation loss."""
    records = [fold("m", 0, 0.90, 0.60, "a"), fold("m", 0, 0.60, 0.90, "b"),
               fold("m", 1, 0.60, 0.70, "a"), fold("m", 1, 0.70, 0.50, "b"),
               fold("m", 2, 0.60, 0.80, "a", val_loss=0.4), fold("m", 2, 0.60, 0.40, "b", val_loss=0.3),
               rec("m", "MUTAG", 0, 0.0, 0.0, config="c", status="failed")]
    row = board(records).iloc[0]
    assert list(row["values"]) == pytest.approx([0.60, 0.50, 0.40]) and row["seeds"] == "0;1;2"
    assert row["val_mean"] == pytest.approx((0.9 + 0.7 + 0.6) / 3) and row["n"] == 3
    assert row["config"] == "b (2 folds); a (1 fold)" and row["hparams"] == '{"b":{"c":"b"},"a":{"c":"a"}}'
    assert (row["configs_tried"], row["failed"]) == (3, 1)  # c was tried: its one run failed
    grid = grid_frame(runs_frame(records)).set_index("config")
    assert grid["selected"].to_dict() == {"a": True, "b": True, "c": False}
    assert grid.loc["c", ["n", "failed"]].tolist() == [0, 1] and pd.isna(grid.loc["c", "val_mean"])
    unanimous = board([fold("m", s, 0.8, 0.7, "a") for s in range(3)] + [fold("m", s, 0.6, 0.9, "b") for s in range(3)])
    assert unanimous.iloc[0]["config"] == "a" and unanimous.iloc[0]["hparams"] == '{"c":"a"}'
    with pytest.warns(UserWarning, match=r"MUTAG m \(a\): seed 0 recorded by more than one run"):
        board([*records, fold("m", 0, 0.95, 0.1, "a")])  # a stale record, which a fold would otherwise pick
    held_out = board([{**r, "split": "holdout"} for r in records])  # without folds: the mean over seeds selects
    assert held_out.iloc[0]["config"] == "a" and list(held_out.iloc[0]["values"]) == pytest.approx([0.6, 0.7, 0.8])


def test_mean_std_ddof1_n_and_per_seed_values():
    b = board([rec("gcn", "Cora", s, 0.7, t) for s, t in zip((2, 0, 1), (0.84, 0.80, 0.82), strict=True)])
    row = b.iloc[0]
    assert row["mean"] == pytest.approx(0.82)
    assert row["std"] == pytest.approx(0.02)  # ddof = 1: sqrt(((.02)^2 * 2) / 2)
    assert row["n"] == 3
    assert list(row["values"]) == pytest.approx([0.80, 0.82, 0.84])  # ordered by seed
    assert row["seeds"] == "0;1;2"
    assert list(b.columns[: len(COLUMNS)]) == COLUMNS


def test_configuration_is_selected_on_validation_never_on_test():
    records = [rec("gat", "Cora", s, 0.70, 0.90, config="lr=0.1") for s in range(3)]
    records += [rec("gat", "Cora", s, 0.75, 0.60, config="lr=0.01") for s in range(3)]
    row = board(records).iloc[0]
    assert (row["config"], row["mean"], row["val_mean"], row["configs_tried"]) == ("lr=0.01", 0.60, 0.75, 2)
    grid = leaderboard.grid_frame(runs_frame(records))
    assert "test" not in grid.columns and "mean" not in grid.columns
    assert grid.set_index("config")["selected"].to_dict() == {"lr=0.01": True, "lr=0.1": False}


def test_a_row_with_a_failed_run_ranks_right_after_the_complete_rows_that_have_a_rank():
    """A complete row whose mean is NaN is unranked: it must not push a row with a failed run one rank further."""
    nan = float("nan")
    records = [rec("x", "Cora", 0, 0.5, 0.8), rec("x", "Cora", 1, 0.5, 0.8),
               rec("y", "Cora", 0, 0.5, nan), rec("y", "Cora", 1, 0.5, 0.7),
               rec("z", "Cora", 0, 0.5, 0.9), rec("z", "Cora", 1, 0, 0, status="failed")]
    board = leaderboard_frame(runs_frame(records)).set_index("model")
    assert (board.loc["x", "rank"], board.loc["z", "rank"]) == (1, 2) and pd.isna(board.loc["y", "rank"])


def test_selection_and_rank_follow_the_metric_direction():
    records = [rec("a", "D", 0, 0.5, 1.0, config="x", metric="mae", direction="min"),
               rec("a", "D", 0, 0.4, 2.0, config="y", metric="mae", direction="min"),
               rec("b", "D", 0, 0.1, 1.5, metric="mae", direction="min")]
    b = board(records).set_index("model")
    assert b.loc["a", "config"] == "y"  # lower validation MAE
    assert (b.loc["b", "rank"], b.loc["a", "rank"]) == (1, 2)  # 1.5 < 2.0


def test_rank_is_within_each_dataset_with_ties_sharing_the_best_rank():
    records = [rec("a", "Cora", 0, 0.5, 0.8), rec("b", "Cora", 0, 0.5, 0.8), rec("c", "Cora", 0, 0.5, 0.7),
               rec("c", "CiteSeer", 0, 0.5, 0.9), rec("a", "CiteSeer", 0, 0.5, 0.1)]
    b = board(records)
    ranks = {(r.dataset, r.model): r.rank for r in b.itertuples()}
    assert ranks == {("Cora", "a"): 1, ("Cora", "b"): 1, ("Cora", "c"): 3, ("CiteSeer", "c"): 1,
                     ("CiteSeer", "a"): 2}


#: ten fold accuracies of two models with the same sum, 7.35, recorded as metrics are (float32): their means
#: are 0.7350000023841858 and 0.7349999964237213 (IMDB-BINARY's SIR-GCN and GCN rows)
TIED = tuple([float(np.float32(v)) for v in values] for values in (
    [0.70, 0.68, 0.67, 0.81, 0.72, 0.80, 0.76, 0.75, 0.68, 0.78],
    [0.67, 0.71, 0.69, 0.82, 0.69, 0.81, 0.75, 0.73, 0.71, 0.77]))


def test_tied_joins_values_within_the_tolerance_and_nothing_else():
    values = [0.735, 0.7350000023841858, 0.736, float("nan"), float("inf"), float("-inf"), 1e308, -0.0, 0.0]
    assert tied(values).tolist()[:3] == [0.735, 0.735, 0.736]
    assert math.isnan(tied(values)[3]) and tied(values).tolist()[4:] == [math.inf, -math.inf, 1e308, -0.0, -0.0]
    assert tied([[0.2, 0.2 + 1e-9], [0.3, 0.1]]).tolist() == [[0.2, 0.2], [0.3, 0.1]]


def test_equal_means_tie_whatever_the_float_noise_of_their_values(tmp_path):
    assert pd.Series(TIED[0]).mean() != pd.Series(TIED[1]).mean()  # the float noise this test is about
    records = [rec(m, "IMDB", s, 0.5, v) for m, values in zip("ab", TIED, strict=True) for s, v in enumerate(values)]
    records += [rec(m, "MUTAG", 0, 0.5, v) for m, v in (("a", 0.9), ("b", 0.8))]
    b = board(records)
    imdb = b[b.dataset == "IMDB"]
    assert dict(zip(imdb["model"], imdb["rank"], strict=True)) == {"a": 1, "b": 1}
    write_runs(tmp_path / "runs.jsonl", records)
    md = leaderboard.build(tmp_path).markdown.read_text()
    assert "**73.5 ± 5.2 (10)**" in md and "**73.5 ± 5.1 (10)**" in md  # both bold, as both are best
    assert "| a | 1.25 | 1.5 | 1 |" in md and "| b | 1.75 | 1.5 | 2 |" in md  # the ranks across datasets too


def test_configurations_with_equal_validation_means_fall_to_the_tie_break():
    """More seeds, then the config label: not the last bit of a float sum."""
    records = [rec("gin", "IMDB", s, v, 0.5, config=c) for c, values in zip(("x", "y"), TIED, strict=True)
               for s, v in enumerate(values)]
    assert board(records).iloc[0]["config"] == "x"
    records = [rec("gin", "IMDB", s, v, 0.5, config=c) for c, values in zip(("x", "y"), TIED[::-1], strict=True)
               for s, v in enumerate(values)]
    assert board(records).iloc[0]["config"] == "x"
    # the label in plain string order (K=16 first), not the records' order nor the grid's natural one (K=2 first)
    records = [rec("gin", "IMDB", s, 0.8, 0.5, config=c) for c in ("K=2", "K=16") for s in range(2)]
    grid = grid_frame(runs_frame(records))
    assert grid["config"].tolist() == ["K=2", "K=16"] and grid["selected"].tolist() == [False, True]


def test_a_validation_tie_goes_to_the_configuration_with_more_seeds():
    """Equal validation means over two seeds and over three: the three-seed mean is the better estimate, and the
    row it gives has more seeds behind its test figure; the label would pick `a`."""
    records = [rec("gin", "IMDB", s, 0.8, 0.5, config="a") for s in range(2)]
    records += [rec("gin", "IMDB", s, 0.8, 0.6, config="b") for s in range(3)]
    row = board(records).iloc[0]
    assert (row["config"], row["n"]) == ("b", 3)


def test_failed_runs_are_counted_not_averaged_and_a_retry_replaces_its_failure():
    records = [rec("gcn", "Cora", 0, 0.7, 0.8), rec("gcn", "Cora", 1, 0, 0, status="failed"),
               rec("gcn", "Cora", 2, 0, 0, status="failed", run_id="retry"),
               rec("gcn", "Cora", 2, 0.7, 0.6, run_id="retry")]
    from gnnbench.harness.store import latest

    row = board(list(latest(records).values())).iloc[0]
    assert (row["n"], row["failed"], row["mean"]) == (2, 1, pytest.approx(0.7))


def test_a_seed_recorded_twice_under_one_config_is_warned_about():
    """Records of an older default keep their config label but not their run_id: the row would silently average
    both sets of seeds."""
    records = [rec("gcn", "Cora", s, 0.7, 0.8) for s in (0, 1)] + [rec("gcn", "Cora", 1, 0.7, 0.6)]
    with pytest.warns(UserWarning, match=r"Cora gcn \(default\): seed 1 recorded by more than one run"):
        frame = board(records)
    row = frame.iloc[0]
    assert (row["n"], row["seeds"]) == (3, "0;1;1")
    assert "73.3 ± 11.5 (3 runs of 2 seeds)" in to_markdown(frame, records, "hand")  # the cell says it, too


@pytest.mark.parametrize("configs", [ALIKE_SHOWN, ALIKE_SHOWN + 2])
def test_a_cause_more_configurations_share_than_a_few_is_told_once_naming_some(tmp_path, configs):
    """Records of an earlier suite file (a 9-epoch budget, now 10) repeat a seed of each configuration: hundreds of
    warnings in a big grid, which buried the notice to prune them. Past ALIKE_SHOWN configurations of one cause,
    the terminal and the page's Warnings tell it once, naming a few; up to it, each as before. A warning of
    another cause (units) keeps its line."""
    records = [rec("gcn", "Cora", s, 0.7, 0.8, config=f"lr={c}") for c in range(configs) for s in (0, 1)]
    old = [rec("gcn", "Cora", 0, 0.7, 0.8, config=f"lr={c}") for c in range(configs)]
    for r in old:
        r["spec"]["epochs"] = 9
    units = [rec("gat", "Cora", s, 0.7, 0.8, unit=unit) for s, unit in ((0, "fraction"), (1, ""))]
    write_runs(tmp_path / "runs.jsonl", [*records, *old, *units])
    with pytest.warns(UserWarning) as caught:
        md = leaderboard.build(tmp_path).markdown.read_text()
    told = [str(w.message) for w in caught]
    cause = ("recorded by more than one run; runs made with different settings (epochs 9 vs 10) (records made under "
             "other defaults or an earlier version of the suite file?)")
    each = [f"node_classification Cora gcn (lr={c}): seed 0 {cause}; the row uses them all until `gnnbench prune` "
            "sets the old ones aside" for c in range(configs)]
    once = [f"{configs} configurations: seeds {cause}; their rows use them all until `gnnbench prune` sets the old "
            "ones aside; e.g. node_classification Cora gcn (lr=0), node_classification Cora gcn (lr=1), "
            f"node_classification Cora gcn (lr=2) and {configs - 3} more"]
    units = ["node_classification Cora gat (default): runs recorded in different units (as recorded vs fraction); the "
             "row uses them all until `gnnbench prune` sets the old ones aside"]
    assert told == units + (each if configs <= ALIKE_SHOWN else once)
    assert md.split("## Warnings\n\n")[1].split("\n\n")[0].splitlines() == [f"- {line}" for line in told]


def test_configurations_of_several_scenarios_are_named_with_their_scenario_and_counted_each(tmp_path):
    """Two configurations under three scenarios are six: their warnings read alike without the scenario, so the
    count fell to the distinct texts (4, six lines told) or named one configuration twice."""
    runs = []
    for scenario in ("none", "label_noise", "edge_drop"):
        for c in range(2):
            made = [rec("gcn", "Cora", s, 0.7, 0.8, config=f"lr={c}") for s in (0, 1, 0)]
            made[2]["spec"]["epochs"] = 9
            for r in made:
                r["spec"]["scenario"] = None if scenario == "none" else {"name": scenario}
            runs += made
    write_runs(tmp_path / "runs.jsonl", runs)
    with pytest.warns(UserWarning) as caught:
        leaderboard.build(tmp_path)
    told = [str(w.message) for w in caught if "configurations:" in str(w.message)]
    assert len(told) == 1 and told[0].startswith("6 configurations: ")
    assert told[0].endswith("e.g. node_classification Cora gcn (lr=0) under edge_drop(), node_classification Cora gcn "
                            "(lr=1) under edge_drop(), node_classification Cora gcn (lr=0) under label_noise() and 3 "
                            "more")


def test_a_failed_run_made_with_other_settings_is_warned_about_as_the_row_counts_it():
    """The row's ``failed`` counts every failed record of its configuration, one of an earlier suite file's
    split included: the row must not read as one setting's seeds with one failure."""
    failed, ok = rec("gcn", "Cora", 0, 0, 0, status="failed"), rec("gcn", "Cora", 0, 0.7, 0.8)
    failed["spec"].update(epochs=9, task_options={"split": "public"})
    ok["spec"].update(epochs=9, task_options={"split": "random"})
    with pytest.warns(UserWarning, match=r"Cora gcn \(default\): seed 0 recorded by more than one run; runs made "
                                         r"with different settings \(task_options.split public vs random\)"):
        row = board([failed, ok]).iloc[0]
    assert (row["n"], row["failed"]) == (1, 1)


def ff(seed, config, num_negatives, ran=None):
    """A ForwardGNN-FF record given ``num_negatives``; ``ran``: the count its record says ran (None: a record made
    before records kept ``effective_hparams``)."""
    record = rec("ff", "Cora", seed, 0.7, 0.8, config=config,
                 **({"effective_hparams": {"num_negatives": ran}} if ran is not None else {}))
    record["spec"]["hparams"] = {"num_layers": 2, "num_negatives": num_negatives}
    return record


def test_a_configuration_whose_label_names_a_value_that_did_not_run_is_warned_about_once_whatever_its_old_records():
    """num_negatives=10 on 7-class Cora ran 6: its seeds from before records kept ``effective_hparams`` (no field)
    beside newer ones give one warning, from the newer; 3, which ran as given, gives none."""
    records = [ff(0, "num_negatives=10", 10), ff(1, "num_negatives=10", 10, ran=6),
               ff(2, "num_negatives=10", 10, ran=6), ff(0, "num_negatives=3", 3), ff(1, "num_negatives=3", 3)]
    assert list(runs_frame(records)["effective_hparams"]) == ['{}', '{"num_negatives":6}', '{"num_negatives":6}',
                                                              '{}', '{}']
    with pytest.warns(UserWarning) as caught:
        board(records)
    assert [str(w.message) for w in caught] == [
        "node_classification Cora ff (num_negatives=10): the model ran with other values than it was given "
        "(num_negatives 10 -> 6: its records' effective_hparams); the config label and hparams name the values given"]


def test_a_default_the_model_caps_is_recorded_but_not_warned_about():
    """FF's default 100 means every wrong class: C - 1 ran, as documented. Its label (``default``,
    ``num_layers=4``) does not name num_negatives, so nothing to correct: no warning, the record still says 6."""
    records = [ff(0, "default", 100, ran=6), ff(1, "default", 100), ff(0, "num_layers=4", 100, ran=6)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = runs_frame(records)
        board(records)
    assert list(frame["effective_hparams"]) == ['{"num_negatives":6}', '{}', '{"num_negatives":6}']


def test_a_config_label_names_a_key_only_as_a_whole_item():
    label = config_label({"dims": [1, 2], "k": 10, "lr": 0.1}, {"lr": 0.1})
    assert label == "dims=[1,2],k=10"
    assert label_names(label, "dims", [1, 2]) and label_names(label, "k", 10)
    assert not label_names(label, "k", 1) and not label_names(label, "lr", 0.1) and not label_names("kk=1", "k", 1)


def test_models_of_one_column_run_under_other_task_options_are_warned_about():
    """Records merged from two suites: gcn on Cora's public split, mlp on a random split, ranked in one column
    (a suite file refuses this; a merged folder cannot)."""
    public, random = rec("gcn", "Cora", 0, 0.8, 0.8), rec("mlp", "Cora", 0, 0.7, 0.7)
    public["spec"]["task_options"] = {"split": "public"}
    random["spec"]["task_options"] = {"split": "random"}
    other = rec("mlp", "CiteSeer", 0, 0.7, 0.7)  # another dataset: its own column
    with pytest.warns(UserWarning) as caught:
        board([public, random, other])
    assert [str(w.message) for w in caught] == ["node_classification Cora: its models ran under different task "
                                                "options (task_options.split public vs random); their ranks "
                                                "compare different protocols"]


def test_runs_of_one_config_made_with_other_settings_are_warned_about_whatever_their_seeds():
    """Seeds 0-1 under a 3-epoch budget and 2-3 under a 4-epoch one: no seed repeats, yet they are not one
    configuration's seeds."""
    records = [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(4)]
    for r in records:
        r["spec"].update(epochs=9 if r["spec"]["seed"] < 2 else 10, task_options={"split": "public"})
    with pytest.warns(UserWarning, match=r"Cora gcn \(default\): runs made with different settings \(epochs 9 vs "
                                         r"10\)") as caught:  # in numeric order
        row = board(records).iloc[0]
    assert row["n"] == 4 and "recorded by more than one run" not in str(caught[0].message)
    assert [p["epochs"] for p in json.loads(row["protocol"])] == [9, 10]  # the row holds both: its cell says so
    assert "(4, mixed settings)" in to_markdown(board(records), records, "hand")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for r in records:
            r["spec"]["epochs"] = 9
        board(records)  # one setting: no warning


def test_a_model_whose_every_run_failed_is_an_unranked_row_and_the_grid_shows_what_was_tried(tmp_path):
    """A model that crashed on every seed (out of memory) belongs in the table as a failure, not out of it."""
    records = [rec("gcn", "Cora", s, 0, 0, status="failed") for s in range(2)]
    records += [rec("gat", "Cora", s, 0, 0, config=c, status="failed") for s in range(2) for c in ("x", "y")]
    records += [rec("mlp", "Cora", s, 0.6, 0.6) for s in range(2)]
    runs = runs_frame(records)
    rows = leaderboard_frame(runs).set_index("model")
    assert list(rows.index) == ["mlp", "gat", "gcn"] and rows.at["mlp", "rank"] == 1
    assert rows.loc["gcn", ["config", "n", "failed", "configs_tried", "rank", "metric"]].tolist() == [
        "default", 0, 2, 1, None, "accuracy"]
    assert rows.loc["gat", ["config", "failed", "configs_tried"]].tolist() == ["none selected", 4, 2]
    older = rec("gcn", "Cora", 2, 0, 0, status="failed")
    del older["metric"], older["direction"]  # made before failed records named their metric: still counted
    assert leaderboard_frame(runs_frame([*records, older])).set_index("model").at["gcn", "failed"] == 3
    assert pd.isna(rows.at["gcn", "mean"]) and len(rows.at["gcn", "values"]) == 0
    grid = grid_frame(runs)
    columns = ["config", "n", "failed", "selected", "metric", "direction"]  # the metric its failed records name
    assert grid[grid["model"] == "gcn"][columns].values.tolist() == [["default", 0, 2, False, "accuracy", "max"]]
    write_runs(tmp_path / "runs.jsonl", records)
    md = leaderboard.build(tmp_path).markdown.read_text()
    assert "| gcn | – (0, 2 failed) |" in md and "| mlp | **60.0 ± 0.0 (2)** |" in md


def test_failed_records_without_a_metric_give_no_row():
    """Records made before failed ones named their metric: the row's metric is unknown, so it stays out."""
    old = [rec("gcn", "Cora", s, 0, 0, status="failed") for s in range(2)]
    for r in old:
        del r["metric"], r["direction"]
    assert leaderboard_frame(runs_frame(old)).empty


@pytest.mark.parametrize("val", [None, {"acc": 0.9}, {"accuracy": None}], ids=["no val", "other metric", "null"])
def test_an_ok_record_without_its_validation_metric_is_skipped_with_a_warning(tmp_path, val):
    """Selection reads metrics.val: a hand-edited or foreign ok record lacking it is named and left out of its
    row (which counts the other seeds), not a KeyError that leaves no leaderboard at all."""
    records = [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(3)]
    if val is None:
        del records[1]["metrics"]["val"]
    else:
        records[1]["metrics"]["val"] = val
    write_runs(tmp_path / "runs.jsonl", records)
    with pytest.warns(UserWarning, match=r"runs.jsonl:2: skipping a line that is ok but lacks its metric 'accuracy' "
                                         r"as a number under metrics.val"):
        built = leaderboard.build(tmp_path)
    assert built.board[["model", "n", "seeds"]].values.tolist() == [["gcn", 2, "0;2"]]


def test_params_come_from_a_run_that_recorded_them():
    records = [rec("gcn", "Cora", 0, 0.7, 0.8), rec("gcn", "Cora", 1, 0.7, 0.8)]
    del records[0]["params"]  # made before records carried it
    assert board(records).iloc[0]["params"] == 100


def test_single_seed_has_no_std():
    assert pd.isna(board([rec("gcn", "Cora", 0, 0.7, 0.8)]).iloc[0]["std"])


def test_files_are_byte_identical_whatever_the_record_order(tmp_path):
    records = [rec(m, d, s, random.Random(i).random(), random.Random(-i).random(), config=c)
               for i, (m, d, s, c) in enumerate((m, d, s, c) for m in ("gcn", "gat") for d in ("Cora", "CiteSeer")
                                               for s in range(3) for c in ("x", "y"))]
    outputs = []
    for order in range(3):
        folder = tmp_path / str(order)
        folder.mkdir()
        shuffled = records[:]
        random.Random(order).shuffle(shuffled)
        write_runs(folder / "runs.jsonl", shuffled)
        leaderboard.build(folder)
        outputs.append(((folder / "leaderboard.csv").read_bytes(), (folder / "grid.csv").read_bytes(),
                        (folder / "leaderboard.md").read_bytes()))
    assert outputs[0] == outputs[1] == outputs[2]
    header, first = list(csv.reader(outputs[0][0].decode().splitlines()))[:2]
    assert header[:len(COLUMNS)] == COLUMNS
    row = dict(zip(header, first, strict=True))
    assert re.fullmatch(r"0\.\d{6}", row["mean"]) and re.fullmatch(r"0\.\d{6}", row["std"])
    assert re.fullmatch(r"(0\.\d{6};){2}0\.\d{6}", row["values"])


def test_the_page_title_names_each_suite_of_mixed_records_once_in_natural_order(tmp_path):
    """A row of records of two suites already names both (``s10;s2``): the title splits the rows' cells, not
    joining them as they are (``s10;s2;s2``)."""
    records = [rec("gcn", "Cora", seed, 0.8, 0.8) for seed in (0, 1)] + [rec("mlp", "Cora", 0, 0.7, 0.7)]
    for record, suite in zip(records, ("s10", "s2", "s2"), strict=True):
        record["spec"]["suite"] = suite
    write_runs(tmp_path / "runs.jsonl", records)
    assert leaderboard.build(tmp_path).markdown.read_text().startswith("# Leaderboard: s2;s10\n")


def test_a_copied_results_folder_s_notes_name_the_results_root_it_is_in_now(tmp_path, monkeypatch):
    """expected.json notes the results root as the run was given it (R1), which the page keeps while the folder
    is there; a copy (R20/small) is resumed and pruned where it is: the page names R20, as the note on stderr
    does, and the suite file as noted."""
    from gnnbench.harness.store import RunStore

    monkeypatch.chdir(tmp_path)
    records = [rec("gcn", "Cora", seed, 0.8, 0.8) for seed in range(3)]
    first = Path("R1", "small")
    first.mkdir(parents=True)
    write_runs(first / "runs.jsonl", records)
    RunStore(first).expect("small", "small.yaml", [r["run_id"] for r in records[1:]] + ["unrecorded"])
    rest, prune = "`gnnbench run small.yaml --results {}` runs the rest", "`gnnbench prune small.yaml --results {}`"
    for folder in (first, Path("elsewhere", "R20", "small")):
        if folder != first:
            shutil.copytree(first, folder)
        board = leaderboard.build(folder)
        page = " ".join(board.markdown.read_text().split())
        for notice in (page, board.notice):
            assert rest.format(folder.parent) in notice and prune.format(folder.parent) in notice
    assert json.loads((first / "expected.json").read_text())["results"] == "R1"


def test_models_tied_in_mean_rank_are_listed_by_name(tmp_path):
    """A tie is ordered by name, not by a set's iteration order (which changes with PYTHONHASHSEED)."""
    names = ["sage", "gat", "mlp", "gin", "gcn", "dgmlp"]
    write_runs(tmp_path / "runs.jsonl", [rec(m, "Cora", 0, 0.7, 0.8) for m in names])
    md = leaderboard.build(tmp_path).markdown.read_text()
    table = md.split("| model | Cora |")[1].split("\n\n")[0]
    assert re.findall(r"^\| (\w+) \|", table, flags=re.M) == sorted(names)


def test_names_with_numbers_are_listed_in_numeric_order(tmp_path):
    """HeteroEdgeCount-2, -4, -10, not a plain string sort's -10, -2, -4: the CSV's rows, the Markdown's columns,
    details and failed runs, the ranks' columns, and models tied in rank (m2 before m10) and configurations in the
    grid (K=2 before K=16) too. Only the order: the same rows, ranks and numbers."""
    natural = ["HeteroEdgeCount-2", "HeteroEdgeCount-4", "HeteroEdgeCount-10"]
    records = [rec(m, d, 0, 0.5, 0.8, config=c) for d in reversed(natural) for m in ("m10", "m2")
               for c in ("K=16", "K=2")] + [rec("x", d, 0, None, None, status="failed") for d in natural]
    write_runs(tmp_path / "runs.jsonl", records)
    built = leaderboard.build(tmp_path)
    rows = list(csv.DictReader(built.csv.open()))
    assert [(r["dataset"], r["model"], r["rank"]) for r in rows] == [
        (d, m, rank) for d in natural for m, rank in (("m2", "1"), ("m10", "1"), ("x", ""))]
    grid = list(csv.DictReader((tmp_path / "grid.csv").open()))
    assert [(r["dataset"], r["config"]) for r in grid if r["model"] == "m10"] == [
        (d, c) for d in natural for c in ("K=2", "K=16")]
    board_table, details, ranks, failed = _tables(built.markdown.read_text())
    assert board_table[0] == f"| model | {' | '.join(natural)} |"
    assert [line.split(" | ")[0] for line in board_table[2:]] == ["| m2", "| m10", "| x"]
    assert [line.split(" | ")[0] for line in details[2:]] == [f"| {d}" for d in natural for _ in range(3)]
    assert ranks[0] == f"| model | mean rank | {' | '.join(natural)} |"
    assert [line.split(" | ")[0] for line in ranks[2:]] == ["| m2", "| m10"]
    assert [line.split(" | ")[0] for line in failed[2:]] == [f"| {d}" for d in natural]


def test_natural_key_compares_numbers_in_names_as_numbers():
    values = ["lr=0.001", "K=16", "true", "lr=1e-05", "K=2", "3", "-1", "2.0", "2", "0.1", "0.05", "Cora-raw", "Cora"]
    assert sorted(values, key=natural_key) == ["-1", "0.05", "0.1", "2", "2.0", "3", "Cora", "Cora-raw", "K=2",
                                               "K=16", "lr=1e-05", "lr=0.001", "true"]
    odd = ["nan", "2", "inf", "-inf", "10", "NaN"]  # text, not numbers: a NaN key would leave the order to the input
    assert sorted(odd, key=natural_key) == sorted(reversed(odd), key=natural_key) == ["2", "10", "-inf", "NaN",
                                                                                      "inf", "nan"]


def test_natural_key_reads_a_sign_after_a_separator_and_versions_by_their_parts():
    """A minus after ``=`` is a sign, one between words a hyphen; a chain of dots is a version, one dot a decimal."""
    values = ["K=2", "K=0", "K=-2", "offset=-0.5", "offset=-1", "HeteroEdgeCount-3", "HeteroEdgeCount-2", "uf50-218",
              "uf50-25", "torch=2.10.0+cpu", "torch=2.9.1+cpu", "python-sat=1.10.dev1", "python-sat=1.9.dev24",
              "rate=0.5", "rate=0.25", "v1.9", "v1.10"]
    assert sorted(values, key=natural_key) == [
        "HeteroEdgeCount-2", "HeteroEdgeCount-3", "K=-2", "K=0", "K=2", "offset=-1", "offset=-0.5",
        "python-sat=1.9.dev24", "python-sat=1.10.dev1", "rate=0.25", "rate=0.5", "torch=2.9.1+cpu",
        "torch=2.10.0+cpu", "uf50-25", "uf50-218", "v1.10", "v1.9"]


#: Names in natural_key order, each kind of rule in it: tests/test_browser.py checks that a click on the page lists
#: them so too (it runs only where Chromium is installed; this order is checked here everywhere)
NATURAL = ["2", "2.0", "HeteroEdgeCount-2", "HeteroEdgeCount-4", "HeteroEdgeCount-10", "K=-2", "K=0", "K=2", "K=2.0",
           "agnn", "offset=-0.5", "offset=0.25", "rate=0.25", "rate=0.5", "torch=2.9.1", "torch=2.10.0", "x10", "x٣",
           "é-10", "é-2"]


def test_natural_key_orders_the_names_the_page_s_click_sort_is_checked_on():
    """Numbers as numbers, equal ones by their text (2 before 2.0, K=2 before K=2.0), a minus a sign after ``=``,
    versions by their parts, capitals first, ASCII letters and digits only: whatever the input order."""
    assert sorted(reversed(NATURAL), key=natural_key) == sorted(random.Random(0).sample(NATURAL, len(NATURAL)),
                                                                key=natural_key) == NATURAL


def test_natural_key_reads_ascii_letters_and_digits_only_as_the_page_s_script_does():
    """The page's JavaScript reads NUMBER with ASCII ``\\w`` and ``\\d``: so does natural_key, so a click and the
    tables agree. ``٣`` (Arabic-Indic three) is no digit, ``é`` no letter, so the minus after it is a sign."""
    assert sorted(["x٣", "x10", "é-2", "é-10"], key=natural_key) == ["x10", "x٣", "é-10", "é-2"]


def test_markdown_shows_percent_mean_std_n_and_failures(tmp_path):
    records = [rec("gcn", "Cora", s, 0.7, t) for s, t in enumerate((0.80, 0.82))]
    records.append(rec("gat", "Cora", 0, 0, 0, status="failed"))
    write_runs(tmp_path / "runs.jsonl", records)
    md = leaderboard.build(tmp_path).markdown.read_text()
    assert "| gcn | **81.0 ± 1.4 (2)** |" in md
    assert "## Failed runs (1)" in md and "RuntimeError: boom" in md


def test_a_failure_message_is_shown_whole_up_to_300_characters(tmp_path):
    """The failed-runs table is where a user reads why a run crashed: a usual message whole, a traceback-sized one
    cut so the table stays readable."""
    records = [rec("gcn", "Cora", 0, 0.7, 0.8), rec("gat", "Cora", 0, 0, 0, status="failed"),
               rec("gin", "Cora", 0, 0, 0, status="failed")]
    records[1]["error"]["message"], records[2]["error"]["message"] = "a" * 80, "b" * 400
    write_runs(tmp_path / "runs.jsonl", records)
    md = leaderboard.build(tmp_path).markdown.read_text()
    assert f"| RuntimeError: {'a' * 80} |" in md
    assert f"| RuntimeError: {'b' * (300 - len('RuntimeError: '))} |" in md


def depth_rec(model, seed, layers, lr, val, test, peak=5.0, status="ok"):
    record = rec(model, "Cora", seed, val, test, config=f"lr={lr},num_layers={layers}", status=status)
    record["spec"]["hparams"] = {"num_layers": layers, "lr": lr}
    record["memory"] = {"peak_mb": peak}
    return record


def test_depth_study_selects_on_validation_within_each_depth():
    from gnnbench.leaderboard.depth import depth_frame, depth_markdown

    records = []
    for seed in range(2):
        records += [depth_rec("gcn", seed, 2, 0.01, 0.80, 0.81, peak=10), depth_rec("gcn", seed, 2, 0.1, 0.70, 0.95),
                    depth_rec("gcn", seed, 8, 0.01, 0.60, 0.62 + seed / 100, peak=40),
                    depth_rec("mlp", seed, 2, 0.01, 0.5, 0.5)]
    frame = depth_frame(runs_frame(records))
    gcn = frame[frame["model"] == "gcn"].set_index("depth")
    assert list(gcn.index) == [2, 8]
    assert gcn.at[2, "mean"] == pytest.approx(0.81)  # lr=0.01 wins on validation, though lr=0.1 has the better test
    assert gcn.at[8, "mean"] == pytest.approx(0.625) and gcn.at[8, "n"] == 2
    assert (gcn.at[2, "peak_mem_mb"], gcn.at[8, "peak_mem_mb"]) == (10, 40)
    assert "mlp" not in set(frame["model"])  # one depth only: no curve
    text = "\n".join(depth_markdown(frame))
    assert "num_layers=2 | num_layers=8" in text and "| gcn | 81.0 ± 0.0 | 62.5 ± 0.7 |" in text


def test_depth_study_ranks_a_configuration_with_a_failed_run_last_as_the_leaderboard_does():
    from gnnbench.leaderboard.depth import depth_frame

    records = [depth_rec("gcn", 0, 2, 0.01, 0.8, 0.8), depth_rec("gcn", 1, 2, 0.01, 0.8, 0.8),
               depth_rec("gcn", 0, 8, 0.1, 0.9, 0.5), depth_rec("gcn", 1, 8, 0.1, 0, 0, status="failed"),
               depth_rec("gcn", 0, 8, 0.01, 0.7, 0.7), depth_rec("gcn", 1, 8, 0.01, 0.7, 0.7)]
    gcn = depth_frame(runs_frame(records)).set_index("depth")
    assert gcn.at[8, "config"] == "lr=0.01,num_layers=8" and gcn.at[8, "mean"] == pytest.approx(0.7)
    only_failed_apart = [r for r in records if r["spec"]["hparams"]["num_layers"] == 2 or r["status"] != "ok"]
    assert depth_frame(runs_frame(only_failed_apart)).empty  # one depth succeeded: no curve


def test_files_are_replaced_whole_never_rewritten_in_place(tmp_path):
    """A reader running meanwhile (compare, a browser) sees the old file or the new one: each is renamed over."""
    write_runs(tmp_path / "runs.jsonl", [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(2)])
    leaderboard.build(tmp_path, html=True)
    names = ("leaderboard.csv", "leaderboard.md", "leaderboard.html")
    inodes = {name: (tmp_path / name).stat().st_ino for name in names}
    leaderboard.build(tmp_path)
    assert all((tmp_path / name).stat().st_ino != inode for name, inode in inodes.items())
    assert not list(tmp_path.glob(".*"))


def test_no_depth_section_without_a_depth_grid(tmp_path):
    write_runs(tmp_path / "runs.jsonl", [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(2)])
    (tmp_path / "depth.csv").write_text("left from records set aside since\n")
    result = leaderboard.build(tmp_path)
    assert result.depth.empty and not (tmp_path / "depth.csv").exists()
    assert "Depth studies" not in result.markdown.read_text()


REFERENCE = Path(__file__).resolve().parents[1] / "results" / "reference"


@pytest.mark.parametrize(("suite", "order"), [*((p.parent.name, None) for p in sorted(REFERENCE.glob("*/runs.jsonl"))),
                                               ("node_classification", 0), ("quickstart", 1)])
def test_committed_reference_files_are_rebuilt_byte_for_byte(tmp_path, suite, order):
    """Every committed reference leaderboard is a pure function of its runs.jsonl, whatever the line order.
    (The HTML page is only compared with itself, in test_html.py: its SVGs depend on the matplotlib version.)"""
    reference = REFERENCE / suite
    lines = (reference / "runs.jsonl").read_text().splitlines(keepends=True)
    if order is not None:
        random.Random(order).shuffle(lines)
    (tmp_path / "runs.jsonl").write_text("".join(lines))
    leaderboard.build(tmp_path)
    for name in leaderboard.OUTPUTS:
        if name != "leaderboard.html":
            assert (tmp_path / name).exists() == (reference / name).exists(), name
            if (reference / name).exists():
                assert (tmp_path / name).read_bytes() == (reference / name).read_bytes(), name


def test_a_nan_test_mean_is_unranked_and_shown_as_missing(tmp_path):
    """A NaN metric is legitimate (roc_auc on a one-class split): its row has no mean and no rank, the others rank
    as if it were absent, and no file claims a best cell for it."""
    records = [rec("a", "Cora", 0, 0.8, 0.7, metric="roc_auc"), rec("a", "Cora", 1, 0.8, math.nan, metric="roc_auc"),
               rec("b", "Cora", 0, 0.7, 0.6, metric="roc_auc"), rec("b", "Cora", 1, 0.7, 0.6, metric="roc_auc"),
               rec("c", "CiteSeer", 0, 0.7, math.nan, metric="roc_auc")]
    b = board(records).set_index(["dataset", "model"])
    assert b.loc[("Cora", "b"), "rank"] == 1 and b.loc[("Cora", "a"), "rank"] is None
    assert math.isnan(b.loc[("Cora", "a"), "mean"]) and b.loc[("Cora", "a"), "n"] == 2
    assert b.loc[("CiteSeer", "c"), "rank"] is None  # alone and NaN: not the best of its dataset
    write_runs(tmp_path / "runs.jsonl", records)
    result = leaderboard.build(tmp_path, html=True)
    rows = {(r["dataset"], r["model"]): r for r in pd.read_csv(result.csv, dtype=str, keep_default_na=False)
            .to_dict("records")}
    assert (rows[("Cora", "a")]["mean"], rows[("Cora", "a")]["rank"]) == ("", "")
    assert rows[("Cora", "a")]["values"] == "0.700000;nan" and rows[("Cora", "b")]["rank"] == "1"
    md = result.markdown.read_text()
    assert "| b | – | **60.0 ± 0.0 (2)** |\n| a | – | – (2) |\n| c | – (1) | – |" in md  # unranked last
    assert re.search(r"^\| Cora \| a \| default \| 1 \| – \| 80.0 \| 2 \| .* \| – \|$", md, flags=re.M)
    assert result.html.read_text().count("<tr class=best>") == 1


def test_a_configuration_with_a_nan_validation_seed_is_selected_last():
    """Its mean is NaN, not the mean of its finite seeds under an n that counts all, so a fully finite
    configuration wins even with a lower validation score."""
    records = [rec("a", "Cora", 0, 0.95, 0.5, config="X"), rec("a", "Cora", 1, math.nan, 0.5, config="X"),
               rec("a", "Cora", 0, 0.8, 0.8, config="Y"), rec("a", "Cora", 1, 0.8, 0.8, config="Y"),
               rec("b", "Cora", 0, math.nan, 0.6)]
    grid = leaderboard.grid_frame(runs_frame(records)).set_index(["model", "config"])
    assert math.isnan(grid.loc[("a", "X"), "val_mean"]) and grid.loc[("a", "X"), "n"] == 2
    assert grid["selected"].to_dict() == {("a", "X"): False, ("a", "Y"): True, ("b", "default"): True}
    b = board(records).set_index("model")
    assert (b.loc["a", "config"], b.loc["a", "val_mean"], b.loc["a", "rank"]) == ("Y", 0.8, 1)
    assert math.isnan(b.loc["b", "val_mean"]) and b.loc["b", "rank"] == 2  # its test mean is finite: ranked


def test_a_configuration_with_a_failed_run_is_selected_only_when_every_one_has_one():
    """Its mean covers the seeds that survived: selecting it on that mean would reward failing."""
    records = [rec("a", "Cora", 0, 0.95, 0.5, config="X"), rec("a", "Cora", 1, 0, 0, config="X", status="failed"),
               rec("a", "Cora", 0, 0.8, 0.8, config="Y"), rec("a", "Cora", 1, 0.8, 0.8, config="Y"),
               rec("b", "Cora", 0, 0.9, 0.6, config="X"), rec("b", "Cora", 1, 0, 0, config="X", status="failed"),
               rec("b", "Cora", 0, 0.7, 0.7, config="Y"), rec("b", "Cora", 1, 0, 0, config="Y", status="failed")]
    grid = leaderboard.grid_frame(runs_frame(records)).set_index(["model", "config"])
    assert grid["selected"].to_dict() == {("a", "X"): False, ("a", "Y"): True, ("b", "X"): True, ("b", "Y"): False}
    b = board(records).set_index("model")
    assert (b.loc["a", "config"], b.loc["a", "failed"]) == ("Y", 0)
    assert (b.loc["b", "config"], b.loc["b", "failed"]) == ("X", 1)  # all failed somewhere: validation decides
    nan_or_failed = [rec("c", "Cora", 0, 0.9, 0.6, config="F"), rec("c", "Cora", 1, 0, 0, config="F", status="failed"),
                     rec("c", "Cora", 0, math.nan, 0.7, config="N"), rec("c", "Cora", 1, 0.8, 0.7, config="N")]
    assert board(nan_or_failed).iloc[0]["config"] == "F"  # both incomplete: the finite validation mean wins


def test_a_row_with_a_failed_run_ranks_after_every_complete_row_and_says_so(tmp_path):
    """flaky's one surviving seed beats gcn's mean; ranked first, it would win by losing its other seed."""
    records = [rec("flaky", "Cora", 0, 0.9, 0.9), rec("flaky", "Cora", 1, 0, 0, status="failed"),
               rec("gcn", "Cora", 0, 0.8, 0.8), rec("gcn", "Cora", 1, 0.8, 0.7),
               rec("mlp", "Cora", 0, 0.6, 0.6), rec("mlp", "Cora", 1, 0.6, 0.6)]
    b = board(records).set_index("model")
    assert b["rank"].to_dict() == {"gcn": 1, "mlp": 2, "flaky": 3}
    write_runs(tmp_path / "runs.jsonl", records)
    md = leaderboard.build(tmp_path).markdown.read_text()
    assert "| flaky | 90.0 (1, 1 failed) |" in md and "| **75.0 ± 7.1 (2)** |" in md


def test_feature_loading_costs_reach_the_leaderboard_and_compare(tmp_path):
    """A model gathering batches from a feature store (SIGN) records its loading; the row shows its mean."""
    from gnnbench.leaderboard import compare
    from gnnbench.leaderboard import compare_report as report

    def loaded(seed, load_s, share):
        return rec("sign", "Cora", seed, 0.7, 0.7, loading={"epoch_load_s": load_s, "epoch_load_share": share})

    b = board([loaded(0, 0.008, 0.09), loaded(1, 0.010, 0.11), rec("gcn", "Cora", 0, 0.8, 0.8)]).set_index("model")
    assert b.loc["sign", ["epoch_load_s", "epoch_load_share"]].tolist() == pytest.approx([0.009, 0.10])
    assert math.isnan(b.loc["gcn", "epoch_load_s"])
    for name, load_s in (("a", 0.008), ("b", 0.016)):
        (tmp_path / name).mkdir()
        gcn = rec("gcn", "Cora", 0, 0.8, 0.8)  # loads nothing: no epoch_load_s to compare
        write_runs(tmp_path / name / "runs.jsonl", [loaded(0, load_s, 0.1), gcn])
        leaderboard.build(tmp_path / name)
    result = compare.compare(tmp_path / "a", tmp_path / "b", column="epoch_load_s", min_effect=0.001)
    (r,) = result.table.itertuples()
    assert (r.metric, r.a_mean, r.b_mean, r.verdict) == ("epoch_load_s", 0.008, 0.016, "worse")
    assert report.summary(result).endswith(", 1 without epoch_load_s on either side left out; 0 only in A, 0 only "
                                            "in B")


def test_a_row_names_what_its_epoch_load_s_averages_and_averages_no_mixture_of_definitions():
    """Records made before ``loading.epoch_load_over`` averaged every epoch; a row whose runs hold both kinds (a
    folder resumed across the change) shows no loading mean, which would measure neither, and says why."""
    def loaded(model, seed, load_s, **over):
        return rec(model, "Cora", seed, 0.7, 0.7, loading={"epoch_load_s": load_s, "epoch_load_share": 0.1, **over})

    steady = {"epoch_load_over": "after_first_epoch"}
    records = [loaded("old", 0, 0.008), loaded("new", 0, 0.004, **steady), loaded("both", 0, 0.008),
               loaded("both", 1, 0.004, **steady), rec("gcn", "Cora", 0, 0.8, 0.8)]
    with pytest.warns(UserWarning, match=r"Cora both \(default\): epoch_load_s and epoch_load_share left empty: its "
                                         r"runs averaged their loading over different epochs \(after_first_epoch, "
                                         r"all_epochs\)"):
        b = board(records).set_index("model")
    assert b["epoch_load_over"].to_dict() == {"old": "all_epochs", "new": "after_first_epoch",
                                              "both": "after_first_epoch;all_epochs", "gcn": ""}
    assert b.loc["old", "epoch_load_s"] == 0.008 and b.loc["new", "epoch_load_s"] == 0.004
    assert b.loc[["both", "gcn"], ["epoch_load_s", "epoch_load_share"]].isna().all(axis=None)


def test_the_loading_mode_that_ran_is_in_the_csv_and_the_pages_only_where_a_model_loaded(tmp_path):
    """``hparams`` of ``load_mode: auto`` names no mode: the CSV says which ran (distinct ones joined by ``;``), and
    a table with a row that loaded shows its loading time and mode; a suite that loads nothing keeps its columns
    and pages as they were, and a row whose every run failed has no mode."""
    def loaded(seed, mode, load_s=0.00018):
        return rec("sign", "Cora", seed, 0.7, 0.7, loading={"mode": mode, "epoch_load_s": load_s,
                                                             "epoch_load_share": 0.02})

    records = [loaded(0, "cpu"), loaded(1, "gpu_direct", 0.00010), rec("gcn", "Cora", 0, 0.8, 0.8),
               rec("gat", "Cora", 0, 0, 0, status="failed")]
    (tmp_path / "mixed").mkdir()
    write_runs(tmp_path / "mixed" / "runs.jsonl", records)
    with pytest.warns(UserWarning, match=r"Cora sign \(default\): its epoch_load_s and epoch_load_share average "
                                         r"runs of several load modes \(cpu, gpu_direct\)"):
        built = leaderboard.build(tmp_path / "mixed", html=True)
    assert "several load modes" in built.markdown.read_text()  # the page's Warnings keep it
    cells = pd.read_csv(built.csv, dtype=str, keep_default_na=False).set_index("model")["load_mode"]
    assert cells.to_dict() == {"gcn": "", "sign": "cpu;gpu_direct", "gat": ""}
    md = built.markdown.read_text()
    assert "| peak MB | load ms | load mode | kernel | rank |" in md
    assert re.search(r"^\| Cora \| sign \| .* \| 0.14 \| cpu;gpu_direct \| scatter \| 2 \|$", md, flags=re.M)
    assert re.search(r"^\| Cora \| gcn \| .* \| – \| – \| scatter \| 1 \|$", md, flags=re.M)
    page = built.html.read_text()
    assert "<th class=num>load ms</th><th>load mode</th>" in page and "<td>cpu;gpu_direct</td>" in page
    (tmp_path / "plain").mkdir()
    write_runs(tmp_path / "plain" / "runs.jsonl", records[2:])
    built = leaderboard.build(tmp_path / "plain", html=True)
    assert pd.read_csv(built.csv, dtype=str, keep_default_na=False)["load_mode"].tolist() == ["", ""]
    assert "| peak MB | kernel | rank |" in built.markdown.read_text()
    assert "load ms" not in built.html.read_text()


def test_a_depth_where_every_run_failed_shows_as_failed_not_as_a_gap():
    """Out of memory at the deepest setting is what a memory-in-depth study is for."""
    from gnnbench.leaderboard.depth import depth_frame, depth_markdown

    records = [depth_rec("gcn", s, 2, 0.01, 0.8, 0.8) for s in range(2)]
    records += [depth_rec("gcn", s, 4, 0.01, 0.7, 0.7) for s in range(2)]
    records += [depth_rec("gcn", s, 32, 0.01, 0, 0, status="failed") for s in range(2)]
    text = "\n".join(depth_markdown(depth_frame(runs_frame(records))))
    assert "| gcn | 80.0 ± 0.0 | 70.0 ± 0.0 | failed |" in text and "| gcn | 5.0 | 5.0 | failed |" in text


def test_what_the_tables_warned_about_is_kept_in_the_markdown_and_the_page(tmp_path):
    """The terminal shows a warning once; leaderboard.md is what people share, so it carries it too."""
    records = [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(4)]
    for r in records:
        r["spec"]["epochs"] = 2 if r["spec"]["seed"] < 2 else 3
    write_runs(tmp_path / "runs.jsonl", records)
    with pytest.warns(UserWarning, match="runs made with different settings"):
        built = leaderboard.build(tmp_path, html=True)
    md = built.markdown.read_text()
    assert ("## Warnings\n\n- node_classification Cora gcn (default): runs made with different settings (epochs 2 "
            "vs 3)") in md
    assert "<h2>Warnings</h2>\n<ul><li>node_classification Cora gcn (default): runs made" in built.html.read_text()
    records = [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(2)]
    write_runs(tmp_path / "runs.jsonl", records)
    assert "## Warnings" not in leaderboard.build(tmp_path).markdown.read_text()


def test_mixed_runs_are_warned_about_in_every_configuration_and_across_plugin_file_versions():
    """The selection compares every configuration, so a mixed one that lost is named too; so are records made
    with another version of a plugin file (their run ids are the same), whether they name it as sources or, made
    before tasks and datasets were covered, as model_source."""
    records = [rec("gcn", "Cora", s, 0.9, 0.8, config="a") for s in range(2)]
    records += [rec("gcn", "Cora", s, 0.5, 0.5, config="b") for s in range(2)]
    records[2]["spec"]["epochs"] = 7  # in the configuration validation does not select
    records[0]["model_source"] = {"file": "my_models.py", "sha256": "v0"}
    records[1]["sources"] = {"model": {"file": "/elsewhere/my_models.py", "sha256": "v0"},
                             "task": {"file": "my_task.py", "sha256": "t1"}}
    with pytest.warns(UserWarning) as caught:
        board(records)
    messages = sorted(str(w.message) for w in caught)
    assert "Cora gcn (a): runs made with 2 versions of their plugin files (task)" in messages[0]
    assert "Cora gcn (b): runs made with different settings (epochs 7 vs 10)" in messages[1]


def test_a_row_selecting_among_configurations_made_with_other_plugin_file_versions_is_warned_about():
    """A grid extended after the plugin file was edited: each configuration is one version's seeds, but the
    selection compares the old version's configurations with the new one's. A configuration whose records name
    no file tells nothing; configurations all made with one version are no warning."""
    def made(config, sha, seeds=range(2)):
        return [rec("mine", "Cora", s, 0.8, 0.8, config=config,
                    sources={"model": {"file": "my_fit.py", "sha256": sha * 64}}) for s in seeds]

    same = made("smoothing=0.0", "a") + made("smoothing=0.2", "a") + [rec("mine", "Cora", 0, 0.5, 0.5, config="old")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        board(same)
    with pytest.warns(UserWarning) as caught:
        board(same + made("smoothing=0.1", "b"))
    assert [str(w.message) for w in caught] == [
        "node_classification Cora mine: its configurations were made with 2 versions of their plugin files "
        f"(model={'a' * 12}: smoothing=0.0, smoothing=0.2; model={'b' * 12}: smoothing=0.1), so selecting among "
        "them compares code, not only hyperparameters, until `gnnbench prune` sets the old ones aside"]


def test_a_row_whose_every_run_failed_keeps_the_versions_its_records_ran_with():
    failed = [rec("gcn", "Cora", s, 0, 0, status="failed") for s in range(2)]
    for r in failed:
        r["env"] = {"python": "3.11.7", "versions": {"torch": "2.13.0"}}
    assert board(failed).iloc[0]["versions"] == "python=3.11.7;torch=2.13.0"


def test_the_versions_column_names_threads_and_heap_which_move_times_and_compare_says_when_they_changed(tmp_path):
    from gnnbench.leaderboard.compare import compare
    from gnnbench.leaderboard.write import to_csv

    records = [rec("gcn", "Cora", s, 0.8, 0.8) for s in range(2)]
    for threads, r in zip((1, 2), records, strict=True):
        r["env"] = {"python": "3.11.7", "versions": {"torch": "2.13.0"}, "threads": threads, "allocator": "default"}
    assert board(records).iloc[0]["versions"] == ("allocator=default;python=3.11.7;threads=1;torch=2.13.0 | "
                                                 "allocator=default;python=3.11.7;threads=2;torch=2.13.0")
    frames = {}
    for threads in (1, 2):
        for r in records:
            r["env"]["threads"] = threads
        frames[threads] = tmp_path / f"t{threads}.csv"
        to_csv(board(records), frames[threads])
    (note,) = compare(frames[1], frames[2]).table["notes"]
    assert "threads 1 -> 2" in note


def test_the_versions_column_names_the_runs_made_side_by_side_and_compare_says_when_they_changed(tmp_path):
    """Runs sharing the machine time their epochs slower than runs made alone: a row run 2 at a time differs from
    one run by the local executor, and a record made before the number was kept (or by Ray, which cannot say)
    has not recorded it, which is no change."""
    from gnnbench.leaderboard.compare import compare
    from gnnbench.leaderboard.write import to_csv

    records = [rec("gcn", "Cora", s, 0.8, 0.8) for s in range(2)]
    for r, runs in zip(records, (1, 2), strict=True):
        r["env"] = {"python": "3.11.7", "threads": 1, "concurrent_runs": runs}
    assert board(records).iloc[0]["versions"] == ("concurrent_runs=1;python=3.11.7;threads=1 | "
                                                 "concurrent_runs=2;python=3.11.7;threads=1")
    frames = {}
    for runs in (1, 2, None):
        for r in records:
            r["env"]["concurrent_runs"] = runs
        frames[runs] = tmp_path / f"{runs}.csv"
        to_csv(board(records), frames[runs])
    assert compare(frames[1], frames[2]).table["notes"].tolist() == ["concurrent_runs 1 -> 2"]
    assert compare(frames[None], frames[2]).table["notes"].tolist() == ["concurrent_runs not recorded in A"]


def test_the_versions_column_names_the_commit_so_compare_says_when_the_code_differed(tmp_path):
    """A suite resumed after a code change, or partly run from a modified checkout, averages two versions of the
    code in one row; two leaderboards made at two commits ran different code. Compare says both, and a side
    whose versions never named the commit (a CSV written before they did) has not recorded it: no change."""
    from gnnbench.leaderboard.compare import compare
    from gnnbench.leaderboard.write import to_csv

    commit, later = "88dc6c863311920f6950a04a023c44dedc960357", "1234567890abcdef1234567890abcdef12345678"
    records = [rec("gcn", "Cora", s, 0.8, 0.8) for s in range(2)]
    for r, made in zip(records, (commit, f"{commit}-dirty"), strict=True):
        r["env"] = {"python": "3.11.7", "git_commit": made}
    assert board(records).iloc[0]["versions"] == ("git_commit=88dc6c863311-dirty;python=3.11.7 | "
                                                 "git_commit=88dc6c863311;python=3.11.7")
    to_csv(board(records), tmp_path / "resumed.csv")
    frames = {}
    for made in (commit, later, None):
        for r in records:
            r["env"]["git_commit"] = made
        frames[made] = tmp_path / f"{made}.csv"
        to_csv(board(records), frames[made])
    mixed = "versions mixed in A: git_commit 88dc6c863311 vs 88dc6c863311-dirty"  # in natural order
    assert compare(tmp_path / "resumed.csv", frames[commit]).table["notes"].tolist() == [mixed]
    assert compare(frames[commit], frames[later]).table["notes"].tolist() == ["git_commit 88dc6c863311 -> 1234567890ab"]
    assert compare(frames[None], frames[later]).table["notes"].tolist() == ["git_commit not recorded in A"]


def test_the_versions_column_names_the_cpu_capability_so_compare_tells_two_cpus_of_one_name_apart(tmp_path):
    """Two machines report the same CPU name, but PyTorch's kernels use AVX2 on one and AVX512 on the other: their
    times differ, and some sums round differently. Compare says so between A and B and within a row whose runs
    ran on both; records made before ``env.cpu_capability`` existed have not recorded it, which is no change."""
    from gnnbench.leaderboard.compare import compare
    from gnnbench.leaderboard.write import to_csv

    records = [rec("gcn", "Cora", s, 0.8, 0.8) for s in range(2)]
    for r, capability in zip(records, ("AVX2", "AVX512"), strict=True):
        r["env"] = {"python": "3.11.7", "cpu_capability": capability}
    assert board(records).iloc[0]["versions"] == ("cpu_capability=AVX2;python=3.11.7 | "
                                                 "cpu_capability=AVX512;python=3.11.7")
    to_csv(board(records), tmp_path / "both.csv")
    frames = {}
    for capability in ("AVX2", "AVX512", None):
        for r in records:
            r["env"]["cpu_capability"] = capability
        frames[capability] = tmp_path / f"{capability}.csv"
        to_csv(board(records), frames[capability])
    assert compare(tmp_path / "both.csv", frames["AVX2"]).table["notes"].tolist() == [
        "versions mixed in A: cpu_capability AVX2 vs AVX512"]
    assert compare(frames["AVX2"], frames["AVX512"]).table["notes"].tolist() == ["cpu_capability AVX2 -> AVX512"]
    assert compare(frames["AVX512"], frames[None]).table["notes"].tolist() == ["cpu_capability not recorded in B"]


def test_a_configuration_that_failed_on_every_seed_is_counted_where_the_selection_is_shown(tmp_path):
    """Validation could not choose it: the row says so, instead of the crash vanishing from the selection."""
    records = [rec("gcn", "Cora", s, 0.7, 0.8, config="small") for s in range(2)]
    records += [rec("gcn", "Cora", s, 0, 0, config="wide", status="failed") for s in range(2)]
    row = board(records).iloc[0]
    assert (row["config"], row["configs_tried"], row["configs_failed"], row["failed"]) == ("small", 2, 1, 0)
    write_runs(tmp_path / "runs.jsonl", records)
    assert "| Cora | gcn | small | 2 (1 failed) |" in leaderboard.build(tmp_path).markdown.read_text()


def test_no_cell_can_split_a_markdown_row():
    """A configuration ``sep=a|b`` or an error message over two lines stays in its own column."""
    records = [rec("gcn", "Cora", 0, 0.8, 0.7, config="sep=a|b"), rec("gcn", "Cora", 1, 0.8, 0.7, config="sep=a|b"),
               rec("gat", "Cora", 0, 0.8, 0.7, status="failed")]
    records[-1]["error"]["message"] = "shape\n| mismatch"
    text = to_markdown(board(records), records, "hand")
    tables = _tables(text)
    assert len(tables) == 3  # the board, its details, the failed runs
    assert all(len(re.findall(r"(?<!\\)\|", line)) == len(re.findall(r"(?<!\\)\|", table[0]))
               for table in tables for line in table)
    assert "sep=a\\|b" in text and "shape \\| mismatch" in text


def _tables(text: str) -> list[list[str]]:
    """The Markdown tables of ``text``, each a list of its lines."""
    tables: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    return tables


def test_costs_of_several_machines_or_heap_settings_are_never_shown_as_one_machine_s():
    """A row averaging runs of two machines, or of two heap settings, is warned about; a table whose rows differ in
    them names each row's; the environment lists the heap settings."""
    records = [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(3)] + [rec("mlp", "Cora", s, 0.6, 0.6) for s in range(2)]
    records[0]["env"] = {"device_name": "AMD EPYC"}
    records[1]["env"] = {"device_name": "cpu-x", "allocator": "glibc (trim threshold 1024 MiB, mmap threshold 32 MiB)"}
    with pytest.warns(UserWarning) as caught:
        frame = board(records)
    assert [str(w.message) for w in caught] == [
        "node_classification Cora gcn (default): its epoch time and peak memory average runs of several settings "
        "(device AMD EPYC: 1, cpu-x: 2; heap allocator defaults: 2, kept freed memory: 1)"]
    text = to_markdown(frame, records, "hand")
    assert "| peak MB | device | heap | kernel | rank |" in text
    assert "| AMD EPYC;cpu-x | allocator defaults;kept freed memory | scatter |" in text
    assert "threads: –, heap: allocator defaults, kept freed memory" in text
    auto = [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(2)]  # two worker processes, two choices within noise
    for record, chosen in zip(auto, ("scatter", "csr"), strict=True):
        record["spec"]["kernel"], record["kernel"] = "auto", {"chosen": chosen}
    with pytest.warns(UserWarning, match=r"average runs of several settings \(kernel auto:csr: 1, auto:scatter: 1\)"):
        board(auto)
    one_machine = [r for r in records if r["env"].get("device_name") == "cpu-x" and "allocator" not in r["env"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        text = to_markdown(board(one_machine), one_machine, "hand")
    assert "| peak MB | kernel | rank |" in text  # one machine, one setting: no column to read
    for r in records[2:]:  # every row on one machine, but the rows under two heap settings
        r["env"] = {"device_name": "cpu-x", "allocator": "glibc" if r["spec"]["model"] == "mlp" else "default"}
    text = to_markdown(board(records[2:]), records[2:], "hand")
    assert "| peak MB | heap | kernel | rank |" in text and "| kept freed memory | scatter |" in text


def test_a_row_keeps_its_runs_median_speed_probe_for_compare(tmp_path):
    """A row carries the median of its runs' speed probes (a slow first probe among its seeds shed) and their
    workload, so ``compare`` can say how fast each side's machine ran from the CSVs alone; runs of several
    workloads leave the median empty, records without a probe both cells."""
    v1, v2 = "mm n4096 (v1), 1 cpu thread", "mm n4096 (v1), cuda"

    def rows(probes):
        records = [rec(model, "Cora", s, 0.7, 0.8) for model in ("gcn", "mlp") for s in range(3)]
        for r, probe in zip(records, probes, strict=False):
            r["env"]["speed_probe"] = probe
        write_runs(tmp_path / "runs.jsonl", records)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            board = pd.read_csv(leaderboard.build(tmp_path).csv, dtype=str, keep_default_na=False)
        return {m: (ms, w) for m, ms, w in board[["model", "speed_probe_ms", "speed_probe_workload"]].itertuples(
            index=False)}

    assert rows([{"ms": ms, "workload": v1} for ms in (2.0, 2.1, 6.0, 3.0, 2.9, 3.1)]) == {
        "gcn": ("2.1000", v1), "mlp": ("3.0000", v1)}
    assert rows([{"ms": 2.0, "workload": v1}, {"ms": 0.1, "workload": v2}]) == {
        "gcn": ("", f"{v1};{v2}"), "mlp": ("", "")}


def test_the_environment_names_only_what_successful_runs_ran_with():
    """A run that failed on a borrowed GPU produced no figure: naming its device and Python beside the table would
    say some of its numbers came from there."""
    from gnnbench.leaderboard.write import environment_lines

    records = [rec("gcn", "Cora", 0, 0.7, 0.8), rec("gat", "Cora", 0, 0, 0, status="failed")]
    records[0]["env"] = {"device_name": "cpu-x", "python": "3.11.7"}
    records[1]["env"] = {"device_name": "NVIDIA H100", "python": "3.12.1"}
    text = "\n".join(environment_lines(records))
    assert "cpu-x" in text and "3.11.7" in text
    assert "H100" not in text and "3.12" not in text
    assert "side by side" not in text and "speed probe" not in text  # records made before either was kept


def test_the_environment_says_how_many_runs_shared_the_machine_and_how_fast_it_ran():
    """A page's epoch times were made at some machine speed, alone or beside other runs: it says both where the
    records keep them (a failed run's are not the figures')."""
    from gnnbench.leaderboard.write import environment_lines

    records = [rec("gcn", "Cora", s, 0.7, 0.8) for s in range(3)] + [rec("gat", "Cora", 0, 0, 0, status="failed")]
    for r, ms, side in zip(records, (2.0, 1.9, 2.4, 9.0), (1, 2, 2, 4), strict=True):
        r["env"] = {"device_name": "cpu-x", "concurrent_runs": side, "speed_probe": {"ms": ms, "workload": "w (v1)"}}
    lines = environment_lines(records)
    assert lines[2].endswith(", runs side by side: 1, 2")
    assert lines[3] == "- speed probe: median 2 ms, 1.9-2.4 over 3 runs (w (v1))"


def test_a_small_error_is_shown_and_written_to_its_digits_and_seeds_of_one_value_have_no_spread(tmp_path):
    """An MSE of 1e-6 at 4 decimals read 0.0000 ± 0.0000, and the CSV's 6 decimals gave compare 0.000000 per seed;
    seeds of one value had a std of 6e-17 (NumPy's mean), which two significant digits would now show."""
    tiny = [{**rec("sir", "Count", s, v, v, metric="mse", direction="min"), "unit": ""}
            for s, v in enumerate((4.02e-9, 2.13e-10, 3.29e-6))]
    same = [{**rec("edgebank", "Count", s, 0.4262608, 0.4262608, metric="mse", direction="min"), "unit": ""}
            for s in range(3)]
    write_runs(tmp_path / "runs.jsonl", tiny + same)
    built = leaderboard.build(tmp_path)
    assert "| sir | **1.1e-06 ± 1.9e-06 (3)** |" in built.markdown.read_text()
    rows = {row["model"]: row for row in csv.DictReader(built.csv.open())}
    assert rows["sir"]["values"] == "4.02e-09;2.13e-10;3.29e-06" and rows["sir"]["mean"] == "1.09808e-06"
    assert rows["edgebank"]["std"] == "0.000000" and "0.4263 ± 0.0000" in built.markdown.read_text()


@pytest.mark.parametrize(("mean", "std", "unit", "cell"), [
    (1.32e-4, 1.83e-4, "", "0.00013 ± 0.00018"),  # 4 decimals read 0.0001 ± 0.0002: one significant digit
    (1e-4, 2e-4, "", "0.00010 ± 0.00020"),  # the second digit kept where it is a zero
    (0.00096, 0.0012, "", "0.00096 ± 0.00120"),  # 0.0010 at 4 decimals, 5% off
    (0.000996, 0.0012, "", "0.0010 ± 0.0012"),  # two significant digits round it to 0.0010: 4 decimals do
    (1.3e-5, 1.8e-5, "", "1.3e-05 ± 1.8e-05"),  # shorter than 0.000013
    (1.1e-6, 1.9e-6, "", "1.1e-06 ± 1.9e-06"),
    (1.1e-6, 0.0123, "", "1.1e-06 ± 0.012"),
    (0.842, 0.00042, "", "0.8420 ± 0.0004"),  # a std to its mean's decimals, no digits the mean lacks
    (0.842, 4.2e-7, "", "0.8420 ± 4.2e-07"),  # ... unless they would read it as 0
    (1.32e-4, 4.2e-6, "", "0.00013 ± 4.2e-06"),
    (0.815, 0.006, "fraction", "81.5 ± 0.6"),
    (0.004, 0.003, "fraction", "0.40 ± 0.30"),
])
def test_a_cell_keeps_two_significant_digits_of_its_mean_and_its_std_the_mean_s_decimals(mean, std, unit, cell):
    """An MSE of 1.3e-4 ± 1.8e-4 (the reference SIR-GCN's at 4 colours) read 0.0001 ± 0.0002."""
    assert format_metric(mean, std, unit) == cell


def test_the_leaderboard_imports_without_pandas_api_typing():
    """pyproject asks for pandas>=2.0, whose pandas.api has no ``typing`` (2.1 added it): the leaderboard names its
    classes in annotations only, so it imports without it."""
    code = ("import sys, pandas; sys.modules['pandas.api.typing'] = None  # as on pandas 2.0\n"
            "import gnnbench.leaderboard.labels")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
