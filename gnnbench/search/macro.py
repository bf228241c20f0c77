r"""A trainable GNN for any architecture of the macro space (:func:`gnnbench.search.space.macro_space`).

Layer :math:`l` computes :math:`x^{(l+1)} = \sigma_l\big(\mathrm{BN}_l(\mathrm{SearchConv}_l(\tilde x^{(l)})
+ \mathrm{skip}_l\, S_l \tilde x^{(l)})\big)` with :math:`\tilde x^{(l)}` the dropped-out input, :math:`S_l` a
bias-free linear projection present when the architecture gives layer :math:`l` a skip connection, and the
batch norm present when ``batch_norm`` is set. Hidden layers concatenate their heads; the last layer averages
them and has the class count as its width (GraphNAS). ``form`` is the convolutions' aggregation form
(:class:`~gnnbench.search.layers.SearchConv`).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from gnnbench.models.baselines import dropout as drop
from gnnbench.search.layers import ACTIVATION_FUNCTIONS, LayerForm, SearchConv
from gnnbench.search.space import Arch, Space


def layer_choices(space: Space, arch: Arch) -> list[dict[str, Any]]:
    """Per layer: ``{"attention": ..., "aggregation": ..., ...}`` (the last layer has no ``hidden``)."""
    layers: list[dict[str, Any]] = []
    for name, value in space.decode(arch).items():
        kind, index = name[:-1].split("[")
        while len(layers) <= int(index):
            layers.append({})
        layers[int(index)][kind] = value
    return layers


class MacroLayer(nn.Module):
    """One layer: the searched convolution, an optional skip projection and an optional batch norm."""

    def __init__(self, in_channels: int, out_channels: int, choice: dict[str, Any], last: bool, dropout: float,
                 batch_norm: bool, form: LayerForm = "compact") -> None:
        super().__init__()
        self.choice = choice
        self.conv = SearchConv(in_channels, out_channels, heads=choice["heads"], attention=choice["attention"],
                               aggregation=choice["aggregation"], concat=not last, dropout=dropout, form=form)
        width = out_channels if last else out_channels * choice["heads"]
        self.skip = nn.Linear(in_channels, width, bias=False) if choice["skip"] else None
        self.norm = nn.BatchNorm1d(width) if batch_norm else None
        self.activation = ACTIVATION_FUNCTIONS[choice["activation"]]
        self.width = width

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        out = self.conv(x, edge_index)
        if self.skip is not None:
            out = out + self.skip(x)
        if self.norm is not None:
            out = self.norm(out)
        return self.activation(out)


class MacroGNN(nn.Module):
    """The network of one macro-space architecture; dropout (GraphNAS: 0.6) on every layer's input and on
    the attention coefficients."""

    def __init__(self, in_channels: int, out_channels: int, space: Space, arch: Arch, dropout: float = 0.6,
                 batch_norm: bool = False, form: LayerForm = "compact") -> None:
        super().__init__()
        self.space, self.arch, self.dropout = space, tuple(arch), dropout
        choices = layer_choices(space, arch)
        layers, width = [], in_channels
        for i, choice in enumerate(choices):
            last = i == len(choices) - 1
            layer = MacroLayer(width, out_channels if last else choice["hidden"], choice, last, dropout, batch_norm,
                               form)
            layers.append(layer)
            width = layer.width
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(drop(x, self.dropout, self.training), edge_index)
        return x


__all__ = ["MacroGNN", "MacroLayer", "layer_choices"]
