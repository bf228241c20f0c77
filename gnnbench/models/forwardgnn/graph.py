"""Graph augmentations of ForwardGNN: one virtual node per class, and fixed wrong-class negatives."""

from __future__ import annotations

import torch
from torch import Tensor


def class_node_edges(nodes: Tensor, classes: Tensor, num_nodes: int) -> Tensor:
    """Edges ``v <-> N + c_v`` in both directions (2 per node) between ``nodes`` and their class nodes.

    Class node ``c`` is node ``num_nodes + c`` of the augmented graph; only the given nodes (the training
    nodes, in SF) are linked, so validation and test nodes never touch a class node.
    """
    virtual = num_nodes + classes
    return torch.cat([torch.stack([nodes, virtual]), torch.stack([virtual, nodes])], dim=1)


def wrong_classes(y: Tensor, num_classes: int, k: int, generator: torch.Generator) -> Tensor:
    """``[N, k]``: for every node, ``k`` distinct classes other than its own, in a random order, drawn once.

    With ``k = C - 1`` every wrong class appears exactly once. Nodes whose label is hidden (``y < 0``) draw
    from all classes but the first ``k`` columns are still distinct.
    """
    if not 1 <= k <= num_classes - 1:
        raise ValueError(f"the number of negatives must be in 1..{num_classes - 1}, got {k}")
    keys = torch.rand(y.numel(), num_classes, generator=generator, device="cpu").to(y.device)
    known = y >= 0
    keys[known.nonzero().view(-1), y[known]] = 2.0  # the true class sorts last and is never taken
    return keys.argsort(dim=1)[:, :k]
