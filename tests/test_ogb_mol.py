"""OGB molecular sets load offline from the vendored raw files, with their scaffold split and OGB's metric."""

from __future__ import annotations

import pytest
import torch

from gnnbench.data.ogb_mol import atom_one_hot, load_ogb_mol
from gnnbench.errors import DataError
from gnnbench.registry import MODELS
from gnnbench.tasks.base import Budget, RunContext
from gnnbench.tasks.ogb_graph import OgbGraphClassification, OgbGraphRegression, OgbOptions


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNBENCH_CACHE", str(tmp_path))
    return tmp_path


def test_molesol_loads_offline_with_the_scaffold_split_and_one_hot_atoms(cache, recwarn):
    data = load_ogb_mol("ogbg-molesol")
    assert not [w for w in recwarn if "not writable" in str(w.message)]  # ogb's first processing, silenced
    assert len(data) == 1128 and data.ogb_name == "ogbg-molesol"
    assert [data.split_idx[s].numel() for s in ("train", "val", "test")] == [902, 113, 113]
    assert (cache / "ogbg_molesol" / "RELEASE_v1.txt").is_file()  # ogb's marker, written by the loader
    assert data.num_features == 174 and torch.equal(data[0].x.sum(1), torch.full((data[0].num_nodes,), 9.0))
    again = load_ogb_mol("ogbg-molesol")  # the reload of ogb's processed file works under torch >= 2.6
    assert torch.equal(again[5].y, data[5].y)


def test_atom_one_hot_places_each_feature_in_its_own_block():
    x = torch.tensor([[0, 0, 0, 0, 0, 0, 0, 0, 0], [5, 1, 0, 0, 0, 0, 0, 0, 1]])
    out = atom_one_hot(x)
    assert out[0].nonzero().view(-1).tolist() == [0, 119, 124, 136, 148, 158, 164, 170, 172]
    assert out[1, 5] == 1 and out[1, 120] == 1 and out[1, 173] == 1


def test_ogb_tasks_report_the_evaluator_metric_and_refuse_other_datasets(cache):
    data = load_ogb_mol("ogbg-molbace")
    task = OgbGraphClassification(OgbOptions())
    result = task.run(MODELS.get("gin_pool"), data, {**task.train_hparams, "hidden_channels": 16, "num_layers": 2},
                      Budget(epochs=2), RunContext(device=torch.device("cpu"), seed=0))
    assert set(result["metrics"]["test"]) == {"rocauc", "loss"} and 0 <= result["metrics"]["test"]["rocauc"] <= 1
    assert result["split"] == "ogb-scaffold" and result["data"]["num_test"] == 152
    with pytest.raises(DataError, match="OGB metric is rocauc"):
        OgbGraphRegression(OgbOptions()).run(MODELS.get("gin_pool"), data, {}, Budget(epochs=1),
                                             RunContext(device=torch.device("cpu"), seed=0))
