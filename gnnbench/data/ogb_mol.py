"""OGB molecular property sets (Hu et al., NeurIPS 2020) read offline from OGB's raw format.

``ogbg-molesol`` (regression, RMSE), ``ogbg-molbace`` and ``ogbg-molbbbp`` (binary classification, ROC-AUC),
each with its scaffold split (``split/scaffold/{train,valid,test}.csv.gz``), vendored in ``datasets/``.
PyG's ``PygGraphPropPredDataset`` (from ``ogb``) builds the graphs. Two things ogb needs offline are handled
here, not in user code: the ``RELEASE_v1.txt`` marker in the dataset folder (without it ogb asks on stdin
whether to re-download), and ``torch.load(..., weights_only=False)`` for ogb's reload of its own processed
file under torch >= 2.6 (a file this loader just wrote from verified raw files).

Node features: the 9 categorical atom features, one-hot and concatenated (174 columns), so that any model
taking float features runs on them; the 3 bond features stay in ``edge_attr`` (integer codes).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import torch
from torch import Tensor
from torch_geometric.data import Data

from gnnbench.data.collection import GraphCollection
from gnnbench.data.sources import prepared
from gnnbench.registry import dataset_loader, register_dataset

SOURCE = ("OGB (Hu et al. 2020), derived from MoleculeNet (Wu et al. 2018); raw files from "
          "Graph-and-Geometric-Learning/MolGroup@ffe8843")
OGB_MOL = {
    "ogbg-molesol": ("ogb_graph_regression", "1128 molecules, log solubility, scaffold split 902/113/113"),
    "ogbg-molbace": ("ogb_graph_classification", "1513 molecules, BACE inhibition, scaffold split 1210/151/152"),
    "ogbg-molbbbp": ("ogb_graph_classification", "2039 molecules, blood-brain barrier, scaffold split"),
}


@contextlib.contextmanager
def _trusted_torch_load() -> Iterator[None]:
    """ogb reloads the file it processed with a bare ``torch.load``; torch >= 2.6 refuses its objects."""
    original = torch.load
    torch.load = partial(original, weights_only=False)
    try:
        yield
    finally:
        torch.load = original


def atom_one_hot(x: Tensor) -> Tensor:
    """OGB's categorical atom features ``[N, 9]`` as concatenated one-hot columns ``[N, 174]``."""
    from ogb.utils.features import get_atom_feature_dims

    dims = torch.tensor(get_atom_feature_dims())
    offsets = torch.cumsum(dims, 0) - dims
    out = torch.zeros(x.size(0), int(dims.sum()))
    out.scatter_(1, x.long() + offsets, 1.0)
    return out


def load_ogb_mol(name: str, data_root: str | Path | None = None) -> GraphCollection:
    """The OGB set ``name`` with ``split_idx`` (train / val / test), ``ogb_name`` and ``node_features``."""
    from ogb.graphproppred import PygGraphPropPredDataset

    folder = name.replace("-", "_")
    with warnings.catch_warnings():
        # On first processing ogb wraps pandas' read-only label arrays with torch.from_numpy; PyG's collate copies
        # them into the processed file at once, so nothing writes through them and torch's warning is noise.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        with prepared(folder, data_root, download=lambda c: PygGraphPropPredDataset(name, root=str(c))) as root:
            (root / folder / "RELEASE_v1.txt").touch()
            with _trusted_torch_load():
                raw = PygGraphPropPredDataset(name, root=str(root))
                split = raw.get_idx_split()
    graphs = [Data(x=atom_one_hot(g.x), edge_index=g.edge_index, edge_attr=g.edge_attr, y=g.y.float())
              for g in raw]
    dataset = GraphCollection(graphs)
    dataset.split_idx = {"train": split["train"], "val": split["valid"], "test": split["test"]}
    dataset.ogb_name = name
    dataset.node_features = "OGB atom features, one-hot (174); bond features in edge_attr, unused by most models"
    return dataset


for _name, (_task, _stats) in OGB_MOL.items():
    register_dataset(_name, tasks=(_task,), files=_name.replace("-", "_"), source=SOURCE, stats=_stats)(
        dataset_loader(load_ogb_mol, _name,
                       doc=f"{_name} (OGB graph property prediction), scaffold split, ogb Evaluator."))
