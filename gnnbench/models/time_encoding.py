r"""The time encoding of temporal models, :math:`\phi(\Delta t) = \cos(\omega \Delta t + b)`, with TGAT's and
DyGLib's initialisation: :math:`\omega_i = 10^{-9 i / (d - 1)}` (periods from one time unit to :math:`10^9` units),
:math:`b = 0`.

PyG's ``TimeEncoder`` initialises :math:`\omega` like any linear layer (uniform in about [-1, 1]); on streams
timed in seconds (CollegeMsg spans :math:`1.7 \times 10^7` s) every such frequency wraps around many times within
a minute, and the encoding of an event's age is noise. The geometric frequencies keep every scale.
"""

from __future__ import annotations

import torch
from torch_geometric.nn.models.tgn import TimeEncoder


@torch.no_grad()
def init_geometric_(encoder: TimeEncoder) -> TimeEncoder:
    """Set ``encoder``'s frequencies to :math:`10^{-9 i / (d - 1)}` and its phases to 0, in place."""
    dim = encoder.lin.out_features
    encoder.lin.weight.copy_((1 / 10 ** torch.linspace(0, 9, dim)).view(dim, 1))
    encoder.lin.bias.zero_()
    return encoder


def time_encoder(dim: int) -> TimeEncoder:
    """A PyG ``TimeEncoder`` of ``dim`` channels with geometric frequencies (learnable, as in DyGLib)."""
    return init_geometric_(TimeEncoder(dim))
