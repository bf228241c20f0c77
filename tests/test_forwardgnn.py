"""ForwardGNN: layer isolation, the class-node graph, fixed negatives and the inference rule, on a tiny SBM."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import stochastic_blockmodel_graph

from gnnbench.models.forwardgnn import (
    BackpropGNN,
    ForwardForwardLabels,
    ForwardForwardVirtual,
    SingleForward,
    SingleForwardTopToInput,
    SingleForwardTopToLoss,
)
from gnnbench.models.forwardgnn.graph import wrong_classes
from gnnbench.models.forwardgnn.layers import l2_rows
from gnnbench.tasks.base import Budget, EarlyStopping, RunContext
from gnnbench.tasks.node import NodeClassification, NodeOptions, hide_test
from gnnbench.tasks.splits import stratified_masks

CLASSES = 3


def sbm(seed: int = 0) -> Data:
    """3 blocks of 20 nodes (p_in 0.3, p_out 0.02), 8-dim features = class mean + noise, 20/20/60 % splits."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    probs = torch.full((CLASSES, CLASSES), 0.02).fill_diagonal_(0.3)
    edge_index = stochastic_blockmodel_graph([20] * CLASSES, probs)
    y = torch.arange(CLASSES).repeat_interleave(20)
    means = torch.randn(CLASSES, 8, generator=generator)
    x = means[y] + 0.8 * torch.randn(y.numel(), 8, generator=generator)
    train, val, test = stratified_masks(y, 0.2, 0.2, seed)
    return Data(x=x, edge_index=edge_index, y=y, train_mask=train, val_mask=val, test_mask=test)


def fitted(model: torch.nn.Module, data: Data, epochs: int = 60) -> NodeClassification:
    task = NodeClassification(NodeOptions())
    task.fit_model(model, hide_test(data), {**type(model).fit_hparams, "lr": 0.01}, Budget(epochs, 20),
                   RunContext(device=torch.device("cpu"), seed=0))
    return task


class Spy(SingleForward):
    """Records what the greedy schedule does while layer 1 trains."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.phase_inputs_require_grad: list[bool] = []
        self.layer0_grads_in_phase1: list[bool] = []
        self.layer0_snapshot: dict[str, torch.Tensor] | None = None
        self.backward_fired_in_phase: list[int] = []
        self.phase = 0

    def layer_output(self, i, state):
        output = super().layer_output(i, state)
        if torch.is_grad_enabled():
            self.phase = i
            if i == 1:
                self.phase_inputs_require_grad.append(state.x.requires_grad)
                self.layer0_grads_in_phase1.extend(p.grad is not None for p in self.layers[0].parameters())
                if self.layer0_snapshot is None:
                    self.layer0_snapshot = {k: v.clone() for k, v in self.layers[0].state_dict().items()}
        if i == 0 and output[0].requires_grad:
            output[0].register_hook(lambda g: self.backward_fired_in_phase.append(self.phase))
        return output


def test_a_trained_layer_is_frozen_and_gets_no_gradient_while_the_next_one_trains():
    data = sbm()
    model = Spy(8, CLASSES, hidden_channels=16, num_layers=2)
    fitted(model, data)
    assert model.phase_inputs_require_grad and not any(model.phase_inputs_require_grad)
    assert model.layer0_grads_in_phase1 and not any(model.layer0_grads_in_phase1)
    assert set(model.backward_fired_in_phase) == {0}  # layer 0's output is only differentiated in its own phase
    for key, value in model.layers[0].state_dict().items():
        assert torch.equal(value, model.layer0_snapshot[key]), key  # bit-identical after layer 1's phase


def test_each_layer_is_restored_to_its_best_validation_step_before_the_next_one_trains(monkeypatch):
    """The next layer's input is the finished layer at its best step, not at its last (the notes' pitfall)."""
    steps: dict[int, list[dict[str, torch.Tensor]]] = {}
    best: dict[int, int] = {}
    original = EarlyStopping.step

    def recording(self, epoch, value, loss, model):
        stop = original(self, epoch, value, loss, model)
        steps.setdefault(id(model), []).append({k: v.clone() for k, v in model.state_dict().items()})
        best[id(model)] = self.best_epoch
        return stop

    monkeypatch.setattr(EarlyStopping, "step", recording)
    model = Spy(8, CLASSES, hidden_channels=16, num_layers=2)
    fitted(model, sbm(), epochs=300)
    history, chosen = steps[id(model.layers[0])], best[id(model.layers[0])]
    assert chosen < len(history) - 1  # it trained past its best step, so the restore matters
    assert any(not torch.equal(history[-1][k], v) for k, v in history[chosen].items())
    for key, value in model.layer0_snapshot.items():  # as layer 1 starts training
        assert torch.equal(value, history[chosen][key]), key


def test_each_layer_has_its_own_optimizer_and_together_they_cover_every_parameter(monkeypatch):
    groups: list[set[int]] = []
    original = torch.optim.Adam

    def recording(params, **kwargs):
        params = list(params)
        groups.append({id(p) for p in params})
        return original(params, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", recording)
    model = SingleForward(8, CLASSES, hidden_channels=16, num_layers=3)
    fitted(model, sbm(), epochs=5)
    assert len(groups) == 3
    assert all(not (a & b) for a, b in itertools.combinations(groups, 2))
    assert set().union(*groups) == {id(p) for p in model.parameters() if p.requires_grad}
    for group, layer in zip(groups, model.layers, strict=True):
        assert group == {id(p) for p in layer.parameters()}


def test_the_augmented_graph_links_training_nodes_only_to_their_own_class_node():
    data = sbm()
    model = SingleForward(8, CLASSES, hidden_channels=16)
    model.prepare(hide_test(data))
    aug = model.augment(data.x, data.edge_index)
    n, train = data.num_nodes, data.train_mask
    assert aug.x.size(0) == n + CLASSES
    virtual = aug.edge_index[:, data.edge_index.size(1):]
    assert virtual.size(1) == 2 * int(train.sum())
    real, cls = virtual.min(0).values, virtual.max(0).values
    assert bool((cls >= n).all() and (real < n).all())
    assert bool(train[real].all()) and not bool((data.val_mask | data.test_mask)[real].any())
    assert torch.equal(cls - n, data.y[real])
    assert {(int(a), int(b)) for a, b in virtual.t()} == {(int(b), int(a)) for a, b in virtual.t()}  # both ways
    assert all(p is not model.class_features for p in model.parameters())
    assert not model.class_features.requires_grad


def test_inference_is_the_sum_of_per_layer_softmaxes_and_the_model_learns():
    data = sbm()
    model = SingleForward(8, CLASSES, hidden_channels=16, num_layers=3)
    task = fitted(model, data, epochs=100)
    model.eval()
    with torch.no_grad():
        n = data.num_nodes
        edges = torch.cat([data.edge_index, model.virtual_edges], 1)
        h, total = torch.cat([data.x, model.class_features]), torch.zeros(n, CLASSES)
        for layer in model.layers:
            h = torch.relu(layer.conv(l2_rows(h), edges))
            total += (h[:n] @ h[n:].t()).softmax(-1)
        out = model(data.x, data.edge_index)
    assert torch.allclose(out.exp(), total, atol=1e-5)
    assert torch.equal(out.argmax(-1), total.argmax(-1))
    assert task.evaluate(model, data, ("test",))["test"]["accuracy"] > 0.8


def test_negatives_never_carry_the_true_class_and_cover_every_wrong_class_once():
    y = torch.tensor([0, 1, 2, 3, 3, -1])
    negatives = wrong_classes(y, 4, 3, torch.Generator().manual_seed(0))
    for v in range(5):
        assert sorted(negatives[v].tolist()) == sorted(set(range(4)) - {int(y[v])})
    assert len(set(negatives[5].tolist())) == 3
    with pytest.raises(ValueError, match="negatives"):
        wrong_classes(y, 4, 4, torch.Generator())


@pytest.mark.parametrize("cls", [ForwardForwardLabels, ForwardForwardVirtual])
def test_ff_negative_streams_never_carry_the_true_class_and_separate_after_training(cls):
    data = sbm()
    model = cls(8, CLASSES, hidden_channels=16, num_layers=1)
    fitted(model, data, epochs=100)
    view = hide_test(data)
    state = model.train_state(view)
    train, y = model.train_index, model.train_labels
    assert len(state.graphs) == 1 + (CLASSES - 1)  # the positive stream and all C - 1 wrong classes
    for k in range(1, CLASSES):
        if cls is ForwardForwardLabels:  # the appended label vector of training nodes in negative stream k
            carried = state.x[k][train, 8:].argmax(-1)
        else:  # the class node each training node is linked to in negative graph k
            virtual = state.graphs[k][:, data.edge_index.size(1):]
            carried = virtual[1, :train.numel()] - data.num_nodes
            assert torch.equal(virtual[0, :train.numel()], train)
        assert not bool((carried == y).any())
        assert torch.equal(carried, model.negatives[:, k - 1])
    with torch.no_grad():
        goodness = model.layer_output(0, state)[:, train].pow(2).sum(-1).mean(-1)
    assert goodness[0] > goodness[1:].max()


@pytest.mark.parametrize("cls", [ForwardForwardLabels, ForwardForwardVirtual])
def test_ff_inference_labels_only_the_evaluated_nodes_and_knows_validation_labels_at_test(cls):
    data = sbm()
    model = cls(8, CLASSES, hidden_channels=16, num_layers=2)
    fitted(model, data, epochs=20)
    train, val, test = (data[f"{s}_mask"].nonzero().view(-1) for s in ("train", "val", "test"))
    expected = {  # group -> (evaluated, known); every other node is unlabelled
        "val": (val, train), "test": (test, torch.cat([train, val])), "train": (train, train[:0])}
    groups = model.eval_groups(data.num_nodes)
    # validation while fitting: the validation nodes, with the training labels only
    assert torch.equal(model.group.evaluated, val) and torch.equal(model.group.known, train)
    for group, (evaluated, known) in zip(groups, expected.values(), strict=True):
        assert torch.equal(group.evaluated, evaluated) and torch.equal(group.known, known)
        assert torch.equal(group.known_labels, data.y[known])
        model.group = group
        state = model.eval_state(data.x, data.edge_index)
        for c in range(CLASSES):
            if cls is ForwardForwardLabels:
                labels = state.x[c][:, 8:]
                assert bool((labels[evaluated].argmax(-1) == c).all())
                assert torch.equal(labels[known].argmax(-1), data.y[known])
                unlabelled = torch.ones(data.num_nodes, dtype=torch.bool)
                unlabelled[evaluated] = unlabelled[known] = False
                assert bool((labels[unlabelled] == 1 / CLASSES).all())
            else:
                virtual = state.graphs[c][:, data.edge_index.size(1):]
                nodes, classes = virtual[:, : virtual.size(1) // 2]  # node -> class node; the rest reverses them
                linked = dict(zip(nodes.tolist(), (classes - data.num_nodes).tolist(), strict=True))
                assert linked == {**dict.fromkeys(evaluated.tolist(), c),
                                  **dict(zip(known.tolist(), data.y[known].tolist(), strict=True))}
    model.group = groups[0]
    with torch.no_grad():
        before = model(data.x, data.edge_index)
        model.val_labels = (model.val_labels + 1) % CLASSES  # what the model believes about validation nodes
        after = model(data.x, data.edge_index)
    assert torch.equal(before[val], after[val]) and torch.equal(before[train], after[train])
    assert not torch.equal(before[test], after[test])  # test passes read the validation labels


def test_top_to_loss_scores_each_layer_with_the_mean_of_its_output_and_the_states_above():
    data = sbm()
    model = SingleForwardTopToLoss(8, CLASSES, hidden_channels=16, num_layers=3)
    task = fitted(model, data, epochs=60)
    model.eval()
    with torch.no_grad():
        n, edges = data.num_nodes, torch.cat([data.edge_index, model.virtual_edges], 1)
        states, outputs = [l2_rows(torch.cat([data.x, model.class_features]))], []
        for layer in model.layers:
            outputs.append(torch.relu(layer.conv(l2_rows(states[-1]), edges)))
            states.append(l2_rows(outputs[-1]))
        total = torch.zeros(n, CLASSES)
        for i, output in enumerate(outputs):
            embedding = torch.stack([output, *states[i + 2:]]).mean(0)  # the class nodes' rows too
            total += (embedding[:n] @ embedding[n:].t()).softmax(-1)
        assert torch.allclose(model(data.x, data.edge_index).exp(), total, atol=1e-5)
    assert task.evaluate(model, data, ("test",))["test"]["accuracy"] > 0.7  # chance: 1/3


@pytest.mark.parametrize("make", [
    lambda: SingleForwardTopToLoss(8, CLASSES, hidden_channels=16, num_layers=2),
    lambda: SingleForwardTopToInput(8, CLASSES, hidden_channels=16, num_layers=2, alternating=False),
], ids=["top2loss", "top2input_not_alternating"])
def test_top_down_layers_read_the_previous_time_steps_states(make):
    """Layer 1's input in a time step is layer 0's state of the previous step, not the one layer 0 has just
    produced in this step (the official code writes ``new_states`` and swaps them in after the loop); Top-to-Input
    does so too without the alternating flag, whose even-then-odd order is a separate path (tested below)."""
    data = sbm()
    torch.manual_seed(0)
    model = make()
    model.prepare(data)
    graph = model.training_graph(data)
    optimizers = [torch.optim.Adam(layer.parameters(), lr=0.1) for layer in model.layers]
    with torch.no_grad():
        states = model.initial_states(graph)
    seen: list[torch.Tensor] = []
    model.layers[1].register_forward_pre_hook(lambda _, args: seen.append(args[0].clone()))
    model.time_step(graph, states, optimizers, {"grad_max_norm": 1.0})  # layer 0 learns
    before = [state.clone() for state in states]
    model.time_step(graph, states, optimizers, {"grad_max_norm": 1.0})
    assert torch.equal(seen[-1], before[1])
    assert not torch.allclose(states[1], before[1])  # the state layer 0 produced in this step, unread


def test_top_to_input_reads_the_state_above_and_the_labels_on_top():
    data = sbm()
    model = SingleForwardTopToInput(8, CLASSES, hidden_channels=16, num_layers=3)
    widths = [layer.conv.in_channels for layer in model.layers]
    assert widths == [8 + 16, 16 + 16, 16 + CLASSES]
    assert model.order() == [0, 2, 1]  # alternating: even layers first
    task = fitted(model, data, epochs=60)
    graph = model.augment(data.x, data.edge_index)
    labels = model.label_state(graph)
    n, train = data.num_nodes, data.train_mask
    assert torch.equal(labels[:n][train], torch.eye(CLASSES)[data.y[train]])
    assert torch.allclose(labels[:n][~train], torch.full((int((~train).sum()), CLASSES), 1 / CLASSES))
    assert torch.equal(labels[n:], torch.eye(CLASSES))
    model.eval()
    with torch.no_grad():  # the recurrence by hand: zeros from above first, Y on top, alternating updates
        edges = graph.edge_index

        def run(i, below, above):
            return torch.relu(model.layers[i].conv(torch.cat([l2_rows(below), l2_rows(above)], -1), edges))

        s = [graph.x]
        for i, width in enumerate([16, 16, CLASSES]):
            s.append(run(i, s[-1], torch.zeros(graph.num_nodes, width)))
        s.append(labels)
        total = torch.zeros(n, CLASSES)
        for step in range(model.test_time_steps):
            for i in (0, 2, 1):
                s[i + 1] = run(i, s[i], s[i + 2])
            if step >= 2:
                total += sum((s[i + 1][:n] @ s[i + 1][n:].t()).softmax(-1) for i in range(3))
        assert torch.allclose(model(data.x, data.edge_index).exp(), total, atol=1e-5)
    assert task.evaluate(model, data, ("test",))["test"]["accuracy"] > 0.8


@pytest.mark.parametrize("backbone", ["gcn", "sage", "gat"])
def test_every_backbone_learns_locally_and_the_backprop_baseline_shares_it(backbone):
    data = sbm()
    model = SingleForward(8, CLASSES, hidden_channels=16, num_layers=2, backbone=backbone)
    task = fitted(model, data, epochs=60)
    assert task.evaluate(model, data, ("test",))["test"]["accuracy"] > 0.8
    baseline = BackpropGNN(8, CLASSES, hidden_channels=16, num_layers=2, backbone=backbone)
    assert [type(layer.conv) for layer in model.layers] == [type(conv) for conv in baseline.layers]
    assert baseline(data.x, data.edge_index).shape == (data.num_nodes, CLASSES)


def test_ff_vn_passes_the_positive_graphs_output_to_every_stream_of_the_next_layer() -> None:
    """FF-VN: each layer's positive-graph output is the next layer's input on the
    positive and on every negative (virtual-node) graph; a negative graph propagating its own output would learn
    another model, and one-layer tests cannot see it."""
    data = hide_test(sbm())
    torch.manual_seed(0)
    model = ForwardForwardVirtual(8, CLASSES, hidden_channels=16, num_layers=2)
    model.prepare(data)
    with torch.no_grad():
        state = model.train_state(data)
        out = model.layer_output(0, state)
        following = model.next_state(state, out)
    assert all(torch.equal(stream, out[0]) for stream in following.x[1:])


def test_each_greedy_step_is_selected_on_the_sum_of_the_layers_so_far(monkeypatch) -> None:
    """Layer i's steps are scored as the model of layers 0..i, not as layer i alone: SF's last selection reads
    the sum of both layers' class softmaxes, so each row sums to 2."""
    scored = []
    original = SingleForward.selection

    def recording(self, task, output, data):
        scored.append(output.clone())
        return original(self, task, output, data)

    monkeypatch.setattr(SingleForward, "selection", recording)
    data = sbm()
    fitted(SingleForward(8, CLASSES, hidden_channels=16, num_layers=2), data, epochs=5)
    torch.testing.assert_close(scored[-1].exp().sum(-1), torch.full((data.num_nodes,), 2.0))


def test_the_selected_step_is_the_last_layers_best_in_the_flat_history() -> None:
    """best_epoch indexes the history of all layers' steps: it is a step of the last layer, the one with its best
    validation score, so the record's curves and its selected epoch agree."""
    data = sbm()
    torch.manual_seed(0)
    model = SingleForward(8, CLASSES, hidden_channels=16, num_layers=2)
    fit = NodeClassification(NodeOptions()).fit_model(model, hide_test(data), {**SingleForward.fit_hparams,
                                                                             "lr": 0.01}, Budget(30, 10),
                                                      RunContext(device=torch.device("cpu"), seed=0))
    layers, scores = fit.history["layer"], fit.history["val_accuracy"]
    last = [step for step, layer in enumerate(layers) if layer == 1]
    assert layers[0] == 0 and fit.best_epoch in last
    assert scores[fit.best_epoch] == max(scores[step] for step in last)


def test_ff_loss_is_the_positive_bce_plus_the_mean_bce_of_the_negatives_on_summed_goodness() -> None:
    """Training goodness is the sum of squares; the negatives' BCE is averaged over the K streams."""
    from gnnbench.models.forwardgnn.ff import ff_loss

    h = torch.randn(4, 7, 5, dtype=torch.float64)  # the positive stream, then K = 3 negatives; 7 nodes, width 5
    goodness = (h**2).sum(-1) - 2.0
    softplus = torch.nn.functional.softplus
    by_hand = softplus(-goodness[0]).mean() + sum(softplus(goodness[k]).mean() for k in (1, 2, 3)) / 3
    assert torch.allclose(ff_loss(h, theta=2.0), by_hand, atol=1e-12)


@pytest.mark.parametrize("cls", [ForwardForwardLabels, ForwardForwardVirtual])
def test_ff_inference_scores_each_candidate_class_by_the_mean_of_squares_over_the_real_nodes(cls) -> None:
    """At inference a layer's goodness is the mean (not the training sum) of squares minus theta, one column per
    candidate class, for the real nodes only (FF-VN's class nodes are no prediction)."""
    model = cls(8, CLASSES, hidden_channels=16, num_layers=2)
    model.num_real_nodes = 6
    output = torch.randn(CLASSES, 6 + CLASSES, 16)  # a stream per candidate class; FF-VN adds the class nodes
    expected = torch.stack([(output[c, :6] ** 2).mean(-1) - model.theta for c in range(CLASSES)], 1)
    assert torch.equal(model.contribution(0, output, None), expected)


def test_top_to_loss_clips_each_layers_gradient_to_grad_max_norm_before_its_step(monkeypatch) -> None:
    data = sbm()
    model = SingleForwardTopToLoss(8, CLASSES, hidden_channels=16, num_layers=3)
    clip = torch.nn.utils.clip_grad_norm_
    seen = []  # (max_norm, gradient norm before, after)

    def spy(parameters, max_norm, *args, **kwargs):
        parameters = list(parameters)
        before = clip(parameters, max_norm, *args, **kwargs)  # returns the norm it found
        after = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in parameters]))
        seen.append((max_norm, float(before), float(after)))
        return before

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    graph = model.training_graph(hide_test(data))
    with torch.no_grad():
        states = model.initial_states(graph)
    optimizers = [torch.optim.Adam(layer.parameters(), lr=0.01) for layer in model.layers]
    model.train()
    model.time_step(graph, states, optimizers, {"grad_max_norm": 1e-3})
    assert [m for m, _, _ in seen] == [1e-3] * 3  # one clip per layer, at the hyperparameter's value
    assert all(before > 1e-3 for _, before, _ in seen)  # so the clip had work to do
    assert all(after <= 1e-3 * (1 + 1e-4) for _, _, after in seen)


def test_a_num_negatives_above_c_minus_1_names_the_run_and_the_record_says_c_minus_1_ran(write_suite,
                                                                                         tmp_path) -> None:
    """Cora has 7 classes: ``num_negatives: 10`` stays the run's hyperparameter (its id and config label), the
    record keeps the 6 that ran, and the page's Warnings say so under that label; 3, which ran as given, adds
    nothing."""
    from gnnbench.cli import main
    from gnnbench.harness.store import RunStore

    path = write_suite("""\
        name: ff
        defaults: {seeds: 1, epochs: 1, patience: null, device: cpu}
        experiments:
          - task: node_classification
            datasets: [Cora]
            models: [{name: forwardgnn_ff_la, hparams: {num_layers: 1, hidden_channels: 8, num_negatives: [3, 10]}}]
        """)
    assert main(["run", str(path), "--results", str(tmp_path / "r"), "-q"]) == 0
    records = {r["spec"]["hparams"]["num_negatives"]: r for r in RunStore(tmp_path / "r" / "ff").latest().values()}
    assert records[10]["effective_hparams"] == {"num_negatives": 6}
    assert "effective_hparams" not in records[3]
    warnings = (tmp_path / "r" / "ff" / "leaderboard.md").read_text().split("## Warnings")[1]
    assert ("forwardgnn_ff_la (hidden_channels=8,num_layers=1,num_negatives=10): the model ran with other values "
            "than it was given (num_negatives 10 -> 6: its records' effective_hparams)") in warnings
    assert "num_negatives=3)" not in warnings
