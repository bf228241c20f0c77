"""AGNN's defining mechanisms: the macro space as one trainable layer family, conservative one-class
modifications of the best architecture guided by entropy, best-only-improves, REINFORCE on the chosen class's
controller, and constrained parameter sharing; plus the GraphNAS-style and random baselines."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.nn import GATConv, GCNConv
from torch_geometric.utils import scatter as pyg_scatter
from torch_geometric.utils import softmax, stochastic_blockmodel_graph, to_undirected

from gnnbench import hparams as hp
from gnnbench.registry import MODELS
from gnnbench.search.agnn import AGNN, guide
from gnnbench.search.base import Evaluation, Proposal, SearchAlgorithm, run_search
from gnnbench.search.graphnas import GraphNAS
from gnnbench.search.layers import SearchConv
from gnnbench.search.macro import MacroGNN
from gnnbench.search.nasbench import bench_space
from gnnbench.search.policy import Sample
from gnnbench.search.random_search import RandomSearch
from gnnbench.search.sharing import inherit
from gnnbench.search.space import Field, Space, macro_space
from gnnbench.tasks.search import ArchitectureSearch


@pytest.fixture(scope="module")
def graph() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    edge_index = to_undirected(stochastic_blockmodel_graph([10, 10], [[0.4, 0.05], [0.05, 0.4]]))
    return torch.randn(20, 6), edge_index


def arch_with(space: Space, base: tuple[int, ...], **values: object) -> tuple[int, ...]:
    """``base`` with the named fields (``hidden_1`` for ``hidden[1]``) set to the given values."""
    arch = list(base)
    for key, value in values.items():
        name = key[: key.rindex("_")] + f"[{key[key.rindex('_') + 1:]}]"
        i = next(i for i, f in enumerate(space.fields) if f.name == name)
        arch[i] = space.fields[i].choices.index(value)
    return tuple(arch)


# --- the search space ------------------------------------------------------------------------------------

@pytest.mark.parametrize("form", ["compact", "graphnas"])
def test_every_value_of_every_field_builds_and_trains(graph, form: str) -> None:
    """Each value of each field (and 40 random architectures) gives a model whose forward and backward run,
    with the class count as output width and a finite gradient on every parameter, in both layer forms."""
    x, edge_index = graph
    space = macro_space(2)
    generator = torch.Generator().manual_seed(0)
    archs = [space.sample(generator) for _ in range(40)]
    base = archs[0]
    for i, f in enumerate(space.fields):
        archs += [base[:i] + (v,) + base[i + 1:] for v in range(len(f.choices))]
    for arch in archs:
        model = MacroGNN(6, 3, space, arch, batch_norm=True, form=form)
        out = model(x, edge_index)
        assert out.shape == (20, 3), space.describe(arch)
        out.square().sum().backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), (space.describe(arch), name)


def test_gcn_and_gat_attention_reproduce_pyg_layers(graph) -> None:
    """``gcn`` + sum is GCNConv's symmetric normalisation; ``gat`` + sum is GATConv (same weights)."""
    x, edge_index = graph
    ours = SearchConv(6, 4, heads=1, attention="gcn", aggregation="sum")
    reference = GCNConv(6, 4, bias=False)
    reference.lin.weight.data.copy_(ours.lin.weight)
    torch.testing.assert_close(ours(x, edge_index), reference(x, edge_index))

    ours = SearchConv(6, 4, heads=2, attention="gat", aggregation="sum").eval()
    reference = GATConv(6, 4, heads=2, bias=False, negative_slope=0.2).eval()
    reference.lin.weight.data.copy_(ours.lin.weight)
    reference.att_dst.data.copy_(ours.att_l)  # a_l scores the target node i, a_r the source j
    reference.att_src.data.copy_(ours.att_r)
    torch.testing.assert_close(ours(x, edge_index), reference(x, edge_index))


@pytest.mark.parametrize("attention", ["gat", "gat_sym", "cos", "linear", "generalized_linear"])
def test_learned_attention_is_normalised_over_each_neighbourhood(graph, attention: str) -> None:
    x, edge_index = graph
    conv = SearchConv(6, 4, heads=3, attention=attention)
    looped = torch.cat([edge_index, torch.arange(20).repeat(2, 1)], 1)
    alpha = conv.coefficients(conv.lin(x).view(-1, 3, 4), looped)
    sums = torch.zeros(20, 3).index_add_(0, looped[1], alpha)
    torch.testing.assert_close(sums, torch.ones(20, 3))
    # GraphNAS's pyg_gnn_layer.py forms, written out by hand (gat is checked against PyG's GATConv above)
    conv.att_l.data.normal_()
    conv.att_r.data.normal_()
    h = conv.lin(x).view(-1, 3, 4)
    h_i, h_j = h[looped[1]], h[looped[0]]
    a_l, a_r = conv.att_l, conv.att_r
    if attention == "gat_sym":  # LeakyReLU of each direction's score, then summed: e_ij = e_ji
        score = (F.leaky_relu((a_l * h_i).sum(-1) + (a_r * h_j).sum(-1), 0.2)
                 + F.leaky_relu((a_l * h_j).sum(-1) + (a_r * h_i).sum(-1), 0.2))
    elif attention == "linear":  # the neighbour's features in both terms
        score = torch.tanh((a_l * h_j).sum(-1) + (a_r * h_j).sum(-1))
    elif attention == "cos":  # the inner product of the two scaled feature vectors
        score = torch.einsum("ehc,ehc->eh", a_l * h_i, a_r * h_j)
    elif attention == "generalized_linear":  # w_G of one Linear(out, 1) shared by the heads, after tanh
        score = torch.einsum("ehc,c->eh", torch.tanh(a_l * h_i + a_r * h_j), conv.general.weight[0])
    else:
        return
    torch.testing.assert_close(conv.coefficients(h, looped), softmax(score, looped[1], num_nodes=20))


def test_const_attention_weighs_every_message_one_unnormalised(graph) -> None:
    x, edge_index = graph
    conv = SearchConv(6, 4, heads=2, attention="const", aggregation="sum")
    looped = torch.cat([edge_index, torch.arange(20).repeat(2, 1)], 1)
    h = conv.lin(x).view(-1, 2, 4)
    assert torch.equal(conv.coefficients(h, looped), torch.ones(looped.size(1), 2))
    expected = torch.zeros(20, 2, 4).index_add_(0, looped[1], h[looped[0]]).reshape(20, 8)
    torch.testing.assert_close(conv(x, edge_index), expected)  # self loop included: the sum over N(i) and i


@pytest.mark.parametrize("aggregation", ["sum", "mean", "max", "mlp"])
def test_graphnas_form_maps_each_message_before_aggregating_as_geolayer(graph, aggregation: str) -> None:
    """GeoLayer, written out by hand: a mean/max/mlp layer passes each weighted message through
    Linear(width, 128) and Linear(128, width), then takes the mean, the max or (mlp) the sum; sum has no maps."""
    x, edge_index = graph
    conv = SearchConv(6, 4, heads=2, attention="gat", aggregation=aggregation, form="graphnas").eval()
    conv.bias.data.normal_()
    looped = torch.cat([edge_index, torch.arange(20).repeat(2, 1)], 1)
    h = conv.lin(x).view(-1, 2, 4)
    messages = conv.coefficients(h, looped).unsqueeze(-1) * h[looped[0]]
    if aggregation == "sum":
        assert conv.pool is None and not any("mlp" in name for name, _ in conv.named_parameters())
    else:
        first, second = conv.pool
        assert (first.in_features, first.out_features, second.out_features) == (4, 128, 4)
        messages = second(first(messages))
    reduce = {"sum": "sum", "mlp": "sum", "mean": "mean", "max": "max"}[aggregation]
    expected = pyg_scatter(messages, looped[1], 0, 20, reduce=reduce)
    torch.testing.assert_close(conv(x, edge_index), expected.reshape(20, 8) + conv.bias)


def test_graphnas_form_drops_const_message_features_and_no_gcn_coefficient() -> None:
    """Training with dropout 0.5 on a graph of self loops only: compact drops each head's coefficient (a head's
    features kept or zeroed together); GeoLayer drops const's message features one by one, and leaves gcn's
    output as in evaluation."""
    x, edge_index = torch.randn(30, 6), torch.empty(2, 0, dtype=torch.long)
    torch.manual_seed(0)

    def zeroed(form: str) -> torch.Tensor:
        conv = SearchConv(6, 16, heads=2, attention="const", aggregation="sum", dropout=0.5, form=form).train()
        return (conv(x, edge_index) == 0).view(30, 2, 16)

    heads = zeroed("compact")
    assert (heads.all(-1) | ~heads.any(-1)).all() and heads.any()  # whole heads
    features = zeroed("graphnas")
    assert (features.any(-1) & ~features.all(-1)).any()  # single features
    gcn = SearchConv(6, 16, heads=2, attention="gcn", aggregation="sum", dropout=0.5, form="graphnas")
    torch.testing.assert_close(gcn.train()(x, edge_index), gcn.eval()(x, edge_index))


def test_graphnas_form_initialises_the_attention_as_geolayer_and_compact_as_before() -> None:
    """GeoLayer: a_l and a_r the halves of one Glorot draw over [heads, 2 x width], w_G a Glorot draw over
    [1, width]; compact: a Glorot draw over [1, heads, width] each, w_G PyTorch's Linear default."""
    torch.manual_seed(0)
    bounds = {"graphnas": (math.sqrt(6 / (8 + 2 * 64)), math.sqrt(6 / (1 + 64))),
              "compact": (math.sqrt(6 / (64 * (8 + 1))), 1 / math.sqrt(64))}
    for form, (attention, general) in bounds.items():
        conv = SearchConv(6, 64, heads=8, attention="generalized_linear", form=form)
        for values, bound in ((torch.cat([conv.att_l, conv.att_r], -1), attention), (conv.general.weight, general)):
            assert 0.95 * bound < values.abs().max() <= bound, form  # 1,024 and 64 uniform draws reach the bound


def test_graphnas_form_shares_between_mean_max_and_mlp_layers_and_compact_between_sum_mean_max() -> None:
    """Homogeneity follows the tensors: GeoLayer's mean/max/mlp layers all carry the message maps and a sum
    layer none; compact's sum/mean/max carry the same tensors and its mlp its own MLP."""
    space = macro_space(2)
    base = arch_with(space, space.sample(torch.Generator().manual_seed(5)), aggregation_0="mean")
    shared = {}
    for form in ("compact", "graphnas"):
        parent = MacroGNN(6, 3, space, base, form=form)
        shared[form] = {value for value in ("sum", "mean", "max", "mlp")
                        if 0 in inherit(MacroGNN(6, 3, space, arch_with(space, base, aggregation_0=value), form=form),
                                        parent)}
    assert shared == {"compact": {"sum", "mean", "max"}, "graphnas": {"mean", "max", "mlp"}}


# --- AGNN's controller -----------------------------------------------------------------------------------

class RandomRewards:
    """An evaluator giving each architecture a fixed pseudo-random validation accuracy."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, ...], float] = {}
        self.generator = torch.Generator().manual_seed(1)

    def __call__(self, proposal: Proposal) -> Evaluation:
        if proposal.arch not in self.seen:
            self.seen[proposal.arch] = float(torch.rand((), generator=self.generator))
        return Evaluation(self.seen[proposal.arch], 0.0)


@pytest.mark.parametrize("space", [macro_space(2), bench_space()], ids=["macro", "nas_bench_graph"])
@pytest.mark.parametrize("rule", ["sample", "argmax"])
def test_every_child_changes_only_the_fields_of_the_guided_class(space: Space, rule: str) -> None:
    """200 children: each equals the best-so-far outside the fields of the one class the guider picked and
    differs from it inside them; the parent is the best so far; the best only ever improves."""
    torch.manual_seed(0)
    agnn = AGNN(guide=rule, batch_size=5)
    agnn.start(space, torch.Generator().manual_seed(0))
    rewards = RandomRewards()
    kinds, best_history = set(), []
    first = agnn.propose()
    agnn.observe(first, rewards(first).val)
    for _ in range(200):
        best, best_reward = agnn.best, agnn.best_reward
        proposal = agnn.propose()
        assert proposal.parent == best and proposal.kind in space.classes
        changed = {i for i, (a, b) in enumerate(zip(proposal.arch, best, strict=True)) if a != b}
        assert changed and changed <= set(space.indices(proposal.kind))
        assert not space.same_network(proposal.arch, best)  # nor an isomorphic relabelling of it
        kinds.add(proposal.kind)
        reward = rewards(proposal).val
        agnn.observe(proposal, reward)
        if agnn.best != best:  # replaced: by a child of this batch, strictly better
            assert agnn.best_reward > best_reward and rewards.seen[agnn.best] == agnn.best_reward
        best_history.append(agnn.best_reward)
    assert best_history == sorted(best_history) and len(set(best_history)) > 1
    assert len(kinds) > 1  # the guider does not lock onto one class


def test_a_sample_isomorphic_to_the_best_is_drawn_again() -> None:
    """Every node reading the cell input: swapping two ops relabels the nodes, and builds the same network."""
    space = bench_space()
    gcn, gat = space.fields[3].choices.index("gcn"), space.fields[3].choices.index("gat")
    best, relabelled = (0, 0, 0, gcn, gat, gcn, gcn), (0, 0, 0, gat, gcn, gcn, gcn)
    other = (0, 0, 0, gat, gat, gcn, gcn)
    assert relabelled != best and space.same_network(relabelled, best) and not space.same_network(other, best)
    agnn = AGNN()
    agnn.start(space, torch.Generator().manual_seed(0))
    agnn.best = best
    draws = iter([relabelled, best, other])
    agnn.modify = lambda arch: Proposal(next(draws), parent=arch, kind="op")
    assert agnn.propose().arch == other


@pytest.mark.parametrize("class_entropy", ["relative", "sum"])
def test_the_argmax_guide_modifies_the_class_whose_controller_is_least_certain(class_entropy: str) -> None:
    """Each class controller's own sample, read back: the modified class is the one of largest entropy, and
    its sample (values, log-probability) is the child's."""
    space = macro_space(2)
    agnn = AGNN(guide="argmax", batch_size=5, class_entropy=class_entropy)
    agnn.start(space, torch.Generator().manual_seed(0))
    rewards = RandomRewards()
    first = agnn.propose()
    agnn.observe(first, rewards(first).val)
    drawn = {}
    for kind, controller in agnn.controllers.items():
        def spy(*args, kind=kind, sample=controller.sample, **kwargs):
            drawn[kind] = sample(*args, **kwargs)
            return drawn[kind]

        controller.sample = spy
    entropy = {"relative": lambda s: s.relative_entropy, "sum": lambda s: float(s.entropy.detach())}[class_entropy]
    for _ in range(60):
        proposal = agnn.propose()
        assert proposal.kind == max(drawn, key=lambda kind: entropy(drawn[kind]))
        assert proposal.sample is drawn[proposal.kind]
        assert all(proposal.arch[i] == v for i, v in drawn[proposal.kind].values.items())
        agnn.observe(proposal, rewards(proposal).val)


def test_guide_rules() -> None:
    entropies = torch.tensor([0.2, 0.9, 0.5])
    generator = torch.Generator().manual_seed(0)
    assert guide(entropies, "argmax", generator) == 1
    draws = torch.tensor([guide(entropies, "sample", generator) for _ in range(4000)])
    frequencies = torch.bincount(draws, minlength=3) / 4000
    torch.testing.assert_close(frequencies, torch.softmax(entropies, 0), atol=0.03, rtol=0)


def test_reinforce_updates_only_the_chosen_class_controller_against_an_ema_baseline() -> None:
    space = macro_space(2)
    torch.manual_seed(0)
    agnn = AGNN(batch_size=100, controller_lr=0.01)
    agnn.start(space, torch.Generator().manual_seed(0))
    first = agnn.propose()
    agnn.observe(first, 0.5)
    assert agnn.reinforce.baseline == 0.5  # the baseline starts at the best accuracy
    proposal = agnn.propose()
    free = space.indices(proposal.kind)
    controller = agnn.controllers[proposal.kind]
    log_p = controller.log_prob(free, [proposal.arch[i] for i in free], agnn.best)
    before = {k: [p.detach().clone() for p in c.parameters()] for k, c in agnn.controllers.items()}
    agnn.observe(proposal, 0.9)
    shaped = 0.9 + 1e-4 * float(proposal.sample.entropy.detach())  # AutoGL's entropy_weight: 1e-4 x its entropy
    assert agnn.reinforce.baseline == pytest.approx(0.95 * 0.5 + 0.05 * shaped)
    assert agnn.batch[-1][1] == 0.9  # the best is replaced on accuracy alone
    for kind, c in agnn.controllers.items():
        moved = any(not torch.equal(a, b) for a, b in zip(before[kind], c.parameters(), strict=True))
        assert moved == (kind == proposal.kind), kind
    # the reward beat the baseline: the sampled modification became more likely
    assert controller.log_prob(free, [proposal.arch[i] for i in free], agnn.best) > log_p


def test_class_controllers_read_only_the_fixed_fields_of_the_best() -> None:
    """A class controller's decision depends on the best architecture's fields outside its class (its
    history), and not on the current values of the fields it replaces (AutoGL's ``resample``)."""
    space = bench_space()
    torch.manual_seed(0)
    agnn = AGNN()
    agnn.start(space, torch.Generator().manual_seed(0))
    best = space.sample(torch.Generator().manual_seed(4))
    for kind in space.classes:
        controller, free = agnn.controllers[kind], space.indices(kind)
        values = [0] * len(free)
        own = tuple((v + 1) % len(space.fields[i].choices) if i in free else v for i, v in enumerate(best))
        other = tuple((v + 1) % len(space.fields[i].choices) if i not in free else v for i, v in enumerate(best))
        with torch.no_grad():
            reference = controller.log_prob(free, values, best)
            assert torch.equal(controller.log_prob(free, values, own), reference), kind
            assert not torch.equal(controller.log_prob(free, values, other), reference), kind


def test_each_batch_restarts_the_baseline_at_the_best_accuracy() -> None:
    """Within a batch the EMA baseline moves with every child; at the end of each batch (after the best may
    have been replaced) it restarts at the best accuracy (AutoGL: ``baseline = best_selection[0]``)."""
    space = bench_space()
    torch.manual_seed(0)
    agnn = AGNN(batch_size=3, entropy_coeff=0.0)
    agnn.start(space, torch.Generator().manual_seed(0))
    rewards = RandomRewards()
    first = agnn.propose()
    agnn.observe(first, rewards(first).val)
    assert agnn.reinforce.baseline == agnn.best_reward
    for step in range(1, 31):
        before = agnn.reinforce.baseline
        proposal = agnn.propose()
        reward = rewards(proposal).val
        agnn.observe(proposal, reward)
        if step % 3:
            assert agnn.reinforce.baseline == pytest.approx(0.95 * before + 0.05 * reward)
        else:
            assert agnn.reinforce.baseline == agnn.best_reward


def test_summed_class_entropy_favours_the_class_with_more_fields_and_values() -> None:
    """``class_entropy="sum"``: near-uniform controllers give ``op`` (4 x ln 9 = 8.8 nats) far more entropy than
    ``input`` (ln 2 + ln 3 + ln 4 = 3.2), so the softmax guide almost never changes the links; the default,
    relative entropy (both about 1), picks either class about half of the time."""
    space = bench_space()
    share = {}
    for measure in ("sum", "relative"):
        torch.manual_seed(0)
        agnn = AGNN(class_entropy=measure)
        agnn.start(space, torch.Generator().manual_seed(0))
        agnn.best = space.sample(torch.Generator().manual_seed(0))
        share[measure] = sum(agnn.modify(agnn.best).kind == "input" for _ in range(200)) / 200
    assert share["sum"] < 0.03 and 0.35 < share["relative"] < 0.65
    with pytest.raises(ValueError, match="class_entropy"):
        AGNN(class_entropy="max")
    with pytest.raises(ValueError, match="max_redraws"):  # a child needs at least one draw
        AGNN(max_redraws=0)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):  # a batch that never completes
        AGNN(batch_size=0)


# --- constrained parameter sharing -------------------------------------------------------------------------

def test_sharing_copies_exactly_the_homogeneous_layers() -> None:
    """Parent and child differ only in layer 1's width: layer 0 is copied bit for bit; layers 1 and 2 (whose
    input widths change) and every skip and batch-norm parameter keep the child's fresh initialisation."""
    space = macro_space(3)
    base = space.sample(torch.Generator().manual_seed(3))
    parent_arch = arch_with(space, base, hidden_1=16, skip_0=True, skip_1=True, skip_2=True)
    child_arch = arch_with(space, parent_arch, hidden_1=32)
    torch.manual_seed(0)
    parent = MacroGNN(6, 3, space, parent_arch, batch_norm=True)
    for p in parent.parameters():  # "trained": far from any initialisation
        p.data.add_(1.0)
    for layer in parent.layers:
        layer.norm.running_mean.add_(1.0)
    torch.manual_seed(1)
    child = MacroGNN(6, 3, space, child_arch, batch_norm=True)
    fresh = {k: v.clone() for k, v in child.state_dict().items()}
    assert inherit(child, parent) == [0]
    for key, value in child.state_dict().items():
        if key.startswith("layers.0.conv."):
            assert torch.equal(value, parent.state_dict()[key]), key
        else:
            assert torch.equal(value, fresh[key]), key  # skip, batch norm and non-homogeneous layers


def test_nothing_is_inherited_across_a_changed_activation_or_attention() -> None:
    space = macro_space(2)
    base = arch_with(space, space.sample(torch.Generator().manual_seed(5)), activation_0="relu",
                     attention_0="gat", activation_1="elu")
    parent = MacroGNN(6, 3, space, base)
    for arch, expected in ((arch_with(space, base, activation_0="tanh"), [1]),
                           (arch_with(space, base, attention_0="cos"), [1]),
                           (arch_with(space, base, activation_1="relu"), [0]),
                           (base, [0, 1])):
        child = MacroGNN(6, 3, space, arch)
        fresh = {k: v.clone() for k, v in child.state_dict().items()}
        assert inherit(child, parent) == expected, space.describe(arch)
        for key, value in child.state_dict().items():
            copied = int(key.split(".")[1]) in expected and ".conv." in key
            assert torch.equal(value, (parent.state_dict() if copied else fresh)[key]), key


# --- baselines ---------------------------------------------------------------------------------------------

def test_graphnas_reward_is_shaped_by_the_top_k_average() -> None:
    nas = GraphNAS(top_k=2, entropy_coeff=0.0)
    nas.start(bench_space(), torch.Generator().manual_seed(0))
    assert nas.score(0.6) == pytest.approx(0.5)  # 0.6 - 0 clipped to 0.5
    assert nas.score(0.7) == pytest.approx(0.1)  # 0.7 - 0.6
    assert nas.score(0.5) == pytest.approx(-0.15)  # 0.5 - mean(0.7, 0.6)
    assert nas.score(0.8) == pytest.approx(0.15)  # top-2 is still (0.7, 0.6)


def test_graphnas_reward_accuracy_feeds_the_policy_the_validation_accuracy_as_graphnas_trainer_does() -> None:
    nas = GraphNAS(reward="accuracy")
    nas.start(bench_space(), torch.Generator().manual_seed(0))
    proposal = nas.propose()
    nas.observe(proposal, 0.6)
    assert proposal.sample is not None
    assert nas.reinforce.baseline == pytest.approx(0.6 + 1e-4 * float(proposal.sample.entropy.detach()))  # 1st reward
    assert nas.score(0.7) == pytest.approx(0.7)  # no top-k average subtracted, no clip
    spec_of = {name: hp.resolve(MODELS.get("graphnas"), ArchitectureSearch, {"reward": name})
               for name in ("shaped", "accuracy")}
    assert "reward" not in spec_of["shaped"] and spec_of["accuracy"]["reward"] == "accuracy"  # old ids kept


def graphnas_sample(entropies: list[float]) -> Sample:
    """A two-decision draw with the given per-decision entropies and log-probabilities to differentiate."""
    return Sample({0: 0, 1: 0}, tuple(torch.zeros((), requires_grad=True) for _ in entropies),
                  tuple(map(torch.tensor, entropies)), 1.0)


def decision_grads(sample: Sample) -> torch.Tensor:
    """The gradient each decision's log-probability received."""
    assert all(p.grad is not None for p in sample.log_probs)
    return torch.stack([p.grad for p in sample.log_probs])


def test_graphnas_controller_update_is_graphnas_train_controller_step() -> None:
    """Per-decision rewards R + c H_i against per-decision EMA baselines restarted every ``baseline_restart``
    proposals; the advantage scaled by 0.5 over the largest entry of the last ten advantage vectors. The
    gradient each decision's log-probability gets is minus its scaled advantage (hand-computed below)."""
    nas = GraphNAS(reward="accuracy", controller_update="graphnas", baseline_restart=2, entropy_coeff=1.0,
                   baseline_decay=0.5)
    nas.start(bench_space(), torch.Generator().manual_seed(0))
    steps = [  # (val, per-decision entropies, expected scaled advantage)
        (0.5, [0.0, 0.1], [0.0, 0.0]),  # rewards (0.5, 0.6) are the first baseline: no advantage
        (0.7, [0.2, 0.0], [0.5, 0.125]),  # rewards (0.9, 0.7), baseline (0.7, 0.65): (0.2, 0.05) x 0.5 / 0.2
        (0.3, [0.0, 0.0], [0.0, 0.0]),  # the third proposal starts a controller epoch: baseline restarts
        (0.1, [0.0, 0.0], [-0.25, -0.25]),  # baseline 0.2: (-0.1, -0.1) x 0.5 / 0.2 (0.2 is still in the window)
    ]
    for val, entropies, expected in steps:
        sample = graphnas_sample(entropies)
        nas.controller_loss(sample, val).backward()
        torch.testing.assert_close(-decision_grads(sample), torch.tensor(expected))


def test_graphnas_controller_update_keeps_graphnas_sign_flip_under_negative_advantages() -> None:
    """GraphNAS's ``scale`` divides by the largest advantage of the last ten even when it is negative: once
    ten falling rewards fill the window, a worse child's advantage comes out positive. Kept, as released."""
    nas = GraphNAS(reward="accuracy", controller_update="graphnas", entropy_coeff=0.0)
    nas.start(bench_space(), torch.Generator().manual_seed(0))
    for step in range(12):
        sample = graphnas_sample([0.0, 0.0])
        nas.controller_loss(sample, 1.0 - 0.05 * step).backward()
        scaled = -decision_grads(sample)
        raw = nas.advantages[-1]
        assert (raw < 0).all() if step else (raw == 0).all()
        assert (scaled > 0).all() if step >= 10 else (scaled <= 0).all(), step  # steps 1-9 see step 0's zero


def test_graphnas_update_and_restart_are_added_hparams_that_keep_old_run_ids() -> None:
    graphnas = MODELS.get("graphnas")
    default = hp.resolve(graphnas, ArchitectureSearch, {"controller_update": "summed", "baseline_restart": 100})
    assert "controller_update" not in default and "baseline_restart" not in default
    trainer = hp.resolve(graphnas, ArchitectureSearch, {"controller_update": "graphnas"})
    assert trainer["controller_update"] == "graphnas"
    with pytest.raises(ValueError, match="baseline_restart must be at least 1"):
        GraphNAS(baseline_restart=0)


@pytest.mark.parametrize("algorithm", [RandomSearch, GraphNAS,
                                       lambda: GraphNAS(reward="accuracy", controller_update="graphnas")],
                         ids=["random", "graphnas", "graphnas-trainer"])
def test_baselines_resample_every_field_and_respect_the_budget(algorithm: Callable[[], SearchAlgorithm]) -> None:
    space = bench_space()
    torch.manual_seed(0)
    trace = run_search(algorithm(), space, RandomRewards(), 60, torch.Generator().manual_seed(0))
    assert len(trace) == 60 and all(space.is_valid(tuple(c["arch"])) for c in trace)
    for i in range(len(space.fields)):  # every field varies, not one class at a time
        assert len({c["arch"][i] for c in trace}) > 1


def test_budget_counts_distinct_networks_unless_repeats_are_counted() -> None:
    """On a 3-architecture space, 3 children are the 3 architectures; a repeat is answered from memory (the
    algorithm still observes its reward). Counting repeats, 10 children include repeats."""
    space = Space("tiny", (Field("op[0]", "op", ("a", "b", "c")),))
    seen: list[float] = []

    class Recorder(RandomSearch):
        def observe(self, proposal: Proposal, reward: float) -> None:
            seen.append(reward)

    rewards = RandomRewards()
    trace = run_search(Recorder(), space, rewards, 3, torch.Generator().manual_seed(0))
    assert sorted(tuple(c["arch"]) for c in trace) == [(0,), (1,), (2,)]
    assert len(seen) == 3 + trace[-1]["repeats_before"] and set(seen) == set(rewards.seen.values())
    counted = run_search(RandomSearch(), space, rewards, 10, torch.Generator().manual_seed(0), count_repeats=True)
    assert len(counted) == 10 and len({tuple(c["arch"]) for c in counted}) == 3
    # isomorphic NAS-Bench-Graph cells are one network: their canonical keys collide
    bench = bench_space()
    trace = run_search(AGNN(), bench, RandomRewards(), 100, torch.Generator().manual_seed(0))
    assert len({bench.key(tuple(c["arch"])) for c in trace}) == 100


def test_a_search_that_runs_out_of_new_children_ends_early_with_its_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget above the space's size (random search), or AGNN at a best whose one-class neighbours are all
    evaluated: the search ends with what it evaluated, not with an error that throws the trace away."""
    monkeypatch.setattr("gnnbench.search.base.MAX_WITHOUT_CHILD", 100)  # random draws: ample for 6 architectures
    space = Space("tiny", (Field("op[0]", "op", ("a", "b", "c")), Field("act[0]", "act", ("x", "y"))))
    trace = run_search(RandomSearch(), space, RandomRewards(), 50, torch.Generator().manual_seed(0))
    assert sorted(tuple(c["arch"]) for c in trace) == [(a, b) for a in range(3) for b in range(2)]
    assert trace[-1]["repeats_after"] == 101  # the proposals after the last child, all repeats: none is lost
    monkeypatch.setattr("gnnbench.search.base.MAX_WITHOUT_CHILD", 20)  # AGNN's proposals: a best's 3 neighbours
    torch.manual_seed(0)
    trace = run_search(AGNN(batch_size=1), space, RandomRewards(), 50, torch.Generator().manual_seed(0))
    assert 1 < len(trace) <= 6 and len({tuple(c["arch"]) for c in trace}) == len(trace)


def agnn_bests(reward_of, batch_size: int = 5, steps: int = 40) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """AGNN on NAS-Bench-Graph's space under ``reward_of(arch)``: the first architecture and the best after each
    later child."""
    torch.manual_seed(0)
    agnn = AGNN(batch_size=batch_size)
    agnn.start(bench_space(), torch.Generator().manual_seed(0))
    first = agnn.propose()
    agnn.observe(first, reward_of(first.arch))
    bests = []
    for _ in range(steps):
        child = agnn.propose()
        agnn.observe(child, reward_of(child.arch))
        bests.append(agnn.best)
    return first.arch, bests


def test_an_equal_reward_never_replaces_the_best() -> None:
    """Only a strictly better child replaces the best: a tie keeps it (random rewards never tie)."""
    first, bests = agnn_bests(lambda arch: 0.5)
    assert all(best == first for best in bests)


def test_the_best_changes_only_when_a_batch_ends() -> None:
    """The best is replaced only when a batch of children ends, by the batch's best child (each child still
    trains its controller at once): a best replaced after every child would have the rest of the batch modify
    another architecture."""
    generator, rewards = torch.Generator().manual_seed(1), {}
    first, bests = agnn_bests(lambda arch: rewards.setdefault(arch, float(torch.rand((), generator=generator))))
    changed = [step for step, (before, after) in enumerate(zip([first, *bests], bests, strict=False), 1)
               if before != after]
    assert changed and all(step % 5 == 0 for step in changed), changed
