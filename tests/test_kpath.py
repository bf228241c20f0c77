"""The k-path rooted-subgraph GNN: its paths survive batching, it separates graphs 1-WL cannot, and its
adaptive edge removal and contrastive loss do what GCA defines."""

from __future__ import annotations

import networkx as nx
import pytest
import torch
import torch_geometric.utils
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GINConv, global_add_pool
from torch_geometric.utils import from_networkx

from gnnbench.data.paths import simple_paths
from gnnbench.models.kpath import KPathGNN, PathConv, RootedPaths, drop_edges, edge_drop_probabilities, nt_xent


def _graph(g: nx.Graph) -> Data:
    g = nx.convert_node_labels_to_integers(g)
    return Data(x=torch.ones(g.number_of_nodes(), 1), edge_index=from_networkx(g).edge_index,
                num_nodes=g.number_of_nodes())


def test_paths_are_offset_per_graph_when_batched():
    graphs = [_graph(nx.cycle_graph(5)), _graph(nx.path_graph(4))]
    transform = RootedPaths(k=3)
    batch = Batch.from_data_list([transform(g.clone()) for g in graphs])
    for length in (1, 2, 3):
        expected = torch.cat([transform(graphs[0].clone())[f"path_index_{length}"],
                              transform(graphs[1].clone())[f"path_index_{length}"] + 5], dim=1)
        assert torch.equal(batch[f"path_index_{length}"], expected)
        assert batch[f"path_dist_{length}"].size(0) == expected.size(1)
        assert (batch[f"path_dist_{length}"][:, 0] == 0).all()  # the root is at distance 0 from itself


def test_the_path_encoder_computes_exactly_what_nn_lstm_computes_over_each_path():
    """The gathered projections and the per-(node, distance) first step change the cost, not the function."""
    torch.manual_seed(0)
    h = torch.randn(40, 8, dtype=torch.float64)
    for encode_distances in (True, False):
        lstm = torch.nn.LSTM(16 if encode_distances else 8, 8, batch_first=True).double()
        distance = torch.nn.Embedding(4, 8).double() if encode_distances else None
        for dropout, mode in ((0.0, "eval"), (0.0, "train"), (1e-12, "train")):  # the last: the per-path branch
            conv = PathConv(8, lstm, distance, dropout).train(mode == "train")
            for length in (1, 2, 3):
                index, dist = torch.randint(0, 40, (length + 1, 200)), torch.randint(0, 4, (200, length + 1))
                seq = h[index.flip(0).t()]
                if distance is not None:
                    seq = torch.cat([seq, distance(dist.flip(1))], dim=-1)
                _, (last, _) = lstm(seq)
                assert torch.allclose(conv.encode(h, index, dist), last.squeeze(0), atol=1e-12)


@pytest.mark.parametrize(("options", "separates"), [
    ({"k": 2}, True),  # the defaults: all paths with distances
    ({"k": 2, "encode_distances": False, "paths": "shortest"}, True),
    ({"k": 3, "encode_distances": False}, True),
    ({"k": 2, "encode_distances": False}, False),  # every root has the same paths: the distance marks the cycle
])
def test_it_separates_a_6_cycle_from_two_triangles(options, separates):
    torch.manual_seed(0)
    c6, two_c3 = _graph(nx.cycle_graph(6)), _graph(nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)))
    model = KPathGNN(1, 4, hidden_channels=16, **options).eval()
    batch = Batch.from_data_list([model.graph_transform()(g.clone()) for g in (c6, two_c3)])
    out = model(batch)
    assert torch.allclose(out[0], out[1], atol=1e-4) != separates


def test_gin_cannot_separate_a_6_cycle_from_two_triangles():
    torch.manual_seed(0)
    c6, two_c3 = _graph(nx.cycle_graph(6)), _graph(nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)))
    plain = Batch.from_data_list([c6, two_c3])
    h = plain.x
    for width in (1, 16, 16):
        mlp = torch.nn.Sequential(torch.nn.Linear(width, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16))
        h = GINConv(mlp)(h, plain.edge_index).relu()
    pooled = global_add_pool(h, plain.batch)
    assert torch.allclose(pooled[0], pooled[1], atol=1e-5)  # 1-WL equivalent: identical for any weights


def test_drop_probabilities_fall_with_centrality_and_both_directions_share_a_fate():
    g = _graph(nx.barbell_graph(4, 2))
    batch = torch.zeros(g.num_nodes, dtype=torch.long)
    p = edge_drop_probabilities(g.edge_index, g.num_nodes, batch, mean_rate=0.3)
    deg = torch.bincount(g.edge_index[0]).float()
    centrality = (deg[g.edge_index[0]] + deg[g.edge_index[1]]) / 2
    order = torch.argsort(centrality)
    assert (p[order][1:] <= p[order][:-1] + 1e-7).all()  # more central, less likely dropped
    assert abs(float(p.mean()) - 0.3) < 0.05 and float(p.max()) <= 0.7
    keep = drop_edges(g.edge_index, torch.full_like(p, 0.5), torch.Generator().manual_seed(1))
    kept = {tuple(e) for e in g.edge_index[:, keep].t().tolist()}
    assert all((v, u) in kept for u, v in kept) and 0 < len(kept) < g.edge_index.size(1)


def test_drop_probabilities_are_normalised_per_graph_not_per_batch():
    """s_max and s_mean are each graph's own: a graph's probabilities do not depend on its batch mates."""
    a, b = _graph(nx.barbell_graph(4, 2)), _graph(nx.lollipop_graph(5, 3))
    batch = Batch.from_data_list([a, b])
    together = edge_drop_probabilities(batch.edge_index, batch.num_nodes, batch.batch, 0.3)
    for i, g in enumerate((a, b)):
        alone = edge_drop_probabilities(g.edge_index, g.num_nodes, torch.zeros(g.num_nodes, dtype=torch.long), 0.3)
        torch.testing.assert_close(together[batch.batch[batch.edge_index[0]] == i], alone)


@pytest.mark.parametrize("g", [nx.cycle_graph(6), nx.complete_graph(4), nx.complete_graph(12), nx.star_graph(4)],
                         ids=["cycle", "clique4", "clique12", "star"])
def test_a_graph_whose_edges_are_equally_central_still_drops_edges_at_the_mean_rate(g):
    """GCA's formula is 0 / 0 there: each edge drops with the mean rate, not never (its views would be itself).
    The cliques' centralities average, in float32, to a hair above or below their maximum: noise over noise."""
    d = _graph(g)
    p = edge_drop_probabilities(d.edge_index, d.num_nodes, torch.zeros(d.num_nodes, dtype=torch.long), 0.2)
    torch.testing.assert_close(p, torch.full_like(p, 0.2))


def test_the_contrastive_views_leave_batch_norm_running_statistics_alone():
    """Evaluation reads the running statistics: they describe the clean graphs, not the edge-dropped views."""
    torch.manual_seed(0)
    graphs = [_graph(nx.gnp_random_graph(10, 0.4, seed=s)) for s in range(16)]
    model = KPathGNN(1, 1, hidden_channels=8, k=2, contrast_weight=1.0, drop_rate=0.5).train()
    batch = Batch.from_data_list([model.graph_transform()(g) for g in graphs])
    model(batch)
    before = {name: value.clone() for name, value in model.named_buffers()}
    loss = model.auxiliary_loss(batch)
    assert all(torch.equal(value, before[name]) for name, value in model.named_buffers())
    loss.backward()  # the views still train the encoder
    assert model.encoder[0].weight.grad is not None and model.encoder[0].weight.grad.abs().sum() > 0
    assert all(m.track_running_stats for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d))


def test_every_layer_shares_one_lstm_and_one_distance_embedding():
    """PathNN's layers read paths of their own length with one shared LSTM and one distance embedding."""
    model = KPathGNN(1, 1, hidden_channels=8, k=3)
    assert all(conv.lstm is model.convs[0].lstm and conv.distance is model.convs[0].distance for conv in model.convs)
    assert sum(isinstance(m, torch.nn.LSTM) for m in model.modules()) == 1


def test_paths_of_a_view_are_exactly_the_paths_of_the_reduced_graph():
    g = _graph(nx.petersen_graph())
    model = KPathGNN(1, 1, k=3)
    data = model.graph_transform()(g.clone())
    keep = drop_edges(g.edge_index, torch.full((g.edge_index.size(1),), 0.3), torch.Generator().manual_seed(0))
    reduced = g.edge_index[:, keep]
    for length in (1, 2, 3):
        index = data[f"path_index_{length}"]
        alive = KPathGNN._paths_on(index, reduced, g.num_nodes)
        got = {tuple(c) for c in index[:, alive].t().tolist()}
        assert got == {tuple(r) for r in simple_paths(reduced, g.num_nodes, length)[length].tolist()}


def test_the_contrastive_loss_trains_the_encoder_through_both_views():
    torch.manual_seed(0)
    model = KPathGNN(1, 2, hidden_channels=16, k=2, contrast_weight=1.0, drop_rate=0.3)
    graphs = [nx.gnp_random_graph(8, 0.4, seed=s) for s in range(8)]
    batch = Batch.from_data_list([model.graph_transform()(_graph(g)) for g in graphs])
    views, embed = [], model.embed

    def kept(*args):  # each view's graph embeddings, kept to read their gradients
        views.append(embed(*args))
        views[-1].retain_grad()
        return views[-1]

    model.embed = kept
    loss = model.auxiliary_loss(batch)
    loss.backward()
    assert len(views) == 2 and all(view.grad.abs().sum() > 0 for view in views)  # neither view is detached
    assert model.encoder[0].weight.grad.abs().sum() > 0 and model.convs[0].lstm.weight_ih_l0.grad is not None
    del model.embed
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    torch.manual_seed(1)
    first = float(model.auxiliary_loss(batch).detach())
    for _ in range(30):
        opt.zero_grad()
        model.auxiliary_loss(batch).backward()
        opt.step()
    torch.manual_seed(1)
    assert float(model.auxiliary_loss(batch).detach()) < first
    assert float(KPathGNN(1, 2).auxiliary_loss(batch)) == 0.0  # off by default


def test_nt_xent_prefers_matching_views():
    z = torch.randn(6, 8)
    assert nt_xent(z, z + 0.01 * torch.randn(6, 8), 0.5) < nt_xent(z, torch.randn(6, 8), 0.5)


def test_the_graph_task_precomputes_paths_once_and_trains_with_the_auxiliary_loss(monkeypatch):
    from gnnbench.data.substructure import RandomGraphs, counting_dataset
    from gnnbench.registry import MODELS
    from gnnbench.tasks.base import Budget, RunContext
    from gnnbench.tasks.graph import GraphRegression, RegressionOptions

    data = counting_dataset("triangle", RandomGraphs(num_graphs=40, seed=1))
    calls = []
    real = RootedPaths.forward
    monkeypatch.setattr(RootedPaths, "forward", lambda self, g: calls.append(1) or real(self, g))
    aux = []
    real_aux = KPathGNN.auxiliary_loss
    monkeypatch.setattr(KPathGNN, "auxiliary_loss", lambda self, b: aux.append(1) or real_aux(self, b))
    task = GraphRegression(RegressionOptions(split="dataset"))
    result = task.run(MODELS.get("kpath"), data, {**GraphRegression.train_hparams, "hidden_channels": 8, "k": 2,
                                                  "contrast_weight": 0.1, "batch_size": 8},
                      Budget(epochs=2), RunContext(device=torch.device("cpu"), seed=0))
    assert len(calls) == 40  # once per graph, not per epoch or batch
    assert len(aux) == 2 * 2  # every training batch of both epochs (12 training graphs / 8 per batch)
    assert result["preprocess_s"] > 0 and result["metrics"]["test"]["mae"] > 0


def test_node_level_counts_reach_the_model_per_node_and_it_learns_them():
    from gnnbench.data.substructure import PATTERNS, RandomGraphs, counting_dataset
    from gnnbench.registry import MODELS
    from gnnbench.tasks.base import Budget, RunContext
    from gnnbench.tasks.graph import InductiveNodeRegression, RegressionOptions

    family = RandomGraphs(num_graphs=300, seed=3)
    nodes, graphs = counting_dataset("triangle", family, level="node"), counting_dataset("triangle", family)
    column = PATTERNS.index("triangle")
    node_std = float(torch.cat([g.node_counts[:, column] for g in family.graphs()]).std())
    for node_graph, graph in zip(nodes[:20], graphs[:20], strict=True):
        assert node_graph.y.shape == (node_graph.num_nodes,)
        assert torch.allclose(node_graph.y * node_std, node_graph.node_counts[:, column])
        assert torch.isclose(node_graph.y.sum() * node_std / 3, graph.counts[0, column])  # 3 nodes per triangle
    task = InductiveNodeRegression(RegressionOptions(split="dataset"))
    torch.manual_seed(0)
    result = task.run(MODELS.get("kpath"), nodes, {**InductiveNodeRegression.train_hparams, "hidden_channels": 16,
                                                   "k": 2, "lr": 0.01, "batch_size": 32},
                      Budget(epochs=30), RunContext(device=torch.device("cpu"), seed=0))
    assert result["data"]["num_test"] == 150
    # predicting the mean scores about 0.8 (the target is divided by its std); paths of length 2 close triangles
    assert result["metrics"]["test"]["mae"] < 0.15  # measured 0.03; node-level GIN in the same setting: 0.38


def _cycle_batch(model: KPathGNN) -> Batch:
    return Batch.from_data_list([model.graph_transform()(_graph(nx.cycle_graph(6)))])


def test_layer_l_reads_the_paths_of_length_l() -> None:
    """PathNN's layer l encodes the paths of length l: a model whose every layer read the longest paths would
    still separate the test graphs, so the lengths are checked where each layer takes them."""
    model = KPathGNN(1, 1, hidden_channels=8, k=3).eval()
    lengths = []
    for conv in model.convs:
        conv.register_forward_pre_hook(lambda module, args: lengths.append(args[1].size(0) - 1))
    model(_cycle_batch(model))
    assert lengths == [1, 2, 3]


def test_a_layer_sums_its_path_encodings_per_root() -> None:
    """h_v' = ReLU(BN(h_v + Σ_{paths p rooted at v} LSTM(p))): the sum, which counts paths, not their mean (a
    6-cycle gives every root as many paths as two triangles do, so only this checks it)."""
    torch.manual_seed(0)
    model = KPathGNN(1, 1, hidden_channels=8, k=2).eval()
    batch = _cycle_batch(model)
    conv, h = model.convs[1], torch.randn(6, 8)
    index, dist = batch.path_index_2, batch.path_dist_2
    summed = torch_geometric.utils.scatter(conv.encode(h, index, dist), index[0], 0, dim_size=6, reduce="sum")
    torch.testing.assert_close(conv(h, index, dist), torch.relu(conv.norm(h + summed)))
