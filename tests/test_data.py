from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from gnnbench.data import sources
from gnnbench.errors import DataError
from gnnbench.registry import DATASETS
from gnnbench.tasks.splits import stratified_masks

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_default_roots(tmp_path, monkeypatch):
    """Only explicit roots count: the project's datasets/ and ./datasets are out of the way."""
    monkeypatch.setattr(sources, "PROJECT_DATASETS", tmp_path / "no-project-datasets")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GNNBENCH_DATA", raising=False)
    monkeypatch.setenv("GNNBENCH_CACHE", str(tmp_path / "cache"))


def copy_cora(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(ROOT / "datasets" / "Cora", root / "Cora")
    return root


@pytest.mark.parametrize(("name", "sizes"), [("Cora", (2708, 140, 500, 1000)), ("CiteSeer", (3327, 120, 500, 1000))])
def test_vendored_planetoid_loads_offline_with_the_public_split(name, sizes):
    data = DATASETS.get(name).obj()
    assert (data.num_nodes, int(data.train_mask.sum()), int(data.val_mask.sum()), int(data.test_mask.sum())) == sizes
    assert not (ROOT / "datasets" / name / "processed").exists()  # processed/ lives in the cache
    assert (Path(sources.cache_root()) / name / "processed").is_dir()


def test_citeseer_filled_in_test_ids_are_unlabelled_and_stay_out_of_random_splits():
    citeseer, cora = DATASETS.get("CiteSeer").obj(), DATASETS.get("Cora").obj()
    filled = citeseer.y < 0
    assert int(filled.sum()) == 15 and int(cora.y.min()) == 0  # Cora's test index has no gaps
    assert not bool((citeseer.x[filled] != 0).any())  # PyG's zero-feature fill-in, nothing else
    assert not bool((citeseer.train_mask | citeseer.val_mask | citeseer.test_mask)[filled].any())
    assert int(citeseer.y.max()) + 1 == 6
    masks = stratified_masks(citeseer.y, 0.64, 0.16, seed=0)
    assert not bool((masks[0] | masks[1] | masks[2])[filled].any())
    assert bool((masks[0] | masks[1] | masks[2])[~filled].all())


def test_checksum_mismatch_names_the_file(tmp_path, no_default_roots):
    root = copy_cora(tmp_path)
    target = root / "Cora" / "raw" / "ind.cora.x"
    blob = bytearray(target.read_bytes())
    blob[100] ^= 0xFF
    target.write_bytes(bytes(blob))
    with pytest.raises(DataError, match=r"checksum mismatch for .*ind\.cora\.x: expected sha256 23cfa55d"):
        DATASETS.get("Cora").obj(root)


def test_missing_file_and_missing_dataset_are_clear_errors(tmp_path, no_default_roots, monkeypatch):
    root = copy_cora(tmp_path)
    (root / "Cora" / "raw" / "ind.cora.graph").unlink()
    with pytest.raises(DataError, match=r"file .*ind\.cora\.graph is missing"):
        DATASETS.get("Cora").obj(root)

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(DataError, match=r"dataset 'CiteSeer' not found under .* download failed"):
        DATASETS.get("CiteSeer").obj(tmp_path / "empty")


def test_a_bug_in_a_downloader_stays_a_bug_not_missing_data(tmp_path, no_default_roots):
    """Only network, disk and archive errors mean 'the download failed'; anything else is gnnbench's to fix."""
    def broken(cache: Path) -> None:
        raise TypeError("a loader bug")

    with pytest.raises(TypeError, match="a loader bug"), sources.prepared("Cora", tmp_path / "empty", download=broken):
        pass


def test_download_fills_the_cache_and_is_verified(tmp_path, no_default_roots):
    def fake_download(cache: Path) -> None:
        shutil.copytree(ROOT / "datasets" / "Cora", cache / "Cora", dirs_exist_ok=True)

    with sources.prepared("Cora", tmp_path / "empty", download=fake_download) as cache:
        assert (cache / "Cora" / "raw" / "ind.cora.x").is_file()

    def corrupt_download(cache: Path) -> None:
        fake_download(cache)
        (cache / "Cora" / "raw" / "ind.cora.y").write_bytes(b"tampered")

    shutil.rmtree(cache / "Cora")
    with pytest.raises(DataError, match="checksum mismatch"), sources.prepared("Cora", tmp_path / "empty",
                                                                              download=corrupt_download):
        pass


def test_the_cache_lock_needs_no_write_access_to_its_file(tmp_path, monkeypatch, write_access_opens):
    """A cache a group shares: the lock file another member made (mode 644) must lock for this one too."""
    from gnnbench.data import sources

    monkeypatch.setenv("GNNBENCH_CACHE", str(tmp_path))
    with sources.cache_lock("Cora"):
        pass
    assert write_access_opens(".Cora.lock") == [False]


def test_loaders_build_their_processed_files_under_the_dataset_lock(monkeypatch):
    """Another process cannot take the lock while PyG builds or reads ``processed/`` (first loads race otherwise)."""
    import fcntl

    import gnnbench.data.planetoid as planetoid
    import gnnbench.data.tu as tu

    held = []

    def probing(cls, name):
        def build(*args, **kwargs):
            with (sources.cache_root() / f".{name}.lock").open("a") as handle:  # a second open file, as a process
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(handle, fcntl.LOCK_UN)
                    held.append(False)
                except BlockingIOError:
                    held.append(True)
            return cls(*args, **kwargs)
        return build

    monkeypatch.setattr(planetoid, "Planetoid", probing(planetoid.Planetoid, "Cora"))
    monkeypatch.setattr(tu, "TUDataset", probing(tu.TUDataset, "MUTAG"))
    DATASETS.get("Cora").obj()
    DATASETS.get("MUTAG").obj()
    assert held == [True, True]


def test_a_nested_prepared_of_the_same_dataset_fails_instead_of_waiting_for_itself(tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv("GNNBENCH_CACHE", str(tmp_path))  # a lock of its own: a stuck thread would keep it
    outcome: list[BaseException] = []

    def nested() -> None:  # in a thread, so that waiting on its own lock fails the test instead of hanging it
        try:
            with sources.prepared("Cora"), sources.prepared("Cora"):
                pass
        except RuntimeError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=nested, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the nested prepared() waited on its own lock"
    assert outcome and "already open in this process" in str(outcome[0])
    with sources.prepared("Cora") as root:  # released after the error
        assert (root / "Cora" / "raw").is_dir()


def test_root_priority_explicit_then_env_then_cwd(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNBENCH_DATA", str(tmp_path / "env"))
    monkeypatch.chdir(tmp_path)
    roots = sources.data_roots(tmp_path / "explicit")
    assert roots[:3] == [tmp_path / "explicit", tmp_path / "env", tmp_path / "datasets"]


def test_fingerprint_changes_with_the_checksums():
    assert len(sources.fingerprint("Cora")) == 16
    assert sources.fingerprint("Cora") != sources.fingerprint("CiteSeer")


def test_stratified_split_is_disjoint_proportional_and_seeded():
    y = torch.arange(10).repeat_interleave(torch.arange(1, 11) * 10)  # class c has 10 * (c + 1) nodes
    train, val, test = stratified_masks(y, 0.6, 0.2, seed=1)
    assert not (train & val).any() and not (train & test).any() and not (val & test).any()
    assert bool((train | val | test).all())
    for c in range(10):
        n = int((y == c).sum())
        assert int(train[y == c].sum()) == round(0.6 * n)
        assert int(val[y == c].sum()) == round(0.2 * n)
    again = stratified_masks(y, 0.6, 0.2, seed=1)
    other = stratified_masks(y, 0.6, 0.2, seed=2)
    assert torch.equal(train, again[0]) and not torch.equal(train, other[0])
    with pytest.raises(ValueError, match="train \\+ val < 1"):
        stratified_masks(y, 0.7, 0.3, seed=0)


def test_data_digest_follows_the_data_not_the_object_or_its_folder(tmp_path) -> None:
    """Equal for data loaded twice (other objects, another root folder), different for one changed value, one
    changed dtype, or a changed attribute set by the loader beside the graphs (a dataset's own split)."""
    from torch_geometric.data import Data

    from gnnbench.data.collection import GraphCollection
    from gnnbench.data.digest import data_sha256

    def graph(value: float = 1.0, dtype: torch.dtype = torch.float32) -> Data:
        x = torch.ones(4, 3, dtype=dtype)
        x[2, 1] = value
        return Data(x=x, edge_index=torch.tensor([[0, 1], [1, 2]]), y=torch.tensor([0, 1, 0, 1]))

    assert data_sha256(graph()) == data_sha256(graph())
    assert len({data_sha256(graph()), data_sha256(graph(2.0)), data_sha256(graph(dtype=torch.float64))}) == 3
    first, second = GraphCollection([graph(), graph(3.0)]), GraphCollection([graph(), graph(3.0)])
    second.root = str(tmp_path)
    assert data_sha256(first) == data_sha256(second)
    second.split_idx = {"train": torch.tensor([0]), "val": torch.tensor([1]), "test": torch.tensor([1])}
    assert data_sha256(first) != data_sha256(second)
    assert data_sha256(first) != data_sha256(first[[1, 0]])  # a subset or reordering is other data
    assert data_sha256({"a": np.ones(2), "b": [1, "x"]}) == data_sha256({"b": [1, "x"], "a": np.ones(2)})


def test_data_digest_walks_what_loaders_return_and_tells_values_apart() -> None:
    """Sparse tensors, text and object arrays, records, NumPy scalars, frames, paths, an object containing itself,
    and objects whose repr holds an address (as keys, in any order) all digest, stably and by value."""
    from pathlib import Path

    import pandas as pd

    from gnnbench.data.digest import data_sha256

    coo = torch.sparse_coo_tensor(torch.tensor([[0, 1], [1, 0]]), torch.tensor([1.0, 2.0]), (2, 2))
    pairs = [(coo, coo * 2), (coo.to_sparse_csr(), (coo * 2).to_sparse_csr()),
             (np.array(["a", "b"]), np.array(["a", "c"])), (np.array([1, "x"], dtype=object), np.array([2, "x"],
                                                                                                     dtype=object)),
             (np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]), np.array([(1, 3.0)], dtype=[("a", "i4"),
                                                                                               ("b", "f8")])),
             (np.int64(3), np.int64(4)), (pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [5, 6]})),
             (Path("a"), Path("b")),
             # the same bytes under another shape or dtype are other data: y of [N] or [N, 1], a mask's dtype
             (torch.arange(4), torch.arange(4).view(4, 1)), (torch.tensor([True, False]), torch.tensor([1, 0],
                                                                                                     dtype=torch.uint8)),
             (np.arange(4), np.arange(4).reshape(2, 2)),
             (np.array([1, "x", 2, "y"], dtype=object), np.array([[1, "x"], [2, "y"]], dtype=object)),
             (3, 3.0), ("3", 3)]
    for same, other in pairs:
        assert data_sha256(same) == data_sha256(same) != data_sha256(other), type(same)
    looped: list = []
    looped.append(looped)
    assert data_sha256(looped) == data_sha256(looped)

    class Node:
        def __init__(self, label: int) -> None:
            self.label = label

    assert data_sha256({Node(1): "a", Node(2): "b"}) == data_sha256({Node(2): "b", Node(1): "a"})
    assert data_sha256({Node(1), Node(2)}) == data_sha256({Node(2), Node(1)}) != data_sha256({Node(1), Node(3)})


def test_a_multi_graph_dataset_s_digest_covers_every_graph_to_the_last() -> None:
    """A dataset read graph by graph (``len``/``get``, not collated) and a collated one: the data of the last
    graph alone, or one graph more, is other data."""
    from torch_geometric.data import Data, Dataset

    from gnnbench.data.collection import GraphCollection
    from gnnbench.data.digest import data_sha256

    class Graphs(Dataset):
        def __init__(self, graphs: list[Data]) -> None:
            self.graphs = graphs
            super().__init__(None)

        def len(self) -> int:
            return len(self.graphs)

        def get(self, idx: int) -> Data:
            return self.graphs[idx]

    def graphs(last: float = 2.0) -> list[Data]:
        return [Data(x=torch.full((2, 1), value), edge_index=torch.tensor([[0], [1]])) for value in (0.0, 1.0, last)]

    for kind in (Graphs, GraphCollection):
        same = data_sha256(kind(graphs()))
        assert data_sha256(kind(graphs())) == same, kind
        assert same != data_sha256(kind(graphs(last=5.0))), kind
        assert same != data_sha256(kind([*graphs(), graphs()[0]])), kind


def test_data_digest_format_is_pinned() -> None:
    """Records keep the digest of their plugin dataset's data: a change of how values are fed to the hash (an
    order, a separator, a type's tag) would call every plugin dataset's records made before it "other data" and
    set them aside. A deliberate change updates this value and says so."""
    from torch_geometric.data import Data

    from gnnbench.data.digest import data_sha256

    data = {"graph": Data(x=torch.arange(6, dtype=torch.float32).view(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]),
                          y=torch.tensor([0, 1, 0])),
            "split": {"train": np.array([0, 1], dtype=np.int64), "test": np.int64(2)},
            "meta": ("cora-like", 3, 0.5, None, True),
            "adj": torch.sparse_coo_tensor(torch.tensor([[0, 1], [1, 0]]), torch.tensor([1.0, 2.0]), (2, 2)),
            "names": np.array([1, "x"], dtype=object)}
    assert data_sha256(data) == "ab518aa41c1813ad91dad75356b43e5036231c11fcc334468fb7610a83684793"
