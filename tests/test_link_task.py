"""Link prediction: the split keeps held-out edges out of message passing (the test pairs' own always), negatives
are fixed, metrics exact."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Data
from torch_geometric.utils import stochastic_blockmodel_graph, to_undirected

from gnnbench.models.baselines import GCN
from gnnbench.models.forwardgnn import LinkForwardForward, LinkSingleForward, LinkTopToInput
from gnnbench.models.forwardgnn.layers import l2_rows
from gnnbench.tasks.base import Budget, RunContext
from gnnbench.tasks.link import LinkOptions, LinkPrediction, hide_test
from gnnbench.tasks.metrics import average_precision, hits_at_k, roc_auc

CPU = RunContext(device=torch.device("cpu"), seed=0)


def graph() -> Data:
    torch.manual_seed(0)
    probs = torch.full((3, 3), 0.03).fill_diagonal_(0.4)
    edge_index = to_undirected(stochastic_blockmodel_graph([20, 20, 20], probs))
    x = torch.eye(3).repeat_interleave(20, 0) + 0.3 * torch.randn(60, 3)
    return Data(x=x, edge_index=edge_index, num_nodes=60)


def pairs_of(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return {(int(u), int(v)) for u, v in edge_index.t()}


def test_training_and_validation_message_passing_uses_training_edges_only_and_the_split_is_seeded():
    data = graph()
    task = LinkPrediction(LinkOptions())
    split, split_id = task.with_split(data, seed=3)
    message = pairs_of(split.edge_index)
    for name in ("val", "test"):
        held_out = split[f"{name}_pairs"][:, split[f"{name}_labels"] == 1]
        assert held_out.size(1) > 0
        assert not pairs_of(held_out) & message and not pairs_of(held_out.flip(0)) & message
        assert int((split[f"{name}_labels"] == 0).sum()) == held_out.size(1)  # one negative per positive
    train_pos = split.train_pairs[:, split.train_labels == 1]
    assert pairs_of(train_pos) | pairs_of(train_pos.flip(0)) == message
    undirected = data.edge_index.size(1) // 2
    assert abs(split.val_pairs.size(1) / 2 - 0.16 * undirected) <= 1
    assert abs(split.test_pairs.size(1) / 2 - 0.2 * undirected) <= 1
    again, _ = task.with_split(data, seed=3)
    assert all(torch.equal(split[k], again[k]) for k in ("edge_index", "train_pairs", "val_pairs", "test_pairs"))
    assert "seed=3" in split_id
    assert not hasattr(hide_test(split), "test_pairs") and not hasattr(hide_test(split), "test_edge_index")
    assert hasattr(split, "test_pairs") and hide_test(split).x is split.x  # the split keeps them; x is shared


def test_test_pairs_are_scored_on_training_plus_validation_edges_unless_asked_otherwise():
    """RandomLinkSplit's test graph, as ForwardGNN's official evaluation uses it: the validation edges are known
    when the test pairs are scored; ``test_graph: train`` keeps the training edges alone, in a row of its own."""
    data = graph()
    split, split_id = LinkPrediction(LinkOptions()).with_split(data, seed=3)
    val_pos = split.val_pairs[:, split.val_labels == 1]
    test_pos = split.test_pairs[:, split.test_labels == 1]
    assert pairs_of(split.test_edge_index) == pairs_of(split.edge_index) | pairs_of(val_pos) | pairs_of(val_pos.flip(0))
    assert not pairs_of(test_pos) & pairs_of(split.test_edge_index)
    seen = []

    class Spy(torch.nn.Module):
        def forward(self, x, edge_index):
            seen.append(edge_index)
            return x

    task = LinkPrediction(LinkOptions())
    metrics = task.evaluate(Spy(), split, ("train", "val", "test"))
    assert list(metrics) == ["train", "val", "test"]
    assert [e is split.edge_index for e in seen] == [True, False] and seen[1] is split.test_edge_index
    only_train = LinkPrediction(LinkOptions(test_graph="train"))
    split, train_id = only_train.with_split(data, seed=3)
    assert torch.equal(split.test_edge_index, split.edge_index) and "test_graph=train" in train_id
    assert (task.label(), only_train.label()) == ("link_prediction", "link_prediction(test_graph=train)")
    with pytest.raises(ValueError, match="test_graph must be one of train_val, train"):
        LinkOptions(test_graph="all")


def test_training_negatives_are_fixed_across_epochs(monkeypatch):
    seen: list[torch.Tensor] = []
    original = LinkPrediction.pair_logits

    def spy(model, data, pairs, edge_index=None):
        if model.training:
            seen.append(pairs.clone())
        return original(model, data, pairs, edge_index)

    monkeypatch.setattr(LinkPrediction, "pair_logits", staticmethod(spy))
    task = LinkPrediction(LinkOptions(embedding_channels=8))
    split, _ = task.with_split(graph(), seed=0)
    task.fit(GCN(3, 8, hidden_channels=8), hide_test(split), {"lr": 0.01, "weight_decay": 0.0}, Budget(5), CPU)
    assert len(seen) == 5 and all(torch.equal(s, seen[0]) for s in seen)
    assert torch.equal(seen[0], split.train_pairs) and bool((split.train_labels == 0).any())


def test_forward_sf_link_scores_the_mean_of_per_layer_sigmoids_and_learns():
    task = LinkPrediction(LinkOptions(embedding_channels=16))
    split, _ = task.with_split(graph(), seed=0)
    model = LinkSingleForward(3, 16, hidden_channels=16, num_layers=2)
    task.fit_model(model, hide_test(split), {"lr": 0.01, "weight_decay": 0.0}, Budget(100, 30), CPU)
    model.eval()
    with torch.no_grad():
        h, probs = split.x, []
        for layer in model.layers:
            h = layer(h, split.edge_index)
            probs.append((h[split.test_pairs[0]] * h[split.test_pairs[1]]).sum(-1).sigmoid())
        by_hand = torch.stack(probs).mean(0)
        scores = model.score_pairs(split.x, split.edge_index, split.test_pairs)
    assert torch.allclose(scores.sigmoid(), by_hand, atol=1e-5)
    assert task.evaluate(model, split, ("test",))["test"]["roc_auc"] > 0.75


def test_forward_ff_link_scores_the_mean_of_per_layer_goodness_sigmoids_and_learns():
    task = LinkPrediction(LinkOptions(embedding_channels=16))
    split, _ = task.with_split(graph(), seed=0)
    model = LinkForwardForward(3, 16, hidden_channels=16, num_layers=2, theta=2.0)
    task.fit_model(model, hide_test(split), {"lr": 0.01, "weight_decay": 0.0}, Budget(100, 30), CPU)
    model.eval()
    with torch.no_grad():
        h, probs = split.x, []
        for layer in model.layers:
            h = layer(h, split.edge_index)
            goodness = (h[split.test_pairs[0]] * h[split.test_pairs[1]]).pow(2).sum(-1)
            probs.append((goodness - 2.0).sigmoid())
        by_hand = torch.stack(probs).mean(0)
        scores = model.score_pairs(split.x, split.edge_index, split.test_pairs)
    assert torch.allclose(scores.sigmoid(), by_hand, atol=1e-5)
    assert task.evaluate(model, split, ("test",))["test"]["roc_auc"] > 0.7  # chance: 0.5


def test_forward_ff_link_loss_adds_the_positive_and_the_negative_mean_bce():
    """The official ``ff_loss``: mean BCE of the positives plus that of the negatives (one mean over all pairs
    would be half of it with 1:1 negatives)."""
    model = LinkForwardForward(3, 8, hidden_channels=8, num_layers=1, theta=2.0)
    split, _ = LinkPrediction(LinkOptions(embedding_channels=8)).with_split(graph(), seed=0)
    model.prepare(split)
    output = model.layers[0](split.x, split.edge_index)
    goodness = (output[model.train_pairs[0]] * output[model.train_pairs[1]]).pow(2).sum(-1) - 2.0
    positive = model.train_labels == 1
    by_hand = -F.logsigmoid(goodness[positive]).mean() - F.logsigmoid(-goodness[~positive]).mean()
    assert positive.any() and (~positive).any()
    assert torch.allclose(model.local_loss(0, output), by_hand, atol=1e-6)


def test_top_to_input_link_reads_the_layer_above_none_on_top_and_averages_stored_steps():
    task = LinkPrediction(LinkOptions(embedding_channels=16))
    split, _ = task.with_split(graph(), seed=0)
    model = LinkTopToInput(3, 16, hidden_channels=8, num_layers=3, test_time_steps=4)
    assert [layer.conv.in_channels for layer in model.layers] == [3 + 8, 8 + 16, 8]  # no label state on top
    assert model.order() == [0, 2, 1]
    task.fit_model(model, hide_test(split), {"lr": 0.01, "weight_decay": 0.0}, Budget(100, 30), CPU)
    model.eval()
    with torch.no_grad():  # the recurrence by hand: zeros from above first, then alternating updates
        layers, edges, pairs = model.layers, split.edge_index, split.test_pairs

        def run(i, below, above):
            return torch.relu(layers[i].conv(torch.cat([l2_rows(below), l2_rows(above)], -1), edges))

        s = [split.x]
        for i, width in enumerate([8, 16, 0]):
            s.append(run(i, s[-1], torch.zeros(60, width)))
        s.append(torch.zeros(60, 0))
        probs = []
        for step in range(4):
            for i in (0, 2, 1):
                s[i + 1] = run(i, s[i], s[i + 2])
            if step >= 2:
                probs += [(s[i + 1][pairs[0]] * s[i + 1][pairs[1]]).sum(-1).sigmoid() for i in range(3)]
        by_hand = torch.stack(probs).mean(0)
        scores = model.score_pairs(split.x, split.edge_index, pairs)
    assert torch.allclose(scores.sigmoid(), by_hand, atol=1e-5)
    assert task.evaluate(model, split, ("test",))["test"]["roc_auc"] > 0.75


def test_roc_auc_average_precision_and_hits_against_hand_computations():
    scores, labels = torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1])
    assert roc_auc(scores, labels) == pytest.approx(3 / 4)  # 3 of 4 (pos, neg) pairs ordered correctly
    assert average_precision(scores, labels) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    ties, tie_labels = torch.tensor([0.5, 0.5, 0.2, 0.9]), torch.tensor([1, 0, 0, 1])
    assert roc_auc(ties, tie_labels) == pytest.approx((1 + 1 + 1 + 0.5) / 4)  # a tie counts one half
    # thresholds 0.9 (1 tp), 0.5 (2 tp, 1 fp): 0.5 * 1 + 0.5 * 2/3
    assert average_precision(ties, tie_labels) == pytest.approx(0.5 + 0.5 * 2 / 3)
    hits_scores = torch.tensor([3.0, 1.0, 2.0, 2.0, 0.0, 1.5])
    hits_labels = torch.tensor([1, 1, 1, 0, 0, 0])
    assert hits_at_k(hits_scores, hits_labels, 1) == pytest.approx(1 / 3)  # only 3 > 2; the tie at 2 misses
    assert hits_at_k(hits_scores, hits_labels, 2) == pytest.approx(2 / 3)  # above the 2nd negative (1.5)
    assert hits_at_k(hits_scores, hits_labels, 4) == 1.0  # fewer negatives than K
    assert math.isnan(roc_auc(torch.tensor([1.0]), torch.tensor([1])))


def test_roc_auc_and_average_precision_equal_scikit_learns_on_random_scores_with_ties():
    from sklearn.metrics import average_precision_score, roc_auc_score

    g = torch.Generator().manual_seed(0)
    for n in (2, 7, 50, 400):
        scores = (torch.rand(n, generator=g) * 10).round() / 10  # ties on purpose
        labels = torch.randint(0, 2, (n,), generator=g)
        labels[:2] = torch.tensor([0, 1])  # both classes present
        assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
        assert average_precision(scores, labels) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)


def test_the_link_task_runs_from_a_suite(write_suite):
    from gnnbench.harness.runner import execute
    from gnnbench.harness.suite import load_suite

    spec = load_suite(write_suite("""\
        name: t
        experiments:
          - task: {name: link_prediction, embedding_channels: 16}
            datasets: [Cora]
            models: [{name: forwardgnn_sf_link, hparams: {hidden_channels: 16}}, sage]
            epochs: 3
        """)).specs
    for record in map(execute, spec):
        assert record["status"] == "ok", record.get("error")
        assert set(record["metrics"]["test"]) == {"roc_auc", "average_precision", "hits@50", "loss"}
        assert record["data"]["num_message_edges"] < 2 * 5278 * 0.65


def test_a_link_model_returning_the_wrong_shape_is_named_with_what_was_expected():
    split, _ = LinkPrediction(LinkOptions()).with_split(graph(), seed=0)

    class PerPair(torch.nn.Module):
        def forward(self, x, edge_index):
            return x[:10]

        def score_pairs(self, x, edge_index, pairs):
            return torch.zeros(pairs.size(1), 2)

    with pytest.raises(ValueError, match=r"^PerPair returned \(\d+, 2\) \(score_pairs at .*test_link_task\.py:\d+\); "
                                         r"expected one logit per pair"):
        LinkPrediction.pair_logits(PerPair(), split, split.val_pairs)
    del PerPair.score_pairs
    with pytest.raises(ValueError, match=r"^PerPair returned \(10, 3\) \(forward at .*\); expected node embeddings "
                                         r"of shape \(60, "):
        LinkPrediction.pair_logits(PerPair(), split, split.val_pairs)



class PairDecoder(torch.nn.Module):
    """Scores pairs on its own embeddings; ``forward`` embeds nodes."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(in_channels, 8)

    def forward(self, x):
        return self.lin(x)

    def score(self, x, edge_index, pairs):
        h = self(x)
        return (h[pairs[0]] * h[pairs[1]]).sum(-1)


class Decoded(torch.nn.Module):
    """Scores pairs with the decoder it holds: its ``score_pairs`` is an attribute ``__init__`` sets, not a method."""

    def __init__(self, in_channels: int, out_channels: int, scorer: str = "score") -> None:
        super().__init__()
        self.decoder = PairDecoder(in_channels)
        self.score_pairs = getattr(self.decoder, scorer)


def test_a_score_pairs_set_in_init_is_what_a_run_checks_and_calls():
    """Loading sees only the class (no ``score_pairs``: nothing refused); the run checks the callable the model
    holds, which it calls, and names where it is."""
    from gnnbench.registry import Entry
    from gnnbench.tasks.base import call_problem

    task, hparams = LinkPrediction(LinkOptions()), dict(LinkPrediction.train_hparams)
    assert call_problem(LinkPrediction, Decoded) is None
    result = task.run(Entry("decoded", Decoded), graph(), hparams, Budget(epochs=2), CPU)
    assert 0 <= result["metrics"]["test"]["roc_auc"] <= 1
    with pytest.raises(ValueError, match=r"^Decoded has a score_pairs that cannot take \(x, edge_index, pairs\): "
                                         r"task 'link_prediction' calls model\.score_pairs\(x, edge_index, pairs\) "
                                         r"\(score_pairs at .*test_link_task\.py:\d+\)$"):
        task.run(Entry("decoded", Decoded), graph(), {**hparams, "scorer": "forward"}, Budget(epochs=2), CPU)
