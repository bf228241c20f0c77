"""AGNN's constrained parameter sharing: a child inherits a trained parent's layer weights only where the two
layers are homogeneous.

Layer ``l`` of the child is homogeneous with layer ``l`` of the parent when (i) the convolutions' trainable
tensors have identical names and shapes (same input width, per-head width, heads and aggregation weights) and
(ii) the attention function and the activation are the same (different ones give differently distributed
outputs, the instability the paper warns about). Only the convolution is copied; batch-norm and skip
parameters are never shared and keep their fresh initialisation, as does every non-homogeneous layer.
"""

from __future__ import annotations

import torch

from gnnbench.search.macro import MacroGNN, MacroLayer


def homogeneous(child: MacroLayer, parent: MacroLayer) -> bool:
    """Same convolution tensor shapes, same attention function, same activation."""
    same_shapes = {k: v.shape for k, v in child.conv.state_dict().items()} == {
        k: v.shape for k, v in parent.conv.state_dict().items()}
    return (same_shapes and child.choice["attention"] == parent.choice["attention"]
            and child.choice["activation"] == parent.choice["activation"])


@torch.no_grad()
def inherit(child: MacroGNN, parent: MacroGNN) -> list[int]:
    """Copy the parent's convolution weights into every homogeneous layer of ``child`` (bit for bit) and
    return those layers' indices; everything else in ``child`` is left as initialised."""
    inherited = []
    for index, (mine, theirs) in enumerate(zip(child.layers, parent.layers, strict=False)):
        if homogeneous(mine, theirs):
            mine.conv.load_state_dict(theirs.conv.state_dict())
            inherited.append(index)
    return inherited


__all__ = ["homogeneous", "inherit"]
