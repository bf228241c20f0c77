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
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import from_networkx

from gnnbench.data.paths import simple_paths

PATTERNS = ("triangle", "cycle4", "cycle5", "path3")
#: nodes per occurrence of each pattern
PATTERN_SIZE = {"triangle": 3, "cycle4": 4, "cycle5": 5, "path3": 4}


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
        """Every graph with ``x`` (a constant feature), ``node_counts`` and ``counts`` (:data:`PATTERNS`)."""
        out = []
        for i in range(self.num_graphs):
            seed = self.seed * 1_000_003 + i
            g = (nx.gnp_random_graph(self.n, self.p, seed=seed) if self.kind == "er"
                 else nx.random_regular_graph(self.degree, self.n, seed=seed))
            data = from_networkx(g)
            data.num_nodes = self.n
            node_counts = count_substructures(data.edge_index, self.n)
            out.append(Data(x=torch.ones(self.n, 1), edge_index=data.edge_index, node_counts=node_counts,
                            counts=graph_counts(node_counts).unsqueeze(0)))
        return out
