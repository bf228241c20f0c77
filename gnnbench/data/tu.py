"""TU graph-classification sets (Morris et al. 2020) with the node features of Errica et al. (ICLR 2020).

Node features are the dataset's node labels, one-hot (PyG's ``TUDataset`` with ``use_node_attr=False``), as in
Errica et al.'s fair comparison for every set but ENZYMES, where their code also reads the 18 continuous node
attributes (21 features): ENZYMES results here are not comparable with theirs. IMDB-BINARY has no node labels:
every node gets its degree, one-hot (``OneHotDegree`` up to the largest degree in the set), as is standard.
Each loaded dataset carries a ``node_features`` string saying which, and graph tasks copy it into the record.
"""

from __future__ import annotations

from pathlib import Path

from torch_geometric.data import InMemoryDataset
from torch_geometric.datasets import TUDataset
from torch_geometric.transforms import OneHotDegree
from torch_geometric.utils import degree

from gnnbench.data.collection import GraphCollection
from gnnbench.data.sources import prepared
from gnnbench.registry import dataset_loader, register_dataset

SOURCE = ("TUDataset collection (Morris et al. 2020); raw files from XuelinHu/Matrix-ResGNN-GraphClassificatio@f76543d "
          "(MUTAG, ENZYMES, PROTEINS) and sunfanyunn/InfoGraph@1f286d5 (NCI1, PTC_MR, IMDB-BINARY)")
GRAPH = ("graph_classification",)


def load_tu(name: str, data_root: str | Path | None = None) -> InMemoryDataset:
    """The TU dataset ``name`` from verified raw files, with ``node_features`` describing its features."""
    with prepared(name, data_root, download=lambda cache: TUDataset(str(cache), name)) as root:
        dataset = TUDataset(str(root), name)
    if dataset.num_node_features:
        dataset.node_features = f"one-hot node labels ({dataset.num_node_features})"
        return dataset
    max_degree = max(int(degree(g.edge_index[0], g.num_nodes).max()) if g.num_edges else 0 for g in dataset)
    one_hot = OneHotDegree(max_degree)
    dataset = GraphCollection([one_hot(g) for g in dataset])  # transformed once, not on every access
    dataset.node_features = f"one-hot degree (no node labels in the data; degrees 0..{max_degree})"
    return dataset


# (name, stats, what the loader computes from the edges: the one-hot degree features of a set without labels)
for _name, _stats, _from_edges in (("MUTAG", "188 graphs, 2 classes, 7 node labels", ()),
                                   ("PROTEINS", "1113 graphs, 2 classes, 3 node labels", ()),
                                   ("ENZYMES", "600 graphs, 6 classes, 3 node labels", ()),
                                   ("NCI1", "4110 graphs, 2 classes, 37 node labels", ()),
                                   ("PTC_MR", "344 graphs, 2 classes, 18 node labels", ()),
                                   ("IMDB-BINARY", "1000 graphs, 2 classes, no node labels (one-hot degree)",
                                    ("features",))):
    register_dataset(_name, tasks=GRAPH, files=_name, source=SOURCE, stats=_stats, ships_split=False,
                     from_edges=_from_edges)(dataset_loader(
        load_tu, _name, doc=f"{_name} (TU graph classification), node labels one-hot or one-hot degree."))
