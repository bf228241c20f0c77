"""ForwardGNN's building blocks: the backbone convolutions and the layer ``ReLU(Conv(L2norm(h)))``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv, SAGEConv

from gnnbench.hparams import HparamError

Backbone = Literal["gcn", "sage", "gat"]
#: Attention heads of the GAT backbone (concatenated, ``out / HEADS`` channels each), as the official code.
GAT_HEADS = 4


def check_gat_widths(hparams: Mapping[str, Any], keys: list[str]) -> None:
    """The widths under ``keys`` that :func:`make_conv` builds: one the GAT backbone's heads cannot split fails a
    suite when it loads, not each of its runs when the model is built."""
    if hparams["backbone"] != "gat":
        return
    if key := next((k for k in keys if hparams[k] % GAT_HEADS), None):
        raise HparamError(key, f"the gat backbone needs a width divisible by {GAT_HEADS} (its heads), got "
                               f"{hparams[key]} ({key})")


def check_backbone(hparams: Mapping[str, Any], device: str = "cpu") -> None:
    """``check_hparams`` of the node models, whose every layer is ``hidden_channels`` wide."""
    check_gat_widths(hparams, ["hidden_channels"])


def check_link_backbone(hparams: Mapping[str, Any], device: str = "cpu") -> None:
    """``check_hparams`` of the link models: ``num_layers - 1`` hidden layers under an output layer as wide as
    the task's embedding (``out_channels``, which the link task presets from its options)."""
    check_gat_widths(hparams, ["hidden_channels"] * (hparams["num_layers"] > 1)
                     + ["out_channels"] * ("out_channels" in hparams))


def unread_link_width(hparams: Mapping[str, Any]) -> dict[str, str]:
    """``unread_hparams`` of the link models: at one layer their only layer is the output, as wide as the task's
    embedding, so a ``hidden_channels`` would be another run id for the same runs."""
    if hparams["num_layers"] != 1:
        return {}
    return {"hidden_channels": "num_layers is 1 (one layer from the features to the embedding, no hidden layer)"}


def make_conv(backbone: Backbone, in_channels: int, out_channels: int) -> nn.Module:
    """PyG ``GCNConv`` (self-loops, symmetric normalisation), ``SAGEConv`` (mean) or ``GATConv`` (4 heads)."""
    if backbone == "gcn":
        return GCNConv(in_channels, out_channels)
    if backbone == "sage":
        return SAGEConv(in_channels, out_channels, aggr="mean")
    if backbone == "gat":
        if out_channels % GAT_HEADS:
            raise ValueError(f"the gat backbone needs a width divisible by {GAT_HEADS}, got {out_channels}")
        return GATConv(in_channels, out_channels // GAT_HEADS, heads=GAT_HEADS, concat=True)
    raise ValueError(f"backbone must be one of gcn, sage, gat; got {backbone!r}")


def l2_rows(x: Tensor) -> Tensor:
    r"""Row L2 normalisation :math:`x / (\lVert x \rVert_2 + 10^{-8})`, applied to every layer's input."""
    return x / (x.norm(dim=-1, keepdim=True) + 1e-8)


class ForwardLayer(nn.Module):
    r"""One locally trained layer: :math:`H' = \mathrm{ReLU}(\mathrm{Conv}(\mathrm{L2}(H), A))`.

    No dropout and no normalisation layer, as in the official backbone.
    """

    def __init__(self, backbone: Backbone, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = make_conv(backbone, in_channels, out_channels)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return F.relu(self.conv(l2_rows(x), edge_index))


def forward_layers(backbone: Backbone, widths: list[int]) -> nn.ModuleList:
    """One :class:`ForwardLayer` per consecutive pair of ``widths`` (input width first)."""
    if len(widths) < 2:
        raise ValueError(f"num_layers must be >= 1, got {len(widths) - 1}")
    return nn.ModuleList(ForwardLayer(backbone, i, o) for i, o in zip(widths[:-1], widths[1:], strict=True))


class TopDownLayer(nn.Module):
    r"""A layer that also reads the state above it: :math:`H' = \mathrm{ReLU}(\mathrm{Conv}([\mathrm{L2}(H_{below})
    \Vert \mathrm{L2}(H_{above})], A))`, each half normalised on its own."""

    def __init__(self, backbone: Backbone, below: int, above: int, out_channels: int) -> None:
        super().__init__()
        self.conv = make_conv(backbone, below + above, out_channels)

    def forward(self, below: Tensor, above: Tensor, edge_index: Tensor) -> Tensor:
        return F.relu(self.conv(torch.cat([l2_rows(below), l2_rows(above)], dim=-1), edge_index))
