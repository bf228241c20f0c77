r"""NeuroBack (Wang et al., "NeuroBack: Improving CDCL SAT Solving using Graph Neural Networks", ICLR 2024).

The official ``GTModel`` (``gt_model.py``, width 48) on NeuroBack's graph form (:mod:`gnnbench.data.sat`); the
relation of an edge is ``edge_attr + 1`` (0 negative literal, 1 root-clause, 2 positive literal). Four stages:

1. a local stack of relational GIN convolutions (:class:`RelationalGINConv`), the first 1 -> 48 on the
   LayerNorm of the scalar node feature, the others pre-norm residual :math:`x \leftarrow x + \mathrm{RGIN}(
   \mathrm{LN}(x))`;
2. ``graphtrans_blocks`` GraphTrans blocks :math:`x \leftarrow x + \mathrm{RGAT}(\mathrm{LN}(x)) +
   \mathrm{MLP}(\mathrm{LN}(x))`, RGAT being the sum over the three relations of a ``GATv2Conv`` (8 heads x 6
   channels, dropout 0.2, no self-loops, ``share_weights=False``) on that relation's edges (a relation without
   edges still adds its bias, as the official sum does);
3. ``decode_blocks`` blocks :math:`x \leftarrow x + \mathrm{MHA}(\mathrm{LN}(x)) + \mathrm{MLP}(\mathrm{LN}(x))`
   whose attention (8 heads, dropout 0.2) runs *within* each node: its 48-d vector is cut into 3 tokens of 16
   dims (memory linear in the graph size, no attention across nodes);

every MLP is Linear-GELU-Linear-GELU, as in the official ``RGINConv``, ``GTBlock`` and ``DTBlock``;
4. a head 48 -> 24 -> 12 -> 1 with GELU. ``forward`` returns the logit; ``sigmoid`` of it is the score
   P(variable is a **negative** backbone), the direction of the official code and labels (``y = 1`` negative).

The input LayerNorm over the single scalar feature is reproduced as specified; LayerNorm of a 1-d vector is its
bias alone, so the node kind (variable / clause / root) reaches the model only through the relation types of its
edges, which determine it (only variables have literal edges, only clauses have both kinds, the root only
root edges). One LayerNorm feeds both branches of a GraphTrans / decode block (``x + f(LN(x)) + g(LN(x))``, as
the official blocks compute it); dropout (0.2) applies only inside the attentions, the GATv2 and the intra-node
one, as there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATv2Conv, MessagePassing

from gnnbench import register_model
from gnnbench.hparams import HparamError

RELATIONS = 3  # negative literal, root-clause, positive literal


def _mlp(in_channels: int, out_channels: int) -> nn.Sequential:
    """Linear-GELU-Linear-GELU: the official model's MLP everywhere but its head."""
    return nn.Sequential(nn.Linear(in_channels, out_channels), nn.GELU(), nn.Linear(out_channels, out_channels),
                         nn.GELU())


class RelationalGINConv(MessagePassing):
    r"""NeuroBack's relational GIN: one MLP (Linear-GELU-Linear-GELU) and one learnable :math:`\epsilon_r` per
    relation,

    .. math::
        x_i' = \sum_{r \in R(i)} \Big( (1 + \epsilon_r) \sum_{j \in N_r(i)} \mathrm{MLP}_r(x_j) + x_i \Big),

    where :math:`R(i)` are the relations present in the graph: the official update adds the node's own state
    once per relation propagated (up to 3 copies), and :math:`(1 + \epsilon_r)` scales the neighbour messages,
    not the self term (unlike textbook GIN). With ``in_channels = 1`` the self term broadcasts over the output.
    """

    def __init__(self, in_channels: int, out_channels: int, num_relations: int = RELATIONS) -> None:
        super().__init__(aggr="add")
        if in_channels not in (1, out_channels):
            raise ValueError(f"the self term needs in_channels 1 or {out_channels}, got {in_channels}")
        self.mlps = nn.ModuleList(_mlp(in_channels, out_channels) for _ in range(num_relations))
        self.eps = nn.Parameter(torch.zeros(num_relations))

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Tensor) -> Tensor:
        terms = [(1 + self.eps[r]) * self.propagate(edge_index[:, edge_type == r], x=mlp(x)) + x
                 for r, mlp in enumerate(self.mlps) if bool((edge_type == r).any())]
        if not terms:
            raise ValueError("RelationalGINConv needs a graph with edges (every CNF component has some)")
        return torch.stack(terms).sum(0)

    def message(self, x_j: Tensor) -> Tensor:
        return x_j


class RelationalGATv2(nn.Module):
    """Sum over relations of one ``GATv2Conv`` each, applied to that relation's edges only; a relation without
    edges contributes its conv's bias."""

    def __init__(self, channels: int, heads: int, dropout: float, num_relations: int = RELATIONS) -> None:
        super().__init__()
        self.convs = nn.ModuleList(GATv2Conv(channels, channels // heads, heads=heads, dropout=dropout,
                                             add_self_loops=False, share_weights=False)
                                   for _ in range(num_relations))

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Tensor) -> Tensor:
        return sum(conv(x, edge_index[:, edge_type == r]) for r, conv in enumerate(self.convs))


class GraphTransBlock(nn.Module):
    r""":math:`x + \mathrm{RGAT}(\mathrm{LN}(x)) + \mathrm{MLP}(\mathrm{LN}(x))`."""

    def __init__(self, channels: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)
        self.attention = RelationalGATv2(channels, heads, dropout)
        self.mlp = _mlp(channels, channels)

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Tensor) -> Tensor:
        h = self.norm(x)
        return x + self.attention(h, edge_index, edge_type) + self.mlp(h)


class IntraNodeAttention(nn.Module):
    """Self-attention among the ``patches`` slices of each node's own vector (never across nodes): a QKV
    projection per token, then ``nn.MultiheadAttention`` over the node's ``patches`` tokens."""

    def __init__(self, channels: int, patches: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.patches, self.dim = patches, channels // patches
        self.qkv = nn.Linear(self.dim, 3 * self.dim)
        self.attention = nn.MultiheadAttention(self.dim, heads, dropout=dropout, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        tokens = x.view(x.size(0), self.patches, self.dim)
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)
        out, _ = self.attention(q, k, v, need_weights=False)
        return out.reshape(x.size(0), -1)


class DecodeBlock(nn.Module):
    r""":math:`x + \mathrm{MHA}_{\text{intra-node}}(\mathrm{LN}(x)) + \mathrm{MLP}(\mathrm{LN}(x))`."""

    def __init__(self, channels: int, patches: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)
        self.attention = IntraNodeAttention(channels, patches, heads, dropout)
        self.mlp = _mlp(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        h = self.norm(x)
        return x + self.attention(h) + self.mlp(h)


@register_model("neuroback", paper="Wang et al., ICLR 2024 (arXiv 2110.14053)", tasks=("sat_solving",),
                defaults={"lr": 1e-4, "batch_size": 2, "clip_norm": 1.0})
class NeuroBack(nn.Module):
    """NeuroBack's GTModel: relational GIN, GATv2-per-relation GraphTrans and intra-node attention blocks;
    per-node logit of P(negative backbone)."""

    @staticmethod
    def check_hparams(hparams: Mapping[str, Any], device: str = "cpu") -> None:
        """Counts below their range, and widths the attention cannot split: a suite that sets one fails when it
        loads, naming the key. Each of
        the ``heads`` GATv2 heads gets ``hidden_channels / heads`` channels; each node's vector is cut into
        ``patches`` tokens, each split among ``patch_heads`` heads."""
        hidden, patches = hparams["hidden_channels"], hparams["patches"]
        for key, what in (("gin_layers", "the relational GIN layers"), ("patches", "each node's tokens")):
            if hparams[key] < 1:
                raise HparamError(key, f"{key} counts {what}: expected at least 1, got {hparams[key]}")
        for key in ("graphtrans_blocks", "decode_blocks"):
            if hparams[key] < 0:
                raise HparamError(key, f"{key} is a count: expected at least 0, got {hparams[key]}")
        if hidden % hparams["heads"]:
            raise HparamError("heads", f"hidden_channels ({hidden}) must be divisible by heads ({hparams['heads']})")
        if hidden % patches:
            raise HparamError("patches", f"hidden_channels ({hidden}) must be divisible by patches ({patches})")
        if (hidden // patches) % hparams["patch_heads"]:
            raise HparamError("patch_heads", f"each patch's {hidden // patches} channels (hidden_channels / "
                                             f"patches) must be divisible by patch_heads ({hparams['patch_heads']})")

    def __init__(self, in_channels: int = 1, out_channels: int = 1, hidden_channels: int = 48, gin_layers: int = 4,
                 graphtrans_blocks: int = 2, decode_blocks: int = 3, heads: int = 8, patches: int = 3,
                 patch_heads: int = 8, dropout: float = 0.2) -> None:
        self.check_hparams(locals())
        super().__init__()
        if out_channels != 1:
            raise ValueError(f"NeuroBack predicts one score per node; out_channels must be 1, got {out_channels}")
        self.input_norm = nn.LayerNorm(in_channels)
        self.gin = nn.ModuleList([RelationalGINConv(in_channels, hidden_channels)] +
                                 [RelationalGINConv(hidden_channels, hidden_channels) for _ in range(gin_layers - 1)])
        self.gin_norms = nn.ModuleList(nn.LayerNorm(hidden_channels) for _ in range(gin_layers - 1))
        self.graphtrans = nn.ModuleList(GraphTransBlock(hidden_channels, heads, dropout)
                                        for _ in range(graphtrans_blocks))
        self.decode = nn.ModuleList(DecodeBlock(hidden_channels, patches, patch_heads, dropout)
                                    for _ in range(decode_blocks))
        self.head = nn.Sequential(nn.Linear(hidden_channels, hidden_channels // 2), nn.GELU(),
                                  nn.Linear(hidden_channels // 2, hidden_channels // 4), nn.GELU(),
                                  nn.Linear(hidden_channels // 4, 1))

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        """Logits, one per node (only variable nodes are meaningful)."""
        edge_type = edge_attr.view(-1).long() + 1
        h = self.gin[0](self.input_norm(x), edge_index, edge_type)
        for conv, norm in zip(self.gin[1:], self.gin_norms, strict=True):
            h = h + conv(norm(h), edge_index, edge_type)
        for block in self.graphtrans:
            h = block(h, edge_index, edge_type)
        for block in self.decode:
            h = block(h)
        return self.head(h).view(-1)
