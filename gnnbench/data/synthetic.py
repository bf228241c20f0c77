"""Seeded synthetic tasks from the SIR-GCN paper (Lim et al., TMLR 2025), generated in memory.

**DictionaryLookup** (Brody, Alon & Yahav, "How Attentive are Graph Attention Networks?", ICLR 2022): a complete
bipartite graph of n *key* nodes and n *query* nodes, edges key -> query. Key node i carries
``[onehot(i) | onehot(pi(i))]`` (its key and its value under a random permutation pi), query node j carries
``[onehot(j) | 0]``; each query must output the value of the key that matches it, ``pi(j)``. Keys have no target
(``y = -1``). Answering needs a message that depends on the query and the key jointly: a static (GCN-like)
aggregation sees the same multiset of keys at every query and stays at chance, 1/n.

**HeteroEdgeCount** (the generator of the SIR-GCN authors' code, ``synthetic-datasets/hetero-edge-count``):
graph regression of the *number* of heterophilous edges (endpoints of different colours) in a random directed
graph whose nodes carry one of c colours, one-hot. The count, not the fraction: their commands leave
``--normalize`` off, which is why the paper's GCN errors are in the tens of thousands. A fraction varies little
from graph to graph, so a constant predictor's MSE would be small too, hiding the gap the task exists for.

Each dataset has a fixed ``split_idx`` (train / val / test graphs), used by ``split: dataset``.
"""

from __future__ import annotations

import torch
from torch_geometric.data import Data

from gnnbench.data.collection import GraphCollection
from gnnbench.registry import dataset_loader, register_dataset

SPLIT = (0.8, 0.1)  # train, val fractions of the graphs; the rest is test
PAPER = "Lim et al., TMLR 2025 (arXiv 2403.12529)"


def _with_split(graphs: list[Data], generator: torch.Generator) -> GraphCollection:
    dataset = GraphCollection(graphs)
    order = torch.randperm(len(graphs), generator=generator)
    n_train, n_val = round(SPLIT[0] * len(graphs)), round(SPLIT[1] * len(graphs))
    dataset.split_idx = {"train": order[:n_train], "val": order[n_train:n_train + n_val],
                         "test": order[n_train + n_val:]}
    return dataset


def dictionary_lookup(n: int, num_graphs: int, seed: int = 0) -> GraphCollection:
    """``num_graphs`` DictionaryLookup graphs with n keys and n queries, one random permutation each."""
    if n < 2 or num_graphs < 10:
        raise ValueError(f"DictionaryLookup needs n >= 2 and at least 10 graphs, got n={n}, {num_graphs} graphs")
    generator = torch.Generator().manual_seed(seed)
    ids = torch.arange(n)
    keys, queries = ids.repeat_interleave(n), ids.repeat(n) + n  # every key -> every query
    edge_index = torch.stack([keys, queries])
    eye = torch.eye(n)
    graphs = []
    for _ in range(num_graphs):
        values = torch.randperm(n, generator=generator)
        x = torch.cat([torch.cat([eye, eye[values]], 1), torch.cat([eye, torch.zeros(n, n)], 1)])
        y = torch.cat([torch.full((n,), -1), values])
        graphs.append(Data(x=x, edge_index=edge_index, y=y))
    dataset = _with_split(graphs, generator)
    dataset.node_features = f"[one-hot key | one-hot value] of {2 * n} dims; queries' value part is zero"
    return dataset


def hetero_edge_count(colours: int, num_graphs: int, seed: int = 0, max_nodes: int = 50) -> GraphCollection:
    """As the authors' ``HeteroEdgeCountDataset``: n uniform in [2, max_nodes], m uniform in [n^2 // 4, n^2]
    distinct directed edges drawn from all n^2 ordered pairs, self-loops included (``dgl.rand_graph``), uniform
    random colours; the target is the number of edges whose endpoints differ in colour."""
    generator = torch.Generator().manual_seed(seed)
    graphs = []
    for _ in range(num_graphs):
        n = int(torch.randint(2, max_nodes + 1, (1,), generator=generator))
        m = int(torch.randint(n * n // 4, n * n + 1, (1,), generator=generator))
        pairs = torch.randperm(n * n, generator=generator)[:m]
        src, dst = pairs // n, pairs % n
        colour = torch.randint(0, colours, (n,), generator=generator)
        target = (colour[src] != colour[dst]).sum().float()
        graphs.append(Data(x=torch.eye(colours)[colour], edge_index=torch.stack([src, dst]), y=target.view(1, 1)))
    dataset = _with_split(graphs, generator)
    dataset.node_features = f"one-hot colour ({colours})"
    return dataset


for _n in (5, 10, 20):
    register_dataset(f"DictionaryLookup-{_n}", tasks=("inductive_node_classification",), paper=PAPER,
                     stats=f"2000 bipartite graphs of {_n} keys + {_n} queries")(dataset_loader(
        dictionary_lookup, _n, 2000, reads_root=False,
        doc=f"DictionaryLookup with n = {_n}: 2,000 graphs, seed 0, split 80/10/10."))
for _c in (2, 4, 6, 8, 10):  # the paper's colour counts
    register_dataset(f"HeteroEdgeCount-{_c}", tasks=("graph_regression",), paper=PAPER,
                     stats=f"5000 random directed graphs of 2-50 nodes, {_c} colours",
                     from_edges=("targets",))(dataset_loader(
        hetero_edge_count, _c, 5000, reads_root=False,
        doc=f"HeteroEdgeCount with {_c} colours: 5,000 graphs as the authors' code, seed 0, split 80/10/10."))
