"""Simple paths rooted at every node, enumerated once per graph, vectorised.

Paths are the raw material of two things in gnnbench: the k-path rooted-subgraph model (PathNN-style path
encoders, :mod:`gnnbench.models.kpath`) and the exact targets of the substructure-counting generator
(:mod:`gnnbench.data.substructure`: a cycle of length L is a path of length L-1 whose ends are adjacent).

A path of length ``l`` has ``l`` edges and ``l + 1`` distinct nodes and is stored as a row ``(v0, ..., vl)``
with its root ``v0`` first. Enumeration extends every path of length ``l - 1`` by each neighbour of its last
node that is not already on it: one ``repeat_interleave`` over a CSR adjacency per length, no Python loop over
nodes.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import torch
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path
from torch import Tensor

#: ``all``: every simple path (PathNN-AP); ``shortest``: every shortest path (PathNN-SP+); ``one_shortest``:
#: one shortest path per ordered (root, end) pair, the lexicographically first (PathNN-SP takes one per unordered
#: pair and its reverse).
PathKind = Literal["all", "shortest", "one_shortest"]
PATH_KINDS: tuple[PathKind, ...] = get_args(PathKind)


def _csr(edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    """(row pointer, sorted neighbours) of the graph, duplicate edges and self-loops removed."""
    row, col = edge_index
    keep = row != col
    key = torch.unique(row[keep] * num_nodes + col[keep])
    row, col = key // num_nodes, key % num_nodes
    ptr = torch.zeros(num_nodes + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(torch.bincount(row, minlength=num_nodes), 0)
    return ptr, col


def simple_paths(edge_index: Tensor, num_nodes: int, k: int, max_per_root: int | None = None,
                 generator: torch.Generator | None = None) -> list[Tensor]:
    """``paths[l]`` (``l = 0..k``): all simple paths with ``l`` edges, shape ``[P_l, l + 1]``, root first.

    ``edge_index`` is taken as given (pass both directions for an undirected graph). With ``max_per_root``,
    at most that many paths per (root, length) are kept, a uniform sample drawn with ``generator``; the cap
    applies at every length, so longer paths extend the kept shorter ones.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    ptr, nbr = _csr(edge_index.cpu(), num_nodes)
    deg = ptr[1:] - ptr[:-1]
    current = torch.arange(num_nodes).unsqueeze(1)
    paths = [current]
    for _ in range(k):
        last = current[:, -1]
        counts = deg[last]
        parent = torch.repeat_interleave(torch.arange(current.size(0)), counts)
        start = torch.repeat_interleave(ptr[last], counts)
        offset = torch.arange(parent.numel()) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
        step = nbr[start + offset]
        grown = torch.cat([current[parent], step.unsqueeze(1)], dim=1)
        current = grown[(current[parent] != step.unsqueeze(1)).all(dim=1)]
        if max_per_root is not None:
            current = _cap_per_root(current, max_per_root, generator)
        paths.append(current)
    return paths


def _cap_per_root(paths: Tensor, cap: int, generator: torch.Generator | None) -> Tensor:
    """A uniform sample of at most ``cap`` rows per root, returned in the original row order."""
    order = torch.randperm(paths.size(0), generator=generator)
    roots = paths[order, 0]
    order = order[torch.argsort(roots, stable=True)]
    roots = paths[order, 0]
    first = torch.searchsorted(roots, roots, right=False)
    rank = torch.arange(roots.numel()) - first
    return paths[torch.sort(order[rank < cap]).values]


def distances(edge_index: Tensor, num_nodes: int) -> Tensor:
    """All-pairs shortest-path hop distances (``-1`` where unreachable), for per-graph sized graphs."""
    row, col = edge_index.cpu().numpy()
    adj = csr_matrix((np.ones(row.size), (row, col)), shape=(num_nodes, num_nodes))
    dist = shortest_path(adj, unweighted=True, directed=True)
    dist[np.isinf(dist)] = -1
    return torch.from_numpy(dist.astype(np.int64))


def select(paths: Tensor, kind: str, dist: Tensor) -> Tensor:
    """The rows of ``paths`` (all of one length) that a PathNN variant uses, see :data:`PATH_KINDS`."""
    if kind not in PATH_KINDS:
        raise ValueError(f"path kind must be one of {PATH_KINDS}, got {kind!r}")
    if kind == "all" or paths.numel() == 0:
        return paths
    length = paths.size(1) - 1
    paths = paths[dist[paths[:, 0], paths[:, -1]] == length]
    if kind == "shortest":
        return paths
    pair = paths[:, 0] * dist.size(0) + paths[:, -1]
    order = torch.argsort(pair, stable=True)  # rows are generated in lexicographic order: first is smallest
    pair = pair[order]
    first = torch.ones_like(pair, dtype=torch.bool)
    first[1:] = pair[1:] != pair[:-1]
    return paths[torch.sort(order[first]).values]
