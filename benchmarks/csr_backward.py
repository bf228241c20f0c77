"""The ``csr`` backend's matmul with a cached transposed adjacency against PyG's sparse path, in the same run.

One layer of each kind the backend fuses (GCN's normalised sum, GIN's sum, SAGE's mean) on a random graph given
as a ``torch.sparse_csr`` ``adj_t``; forward + backward, with PyG's own ``message_and_aggregate`` (torch builds
the transposed matrix in every backward) and with the one ``configure(layer, "csr")`` installs
(:mod:`gnnbench.kernels.csr_matmul`). The two take turns, each turn an untimed call and a timed one; prints
milliseconds (median of the repeats) and the ratio.

    OMP_NUM_THREADS=1 python benchmarks/csr_backward.py --nodes 10000 --edges 200000 --features 64
"""

from __future__ import annotations

import argparse
import copy
import statistics

import torch
from torch import nn
from torch_geometric.nn import GCNConv, GINConv, SAGEConv
from torch_geometric.utils import coalesce

from gnnbench.harness.env import described
from gnnbench.kernels.adjacency import configure, graph_input
from gnnbench.kernels.timing import time_once, turns

CPU = torch.device("cpu")


def layers(features: int) -> dict[str, nn.Module]:
    return {"gcn (normalised sum)": GCNConv(features, features),
            "gin (sum)": GINConv(nn.Linear(features, features)),
            "sage (mean)": SAGEConv(features, features, aggr="mean")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    torch.manual_seed(0)
    edge_index = coalesce(torch.randint(0, args.nodes, (2, args.edges)), num_nodes=args.nodes)
    adj_t = graph_input("csr", edge_index, args.nodes)
    x = torch.randn(args.nodes, args.features, requires_grad=True)
    print(f"N={args.nodes:,}, E={edge_index.size(1):,}, F={args.features}; forward + backward, median of "
          f"{args.repeats} after {args.warmup} warm-up, the two paths taking turns")
    print(described(CPU))
    print(f"{'layer':<32} {'PyG spmm ms':>12} {'cached ms':>10} {'speed-up':>9}")
    for name, pyg in layers(args.features).items():
        cached = copy.deepcopy(pyg)
        configure(cached, "csr")
        steps = {"pyg": lambda layer=pyg: layer(x, adj_t).sum().backward(),
                 "cached": lambda layer=cached: layer(x, adj_t).sum().backward()}
        times: dict[str, list[float]] = {"pyg": [], "cached": []}
        for round_, path in turns(list(steps), args.warmup + args.repeats):
            steps[path]()  # untimed: each timed call follows one of its own, as in the kernel profile
            ms = time_once(steps[path], CPU)
            if round_ >= args.warmup:
                times[path].append(ms)
        before, after = statistics.median(times["pyg"]), statistics.median(times["cached"])
        print(f"{name:<32} {before:>12.2f} {after:>10.2f} {before / after:>8.2f}x")


if __name__ == "__main__":
    main()
