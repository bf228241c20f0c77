"""The backprop baseline of ForwardGNN: the same backbone and budget, trained end to end by the task."""

from __future__ import annotations

import torch.nn.functional as F
from torch_geometric.nn import GATConv

from gnnbench.models.baselines import LayerStack
from gnnbench.models.forwardgnn.layers import GAT_HEADS, Backbone, make_conv


class BackpropGNN(LayerStack):
    r"""``Conv -> ReLU`` stack with a ``Conv`` output layer, no dropout: PyG's BasicGNN as the official BP runs.

    Hidden layers are ForwardGNN's backbone convolutions; the output layer of the GAT backbone averages its
    4 heads. Trained by the task's own protocol (Adam on the cross-entropy, validation-selected epoch).
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 backbone: Backbone = "gcn") -> None:
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        dims = [in_channels] + [hidden_channels] * (num_layers - 1)
        layers = [make_conv(backbone, i, o) for i, o in zip(dims[:-1], dims[1:], strict=True)]
        layers.append(GATConv(dims[-1], out_channels, heads=GAT_HEADS, concat=False) if backbone == "gat"
                      else make_conv(backbone, dims[-1], out_channels))
        super().__init__(layers, 0.0, F.relu)
