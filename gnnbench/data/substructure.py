"""Substructure counting: seeded random graphs with exact counts computed by the generator.

The task of Chen et al. ("Can Graph Neural Networks Count Substructures?", NeurIPS 2020): regress how many
times a pattern occurs in a graph (graph level) or around each node (node level), on Erdos-Renyi and random
regular graphs with constant node features, so that only structure can explain the target.

Counts (``PATTERNS``), every one exact, derived from rooted simple paths (:mod:`gnnbench.data.paths`):

* ``triangle``, ``cycle4``, ``cycle5``: a cycle of length L is a path of length L-1 whose ends are adjacent;
  from a root v each cycle through v closes twice (two directions);
* ``path3``: simple paths with 3 edges (4 distinct nodes), unordered.

Node level counts the occurrences that **contain** the node (for every pattern), so summing a pattern's
node counts gives its graph count times the pattern's size.

Registered datasets ``Count-ER-<pattern>`` are graph regression on 5,000 graphs split 30/20/50
(train/val/test, as Chen et al.), with the target divided by its standard deviation over the dataset: a
graph-regression MAE on them is the MAE normalised by the target's std (predicting the training mean
scores 0.69-0.77 on the test split: ``docs/models/kpath.md``). ``Count-ER-<pattern>-node`` are the same graphs
and split with node-level targets (the count of occurrences containing each node, divided by its std over all
nodes), for ``inductive_node_regression``.
Every graph also carries ``node_counts`` (all patterns, node level, unnormalised).

Node features are the degree, one-hot, not Chen et al.'s constant: a constant input gives the batch-normalised
input layers of the models here (GIN's and PathNN's layout) zero batch variance, so training and evaluation
diverge (running statistics amplified by 1/sqrt(eps)). The degree is what 1-WL computes in its first round,
so it adds nothing to what message passing can count. For the same reason only the Erdos-Renyi family is
registered (every node of a regular graph has the same degree); ``RandomGraphs(kind="regular")`` stays
available to code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import degree

from gnnbench.data.collection import GraphCollection
from gnnbench.data.paths import simple_paths
from gnnbench.registry import dataset_loader, register_dataset

PATTERNS = ("triangle", "cycle4", "cycle5", "path3")
#: nodes per occurrence of each pattern
PATTERN_SIZE = {"triangle": 3, "cycle4": 4, "cycle5": 5, "path3": 4}
SPLIT = (0.3, 0.2)  # train, val fractions; the rest (50%) is test, as in Chen et al.
PAPER = "Chen et al., NeurIPS 2020 (arXiv 2002.04025)"
Level = Literal["graph", "node"]


def count_substructures(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Node-level counts, shape ``[num_nodes, len(PATTERNS)]`` in :data:`PATTERNS` order (float)."""
    paths = simple_paths(edge_index, num_nodes, k=4)
    edges = torch.unique(edge_index[0] * num_nodes + edge_index[1])
    counts = torch.zeros(num_nodes, len(PATTERNS))
    for column, length in enumerate((3, 4, 5)):
        p = paths[length - 1]
        closes = torch.isin(p[:, -1] * num_nodes + p[:, 0], edges)
        counts[:, column] = torch.bincount(p[closes, 0], minlength=num_nodes).float() / 2
    p3 = paths[3].reshape(-1)  # every node of every ordered 3-path; each unordered path appears twice
    counts[:, PATTERNS.index("path3")] = torch.bincount(p3, minlength=num_nodes).float() / 2
    return counts


def graph_counts(node_counts: Tensor) -> Tensor:
    """Graph-level counts from node-level ones: each occurrence is seen by each of its nodes."""
    size = torch.tensor([PATTERN_SIZE[p] for p in PATTERNS], dtype=node_counts.dtype)
    return node_counts.sum(0) / size


@dataclass(frozen=True)
class RandomGraphs:
    """A seeded family of random graphs.

    ``kind="er"``: Erdos-Renyi G(n, p) with ``n`` nodes and edge probability ``p``; ``kind="regular"``: random
    ``degree``-regular graphs on ``n`` nodes. Defaults (gnnbench's, in the spirit of Chen et al.'s two
    families): ER with n = 10, p = 0.3; regular with n = 10, degree = 3.
    """

    kind: str = "er"
    num_graphs: int = 5000
    n: int = 10
    p: float = 0.3
    degree: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("er", "regular"):
            raise ValueError(f"kind must be 'er' or 'regular', got {self.kind!r}")
        if self.kind == "regular" and (self.n * self.degree) % 2:
            raise ValueError(f"no {self.degree}-regular graph on {self.n} nodes (n * degree must be even)")

    def graphs(self) -> list[Data]:
        """Every graph with ``x`` (a constant feature), ``node_counts`` and ``counts`` (:data:`PATTERNS`).

        Counted in one pass over the disjoint union of all graphs: no path crosses from one graph to another.
        """
        import networkx as nx  # here, not at import: every run imports the dataset registry

        edge_indices = []
        for i in range(self.num_graphs):
            seed = self.seed * 1_000_003 + i
            g = (nx.gnp_random_graph(self.n, self.p, seed=seed) if self.kind == "er"
                 else nx.random_regular_graph(self.degree, self.n, seed=seed))
            edges = torch.tensor(list(g.edges()), dtype=torch.long).reshape(-1, 2).t()
            edge_indices.append(torch.cat([edges, edges.flip(0)], dim=1))
        offsets = torch.arange(self.num_graphs).repeat_interleave(torch.tensor([e.size(1) for e in edge_indices]))
        union = torch.cat(edge_indices, dim=1) + offsets * self.n
        node_counts = count_substructures(union, self.num_graphs * self.n).view(self.num_graphs, self.n, -1)
        return [Data(x=torch.ones(self.n, 1), edge_index=edge_index, node_counts=node_counts[i],
                     counts=graph_counts(node_counts[i]).unsqueeze(0))
                for i, edge_index in enumerate(edge_indices)]


def counting_dataset(pattern: str, family: RandomGraphs, level: Level = "graph") -> GraphCollection:
    """Regression of ``pattern``'s count over ``family`` per graph or per node, target / std, with a fixed
    30/20/50 split of the graphs."""
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}")
    if level not in ("graph", "node"):
        raise ValueError(f"level must be 'graph' or 'node', got {level!r}")
    graphs = family.graphs()
    column = PATTERNS.index(pattern)
    source = "counts" if level == "graph" else "node_counts"
    counts = torch.cat([g[source][:, column] for g in graphs])
    std = float(counts.std())
    if std == 0:
        raise ValueError(f"every {level} of {family} has the same {pattern} count ({counts[0]:g}): nothing to learn")
    degrees = [degree(g.edge_index[0], g.num_nodes).long() for g in graphs]
    width = int(max(int(d.max()) for d in degrees)) + 1
    for graph, deg in zip(graphs, degrees, strict=True):
        graph.y = (graph.counts[:, column:column + 1] if level == "graph" else graph.node_counts[:, column]) / std
        graph.x = F.one_hot(deg, width).float()
    dataset = GraphCollection(graphs)
    order = torch.randperm(len(graphs), generator=torch.Generator().manual_seed(family.seed))
    n_train, n_val = round(SPLIT[0] * len(graphs)), round(SPLIT[1] * len(graphs))
    dataset.split_idx = {"train": order[:n_train], "val": order[n_train:n_train + n_val],
                         "test": order[n_train + n_val:]}
    dataset.node_features = (f"one-hot degree (0..{width - 1}); target = {level}-level {pattern} count / "
                             f"{std:.4f} (its std over the dataset)")
    return dataset


for _pattern in PATTERNS:
    register_dataset(f"Count-ER-{_pattern}", tasks=("graph_regression",), paper=PAPER,
                     stats=f"5000 G(10, 0.3) graphs, {_pattern} count / std", from_edges=("features", "targets"))(
        dataset_loader(counting_dataset, _pattern, RandomGraphs(), "graph", reads_root=False,
                       doc=f"graph-level {_pattern} counts over {RandomGraphs()}, split 30/20/50."))
    register_dataset(f"Count-ER-{_pattern}-node", tasks=("inductive_node_regression",), paper=PAPER,
                     stats=f"5000 G(10, 0.3) graphs, per-node {_pattern} count / std",
                     from_edges=("features", "targets"))(
        dataset_loader(counting_dataset, _pattern, RandomGraphs(), "node", reads_root=False,
                       doc=f"node-level {_pattern} counts over {RandomGraphs()}, split 30/20/50."))
