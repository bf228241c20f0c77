"""NAS-Bench-Graph's cell space, with its input-link and op classes, for search over the light tables.

A cell has four computing nodes, 0 to 3; node ``k`` reads one input (link value ``0`` is the cell's input,
``m > 0`` the output of node ``m - 1``) and applies one of nine ops; every node nobody reads feeds the output.
Node 0 always reads the input, so the fields are ``input[1..3]`` (class ``input``) and ``op[0..3]`` (class
``op``): 24 link patterns x 9^4 op choices, which the package's ``Arch.valid_hash()`` maps onto the 26,206
isomorphism classes of its tables. A cell made of skips only has no GNN and is not in the tables, so it is not
in the space. Two architectures with the same table key build isomorphic networks: they are the same child for
the search.
"""

from __future__ import annotations

from nas_bench_graph import Arch as BenchArch
from nas_bench_graph import gnn_list

from gnnbench.search.space import Arch, Field, Space

OPS = tuple(gnn_list)  # gat, gcn, gin, cheb, sage, arma, graph, fc, skip
NODES = 4


def bench_space() -> Space:
    """``input[1..3]`` then ``op[0..3]``."""
    inputs = tuple(Field(f"input[{k}]", "input", tuple(range(k + 1))) for k in range(1, NODES))
    ops = tuple(Field(f"op[{k}]", "op", OPS) for k in range(NODES))
    return Space("nas_bench_graph", inputs + ops, valid=has_gnn, canonical=bench_key)


def link_and_ops(arch: Arch) -> tuple[list[int], list[str]]:
    """The package's ``(link, ops)`` form of an architecture of :func:`bench_space`."""
    inputs, ops = arch[: NODES - 1], arch[NODES - 1 :]
    return [0, *inputs], [OPS[i] for i in ops]


def has_gnn(arch: Arch) -> bool:
    return any(OPS[i] != "skip" for i in arch[NODES - 1 :])


def bench_key(arch: Arch) -> int:
    """The table key: ``valid_hash()`` of the canonical (isomorphism-reduced) form, never the raw hash."""
    link, ops = link_and_ops(arch)
    return BenchArch(link, ops).valid_hash()


__all__ = ["OPS", "bench_key", "bench_space", "link_and_ops"]
