"""SIR-GCN: the efficient layer equals the per-edge definition, and its messages are contextualised."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.nn import GCNConv, GINConv, global_add_pool, global_mean_pool

from gnnbench.models.sir_gcn import SIRGCN, SIRConv


def random_graph(seed: int = 0, nodes: int = 6, edges: int = 14) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, nodes, (2, edges), generator=g)
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    return torch.randn(nodes, 3, generator=g), edge_index


def per_edge(conv: SIRConv, x: torch.Tensor, edge_index: torch.Tensor, aggr: str,
             edge_attr: torch.Tensor | None = None) -> torch.Tensor:
    """The definition, one edge at a time: h_u = b + AGG_{v -> u} W_R sigma(W_Q h_u + W_K h_v [+ W_E e_vu]); under
    max, as the official per-edge W_R, max_{v -> u} (W_R sigma(...) + b), and 0 without messages."""
    n = x.size(0)
    deg_out = torch.bincount(edge_index[0], minlength=n).clamp(min=1).double()
    deg_in = torch.bincount(edge_index[1], minlength=n).clamp(min=1).double()
    rows = []
    for u in range(n):
        messages = []
        for e in (edge_index[1] == u).nonzero().view(-1).tolist():
            v = int(edge_index[0, e])
            z = conv.lin_query(x[u]) + conv.lin_key(x[v])
            if edge_attr is not None:
                z = z + conv.lin_edge(edge_attr[e])
            m = conv.lin_relation(conv.act(z)) + (conv.bias if aggr == "max" else 0)  # max: W_R's bias per edge
            if aggr == "sym":
                m = m * (deg_out[v] * deg_in[u]).rsqrt()
            messages.append(m)
        if not messages:
            agg = torch.zeros(conv.bias.numel(), dtype=x.dtype)
        else:
            stacked = torch.stack(messages)
            agg = {"sum": stacked.sum(0), "sym": stacked.sum(0), "mean": stacked.mean(0),
                   "max": stacked.max(0).values}[aggr]
        rows.append(agg if aggr == "max" else agg + conv.bias)  # max: a node without messages gets 0
    return torch.stack(rows)


@pytest.mark.parametrize("aggr", ["sum", "mean", "max", "sym"])
@pytest.mark.parametrize("activation", ["leaky_relu", "relu_linear_relu"])
def test_efficient_form_equals_the_per_edge_definition(aggr, activation):
    torch.manual_seed(0)
    x, edge_index = random_graph()
    conv = SIRConv(3, 5, 2, aggr=aggr, activation=activation).double().eval()
    torch.nn.init.normal_(conv.bias)
    x = x.double()
    assert torch.allclose(conv(x, edge_index), per_edge(conv, x, edge_index, aggr), atol=1e-6)


@pytest.mark.parametrize("aggr", ["sum", "max"])
def test_edge_feature_variant_adds_w_e_e_inside_sigma(aggr):
    torch.manual_seed(1)
    x, edge_index = random_graph(1)
    edge_attr = torch.randn(edge_index.size(1), 4, dtype=torch.double)
    conv = SIRConv(3, 5, 2, aggr=aggr, edge_dim=4).double().eval()
    x = x.double()
    assert torch.allclose(conv(x, edge_index, edge_attr), per_edge(conv, x, edge_index, aggr, edge_attr), atol=1e-6)
    with pytest.raises(ValueError, match="edge_attr"):
        conv(x, edge_index)


def centre_difference(layer, h_u, h_u2, h_n) -> torch.Tensor:
    """f(h_u, h_n) - f(h_u', h_n) for a node u with the one neighbour n (edge n -> u)."""
    edge_index = torch.tensor([[1], [0]])
    return layer(torch.stack([h_u, h_n]), edge_index)[0] - layer(torch.stack([h_u2, h_n]), edge_index)[0]


def test_messages_are_contextualised_where_gcn_and_gin_are_additive():
    torch.manual_seed(2)
    h_u, h_u2, h_a, h_b = torch.randn(4, 3)
    sir = SIRConv(3, 16, 4, activation="relu").eval()
    # SIR-GCN: the effect of changing the centre depends on the neighbour (the message is not f(u) + g(v))
    assert not torch.allclose(centre_difference(sir, h_u, h_u2, h_a), centre_difference(sir, h_u, h_u2, h_b),
                              atol=1e-4)
    # GIN with a linear update isolates its aggregation (the neighbours summed before any nonlinearity)
    for additive in (GCNConv(3, 4, add_self_loops=False, normalize=False), GINConv(torch.nn.Linear(3, 4))):
        assert torch.allclose(centre_difference(additive, h_u, h_u2, h_a),
                              centre_difference(additive, h_u, h_u2, h_b), atol=1e-5)


def test_sigma_acts_on_each_edge_before_the_neighbours_are_summed():
    """With one neighbour, sigma per edge and sigma after the sum are the same function; with two they are not.
    Per edge, u's output on {a, b} is its outputs on {a} and on {b} summed (less the one bias); sigma of the
    summed keys, W_R sigma(W_Q h_u + W_K h_a + W_K h_b), is not."""
    torch.manual_seed(3)
    x = torch.randn(3, 3)  # u, a, b
    sir = SIRConv(3, 16, 4, activation="relu").eval()

    def out(sources: list[int]) -> torch.Tensor:
        return sir(x, torch.tensor([sources, [0] * len(sources)]))[0]

    torch.testing.assert_close(out([1, 2]), out([1]) + out([2]) - sir.bias)
    after_sum = sir.lin_relation(sir.act(sir.lin_query(x[0]) + sir.lin_key(x[1]) + sir.lin_key(x[2]))) + sir.bias
    assert not torch.allclose(after_sum, out([1]) + out([2]) - sir.bias, atol=1e-4)


@pytest.mark.parametrize("pool", ["sum", "mean"])
def test_wrapper_scores_every_node_then_pools_the_scores(pool):
    """The official models read out each node and pool the scores: a graph's output is the pooled node outputs
    (pooling first and then the nonlinear readout would give a different function)."""
    x, edge_index = random_graph(3)
    model = SIRGCN(3, 2, hidden_channels=8, num_layers=2, aggr="sym", readout_layers=2, pool=pool).eval()
    nodes = model(x, edge_index)
    assert nodes.shape == (6, 2)
    batch = torch.tensor([0, 0, 0, 1, 1, 1])
    pooled = (global_add_pool if pool == "sum" else global_mean_pool)(nodes, batch)
    assert torch.allclose(model(x, edge_index, batch), pooled, atol=1e-6)


def test_the_default_inner_activation_is_leaky_relu_spelt_out() -> None:
    """The benchmark runs SIR-GCN at its default σ: the message is W_R Σ LeakyReLU_0.2(W_Q h_u + W_K h_a), written
    here by hand so that a change to the default cannot move the reference with it; W_K has no bias (its bias
    would only add to W_Q's), nor W_R (the layer's one bias follows the sum)."""
    torch.manual_seed(2)
    conv = SIRConv(3, 16, 4).eval()
    x, edge_index = torch.randn(3, 3), torch.tensor([[1, 2], [0, 0]])
    q, k = conv.lin_query(x), conv.lin_key(x)
    message = torch.nn.functional.leaky_relu(q[0] + k[1], 0.2) + torch.nn.functional.leaky_relu(q[0] + k[2], 0.2)
    torch.testing.assert_close(conv(x, edge_index)[0], conv.lin_relation(message) + conv.bias)
    assert conv.lin_key.bias is None and conv.lin_relation.bias is None and conv.lin_query.bias is not None


def test_a_wrapper_layer_is_the_convolution_plus_residual_then_norm_then_leaky_relu() -> None:
    """The official layer order, with batch-norm statistics that are not the identity so that the order shows."""
    torch.manual_seed(0)
    model = SIRGCN(3, 2, hidden_channels=8, num_layers=1, readout_layers=1).eval()
    for parameter in model.norms[0].parameters():
        torch.nn.init.normal_(parameter)
    model.norms[0].running_mean.normal_()
    x, edge_index = torch.randn(6, 3), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    h = model.input(x)
    h = torch.nn.functional.leaky_relu(model.norms[0](model.convs[0](h, edge_index) + model.resids[0](h)), 0.2)
    torch.testing.assert_close(model(x, edge_index), model.readout(h))


def test_feat_dropout_drops_the_query_and_key_features_in_training_only() -> None:
    """``feat_dropout`` (the official ``--feat-dropout``) masks W_Q h and W_K h, each with its own mask, before
    sigma; evaluation uses them whole."""
    torch.manual_seed(0)
    x, edge_index = random_graph()
    x = x.double()
    conv = SIRConv(3, 5, 2, feat_dropout=0.5).double().train()
    torch.manual_seed(1)
    out = conv(x, edge_index)
    torch.manual_seed(1)  # the same draws, in the layer's order: the query's mask, then the key's
    q = torch.nn.functional.dropout(conv.lin_query(x), 0.5, True)
    k = torch.nn.functional.dropout(conv.lin_key(x), 0.5, True)
    src, dst = edge_index
    by_hand = torch.zeros(x.size(0), 2, dtype=x.dtype).index_add_(0, dst, conv.lin_relation(conv.act(q[dst] + k[src])))
    assert torch.allclose(out, by_hand + conv.bias, atol=1e-12)
    assert not torch.allclose(out, per_edge(conv, x, edge_index, "sum"))  # the masks did something
    assert torch.allclose(conv.eval()(x, edge_index), per_edge(conv, x, edge_index, "sum"), atol=1e-12)


def test_feat_dropout_also_drops_the_edge_term_as_the_official_edge_variant() -> None:
    """The official ``SIREConv`` drops ``W_E e`` with the same rate as q and k: masks in the order q, k, e."""
    torch.manual_seed(0)
    x, edge_index = random_graph()
    x, edge_attr = x.double(), torch.randn(edge_index.size(1), 4, dtype=torch.double)
    conv = SIRConv(3, 5, 2, edge_dim=4, feat_dropout=0.5).double().train()
    torch.manual_seed(1)
    out = conv(x, edge_index, edge_attr)
    torch.manual_seed(1)
    q, k, e = (torch.nn.functional.dropout(lin(v), 0.5, True)
               for lin, v in ((conv.lin_query, x), (conv.lin_key, x), (conv.lin_edge, edge_attr)))
    src, dst = edge_index
    messages = conv.lin_relation(conv.act(q[dst] + k[src] + e))
    by_hand = torch.zeros(x.size(0), 2, dtype=x.dtype).index_add_(0, dst, messages)
    assert torch.allclose(out, by_hand + conv.bias, atol=1e-12)


def test_input_dropout_drops_the_encoded_features_not_the_raw_ones() -> None:
    """As the official models with an input encoder: ``input_drop(node_encoder(x))``. Dropping a raw one-hot bit
    would instead change every hidden unit."""
    torch.manual_seed(0)
    x, edge_index = random_graph()
    model = SIRGCN(3, 2, hidden_channels=32, num_layers=1, input_dropout=0.5).train()
    seen = []
    model.convs[0].register_forward_hook(lambda module, args, out: seen.append(args[0]))
    model(x, edge_index)
    (h,) = seen
    kept = h != 0
    assert 0 < int(kept.sum()) < h.numel()  # whole entries of the encoding are dropped
    torch.testing.assert_close(h[kept], 2 * model.input(x)[kept])  # the rest scaled by 1 / (1 - p)


def test_pool_is_refused_where_the_task_s_targets_are_node_level(write_suite) -> None:
    """Node-level targets are read out per node: another pool there would be another run id for the same runs.
    Graph-level tasks read it, and the default rides along a node-level experiment."""
    from gnnbench.errors import ConfigError
    from gnnbench.harness.suite import load_suite

    text = """\
        name: s
        experiments:
          - {task: {name: inductive_node_classification, split: dataset}, datasets: [DictionaryLookup-5],
             models: [{name: sir_gcn, hparams: {pool: %s}}]}
          - {task: graph_classification, datasets: [MUTAG], models: [{name: sir_gcn, hparams: {pool: [sum, mean]}}]}
        """
    suite = load_suite(write_suite(text % "sum"))
    assert {s.hparams.get("pool") for s in suite.specs if s.task == "graph_classification"} == {"sum", "mean"}
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(text % "mean", "mean.yaml"))
    assert info.value.key == "experiments[0].models[0].hparams.pool"
    assert "model 'sir_gcn' does not read 'pool' here: the task's targets are node-level" in info.value.message


def test_the_synthetic_wrapper_is_embedding_then_bare_layers_then_a_bias_free_readout_then_pool() -> None:
    """The official synthetic-task model: E x (N(0, 1), no bias, as nn.Embedding on a one-hot input), SIRConv with
    nothing after it, W_out without bias, sum pooling; 1,300 parameters at two colours and H = 20, as the
    official HeteroEdgeCount model at HEAD (its README's 1,320 predates W_K losing its bias)."""
    torch.manual_seed(0)
    model = SIRGCN(2, 1, hidden_channels=20, num_layers=1, activation="relu", pool="sum", wrapper="synthetic").eval()
    assert sum(p.numel() for p in model.parameters()) == 1300
    assert model.input.bias is None and model.readout[-1].bias is None and len(model.readout) == 1
    assert 0.8 < float(model.input.weight.detach().std()) < 1.2  # N(0, 1), not Linear's U(-1/sqrt(2), 1/sqrt(2))
    x = torch.eye(2)[torch.tensor([0, 1, 1, 0, 1])]
    edge_index, batch = torch.tensor([[0, 1, 2, 3, 4, 4], [1, 0, 0, 4, 3, 2]]), torch.tensor([0, 0, 0, 1, 1])
    by_hand = global_add_pool(model.readout(model.convs[0](model.input(x), edge_index)), batch)
    torch.testing.assert_close(model(x, edge_index, batch), by_hand)  # no LeakyReLU, norm or residual between


def test_the_synthetic_wrapper_refuses_the_parts_it_does_not_have(write_suite) -> None:
    from gnnbench.errors import ConfigError
    from gnnbench.harness.suite import load_suite

    text = """\
        name: s
        experiments:
          - {task: {name: graph_regression, split: dataset}, datasets: [HeteroEdgeCount-2],
             models: [{name: sir_gcn, hparams: {wrapper: synthetic%s}}]}
        """
    [spec] = load_suite(write_suite(text % "")).specs
    assert spec.hparams["wrapper"] == "synthetic"
    [default] = load_suite(write_suite(text.replace("{wrapper: synthetic%s}", "{}"), "d.yaml")).specs
    assert "wrapper" not in default.hparams  # an added argument: earlier runs keep their ids
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(text % ", norm: none", "norm.yaml"))
    assert info.value.key == "experiments[0].models[0].hparams.norm"
    assert "does not read 'norm' here: the synthetic-task wrapper has no such part" in info.value.message
