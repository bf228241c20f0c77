r"""TGN: Temporal Graph Networks (Rossi et al., "Temporal Graph Networks for Deep Learning on Dynamic Graphs",
ICML GRL workshop 2020), assembled from PyG's parts as in PyG's ``examples/tgn.py``.

* **Memory** (``TGNMemory``): a per-node state :math:`s_v`, updated after each observed batch by a GRU on the
  identity message :math:`[s_u \Vert s_v \Vert \phi(t - t_v^-) \Vert x_e]`, keeping the last message per node.
* **Embedding**: one graph-attention layer (``TransformerConv``) over each node's ``num_neighbors`` most recent
  neighbours (``LastNeighborLoader``), the edge carrying :math:`\phi(t_v^- - t_e)` and :math:`x_e`:

  .. math:: z_v = \sum_{(u, e) \in \mathcal{N}(v)} \alpha_{vu} W\,[s_u \Vert \phi(t_v^- - t_e) \Vert x_e]
            + W_r s_v

* the time encoding :math:`\phi` starts from DyGLib's geometric frequencies (:mod:`gnnbench.models.time_encoding`);
  the edge's age is measured from the centre's last update :math:`t_v^-` (PyG's example measures it from the
  neighbour's, :math:`t_u^-`; the paper from the query's time, :math:`\phi(t - t_e)`, which a batch of events
  at different times does not share);
* **Decoder**: :math:`\mathrm{MLP}(W_s z_u + W_d z_v)` as PyG's ``LinkPredictor``.

The memory is a state: the task resets it before every training pass, the model takes in each batch only after
scoring it, and the test continues from the memory as it stood after the selected epoch's validation pass.
Gradients stop at each batch's memory (PyG's ``memory.detach()``). DyGLib's TGN defaults are memory and time
dimension 100 and 172, 20 neighbours, lr 1e-4; ours are PyG's example's: 100 / 100, 10 neighbours, lr 1e-4.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import TemporalData
from torch_geometric.nn import TransformerConv
from torch_geometric.nn.models.tgn import IdentityMessage, LastAggregator, LastNeighborLoader, TGNMemory

from gnnbench.hparams import HparamError
from gnnbench.models.time_encoding import init_geometric_
from gnnbench.registry import register_model
from gnnbench.tasks.temporal_link import TemporalLinkModel


@register_model("tgn", paper="Rossi et al., 2020 (arXiv 2006.10637)", tasks=("temporal_link",))
class TGN(TemporalLinkModel):
    """TGN: GRU node memory + one graph-attention layer over the last neighbours + MLP link decoder."""

    @staticmethod
    def check_hparams(hparams: Mapping[str, Any], device: str = "cpu") -> None:
        """Settings no constructor builds as asked: a suite that sets one fails when it loads, naming the key."""
        if hparams["num_neighbors"] < 1:
            raise HparamError("num_neighbors", f"num_neighbors counts the recent neighbours attended to: expected at "
                                               f"least 1, got {hparams['num_neighbors']}")
        if hparams["embedding_channels"] % hparams["heads"]:  # each head gets embedding_channels // heads
            raise HparamError("heads", f"embedding_channels ({hparams['embedding_channels']}) must be divisible by "
                                       f"heads ({hparams['heads']})")

    def __init__(self, in_channels: int, out_channels: int, num_nodes: int, memory_channels: int = 100,
                 time_channels: int = 100, embedding_channels: int = 100, num_neighbors: int = 10,
                 heads: int = 2, dropout: float = 0.1) -> None:
        self.check_hparams(locals())
        super().__init__()
        self.memory = TGNMemory(num_nodes, in_channels, memory_channels, time_channels,
                                message_module=IdentityMessage(in_channels, memory_channels, time_channels),
                                aggregator_module=LastAggregator())
        init_geometric_(self.memory.time_enc)
        self.neighbors = LastNeighborLoader(num_nodes, size=num_neighbors)
        self.conv = TransformerConv(memory_channels, embedding_channels // heads, heads=heads, dropout=dropout,
                                    edge_dim=in_channels + time_channels)
        self.lin_src = nn.Linear(embedding_channels, embedding_channels)
        self.lin_dst = nn.Linear(embedding_channels, embedding_channels)
        self.out = nn.Sequential(nn.ReLU(), nn.Linear(embedding_channels, 1))
        self._t = torch.empty(0, dtype=torch.long)  # times and features of the observed events, by e_id
        self._msg = torch.empty(0, in_channels)

    def reset_state(self) -> None:
        self.memory.reset_state()
        self.neighbors.reset_state()
        self._t, self._msg = self._t[:0], self._msg[:0]

    def observe(self, batch: TemporalData) -> None:
        self.memory.update_state(batch.src, batch.dst, batch.t, batch.msg)
        self.neighbors.insert(batch.src, batch.dst)
        self._t, self._msg = torch.cat([self._t, batch.t.to(self._t)]), torch.cat([self._msg, batch.msg])
        self.memory.detach()

    def link_logits(self, history: TemporalData, src: Tensor, dst: Tensor, t: Tensor) -> Tensor:
        n_id, edge_index, e_id = self.neighbors(torch.cat([src, dst.reshape(-1)]).unique())
        local = torch.empty(self.memory.num_nodes, dtype=torch.long, device=src.device)
        local[n_id] = torch.arange(n_id.numel(), device=src.device)
        s, last_update = self.memory(n_id)
        age = (last_update[edge_index[1]] - self._t[e_id]).to(s.dtype)
        edge_attr = torch.cat([self.memory.time_enc(age), self._msg[e_id]], -1)
        z = self.conv(s, edge_index, edge_attr)
        h = self.lin_src(z[local[src]]).unsqueeze(1) + self.lin_dst(z[local[dst]])
        return self.out(h).squeeze(-1)
