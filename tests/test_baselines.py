"""The classical baselines against their papers' equations, written densely on a 5-node graph: the leaderboard
compares the published methods with these, so each must be the layer its paper defines, with the activation
between layers and none on the logits."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gnnbench import hparams as hp
from gnnbench.models.baselines import GAT, GCN, GIN, MLP, GraphSAGE
from gnnbench.models.forwardgnn.bp import BackpropGNN

EDGES = [(0, 1), (1, 2), (2, 3), (3, 0), (0, 4)]


@pytest.fixture
def graph() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Features, edge_index (both directions) and the dense adjacency ``A[target, source]``."""
    torch.manual_seed(0)
    src, dst = zip(*EDGES, strict=True)
    edge_index = torch.tensor([src + dst, dst + src])
    adjacency = torch.zeros(5, 5)
    adjacency[edge_index[1], edge_index[0]] = 1.0
    return torch.randn(5, 3), edge_index, adjacency


def test_gcn_is_symmetric_normalised_propagation_with_self_loops(graph):
    x, edge_index, a = graph
    model = GCN(3, 2, hidden_channels=4).eval()
    a_hat = a + torch.eye(5)
    d = a_hat.sum(1).rsqrt()
    a_hat = d[:, None] * a_hat * d[None, :]
    first, last = model.layers
    h = F.relu(a_hat @ x @ first.lin.weight.t() + first.bias)
    torch.testing.assert_close(model(x, edge_index), a_hat @ h @ last.lin.weight.t() + last.bias)


def test_sage_adds_a_root_weight_to_the_mean_of_neighbours_without_normalising(graph):
    x, edge_index, a = graph
    model = GraphSAGE(3, 2, hidden_channels=4).eval()
    mean = a / a.sum(1, keepdim=True)

    def layer(conv, h):
        return h @ conv.lin_r.weight.t() + mean @ h @ conv.lin_l.weight.t() + conv.lin_l.bias

    torch.testing.assert_close(model(x, edge_index), layer(model.layers[1], F.relu(layer(model.layers[0], x))))


def test_gin_is_gin_0_an_mlp_of_self_plus_neighbour_sum(graph):
    x, edge_index, a = graph
    model = GIN(3, 2, hidden_channels=4).eval()
    assert all(float(conv.eps) == 0 and "eps" not in dict(conv.named_parameters()) for conv in model.layers)

    def layer(conv, h):
        return conv.nn(h + a @ h)

    torch.testing.assert_close(model(x, edge_index), layer(model.layers[1], F.relu(layer(model.layers[0], x))))


def test_mlp_never_reads_the_graph(graph):
    x, edge_index, _ = graph
    model = MLP(3, 2, hidden_channels=4).eval()
    first, last = model.layers
    torch.testing.assert_close(model(x, edge_index), last(F.relu(first(x))))
    torch.testing.assert_close(model(x, edge_index[:, :0]), model(x, edge_index))


def test_gat_concatenates_hidden_heads_averages_output_heads_and_drops_attention(graph):
    x, edge_index, a = graph
    model = GAT(3, 2, hidden_channels=4, heads=3, out_heads=2).eval()
    a_hat = a + torch.eye(5)

    def layer(conv, h, concat):
        z = (h @ conv.lin.weight.t()).view(5, conv.heads, conv.out_channels)
        score = F.leaky_relu((z * conv.att_dst).sum(-1)[:, None] + (z * conv.att_src).sum(-1)[None, :], 0.2)
        alpha = torch.softmax(score.masked_fill(a_hat[..., None] == 0, float("-inf")), dim=1)  # [i, j, head]
        out = torch.einsum("ijh,jhc->ihc", alpha, z)
        return (out.flatten(1) if concat else out.mean(1)) + conv.bias

    expected = layer(model.layers[1], F.elu(layer(model.layers[0], x, True)), False)
    torch.testing.assert_close(model(x, edge_index), expected)
    assert [conv.dropout for conv in model.layers] == [0.6, 0.6]  # on the attention coefficients, as the paper


@pytest.mark.parametrize(("cls", "unread"), [(GCN, {"hidden_channels"}), (GraphSAGE, {"hidden_channels"}),
                                             (MLP, {"hidden_channels"}), (GAT, {"hidden_channels", "heads"}),
                                             (GIN, set()), (BackpropGNN, {"hidden_channels"})])
def test_a_one_layer_stack_declares_unread_the_widths_its_forward_ignores(graph, cls, unread):
    """One layer maps the features straight to the outputs: a width that changes neither the parameters nor the
    output there is declared unread (a suite setting it is refused: another run id for the same run), and one
    that does (GIN's one layer is an MLP with a hidden layer) is not."""
    x, edge_index, _ = graph

    def output(**widths: int) -> torch.Tensor:
        torch.manual_seed(0)
        return cls(3, 2, num_layers=1, **widths).eval()(x, edge_index)

    ignored = {k for k, v in {"hidden_channels": 4, "heads": 3}.items()
               if k in hp.constructor_params(cls) and torch.equal(output(**{k: v}), output())}
    assert ignored == unread
    assert set(cls.unread_hparams(hp.as_built(cls, {"num_layers": 1}))) == unread
    assert cls.unread_hparams(hp.as_built(cls, {"num_layers": 2})) == {}
