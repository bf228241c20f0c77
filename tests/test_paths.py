"""Rooted simple paths and the substructure counts built on them, checked against networkx."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
import torch
from torch_geometric.utils import from_networkx

from gnnbench.data.paths import distances, select, simple_paths
from gnnbench.data.substructure import PATTERNS, RandomGraphs, count_substructures, graph_counts

SMALL_GRAPHS = {
    "cycle6": nx.cycle_graph(6),
    "grid4x4": nx.convert_node_labels_to_integers(nx.grid_2d_graph(4, 4)),
    "tailed_triangle": nx.Graph([(0, 1), (1, 2), (2, 0), (2, 3), (3, 4)]),
    "petersen": nx.petersen_graph(),
    "er": nx.gnp_random_graph(12, 0.35, seed=3),
}


def _edge_index(g: nx.Graph) -> torch.Tensor:
    return from_networkx(g).edge_index


def _nx_paths(g: nx.Graph, k: int) -> dict[int, set[tuple[int, ...]]]:
    """All simple paths with l <= k edges from every root, by brute force."""
    out: dict[int, set[tuple[int, ...]]] = {length: set() for length in range(k + 1)}
    for root in g:
        out[0].add((root,))
        for target in g:
            if target != root:
                for path in nx.all_simple_paths(g, root, target, cutoff=k):
                    out[len(path) - 1].add(tuple(path))
    return out


@pytest.mark.parametrize("name", sorted(SMALL_GRAPHS))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_every_simple_path_of_length_at_most_k_is_enumerated_once(name, k):
    g = SMALL_GRAPHS[name]
    paths = simple_paths(_edge_index(g), g.number_of_nodes(), k)
    expected = _nx_paths(g, k)
    for length in range(k + 1):
        rows = [tuple(r) for r in paths[length].tolist()]
        assert len(rows) == len(set(rows)), "a path appears twice"
        assert set(rows) == expected[length]
        assert rows == sorted(rows)  # lexicographic, which one_shortest relies on


def test_the_cap_keeps_at_most_m_paths_per_root_and_only_real_paths():
    g = SMALL_GRAPHS["grid4x4"]
    gen = torch.Generator().manual_seed(0)
    paths = simple_paths(_edge_index(g), 16, 3, max_per_root=5, generator=gen)
    full = _nx_paths(g, 3)
    for length in (1, 2, 3):
        counts = torch.bincount(paths[length][:, 0], minlength=16)
        assert counts.max() <= 5
        assert {tuple(r) for r in paths[length].tolist()} <= full[length]
    again = simple_paths(_edge_index(g), 16, 3, max_per_root=5, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(paths, again, strict=True))  # seeded


def test_shortest_path_variants_match_networkx():
    g = SMALL_GRAPHS["grid4x4"]
    ei = _edge_index(g)
    dist = distances(ei, 16)
    lengths = dict(nx.all_pairs_shortest_path_length(g))
    assert all(dist[u, v] == lengths[u][v] for u in g for v in g)
    paths = simple_paths(ei, 16, 3)
    for length in (1, 2, 3):
        shortest = {tuple(r) for r in select(paths[length], "shortest", dist).tolist()}
        expected = {tuple(p) for u in g for v in g if lengths[u][v] == length
                    for p in nx.all_shortest_paths(g, u, v)}
        assert shortest == expected
        one = select(paths[length], "one_shortest", dist).tolist()
        pairs = [(r[0], r[-1]) for r in one]
        assert len(pairs) == len(set(pairs)) == sum(1 for u in g for v in g if lengths[u][v] == length)
        assert all(tuple(r) == min(p for p in shortest if (p[0], p[-1]) == (r[0], r[-1])) for r in one)


def _nx_counts(g: nx.Graph) -> torch.Tensor:
    """Node-level counts of PATTERNS by brute force over node subsets and networkx cycles."""
    counts = torch.zeros(g.number_of_nodes(), len(PATTERNS))
    for cycle in nx.simple_cycles(g, length_bound=5):
        column = {3: 0, 4: 1, 5: 2}[len(cycle)]
        for v in cycle:
            counts[v, column] += 1
    for path in {tuple(p) for u, v in itertools.permutations(g, 2)
                 for p in nx.all_simple_paths(g, u, v, cutoff=3) if len(p) == 4}:
        if path[0] < path[-1]:
            for v in path:
                counts[v, 3] += 1
    return counts


@pytest.mark.parametrize("name", sorted(SMALL_GRAPHS))
def test_substructure_counts_equal_brute_force(name):
    g = SMALL_GRAPHS[name]
    counts = count_substructures(_edge_index(g), g.number_of_nodes())
    assert torch.equal(counts, _nx_counts(g))
    graph = graph_counts(counts)
    assert graph[0] == sum(nx.triangles(g).values()) / 3
    assert torch.equal(graph, graph.round())  # whole occurrences


def test_known_counts():
    assert graph_counts(count_substructures(_edge_index(nx.complete_graph(4)), 4)).tolist() == [4, 3, 0, 12]
    assert graph_counts(count_substructures(_edge_index(nx.cycle_graph(5)), 5)).tolist() == [0, 0, 1, 5]


def test_the_generator_is_seeded_and_regular_graphs_are_regular():
    a = RandomGraphs(kind="regular", num_graphs=5, n=10, degree=3, seed=1).graphs()
    b = RandomGraphs(kind="regular", num_graphs=5, n=10, degree=3, seed=1).graphs()
    assert all(torch.equal(x.edge_index, y.edge_index) and torch.equal(x.counts, y.counts)
               for x, y in zip(a, b, strict=True))
    assert all(torch.bincount(d.edge_index[0]).tolist() == [3] * 10 for d in a)
    c = RandomGraphs(kind="er", num_graphs=5, seed=2).graphs()
    assert not all(torch.equal(x.edge_index, y.edge_index) for x, y in zip(a, c, strict=True))
    with pytest.raises(ValueError, match="n \\* degree must be even"):
        RandomGraphs(kind="regular", n=9, degree=3)
