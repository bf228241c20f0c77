"""The k-path GNN's path encoder against nn.LSTM over the same paths, measured in the same run.

One training batch of a TU dataset (its rooted paths of length 1..k, as the suite builds them), one
PathConv per length; forward + backward of the encoder (``PathConv.encode``) and of nn.LSTM over the
materialised sequences, with the same weights. Prints milliseconds (median of the repeats) and the ratio.

    OMP_NUM_THREADS=1 python benchmarks/kpath_encoder.py --dataset PROTEINS --batch 128
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

import torch
from torch_geometric.data import Batch

from gnnbench.data.tu import load_tu
from gnnbench.harness.env import described
from gnnbench.kernels.timing import median_ms
from gnnbench.models.kpath import KPathGNN

CPU = torch.device("cpu")


def lstm_reference(conv: torch.nn.Module, h: torch.Tensor, index: torch.Tensor, dist: torch.Tensor) -> torch.Tensor:
    """What PathConv.encode replaces: nn.LSTM over every path, materialised as ``[P, l + 1, 2 * hidden]``."""
    seq = torch.cat([h[index.flip(0).t()], conv.distance(dist.flip(1))], dim=-1)
    return conv.lstm(seq)[1][0].squeeze(0)


def forward_backward(encode: Callable[[], torch.Tensor]) -> Callable[[], None]:
    """One timed step: the encoding and its backward pass, as training runs it."""
    return lambda: encode().sum().backward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="PROTEINS")
    parser.add_argument("--batch", type=int, default=128, help="graphs in the batch (the suite's batch_size)")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    dataset = load_tu(args.dataset)
    model = KPathGNN(dataset.num_features, dataset.num_classes, k=args.k)
    batch = Batch.from_data_list([model.graph_transform()(dataset[i]) for i in range(args.batch)])
    h = torch.randn(batch.num_nodes, model.convs[0].norm.num_features, requires_grad=True)
    print(f"{args.dataset}, {args.batch} graphs, {batch.num_nodes} nodes; forward + backward, median of "
          f"{args.repeats}")
    print(described(CPU))
    print(f"{'length':>6} {'paths':>9} {'nn.LSTM ms':>11} {'encode ms':>10} {'speed-up':>9}")
    for length, conv in enumerate(model.convs, 1):
        index, dist = batch[f"path_index_{length}"], batch[f"path_dist_{length}"]
        timed = partial(median_ms, device=CPU, warmup=1, repeats=args.repeats)
        reference = timed(forward_backward(partial(lstm_reference, conv, h, index, dist)))
        encode = timed(forward_backward(partial(conv.encode, h, index, dist)))
        print(f"{length:>6} {index.size(1):>9,} {reference:>11.1f} {encode:>10.1f} {reference / encode:>8.2f}x")


if __name__ == "__main__":
    main()
