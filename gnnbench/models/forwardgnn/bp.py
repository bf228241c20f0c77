"""The backprop baseline of ForwardGNN: the same backbone and budget, trained end to end by the task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch.nn.functional as F
from torch_geometric.nn import GATConv

from gnnbench.models.baselines import LayerStack, widths
from gnnbench.models.forwardgnn.layers import GAT_HEADS, Backbone, check_gat_widths, make_conv


class BackpropGNN(LayerStack):
    r"""``Conv -> ReLU`` stack with a ``Conv`` output layer, no dropout: PyG's BasicGNN as the official BP runs.

    Hidden layers are ForwardGNN's backbone convolutions; the output layer of the GAT backbone averages its
    4 heads. Trained by the task's own protocol (Adam on the cross-entropy, validation-selected epoch).
    """

    @staticmethod
    def check_hparams(hparams: Mapping[str, Any], device: str = "cpu") -> None:
        """Only hidden layers split their width among heads; one layer has none."""
        check_gat_widths(hparams, ["hidden_channels"] * (hparams["num_layers"] > 1))

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 backbone: Backbone = "gcn") -> None:
        *hidden, (last_in, _) = widths(in_channels, hidden_channels, out_channels, num_layers)
        layers = [make_conv(backbone, i, o) for i, o in hidden]
        layers.append(GATConv(last_in, out_channels, heads=GAT_HEADS, concat=False) if backbone == "gat"
                      else make_conv(backbone, last_in, out_channels))
        super().__init__(layers, 0.0, F.relu)
