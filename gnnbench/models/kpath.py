r"""k-path rooted-subgraph GNN for graph-level tasks, on the closest published, verifiable designs.

**What this is, and is not.** The paper that names the model (Li et al., arXiv 2501.00773v1, "Revisiting
Graph Neural Networks on Graph-level Tasks") defines it only in its abstract: expressivity through "a k-path
rooted subgraph approach, enabling the model to effectively count subgraphs (e.g., paths and cycles)" and "a
unified graph contrastive learning algorithm ... which adaptively removes unimportant edges". It ships no code
and its body could not be verified. gnnbench therefore builds it from two published designs and says so:

* **k-path rooted subgraphs as in PathNN** (Michel et al., ICML 2023): the rooted subgraph of a node v is the
  set of simple paths of length <= k that start at v. Layer l encodes every path of length l rooted at v with
  an LSTM shared across layers, reading the path from its far end towards v (each node's state concatenated
  with an embedding of its shortest-path distance to v when ``encode_distances``), sums them per root and
  adds the result to v's state:

  .. math::
      h^{(l)}_v = \mathrm{ReLU}\Big(\mathrm{BN}\big(h^{(l-1)}_v + \sum_{p \in P_l(v)}
                  \mathrm{LSTM}\big([h^{(l-1)}_{p_l} \| d_{p_l}], \ldots, [h^{(l-1)}_{p_0} \| d_{p_0}]\big)\big)\Big)

  then sum pooling and a two-layer head. ``paths`` selects PathNN's variants: ``all`` simple paths (AP),
  every ``shortest`` path (SP+), or ``one_shortest`` per (root, end) pair (SP). A path of length L-1 whose end
  sits at distance 1 from the root closes an L-cycle: that is how the model counts triangles and 4-cycles,
  which 1-WL message passing cannot (the distance encoding marks that end; without it, all paths at k = 2
  do not tell a 6-cycle from two triangles).
* **adaptive edge removal with contrastive learning as in GCA** (Zhu et al., WWW 2021), optional: two views
  drop each undirected edge with a probability that falls with the degree centrality of its endpoints (the
  least central edges go first), and an NT-Xent loss between the two views' graph embeddings is added to the
  task's loss with weight ``contrast_weight`` (0 turns it off, the default). Paths of a view are the
  precomputed paths whose edges all survive: with ``paths="all"`` and no cap exactly the view's simple paths,
  though their distance encodings stay the full graph's (a view does not recompute distances to the root);
  under the shortest-path selections a path that becomes shortest only in the view is missing.

Paths are enumerated once per graph (:class:`RootedPaths`, vectorised, cached on the dataset) with ``k`` and
``max_paths_per_node`` as hyperparameters.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import global_add_pool
from torch_geometric.transforms import BaseTransform
from torch_geometric.utils import scatter

from gnnbench.data.paths import PATH_KINDS, PathKind, distances, select, simple_paths
from gnnbench.hparams import HparamError
from gnnbench.registry import register_model


class RootedPaths(BaseTransform):
    """Adds ``path_index_l`` (``[l + 1, P_l]``, root in row 0; ``index`` in the name makes PyG offset it when
    batching) and ``path_dist_l`` (``[P_l, l + 1]``, each node's hop distance to the root) for l = 1..k."""

    def __init__(self, k: int, kind: PathKind = "all", max_per_root: int | None = None, seed: int = 0) -> None:
        if kind not in PATH_KINDS:
            raise ValueError(f"paths must be one of {PATH_KINDS}, got {kind!r}")
        self.k, self.kind, self.max_per_root, self.seed = k, kind, max_per_root, seed

    def forward(self, data: Data) -> Data:
        n = data.num_nodes
        gen = torch.Generator().manual_seed(self.seed)
        dist = distances(data.edge_index, n)
        for length, paths in enumerate(simple_paths(data.edge_index, n, self.k, self.max_per_root, gen)[1:], 1):
            paths = select(paths, self.kind, dist)
            data[f"path_index_{length}"] = paths.t().contiguous()
            data[f"path_dist_{length}"] = dist[paths[:, :1], paths]
        return data


class PathConv(nn.Module):
    r"""One path length :math:`l`: every path encoded by the shared LSTM, summed per root, residual, BN, ReLU.

    .. math::
        h_v' = \mathrm{ReLU}\Big(\mathrm{BN}\big(h_v + \sum_{p \in \mathcal P_l(v)}
        \mathrm{LSTM}\big([h_u \,\|\, e(d_v(u))]_{u \in p}\big)\big)\Big)

    with :math:`\mathcal P_l(v)` the paths of length :math:`l` rooted at :math:`v`, read far end first, and
    :math:`e(d_v(u))` the embedding of :math:`u`'s distance to the root (left out without distances)."""

    def __init__(self, hidden_channels: int, lstm: nn.LSTM, distance: nn.Embedding | None, dropout: float) -> None:
        super().__init__()
        self.lstm, self.distance, self.dropout = lstm, distance, dropout
        self.norm = nn.BatchNorm1d(hidden_channels)

    def forward(self, h: Tensor, path_index: Tensor, path_dist: Tensor) -> Tensor:
        agg = scatter(self.encode(h, path_index, path_dist), path_index[0], dim=0, dim_size=h.size(0), reduce="sum")
        return F.relu(self.norm(h + agg))

    def encode(self, h: Tensor, path_index: Tensor, path_dist: Tensor) -> Tensor:
        """The LSTM's last hidden state for every path read far end first, ``[P, hidden]``: nn.LSTM's
        equations (gates i, f, g, o), computed so that paths, which outnumber nodes many times over, cost less.

        A path's input at a step is a node's state and that node's distance to the root, so
        ``W_ih [h_u || d] = W_h h_u + W_d d`` is computed once per node and once per distance and gathered per
        path, and the first step, which starts from the zero state, is computed once per (node, distance)
        pair. Training with dropout (on the inputs, per path and step, as nn.LSTM's input) projects per path.
        """
        lstm = self.lstm
        bias = lstm.bias_ih_l0 + lstm.bias_hh_l0
        steps, dists = path_index.flip(0), path_dist.flip(1).t()  # [l + 1, P] each, far end first
        if self.training and self.dropout > 0:
            state = cell = None
            for step, dist in zip(steps, dists, strict=True):
                x = h[step] if self.distance is None else torch.cat([h[step], self.distance(dist)], dim=-1)
                gates = F.linear(F.dropout(x, self.dropout, True), lstm.weight_ih_l0, bias)
                state, cell = _lstm_cell(gates if state is None else torch.addmm(gates, state, lstm.weight_hh_l0.t()),
                                         cell)
            return state
        if self.distance is None:
            node_in, dist_in = F.linear(h, lstm.weight_ih_l0, bias), h.new_zeros(1, 4 * h.size(1))
            dists = torch.zeros_like(dists)
        else:
            w_node, w_dist = lstm.weight_ih_l0.split(h.size(1), dim=1)
            node_in, dist_in = F.linear(h, w_node, bias), F.linear(self.distance.weight, w_dist)
        first_state, first_cell = _lstm_cell((node_in.unsqueeze(1) + dist_in).flatten(0, 1), None)
        key = steps[0] * dist_in.size(0) + dists[0]
        state, cell = first_state.index_select(0, key), first_cell.index_select(0, key)
        for step, dist in zip(steps[1:], dists[1:], strict=True):
            gates = node_in.index_select(0, step) + dist_in.index_select(0, dist)
            state, cell = _lstm_cell(torch.addmm(gates, state, lstm.weight_hh_l0.t()), cell)
        return state


def _lstm_cell(gates: Tensor, cell: Tensor | None) -> tuple[Tensor, Tensor]:
    """nn.LSTM's update from the summed gate pre-activations (i, f, g, o); ``cell=None`` is the zero state."""
    i, f, g, o = gates.chunk(4, dim=1)
    update = torch.sigmoid(i) * torch.tanh(g)
    cell = update if cell is None else torch.sigmoid(f) * cell + update
    return torch.sigmoid(o) * torch.tanh(cell), cell


def edge_drop_probabilities(edge_index: Tensor, num_nodes: int, batch: Tensor, mean_rate: float,
                            max_rate: float = 0.7) -> Tensor:
    """GCA's degree-centrality drop probabilities, per graph of the batch:
    ``p_e = min((s_max - s_e) / (s_max - s_mean) * mean_rate, max_rate)`` with ``s_e = log`` of the mean
    degree of e's endpoints, so an edge's two directions share one probability. A graph whose edges are all
    equally central (a cycle, a clique, a star: 139 of IMDB-BINARY's 1,000 graphs) makes the formula 0 / 0; its
    edges drop with ``mean_rate`` each, rather than never, which would leave both of its views the graph itself.
    In float64: in float32 the mean of equal centralities misses their maximum by up to 1e-5 (IMDB-BINARY's
    cliques), and that noise over itself gave arbitrary probabilities; in float64 it stays below 1e-13, and the
    smallest real spread in the TU sets is 0.04."""
    deg = torch.bincount(edge_index[0], minlength=num_nodes).double()
    s = torch.log((deg[edge_index[0]] + deg[edge_index[1]]) / 2)
    graph = batch[edge_index[0]]
    s_max = scatter(s, graph, dim=0, reduce="max")[graph]
    spread = s_max - scatter(s, graph, dim=0, reduce="mean")[graph]
    even = spread <= 1e-9
    p = torch.where(even, mean_rate, (s_max - s) / torch.where(even, 1.0, spread) * mean_rate)
    return p.clamp(0.0, max_rate).float()


def drop_edges(edge_index: Tensor, p: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Keep mask over directed edges: each undirected edge is kept or dropped as a whole, with probability p."""
    u, v = edge_index
    lo, hi = torch.minimum(u, v), torch.maximum(u, v)
    n = int(edge_index.max()) + 1 if edge_index.numel() else 0
    key, inverse = torch.unique(lo * n + hi, return_inverse=True)
    p_und = torch.zeros(key.numel(), device=p.device).scatter_reduce(0, inverse, p, "amax", include_self=False)
    keep = torch.rand(key.numel(), generator=generator, device=p.device) >= p_und
    return keep[inverse]


@contextlib.contextmanager
def running_statistics_kept(module: nn.Module) -> Iterator[None]:
    """Batch norms inside the block normalise by the batch's own statistics, as in training, without folding
    them into the running statistics that evaluation uses: the edge-dropped views of the contrastive loss are
    not the clean graphs the model is scored on (GCA's encoder has no batch norm to say otherwise)."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    for norm in norms:
        norm.track_running_stats = False
    try:
        yield
    finally:
        for norm in norms:
            norm.track_running_stats = True


def nt_xent(z1: Tensor, z2: Tensor, temperature: float) -> Tensor:
    """SimCLR's NT-Xent: each graph's two views are positives, every other graph in the batch a negative."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.t() / temperature
    sim.fill_diagonal_(-math.inf)
    n = z1.size(0)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(sim, target)


@register_model("kpath", paper="Li et al., arXiv 2501.00773v1 (built on PathNN, Michel et al. ICML 2023, and "
                "GCA, Zhu et al. WWW 2021)",
                tasks=("graph_classification", "graph_regression", "ogb_graph_classification", "ogb_graph_regression",
                       "inductive_node_regression", "inductive_node_classification"),
                defaults={"lr": 1e-3, "weight_decay": 0.0})
class KPathGNN(nn.Module):
    """k-path rooted-subgraph GNN (see the module docstring for what is built from which paper).

    Defaults are one point of PathNN's TU grid: hidden 64, k = 3 (its "cutoff" 4 counts nodes), all simple
    paths with distance encoding, dropout 0. The graph task passes its ``level``: one output row per graph (sum
    pooling) for graph-level targets, one per node (no pooling) for node-level ones.
    """

    takes_batch = True  # reads the precomputed paths from the batch, not just (x, edge_index, batch)

    @staticmethod
    def check_hparams(hparams: Mapping[str, Any], device: str = "cpu") -> None:
        """Settings no run could use: a suite that sets one fails when it loads, naming the key."""
        if hparams["k"] < 1:
            raise HparamError("k", f"k (the longest path) must be >= 1, got {hparams['k']}")
        if hparams["max_paths_per_node"] is not None and hparams["max_paths_per_node"] < 1:
            raise HparamError("max_paths_per_node", "max_paths_per_node must be >= 1 (or null: every path), got "
                                                    f"{hparams['max_paths_per_node']}")
        if not 0 <= hparams["drop_rate"] <= 1:
            raise HparamError("drop_rate", f"drop_rate is a probability: expected a number in [0, 1], got "
                                           f"{hparams['drop_rate']}")
        if not hparams["temperature"] > 0:
            raise HparamError("temperature", f"the contrastive temperature must be positive, got "
                                             f"{hparams['temperature']}")
        if hparams["contrast_weight"] < 0:
            raise HparamError("contrast_weight", f"contrast_weight weighs the contrastive term (0: off): expected "
                                                 f"at least 0, got {hparams['contrast_weight']}")

    @staticmethod
    def unread_hparams(hparams: Mapping[str, Any]) -> dict[str, str]:
        """The contrastive term's settings while it is off: each would be another run id for the same runs."""
        off = "contrast_weight is 0 (no contrastive term)"
        return {} if hparams["contrast_weight"] else {"drop_rate": off, "temperature": off}

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64, k: int = 3,
                 paths: PathKind = "all", max_paths_per_node: int | None = None, encode_distances: bool = True,
                 dropout: float = 0.0, contrast_weight: float = 0.0, drop_rate: float = 0.2,
                 temperature: float = 0.5, level: Literal["graph", "node"] = "graph") -> None:
        self.check_hparams(locals())
        super().__init__()
        if level not in ("graph", "node"):
            raise ValueError(f"level must be 'graph' or 'node', got {level!r}")
        self.level = level
        self.k, self.dropout = k, dropout
        self.paths = RootedPaths(k, paths, max_paths_per_node)
        self.encoder = nn.Sequential(nn.Linear(in_channels, hidden_channels), nn.BatchNorm1d(hidden_channels),
                                     nn.ReLU(), nn.Linear(hidden_channels, hidden_channels),
                                     nn.BatchNorm1d(hidden_channels), nn.ReLU())
        distance = nn.Embedding(k + 1, hidden_channels) if encode_distances else None
        lstm_in = 2 * hidden_channels if encode_distances else hidden_channels
        lstm = nn.LSTM(lstm_in, hidden_channels, batch_first=True)
        self.convs = nn.ModuleList(PathConv(hidden_channels, lstm, distance, dropout) for _ in range(k))
        self.head = nn.Sequential(nn.Linear(hidden_channels, hidden_channels), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden_channels, out_channels))
        self.contrast_weight, self.drop_rate, self.temperature = contrast_weight, drop_rate, temperature
        self.projection = (nn.Sequential(nn.Linear(hidden_channels, hidden_channels), nn.ELU(),
                                         nn.Linear(hidden_channels, hidden_channels)) if contrast_weight > 0 else None)

    def graph_transform(self) -> BaseTransform:
        """Applied by the graph task once to every graph before training: the paths are cached there."""
        return self.paths

    def embed(self, batch: Batch, keep: Tensor | None = None) -> Tensor:
        """Graph embeddings (node states at ``level="node"``); ``keep`` (a mask over edges) restricts every
        layer to paths on kept edges."""
        h = self.encoder(batch.x)
        for length, conv in enumerate(self.convs, 1):
            index, dist = batch[f"path_index_{length}"], batch[f"path_dist_{length}"]
            if keep is not None:
                alive = self._paths_on(index, batch.edge_index[:, keep], batch.num_nodes)
                index, dist = index[:, alive], dist[alive]
            h = conv(h, index, dist)
        return h if self.level == "node" else global_add_pool(h, batch.batch)

    def forward(self, batch: Batch) -> Tensor:
        return self.head(self.embed(batch))

    def auxiliary_loss(self, batch: Batch) -> Tensor:
        """``contrast_weight`` x NT-Xent between two adaptively edge-dropped views (zero when switched off)."""
        if self.projection is None:
            return batch.x.new_zeros(())
        p = edge_drop_probabilities(batch.edge_index, batch.num_nodes, batch.batch, self.drop_rate)
        with running_statistics_kept(self):
            z1, z2 = (self.projection(self.embed(batch, drop_edges(batch.edge_index, p))) for _ in range(2))
        return self.contrast_weight * nt_xent(z1, z2, self.temperature)

    @staticmethod
    def _paths_on(path_index: Tensor, edge_index: Tensor, num_nodes: int) -> Tensor:
        """Mask over paths (columns of ``path_index``) whose every edge is in ``edge_index``."""
        edges = edge_index[0] * num_nodes + edge_index[1]
        steps = path_index[:-1] * num_nodes + path_index[1:]
        return torch.isin(steps, edges).all(dim=0)
