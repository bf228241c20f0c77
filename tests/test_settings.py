"""The one comparison of settings behind the suite's pooled-row error, the leaderboard's warning and compare."""

from gnnbench.settings import differing, flatten, shown


def test_differing_compares_as_the_run_id_hashes_and_counts_an_absent_key():
    a = flatten({"task_options": {"split": "public"}, "epochs": 200, "hparams": {"lr": 1, "dropout": None}})
    b = flatten({"task_options": {"split": "public"}, "epochs": 200, "hparams": {"lr": 1.0}})
    assert a["task_options.split"] == "public"
    assert differing([a, b]) == ["hparams.dropout", "hparams.lr"]  # None is a value; 1 and 1.0 hash apart
    assert differing([a, a, dict(a)]) == []


def test_one_way_to_write_a_value_in_every_report():
    setting = {"split": "random", "dropout": None, "sizes": [16, 32], "residual": True, "lr": 0.01}
    assert [shown(setting, k) for k in (*setting, "absent")] == ["random", "null", "[16,32]", "true", "0.01", "–"]
