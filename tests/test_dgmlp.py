"""DGMLP's defining mechanisms: parameter-free node-adaptive hop weights, a per-component stationary state,
streamed propagation, decoupling from the graph after preprocessing; plus per-dataset defaults and SGC."""

from __future__ import annotations

import math
import time
import weakref

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import SGConv
from torch_geometric.utils import stochastic_blockmodel_graph, to_undirected

from gnnbench import hparams as hp
from gnnbench.harness import runner
from gnnbench.harness.suite import load_suite
from gnnbench.models.dgmlp import DGMLP, precompute, propagation_matrix, stationary_state
from gnnbench.registry import DATASETS, MODELS
from gnnbench.tasks.base import Budget, RunContext
from gnnbench.tasks.node import NodeClassification, NodeOptions


def two_components_and_an_isolated_node() -> tuple[Tensor, Tensor]:
    """A 5-node path (0-4), a triangle (5-7) and an isolated node (8), with random features."""
    edges = torch.tensor([[0, 1], [1, 2], [2, 3], [3, 4], [5, 6], [6, 7], [5, 7]]).t()
    torch.manual_seed(0)
    return torch.rand(9, 4), to_undirected(edges, num_nodes=9)


def test_nodes_without_features_get_finite_hop_weights() -> None:
    """The cosine of an all-zero row needs the epsilon (CiteSeer-raw has 15 such nodes): without it their hop
    weights and combined features are NaN."""
    x, edge_index = two_components_and_an_isolated_node()
    x[2] = 0.0  # inside the path
    x[8] = 0.0  # the isolated node
    combined, weights = precompute(x, edge_index, K=4)
    assert torch.isfinite(weights).all() and torch.isfinite(combined).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(9))
    torch.testing.assert_close(combined[8], torch.zeros(4))


def dense_adjacency(edge_index: Tensor, n: int) -> Tensor:
    a = torch.zeros(n, n, dtype=torch.float64)
    a[edge_index[0], edge_index[1]] = 1.0
    return a + torch.eye(n, dtype=torch.float64)


def test_hop_weights_sum_to_one_per_node_and_are_parameter_free() -> None:
    x, edge_index = two_components_and_an_isolated_node()
    x.requires_grad_(True)  # even a differentiable input gives weights without autograd history
    combined, weights = precompute(x, edge_index, K=6)
    assert weights.shape == (9, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(9))
    assert not weights.requires_grad and weights.grad_fn is None and not combined.requires_grad
    # the model's only parameters are its MLP's, and its weights do not depend on them
    models = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = DGMLP(4, 3, K=6)
        model.preprocess(x.detach(), edge_index)
        models.append(model)
    assert all(name.startswith("mlp.") for name, _ in models[0].named_parameters())
    assert "hop_weights" not in dict(models[0].named_parameters()) and not models[0].state_dict().keys() - {
        name for name, _ in models[0].named_parameters()}
    torch.testing.assert_close(models[0].hop_weights, models[1].hop_weights)
    torch.testing.assert_close(models[0].hop_weights, weights)


def test_logits_do_not_change_when_the_graph_is_altered_after_preprocessing() -> None:
    x, edge_index = two_components_and_an_isolated_node()
    model = DGMLP(4, 3, K=4, mlp_layers=2).eval()
    model.preprocess(x, edge_index)
    before = model(x, edge_index)
    shuffled = edge_index[:, torch.randperm(edge_index.size(1))].flip(0)
    rewired = torch.stack([edge_index[0], (edge_index[1] + 1) % 9])
    for altered in (shuffled, rewired, edge_index[:, :0], None):
        torch.testing.assert_close(model(x, altered), before)
    edge_index.zero_()  # even mutating the preprocessed graph in place changes nothing
    torch.testing.assert_close(model(x, edge_index), before)


def test_propagation_is_streamed_one_feature_matrix_at_a_time() -> None:
    """Two passes of K steps, and when a step runs no earlier propagated matrix but its input is alive."""
    x, edge_index = two_components_and_an_isolated_node()
    adj = propagation_matrix(edge_index, 9)
    outputs: list[weakref.ref] = []
    alive_at_call: list[int] = []

    def propagate(h: Tensor) -> Tensor:
        alive_at_call.append(sum(ref() is not None for ref in outputs))
        out = adj.matmul(h)
        outputs.append(weakref.ref(out))
        return out

    K = 8
    combined, weights = precompute(x, edge_index, K=K, propagate=propagate)
    assert len(alive_at_call) == 2 * K
    assert max(alive_at_call) <= 1
    # and streaming computes what storing every hop would
    hops = [x]
    for _ in range(K):
        hops.append(adj.matmul(hops[-1]))
    torch.testing.assert_close(combined, sum(weights[:, k : k + 1] * hops[k] for k in range(K + 1)))


def test_float64_features_are_propagated_in_float64() -> None:
    """The propagation matrix takes the features' dtype (it was float32 whatever they were: a dtype error)."""
    x, edge_index = two_components_and_an_isolated_node()
    combined, weights = precompute(x.double(), edge_index, K=3)
    assert combined.dtype == weights.dtype == torch.float64
    a = dense_adjacency(edge_index, 9)
    scale = a.sum(1).rsqrt()
    adj = scale[:, None] * a * scale[None, :]
    hops = [x.double()]
    for _ in range(3):
        hops.append(adj @ hops[-1])
    torch.testing.assert_close(combined, sum(weights[:, k : k + 1] * hops[k] for k in range(4)))  # float64 tolerance
    torch.testing.assert_close(combined.float(), precompute(x, edge_index, K=3)[0])


def test_stationary_state_per_component_by_hand() -> None:
    x, edge_index = two_components_and_an_isolated_node()
    x64 = x.double()
    # d + 1: path 2,3,3,3,2 (2m + n = 13), triangle 3,3,3 (9), isolated 1 (1)
    path = (2 * x64[0] + 3 * x64[1] + 3 * x64[2] + 3 * x64[3] + 2 * x64[4]) / 13
    triangle = (x64[5] + x64[6] + x64[7]) / 3
    rw = stationary_state(x64, edge_index, 9, "random_walk")
    torch.testing.assert_close(rw, torch.stack([path] * 5 + [triangle] * 3 + [x64[8]]))

    s = torch.tensor([2.0, 3, 3, 3, 2, 3, 3, 3, 1], dtype=torch.float64).sqrt()
    path_sym = (s[:5, None] * x64[:5]).sum(0) / 13
    triangle_sym = (s[5:8, None] * x64[5:8]).sum(0) / 9
    sym = stationary_state(x64, edge_index, 9, "symmetric")
    expected = torch.cat([s[:5, None] * path_sym, s[5:8, None] * triangle_sym, x64[8:]])
    torch.testing.assert_close(sym, expected)

    # each is the limit of its propagation: symmetric (r = 1/2) and random walk (r = 0)
    a = dense_adjacency(edge_index, 9)
    deg = a.sum(1)
    sym_limit = torch.linalg.matrix_power(a / deg.sqrt()[:, None] / deg.sqrt()[None, :], 400) @ x64
    rw_limit = torch.linalg.matrix_power(a / deg[:, None], 400) @ x64  # random walk D^-1 (A + I), r = 0
    torch.testing.assert_close(sym, sym_limit)
    torch.testing.assert_close(rw, rw_limit)
    # same direction within a component for the random-walk form, different between components
    assert F.cosine_similarity(rw[0:1], rw[5:6]).item() < 1 - 1e-6


def test_late_hops_are_down_weighted_on_a_connected_graph() -> None:
    torch.manual_seed(0)
    edge_index = to_undirected(torch.stack([torch.arange(19), torch.arange(1, 20)]), num_nodes=20)
    x = torch.rand(20, 8)
    _, weights = precompute(x, edge_index, K=30)
    assert weights[:, 30].mean() < weights[:, 1].mean()


def test_zero_temperature_limit_picks_the_most_informative_hop() -> None:
    """3-node path 0-1-2, K = 2: with T -> 0 each node takes hop argmax_k NSL_v(k)."""
    edge_index = to_undirected(torch.tensor([[0, 1], [1, 2]]).t(), num_nodes=3)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    combined, weights = precompute(x, edge_index, K=2, temperature=1e-6)
    # by hand: D^-1/2 (A + I) D^-1/2 with degrees 2, 3, 2; the limit (d_j + 1)-weighted mean over 2m + n = 7
    a_hat = torch.tensor([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]]) / torch.tensor([2.0, 3, 2]).sqrt().outer(
        torch.tensor([2.0, 3, 2]).sqrt())
    hops = [x, a_hat @ x, a_hat @ a_hat @ x]
    x_inf = (2 * x[0] + 3 * x[1] + 2 * x[2]) / 7
    levels = torch.stack([F.cosine_similarity(h, x, dim=-1) * (1 - F.cosine_similarity(h, x_inf.expand(3, 2), dim=-1))
                          for h in hops], -1)  # NSL_v(k) = cos(X^(k), X) (1 - cos(X^(k), X^inf))
    pick = levels.argmax(-1)
    torch.testing.assert_close(weights, F.one_hot(pick, 3).float())
    torch.testing.assert_close(combined, torch.stack([hops[int(k)][v] for v, k in enumerate(pick)]))


def test_residual_mlp_layers() -> None:
    """D_t = 3: a projection (no skip), one residual layer h2 = relu(h1 W1) + h1, a linear output."""
    torch.manual_seed(0)
    x, edge_index = two_components_and_an_isolated_node()
    model = DGMLP(4, 3, K=2, mlp_layers=3, hidden_channels=5).eval()
    model.preprocess(x, edge_index)
    first, middle, last = model.mlp.layers
    h1 = F.relu(first(model.combined))
    h2 = F.relu(middle(h1)) + h1
    torch.testing.assert_close(model(x), last(h2), atol=1e-6, rtol=0)
    single = DGMLP(4, 3, K=2).eval()  # D_t = 1: the official LR head, one linear map
    single.preprocess(x, edge_index)
    assert len(single.mlp.layers) == 1
    torch.testing.assert_close(single(x), single.mlp.layers[0](single.combined))


def sbm(seed: int = 0) -> Data:
    """Three blocks, features barely informative on their own: the graph has to help."""
    gen = torch.Generator().manual_seed(seed)
    sizes = [60, 60, 60]
    torch.manual_seed(seed)
    edge_index = stochastic_blockmodel_graph(sizes, [[0.15, 0.01, 0.01], [0.01, 0.15, 0.01], [0.01, 0.01, 0.15]])
    y = torch.arange(3).repeat_interleave(60)
    x = F.one_hot(y, 3).float() * 0.3 + torch.rand(180, 3, generator=gen)
    order = torch.randperm(180, generator=gen)
    masks = [torch.zeros(180, dtype=torch.bool) for _ in range(3)]
    for mask, part in zip(masks, (order[:30], order[30:90], order[90:]), strict=True):
        mask[part] = True
    return Data(x=x, edge_index=edge_index, y=y, train_mask=masks[0], val_mask=masks[1], test_mask=masks[2])


def test_trains_through_the_task_hook_and_the_graph_helps() -> None:
    task = NodeClassification(NodeOptions())
    entry = MODELS.get("dgmlp")
    data = sbm()
    ctx = RunContext(device=torch.device("cpu"), seed=0)
    scores = {}
    for K in (0, 10):
        torch.manual_seed(0)
        params = hp.resolve(entry, NodeClassification, {"K": K, "lr": 0.05, "weight_decay": 0.0})
        scores[K] = task.run(entry, data, params, Budget(epochs=100), ctx)["metrics"]["test"]["accuracy"]
    assert scores[10] > scores[0] + 0.1


def test_official_defaults_per_dataset(write_suite) -> None:
    entry = MODELS.get("dgmlp")
    cora, citeseer = (hp.defaults(entry, NodeClassification, d) for d in ("Cora-raw", "CiteSeer-raw"))
    assert {k: cora[k] for k in ("K", "dropout", "lr", "weight_decay", "mlp_layers")} == {
        "K": 20, "dropout": 0.2, "lr": 0.2, "weight_decay": 5e-3, "mlp_layers": 1}
    assert {k: citeseer[k] for k in ("K", "dropout", "lr", "weight_decay")} == {
        "K": 15, "dropout": 0.1, "lr": 0.1, "weight_decay": 5e-2}
    suite = load_suite(write_suite("""\
        name: official
        experiments:
          - task: node_classification
            datasets: [Cora-raw, CiteSeer-raw]
            models: [dgmlp, {name: dgmlp, hparams: {K: 4}}]
        """))
    by = {(s.dataset, s.config): s.hparams for s in suite.specs}
    assert by["Cora-raw", "default"]["K"] == 20 and by["CiteSeer-raw", "default"]["K"] == 15
    assert by["CiteSeer-raw", "K=4"]["lr"] == 0.1 and by["Cora-raw", "K=4"]["lr"] == 0.2  # the suite wins, per key


def test_sgc_is_a_linear_map_of_precomputed_propagation() -> None:
    x, edge_index = two_components_and_an_isolated_node()
    model = MODELS.get("sgc").obj(4, 3, K=3).eval()
    adj = propagation_matrix(edge_index, 9)
    propagated = adj.matmul(adj.matmul(adj.matmul(x)))
    linear = model.layers[0].lin
    torch.testing.assert_close(model(x, edge_index), linear(propagated), atol=1e-6, rtol=0)
    assert math.isclose(sum(p.numel() for p in model.parameters()), 4 * 3 + 3)


def test_sgc_s_propagation_is_not_timed_as_a_training_epoch(write_suite, monkeypatch) -> None:
    """Â^K X is computed once, before the training loop, as DGMLP's: filled by the first training step, SGC's
    K propagations (costing many training steps: docs/models/dgmlp.md times both) inflated its recorded mean epoch
    time."""
    propagate = SGConv.propagate

    def slow(self, *args, **kwargs):
        time.sleep(0.2)
        return propagate(self, *args, **kwargs)

    monkeypatch.setattr(SGConv, "propagate", slow)
    spec = load_suite(write_suite("""\
        name: sgc_time
        defaults: {seeds: 1, epochs: 4, patience: null}
        experiments:
          - {task: node_classification, datasets: [Cora], models: [sgc]}
        """)).specs[0]
    record = runner.execute(spec)
    assert record["epochs_run"] == 4 and record["epoch_time_s"] < 0.1  # the two 0.2 s propagations ran before


def test_bad_depths_are_rejected() -> None:
    x, edge_index = two_components_and_an_isolated_node()
    with pytest.raises(ValueError, match="K >= 0"):
        precompute(x, edge_index, K=-1)
    with pytest.raises(ValueError, match="mlp_layers"):
        DGMLP(4, 3, mlp_layers=0)
    with pytest.raises(RuntimeError, match="preprocess"):
        DGMLP(4, 3)(x)


def test_raw_planetoid_variant_keeps_the_bag_of_words() -> None:
    raw, normalised = DATASETS.get("Cora-raw").obj(None), DATASETS.get("Cora").obj(None)
    assert set(raw.x.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(raw.edge_index, normalised.edge_index) and torch.equal(raw.train_mask, normalised.train_mask)
    torch.testing.assert_close(normalised.x, raw.x / raw.x.sum(-1, keepdim=True).clamp(min=1))


def test_the_hop_weights_are_the_softmax_of_the_smoothing_levels_spelt_out() -> None:
    """NSL(k) = cos(x^(k), x^(0)) (1 - cos(x^(k), x^(inf))) and the weights softmax(NSL / T) at T = 1, computed by
    hand on a 3-node path: the argmax tests alone cannot tell a level without its first factor."""
    edge_index = to_undirected(torch.tensor([[0, 1], [1, 2]]).t(), num_nodes=3)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    degree = torch.tensor([2.0, 3, 2]).sqrt()
    a = torch.tensor([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]]) / degree.outer(degree)  # D^-1/2 (A + I) D^-1/2
    hops, x_inf = [x, a @ x, a @ a @ x], (2 * x[0] + 3 * x[1] + 2 * x[2]) / 7  # degree-weighted stationary state
    levels = torch.stack([F.cosine_similarity(h, x, dim=-1) * (1 - F.cosine_similarity(h, x_inf.expand(3, 2), dim=-1))
                          for h in hops], -1)
    torch.testing.assert_close(precompute(x, edge_index, K=2)[1], levels.softmax(-1))
