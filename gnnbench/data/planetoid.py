"""Planetoid citation graphs (Yang, Cohen & Salakhutdinov, ICML 2016) with their public split.

Public split: 20 labelled nodes per class for training, 500 for validation, 1,000 for test. PyG's
``Planetoid`` reads the raw ``ind.<name>.*`` files; CiteSeer's 15 test ids missing from the raw
files become zero-feature nodes (PyG's fill-in), in no public mask. PyG labels them 0; here they are
labelled -1, unlabelled, so random splits leave them out instead of testing on a label nobody assigned.
Their edges are real and stay.
Bag-of-words features are row-normalised to sum to 1, the preprocessing of the GCN and GAT papers (their
``preprocess_features``) and of PyG's examples; the published Planetoid numbers assume it.

``Cora-raw`` and ``CiteSeer-raw`` are the same graphs, splits and files with the raw 0/1 bag-of-words features:
methods whose official code does not row-normalise (DGMLP) are tuned for those, and the scale of the input
matters to a linear head trained with weight decay.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch_geometric.data import Data
from torch_geometric.datasets import Planetoid
from torch_geometric.transforms import NormalizeFeatures

from gnnbench.data.sources import prepared
from gnnbench.registry import dataset_loader, register_dataset

SOURCE = "kimiyoung/planetoid@af6abf4 data/ (MIT); corpora from LINQS (Sen et al. 2008)"


def load_planetoid(name: str, normalize: bool, data_root: str | Path | None = None) -> Data:
    """Planetoid ``name`` with its public split, the filled-in test ids unlabelled (-1), features row-normalised
    when ``normalize``."""
    with prepared(name, data_root, download=lambda cache: Planetoid(str(cache), name)) as root:
        dataset = Planetoid(str(root), name, transform=NormalizeFeatures() if normalize else None)
    data = dataset[0]
    data.y[filled_test_ids(Path(dataset.raw_dir) / f"ind.{name.lower()}.test.index")] = -1
    return data


def filled_test_ids(test_index: Path) -> torch.Tensor:
    """Ids in the raw test range that the test index lacks: the nodes PyG fills in without features or label."""
    listed = torch.tensor([int(line) for line in test_index.read_text().split()])
    span = torch.arange(int(listed.min()), int(listed.max()) + 1)
    return span[~torch.isin(span, listed)]


for _name, _stats in (("Cora", "2708 nodes, 5278 edges, 1433 features, 7 classes"),
                      ("CiteSeer", "3327 nodes, 4552 edges, 3703 features, 6 classes")):
    register_dataset(_name, tasks=("node_classification", "link_prediction", "architecture_search"), files=_name,
                     source=SOURCE, stats=_stats)(dataset_loader(
        load_planetoid, _name, True, doc=f"{_name} citation graph (Planetoid), public split, row-normalised features."))
    register_dataset(f"{_name}-raw", tasks=("node_classification", "link_prediction"), files=_name, source=SOURCE,
                     stats=_stats)(dataset_loader(
        load_planetoid, _name, False, doc=f"{_name} citation graph (Planetoid), public split, raw 0/1 features."))
