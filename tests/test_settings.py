"""The one comparison of settings behind the suite's pooled-row error, the leaderboard's warning and compare."""

import json
from collections import OrderedDict
from types import MappingProxyType

from gnnbench.settings import canonical_json, differing, flatten, seed_ranges, shown


def test_canonical_json_is_one_string_for_one_setting_however_its_mappings_are_held():
    """Text keys in plain dicts take a quick path; any other mapping, or keys JSON writes as text, the copy: both
    must give the string the setting's record, read back, gives."""
    setting = {"b": [1, {"y": 2.5, "x": None}], "a": {"lr": 0.01}}
    expected = canonical_json(json.loads(json.dumps(setting)))
    assert expected == '{"a":{"lr":0.01},"b":[1,{"x":null,"y":2.5}]}'
    assert canonical_json(OrderedDict(reversed(setting.items()))) == expected
    assert canonical_json({**setting, "a": MappingProxyType({"lr": 0.01})}) == expected
    assert canonical_json({"k": {10: 1, 2: 2}}) == canonical_json({"k": {"10": 1, "2": 2}}) == '{"k":{"10":1,"2":2}}'


def test_differing_compares_as_the_run_id_hashes_and_counts_an_absent_key():
    a = flatten({"task_options": {"split": "public"}, "epochs": 200, "hparams": {"lr": 1, "dropout": None}})
    b = flatten({"task_options": {"split": "public"}, "epochs": 200, "hparams": {"lr": 1.0}})
    assert a["task_options.split"] == "public"
    assert differing([a, b]) == ["hparams.dropout", "hparams.lr"]  # None is a value; 1 and 1.0 hash apart
    assert differing([a, a, dict(a)]) == []


def test_one_way_to_write_a_value_in_every_report():
    setting = {"split": "random", "dropout": None, "sizes": [16, 32], "residual": True, "lr": 0.01}
    assert [shown(setting, k) for k in (*setting, "absent")] == ["random", "null", "[16,32]", "true", "0.01", "–"]


def test_seed_ranges_join_consecutive_seeds_only():
    """``0-2`` for seeds 0 and 2 would claim a seed 1 that never ran."""
    assert seed_ranges([0, 2]) == "0, 2"
    assert seed_ranges([9, 5, 4, 3, 1, 0, 1]) == "0-1, 3-5, 9"
    assert seed_ranges([0, 1, 3], sep=";") == "0-1;3"
