r"""Todyformer: a dynamic-graph Transformer with structure-aware tokenization (Biparva, Karimi, Faez & Zhang,
"Todyformer: Towards Holistic Dynamic Graph Transformers with Structure-Aware Tokenization", TMLR 2024,
arXiv 2402.05944).

**No reference code exists** (the authors' folder holds a README only), so this follows the paper's
description: its architecture figure, abstract and reviews. The choices the paper leaves open are named
hyperparameters where they change the architecture (``causal``, ``readout``, ``norm_first``, the node2vec
encoding, the sizes); the defaults are ours and are documented in ``docs/models/todyformer.md``.

For a batch of target events whose first time is :math:`t_0`:

1. **Window.** The :math:`E = M \cdot S` most recent events strictly before :math:`t_0` (``num_patches`` M,
   ``patch_size`` S). Events at or after :math:`t_0` are cut off here, whatever the caller passes.
2. **Patchify.** The window, in time order, is split into M contiguous, non-overlapping patches
   :math:`P_1, \dots, P_M` (event :math:`j` of :math:`n` goes to patch :math:`\lfloor jM/n \rfloor`).
3. **Tokenize (local encoder).** Every (patch, node) occurrence is a token. One temporal-attention MPNN with
   weights shared across patches runs on each patch's graph separately (both directions of every event; no
   message crosses a patch boundary):

   .. math::
       h'_{m,v} = \mathrm{LN}\Big(h_{m,v} + W_s h_{m,v} + \sum_{(u,v,t_e) \in P_m} \alpha_{uv}\,
       W_v\big(h_{m,u} \,\Vert\, \phi(t_0 - t_e) \,\Vert\, x_e\big)\Big)

   (PyG ``TransformerConv`` with the edge's time encoding :math:`\phi` of its age, see
   :mod:`gnnbench.models.time_encoding`, and its features :math:`x_e`; :math:`W_s` is its root weight,
   ``root_weight=True``, PyG's default).
4. **Pack.** Tokens are regrouped node-wise into a sequence
   :math:`[h_{1,v}, \dots, h_{M,v}, r_v]` of the node's M patch tokens (a key-padding mask hides patches the
   node is absent from) and a read-out token :math:`r_v` that carries the node's state across blocks.
5. **Global encoder.** A Transformer encoder layer (pre-LN; ``norm_first = False``: post-LN) over each node's
   sequence, with a temporal positional encoding :math:`\psi(t_0 - \max_{e \in P_m} t_e)` of each patch's age
   (age 0 for :math:`r_v`). Bidirectional: every patch precedes the batch; ``causal`` lets patch m attend to
   patches :math:`\le m` only.
6. **Unpack.** Patch positions go back to their tokens, the input of the next block's local encoder.
7. Steps 3-6 repeat L = ``num_blocks`` times; :math:`z_v = r_v` (``readout = "last_patch"``: the node's token
   in the latest patch it occurs in, :math:`r_v` where it occurs in none) and a pair scores
   :math:`\mathrm{MLP}([z_u \Vert z_v])`, trained with BCE against sampled negative destinations.

``global_encoder = False`` (with ``num_patches = 1``: the registered ``todyformer_m1``, a window of one patch) is
the ablation without steps 4-6: :math:`z_v` is then the node's token in the latest
patch where it occurs (a learned vector when it occurs in none).

**Node2vec positional encoding** (``node2vec_dim > 0``; off by default). The paper's figure feeds a "Positional
Encoding" computed from the graph into the global encoder, and a review names it node2vec. Before training
(:meth:`Todyformer.fit`, the protocol hook) PyG's :class:`~torch_geometric.nn.Node2Vec` is fitted once on the
**training events only** (the task's ``split.train``: never a validation or test event), on the undirected
interaction multigraph, with walks starting from the nodes of the training events. The embedding is then frozen;
a learned bias-free linear map adds :math:`W p_v` to every position of node :math:`v`'s sequence in step 5.
Nodes without a training event get :math:`p_v = 0`, so no positional term (the inductive setting's new nodes).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, Literal, get_args
from unittest import mock

import torch
import torch_geometric.typing
from torch import Tensor, nn
from torch.utils.data import DataLoader
from torch_geometric.data import TemporalData
from torch_geometric.nn import MLP, Node2Vec, TransformerConv
from torch_geometric.nn.models import node2vec as pyg_node2vec

from gnnbench.errors import GnnbenchError
from gnnbench.hparams import HparamError
from gnnbench.models.time_encoding import time_encoder
from gnnbench.registry import register_model
from gnnbench.tasks.base import Budget, FitResult, RunContext
from gnnbench.tasks.temporal_link import StreamSplit, TemporalLinkModel, TemporalLinkPrediction

PAPER = "Biparva et al., TMLR 2024 (arXiv 2402.05944)"
Readout = Literal["token", "last_patch"]


def window(history: TemporalData, t0: Tensor, size: int) -> TemporalData:
    """The last ``size`` events of ``history`` strictly before ``t0`` (nothing at or after ``t0`` gets in)."""
    end = int(torch.searchsorted(history.t, t0.reshape(1).to(history.t.dtype), right=False))
    return history[max(0, end - size):end]


def patchify(num_events: int, num_patches: int) -> Tensor:
    """Patch index of each of ``num_events`` time-ordered events: M contiguous, non-overlapping, near-equal runs."""
    return torch.arange(num_events) * num_patches // max(num_events, 1)


def pack(tokens: Tensor, node: Tensor, patch: Tensor, num_nodes: int, num_patches: int) -> tuple[Tensor, Tensor]:
    """Tokens ``[T, d]`` of (node, patch) occurrences -> ``[num_nodes, num_patches, d]`` and a presence mask."""
    dense = tokens.new_zeros(num_nodes, num_patches, tokens.size(-1))
    dense = dense.index_put((node, patch), tokens)
    present = torch.zeros(num_nodes, num_patches, dtype=torch.bool, device=tokens.device)
    present[node, patch] = True
    return dense, present


def unpack(dense: Tensor, node: Tensor, patch: Tensor) -> Tensor:
    """The inverse of :func:`pack` on the occupied positions."""
    return dense[node, patch]


def node2vec_model(edge_index: Tensor, num_nodes: int, **kwargs: Any) -> Node2Vec:
    """PyG's :class:`~torch_geometric.nn.Node2Vec` (its sampling, loss and embedding) on ``edge_index``.

    PyG >= 2.7 draws the walks with pyg-lib's ``random_walk`` and refuses to start without pyg-lib, which has no
    PyPI release. torch-cluster's ``random_walk`` op (what PyG's Node2Vec called up to 2.6) takes the same
    arguments, and Node2Vec still unpacks its ``(nodes, edges)`` output; so without pyg-lib the model is built
    with torch-cluster's kernel in place of pyg-lib's.
    """
    if torch_geometric.typing.WITH_PYG_LIB:
        return Node2Vec(edge_index, num_nodes=num_nodes, sparse=True, **kwargs)
    try:
        import torch_cluster  # noqa: F401  (registers torch.ops.torch_cluster)
    except ImportError:
        raise GnnbenchError(
            "todyformer: node2vec_dim > 0 turns on the node2vec positional encoding, whose random walks need "
            "torch-cluster (or pyg-lib), and neither is installed: pip install setuptools wheel && "
            "pip install --no-build-isolation 'torch-cluster>=1.6' (gnnbench's 'cluster' extra; it builds from "
            "source against the installed torch), or set node2vec_dim: 0") from None
    walks = SimpleNamespace(random_walk=torch.ops.torch_cluster.random_walk)
    with mock.patch.object(pyg_node2vec, "WITH_PYG_LIB", True), mock.patch.object(torch.ops, "pyg", walks):
        return Node2Vec(edge_index, num_nodes=num_nodes, sparse=True, **kwargs)


@register_model("todyformer", paper=PAPER, tasks=("temporal_link",), defaults={"lr": 1e-3})
@register_model("todyformer_m1", paper=PAPER, tasks=("temporal_link",),
                defaults={"lr": 1e-3, "num_patches": 1, "global_encoder": False})
class Todyformer(TemporalLinkModel):
    """Todyformer: patch-wise temporal MPNN tokens, node-wise Transformer over patches, alternated L times."""

    #: node2vec's own training (PyG's example): SparseAdam at this learning rate, batches of this many start nodes
    NODE2VEC_LR, NODE2VEC_BATCH = 0.01, 128

    @staticmethod
    def check_hparams(hparams: Mapping[str, Any], device: str = "cpu") -> None:
        """Counts below 1 (a window of no patch or no event, no block: a blind model, recorded at chance) and
        combinations no constructor accepts: a suite that sets one fails when it loads, naming the key."""
        for key, what in (("num_patches", "patches per window"), ("patch_size", "events per patch"),
                          ("num_blocks", "the alternating local and global blocks")):
            if hparams[key] < 1:
                raise HparamError(key, f"{key} counts {what}: expected at least 1, got {hparams[key]}")
        if hparams["hidden_channels"] % hparams["heads"]:
            raise HparamError("heads", f"hidden_channels ({hparams['hidden_channels']}) must be divisible by heads "
                                       f"({hparams['heads']})")
        if hparams["readout"] not in get_args(Readout):
            raise HparamError("readout", f"readout must be one of {get_args(Readout)}, got {hparams['readout']!r}")
        if not hparams["global_encoder"]:
            for key, needs in (("causal", "causal masks the global encoder's attention"),
                               ("node2vec_dim", "node2vec_dim > 0 feeds a positional encoding to the global encoder")):
                if hparams[key]:
                    raise HparamError(key, f"{needs}, so it needs global_encoder: true")
        if hparams["node2vec_dim"] < 0:
            raise HparamError("node2vec_dim", f"node2vec_dim is a width (0: no positional encoding): expected at "
                                              f"least 0, got {hparams['node2vec_dim']}")
        if not hparams["node2vec_dim"]:
            return
        for key in ("node2vec_walk_length", "node2vec_context_size", "node2vec_walks_per_node"):
            if hparams[key] < 1:
                raise HparamError(key, f"{key} is a count: expected at least 1, got {hparams[key]}")
        if hparams["node2vec_context_size"] > hparams["node2vec_walk_length"]:
            raise HparamError("node2vec_context_size",
                              f"node2vec_context_size ({hparams['node2vec_context_size']}) must not exceed "
                              f"node2vec_walk_length ({hparams['node2vec_walk_length']})")
        for key in ("node2vec_p", "node2vec_q"):
            if not hparams[key] > 0:
                raise HparamError(key, f"{key} weighs the walk's return and in-out moves: expected a positive "
                                       f"number, got {hparams[key]}")

    @staticmethod
    def unread_hparams(hparams: Mapping[str, Any]) -> dict[str, str]:
        """node2vec's settings without node2vec: each would be another run id for the same runs."""
        if hparams["node2vec_dim"]:
            return {}
        return {key: "node2vec_dim is 0 (no positional encoding is fitted)" for key in hparams
                if key.startswith("node2vec_") and key != "node2vec_dim"}

    def __init__(self, in_channels: int, out_channels: int, num_nodes: int, hidden_channels: int = 64,
                 time_channels: int = 32, num_patches: int = 8, patch_size: int = 32, num_blocks: int = 2,
                 heads: int = 2, dropout: float = 0.1, global_encoder: bool = True, causal: bool = False,
                 readout: Readout = "token", norm_first: bool = True, node2vec_dim: int = 0,
                 node2vec_walk_length: int = 20, node2vec_context_size: int = 10, node2vec_walks_per_node: int = 10,
                 node2vec_p: float = 1.0, node2vec_q: float = 1.0, node2vec_epochs: int = 100) -> None:
        self.check_hparams(locals())
        super().__init__()
        self.num_patches, self.patch_size, self.global_encoder = num_patches, patch_size, global_encoder
        self.causal, self.readout_from = causal, readout
        self.num_nodes, self.node2vec_dim, self.node2vec_epochs = num_nodes, node2vec_dim, node2vec_epochs
        self.node2vec_walks = {"walk_length": node2vec_walk_length, "context_size": node2vec_context_size,
                               "walks_per_node": node2vec_walks_per_node, "p": node2vec_p, "q": node2vec_q}
        self.time_encoder = time_encoder(time_channels)
        self.position_encoder = time_encoder(hidden_channels)
        self.token = nn.Parameter(torch.zeros(hidden_channels))
        self.readout = nn.Parameter(torch.zeros(hidden_channels))
        self.local = nn.ModuleList(
            TransformerConv(hidden_channels, hidden_channels // heads, heads=heads, dropout=dropout,
                            edge_dim=time_channels + in_channels) for _ in range(num_blocks))
        self.local_norm = nn.ModuleList(nn.LayerNorm(hidden_channels) for _ in range(num_blocks))
        self.globals = nn.ModuleList(
            nn.TransformerEncoderLayer(hidden_channels, heads, 2 * hidden_channels, dropout, batch_first=True,
                                       norm_first=norm_first) for _ in range(num_blocks if global_encoder else 0))
        self.decoder = MLP([2 * hidden_channels, hidden_channels, 1], dropout=dropout, norm=None)
        # fitted on the training events by ``fit_positional_encoding`` (done by ``fit``); frozen, not a parameter.
        # Built last, so the other parameters start the same with the encoding on or off.
        self.register_buffer("node2vec", None, persistent=False)
        self.node2vec_proj = nn.Linear(node2vec_dim, hidden_channels, bias=False) if node2vec_dim else None

    def fit(self, task: TemporalLinkPrediction, split: StreamSplit, hparams: dict[str, Any], budget: Budget,
            ctx: RunContext) -> FitResult:
        """The protocol hook: fit the node2vec encoding (when on) on the training events, then the task's loop."""
        if self.node2vec_dim:
            self.fit_positional_encoding(split.train, ctx.seed)
        return task.fit(self, split, hparams, budget, ctx)

    def fit_positional_encoding(self, train: TemporalData, seed: int) -> None:
        """Fit node2vec on the events of ``train`` alone and freeze it; nodes they do not touch get zeros.

        Seeded by the run seed inside a forked RNG, so the encoding depends on ``train`` and ``seed`` only and the
        model's own training draws the same random numbers with the encoding on or off. (With ``p`` or ``q`` other
        than 1, torch-cluster's biased walks draw from C's ``rand()`` and are not reproducible.)
        """
        edge_index = torch.stack([torch.cat([train.src, train.dst]), torch.cat([train.dst, train.src])]).cpu()
        seen = torch.unique(edge_index[0])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            n2v = node2vec_model(edge_index, self.num_nodes, embedding_dim=self.node2vec_dim, **self.node2vec_walks)
            optimizer = torch.optim.SparseAdam(list(n2v.parameters()), lr=self.NODE2VEC_LR)
            loader = DataLoader(seen.tolist(), batch_size=self.NODE2VEC_BATCH, shuffle=True, collate_fn=n2v.sample)
            for _ in range(self.node2vec_epochs):
                for pos_rw, neg_rw in loader:
                    optimizer.zero_grad()
                    n2v.loss(pos_rw, neg_rw).backward()
                    optimizer.step()
        embedding = torch.zeros(self.num_nodes, self.node2vec_dim)
        embedding[seen] = n2v.embedding.weight.detach()[seen]
        self.node2vec = embedding.to(self.token.device)

    def link_logits(self, history: TemporalData, src: Tensor, dst: Tensor, t: Tensor) -> Tensor:
        z, index = self.embed(history, torch.cat([src, dst.reshape(-1)]), t.min())
        z_src = z[index[:src.numel()]].unsqueeze(1).expand(-1, dst.size(1), -1)
        z_dst = z[index[src.numel():]].view(*dst.shape, -1)
        return self.decoder(torch.cat([z_src, z_dst], -1)).squeeze(-1)

    def embed(self, history: TemporalData, query: Tensor, t0: Tensor) -> tuple[Tensor, Tensor]:
        """Embeddings of the window's nodes and the queried ones, and each query's row."""
        events = window(history, t0, self.num_patches * self.patch_size)
        nodes, inverse = torch.unique(torch.cat([events.src, events.dst, query]), return_inverse=True)
        n_events = events.num_events
        patch = patchify(n_events, self.num_patches).to(query.device).repeat(2)
        ends = inverse[:2 * n_events]
        tokens, token_of = torch.unique(patch * nodes.numel() + ends, return_inverse=True)
        tok_patch, tok_node = tokens // nodes.numel(), tokens % nodes.numel()
        edge_index = torch.stack([token_of, token_of.roll(n_events)])  # src->dst and dst->src, same patch
        event_age = t0 - events.t  # exact in the stream's dtype: float32 steps 128 s apart at Unix times
        edge_attr = torch.cat([self.time_encoder(event_age.to(torch.float).repeat(2)), events.msg.repeat(2, 1)], -1)
        patch_age = torch.zeros(self.num_patches + 1, device=query.device)
        if n_events:  # a patch's age is that of its newest event (0 for a patch without events)
            newest = event_age.new_zeros(self.num_patches).scatter_reduce(0, patch[:n_events], event_age, "amin",
                                                                          include_self=False)
            patch_age[:-1] = newest.to(torch.float)
        position = self.position_encoder(patch_age)
        if self.node2vec_proj is not None:
            if self.node2vec is None:
                raise RuntimeError("Todyformer: call fit_positional_encoding (done by fit) before scoring")
            position = position + self.node2vec_proj(self.node2vec[nodes]).unsqueeze(1)
        h = self.token.expand(tokens.numel(), -1)
        r = self.readout.expand(nodes.numel(), -1)
        for k, (conv, norm) in enumerate(zip(self.local, self.local_norm, strict=True)):
            h = norm(h + conv(h, edge_index, edge_attr))
            if self.global_encoder:
                dense, present = pack(h, tok_node, tok_patch, nodes.numel(), self.num_patches)
                seq = torch.cat([dense, r.unsqueeze(1)], 1) + position
                pad = torch.cat([~present, present.new_zeros(nodes.numel(), 1)], 1)
                seq = self.attend(self.globals[k], seq, pad)
                h, r = unpack(seq, tok_node, tok_patch), seq[:, -1]
        if not self.global_encoder or self.readout_from == "last_patch":  # nothing updates r without the encoder
            r = self.latest_token(h, tok_node, tok_patch, r)
        return r, inverse[2 * n_events:]

    def attend(self, layer: nn.TransformerEncoderLayer, seq: Tensor, pad: Tensor) -> Tensor:
        """One global layer over each node's sequence ``[patch_1 .. patch_M, r]``, never attending to padding.

        ``causal``: patch m attends to patches <= m only; the read-out token, last, to every patch. Each position
        also attends to itself, so the padding's own rows (discarded) never have every key masked."""
        if not self.causal:
            return layer(seq, src_key_padding_mask=pad)
        length = seq.size(1)
        earlier = torch.ones(length, length, dtype=torch.bool, device=seq.device).tril()
        allowed = (earlier & ~pad.unsqueeze(1)) | torch.eye(length, dtype=torch.bool, device=seq.device)
        return layer(seq, src_mask=~allowed.repeat_interleave(layer.self_attn.num_heads, 0))  # node-major

    def latest_token(self, h: Tensor, node: Tensor, patch: Tensor, default: Tensor) -> Tensor:
        """Each node's token in the latest patch it occurs in; ``default`` where it occurs in none."""
        dense, present = pack(h, node, patch, default.size(0), self.num_patches)
        latest = (present * torch.arange(1, self.num_patches + 1, device=h.device)).argmax(1)
        chosen = dense[torch.arange(default.size(0), device=h.device), latest]
        return torch.where(present.any(1, keepdim=True), chosen, default)
