"""NeuroBack: threshold semantics, phases that reach real solvers, the loss, the model's defining mechanisms,
and the SAT task end to end (per-formula solver records, budget exhaustion kept as unsolved)."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch

from gnnbench.data.cnf_generators import GeneratedFamily
from gnnbench.data.dimacs import Formula, parse_dimacs
from gnnbench.data.sat import formula_graphs
from gnnbench.data.sat_benchmark import SatBenchmark, labelled
from gnnbench.models.neuroback import DecodeBlock, GraphTransBlock, NeuroBack, RelationalGATv2, RelationalGINConv
from gnnbench.registry import MODELS, Entry
from gnnbench.tasks.base import Budget, RunContext
from gnnbench.tasks.phases import Coverage, coverage, policy_phases, threshold_phases
from gnnbench.tasks.sat import SOLVING_FIELDS, SatOptions, SatSolving, class_weighted_bce
from gnnbench.tasks.solver import SOLVERS, solve

pytest.importorskip("pysat")
pytest.importorskip("cnfgen")


def test_threshold_maps_high_scores_to_negative_low_to_positive_middle_to_unset() -> None:
    scores = torch.tensor([float("nan"), 0.95, 0.05, 0.5, 0.9, 0.1, float("nan")], dtype=torch.float64)
    assert threshold_phases(scores, cfd=0.9) == [-1, 2, -4]  # 0.9 >= cfd; 0.1 is not < 1 - cfd


def test_coverage_counts_phased_backbone_variables_and_agreement_with_the_backbone_phase() -> None:
    labels = torch.tensor([2, 0, 1, 2, 1])  # variable 1 positive backbone, 2 and 4 negative, 3 free
    assert coverage([1, 2, 3, -4], labels) == Coverage(phased=4, backbone=3, agree=2)  # 2 gets the wrong phase
    assert coverage([], labels) == Coverage(0, 0, 0)
    assert coverage([1, -2], None) == Coverage(2, None, None)  # unsatisfiable: no backbone to compare with


@pytest.mark.parametrize("solver", SOLVERS)
def test_phases_reach_the_solver(solver: str) -> None:
    """A predictor returning the planted assignment: 0 conflicts and the planted model; inverted: conflicts."""
    family = GeneratedFamily("planted", 200, count=1, seed=3, ratio=3.5)
    formula = family.formula(0)
    assert len(formula.clauses) == 700
    import random

    rng = random.Random(f"{family.name}/0")  # the generator's own draw order: its first planted assignment
    planted = [v if rng.random() < 0.5 else -v for v in range(1, 201)]
    assert all(any(lit in planted for lit in c) for c in formula.clauses)
    scores = torch.tensor([float("nan")] + [0.02 if lit > 0 else 0.98 for lit in planted])  # P(negative)
    right = solve(formula, threshold_phases(scores, 0.9), solver)
    wrong = solve(formula, threshold_phases(1 - scores, 0.9), solver)
    assert right.solved and right.conflicts == 0 and sorted(right.model, key=abs) == planted
    assert wrong.solved and wrong.conflicts > 0


def test_the_task_hands_the_model_s_phases_to_every_solver(monkeypatch) -> None:
    """solve_all, the task's own loop, passes the neuroback policy's phases on: scores that name a model of the
    formula solve it without a conflict under every solver, inverted ones do not; the default policy sets none."""
    instance = labelled(GeneratedFamily("random", 75, count=1, seed=0, ratio=4.26).formula(0), "uf75")
    task = SatSolving(SatOptions(solvers=tuple(SOLVERS), policies=("default", "neuroback")))
    for inverted in (False, True):
        negative = [float((lit < 0) != inverted) for lit in sorted(instance.model, key=abs)]
        scores = torch.tensor([float("nan"), *negative])  # P(negative) per variable, as the model's scores are
        monkeypatch.setattr(task, "scores", lambda model, inst, scores=scores: scores)
        rows = task.solve_all(torch.nn.Identity(), [instance], RunContext(torch.device("cpu"), seed=0))
        by = {(s, p): (c, phased) for s, p, c, phased in zip(rows["solver"], rows["policy"], rows["conflicts"],
                                                               rows["phased"], strict=True)}
        for solver in SOLVERS:
            conflicts, phased = by[solver, "neuroback"]
            assert phased == 75 and by[solver, "default"][1] == 0
            assert (conflicts == 0) != inverted, (solver, inverted, conflicts)


@pytest.mark.parametrize("solver", SOLVERS)
def test_phase_semantics_of_each_solver_forced_or_initial(solver: str) -> None:
    """Clauses (-x | -a), (x | b | c); hint a = true. Solved under x, a is propagated false; solved next under -x,
    a is free again: a forced phase still decides it true, an initial phase was overwritten by phase saving."""
    x, a = 1, 2
    formula = Formula(4, ((-x, -a), (x, 3, 4)), "semantics")
    for first in ([], [x]):
        with SOLVERS[solver].new(formula) as sat:
            sat.set_phases([a])
            if first:
                assert sat.solve(assumptions=first) and -a in sat.get_model()
            assert sat.solve(assumptions=[-x])
            decided_true = a in sat.get_model()
        assert decided_true == (not first or SOLVERS[solver].phases == "forced")


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_default_policy_runs_the_solver_configured_as_every_phased_policy(solver: str) -> None:
    """python-sat's CaDiCaL ``set_phases`` switches lucky phases off. A solve without phases must run that
    configuration too, or ``default`` is no baseline: here the two configurations need different conflicts."""
    from pysat.solvers import Solver

    formula = GeneratedFamily("random", 75, count=1, seed=0, ratio=4.26).formula(0)
    config = SOLVERS[solver]

    def conflicts(as_phased: bool) -> int:
        with Solver(name=config.pysat, bootstrap_with=[list(c) for c in formula.clauses]) as sat:
            if unphased := {k: v for k, v in config.options.items() if k != "lucky"}:  # lucky: set_phases's part
                sat.configure(unphased)
            if as_phased:
                sat.set_phases([])  # the configuration a phased solve gets, no phase set
            sat.solve()
            return sat.accum_stats()["conflicts"]

    assert solve(formula, [], solver).conflicts == conflicts(as_phased=True)
    if config.pysat == "cadical195":
        assert conflicts(as_phased=False) != conflicts(as_phased=True)


def test_stable_mode_reaches_cadical() -> None:
    """python-sat ignores an option CaDiCaL does not know, silently: the stable-only solver must search
    differently (here 839 conflicts against 1,287 on one unsatisfiable random 3-SAT formula at the threshold)."""
    formula = GeneratedFamily("random", 120, count=1, seed=0, ratio=4.26).formula(0)
    assert SOLVERS["cadical195_stable"].options == {"lucky": 0, "stabilizeonly": 1}
    assert solve(formula, [], "cadical195_stable").conflicts != solve(formula, [], "cadical195").conflicts


def test_budget_exhaustion_is_recorded_as_unsolved() -> None:
    formula = GeneratedFamily("random", 150, count=1, seed=1, ratio=4.26).formula(0)
    stats = solve(formula, [], "cadical195", conflict_budget=1)
    assert not stats.solved and stats.status is None and stats.conflicts >= 1
    # Glucose decides this formula far past a budget of 1; decided past it, it is unsolved all the same
    assert solve(formula, [], "glucose4").conflicts > 1  # how many it needs
    stats = solve(formula, [], "glucose4", conflict_budget=1)
    assert stats.conflicts == 1 and not stats.solved and stats.status is None and stats.model is None
    task = SatSolving(SatOptions(solvers=("cadical195",), policies=("default", "all_false"), conflict_budget=1))
    rows = task.solve_all(NeuroBack(), [labelled(formula, "hard")], RunContext(torch.device("cpu"), seed=0))
    assert rows["formula"] == [formula.name] * 2 and rows["solved"] == [False, False] and rows["status"] == [None] * 2


def test_class_weighted_bce_uses_per_batch_weights() -> None:
    logits, target = torch.tensor([0.3, -1.0, 2.0, 0.1]), torch.tensor([1, 0, 0, 0])
    weight = torch.tensor([4 / (2 * 2), 4 / (2 * 4), 4 / (2 * 4), 4 / (2 * 4)])
    expected = (weight * torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target.float(), reduction="none")).mean()
    torch.testing.assert_close(class_weighted_bce(logits, target), expected)


def test_relational_gin_adds_the_self_term_once_per_present_relation() -> None:
    torch.manual_seed(0)
    conv = RelationalGINConv(4, 4)
    with torch.no_grad():
        conv.eps.copy_(torch.tensor([0.5, -0.25, 2.0]))
    x = torch.randn(3, 4)
    edge_index = torch.tensor([[1, 2, 0], [0, 0, 1]])
    for edge_type, present in ((torch.tensor([0, 2, 2]), (0, 2)), (torch.tensor([1, 1, 1]), (1,))):
        expected = torch.zeros(3, 4)
        for r in present:
            messages = torch.zeros(3, 4)
            for (src, dst), t in zip(edge_index.t().tolist(), edge_type.tolist(), strict=True):
                if t == r:
                    messages[dst] += conv.mlps[r](x[src])
            expected += (1 + conv.eps[r]) * messages + x
        torch.testing.assert_close(conv(x, edge_index, edge_type), expected)


def test_decode_attention_stays_within_each_node() -> None:
    torch.manual_seed(0)
    block = DecodeBlock(48, patches=3, heads=8, dropout=0.2).eval()
    x = torch.randn(5, 48)
    other = x.clone()
    other[1:] = torch.randn(4, 48)
    torch.testing.assert_close(block(x)[0], block(other)[0])
    assert sum(p.numel() for p in block.attention.qkv.parameters()) == 16 * 48 + 48


def test_blocks_are_the_official_ones_mlps_ending_in_gelu_and_dropout_in_both_attentions() -> None:
    """GTBlock and DTBlock of the official gt_model.py: Linear-GELU-Linear-GELU beside the attention, and the
    intra-node MultiheadAttention drops attention weights at 0.2, as the GATv2 convs do."""
    torch.manual_seed(0)
    model = NeuroBack()
    for block in [*model.graphtrans, *model.decode]:
        assert [type(m) for m in block.mlp] == [torch.nn.Linear, torch.nn.GELU, torch.nn.Linear, torch.nn.GELU]
        h = torch.randn(4, 48)
        assert (block.mlp(h) >= -0.17).all()  # GELU's minimum: the MLP's output went through it
    assert all(b.attention.attention.dropout == 0.2 for b in model.decode)
    assert all(conv.dropout == 0.2 for b in model.graphtrans for conv in b.attention.convs)
    block = model.decode[0]
    x = torch.randn(6, 48)
    assert not torch.equal(block.train()(x), block(x))  # dropout acts in training
    torch.testing.assert_close(block.eval()(x), block(x))


def test_a_relation_without_edges_still_adds_its_bias() -> None:
    """The official SimpleRGATConv sums all three GATv2Convs, whatever edges each relation has."""
    torch.manual_seed(0)
    rgat = RelationalGATv2(48, heads=8, dropout=0.0)
    for conv in rgat.convs:
        torch.nn.init.normal_(conv.bias)
    x, edge_index = torch.randn(3, 48), torch.tensor([[1, 2], [0, 0]])
    edge_type = torch.tensor([2, 2])  # no edge of relations 0 and 1
    expected = rgat.convs[2](x, edge_index) + rgat.convs[0].bias + rgat.convs[1].bias
    torch.testing.assert_close(rgat(x, edge_index, edge_type), expected)
    assert GraphTransBlock(48, heads=8, dropout=0.0)(x, edge_index, edge_type).shape == (3, 48)


def test_model_learns_backbone_phases_of_small_formulas() -> None:
    """Overfits 20 small formulas: train micro-F1 on backbone variables > 0.95 within 200 steps."""
    torch.manual_seed(0)
    family = GeneratedFamily("planted", 12, count=20, seed=5, ratio=5.0)
    instances = [labelled(f, family.name) for f in family.formulas()]
    batch = Batch.from_data_list([g for inst in instances for g in inst.graphs])
    labelled_vars = (batch.y == 0) | (batch.y == 1)
    assert int(labelled_vars.sum()) > 100 and 0.2 < float(batch.y[labelled_vars].float().mean()) < 0.8
    model = NeuroBack(dropout=0.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    f1 = 0.0
    for _ in range(200):
        logits, target = SatSolving.predict(model, batch)
        loss = class_weighted_bce(logits, target)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        f1 = float(((logits > 0).long() == target).float().mean())
        if f1 > 0.95:
            break
    assert f1 > 0.95


def test_sat_task_end_to_end_records_every_formula_solver_and_policy() -> None:
    train = [labelled(f, "gen") for f in GeneratedFamily("planted", 30, count=6, ratio=5.0).formulas()]
    unsat = labelled(parse_dimacs("p cnf 2 4\n1 2 0\n-1 2 0\n1 -2 0\n-1 -2 0\n", name="tiny-unsat"), "unsat")
    test = [labelled(f, "gen-test") for f in GeneratedFamily("random", 40, count=2, seed=9).formulas()] + [unsat]
    bench = SatBenchmark(train=train[:4], val=train[4:], test=test)
    options = SatOptions(conflict_budget=5_000)
    task = SatSolving(options)
    entry = MODELS.get("neuroback")
    hparams = {"lr": 1e-3, "batch_size": 2, "clip_norm": 1.0, "weight_decay": 0.01, "optimizer": "adamw",
               "hidden_channels": 24, "gin_layers": 2, "graphtrans_blocks": 1, "decode_blocks": 1}
    result = task.run(entry, bench, hparams, Budget(epochs=2), RunContext(torch.device("cpu"), seed=0))
    assert set(result["metrics"]) == {"train", "val", "test"} and result["epochs_run"] == 2
    assert 0 <= result["metrics"]["test"]["micro_f1"] <= 1 and "majority_micro_f1" in result["metrics"]["test"]
    solving = result["solving"]
    assert set(solving) == set(SOLVING_FIELDS)
    assert len(solving["formula"]) == 3 * len(options.solvers) * len(options.policies)
    rows = [dict(zip(solving, values, strict=True)) for values in zip(*solving.values(), strict=True)]
    assert all(r["solved"] and r["status"] is False for r in rows if r["formula"] == "tiny-unsat")
    assert all(r["status"] is True for r in rows if r["family"] == "gen-test")
    assert all(r["conflicts"] == 0 for r in rows if r["policy"] == "oracle" and r["family"] == "gen-test")
    assert all((r["inference_s"] > 0) == (r["policy"] == "neuroback") for r in rows)
    for r in rows:  # coverage: the backbone policy sets exactly the backbone; every model agrees with it
        if r["policy"] == "default":
            assert r["phased"] == 0
        if r["policy"] == "backbone" and r["family"] == "gen-test":
            assert r["phased"] == r["phased_backbone"] == r["phased_agree"]
        if r["policy"] in ("all_true", "random", "oracle") and r["family"] == "gen-test":
            assert r["phased"] == r["variables"] == 40 and r["phased_agree"] <= r["phased_backbone"]
        if r["policy"] == "oracle" and r["family"] == "gen-test":
            assert r["phased_agree"] == r["phased_backbone"]
        if r["formula"] == "tiny-unsat":
            assert r["phased_backbone"] is None and r["phased_agree"] is None


def test_a_sat_run_of_a_model_whose_forward_takes_no_edge_attr_names_the_call() -> None:
    """A run started from Python (a suite refuses the model when it loads): the model, the task's call and where
    its ``forward`` is, not a bare TypeError raised in the task."""
    class NoEdgeAttr(torch.nn.Module):  # a node model registered for every task
        def __init__(self, in_channels: int, out_channels: int) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(in_channels, out_channels)

        def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
            return self.lin(x).view(-1)

    instance = labelled(parse_dimacs("p cnf 3 2\n1 2 0\n-2 3 0\n", name="tiny"), "tiny")
    bench = SatBenchmark(train=[instance], val=[instance], test=[instance])
    with pytest.raises(ValueError, match=r"^NoEdgeAttr has a forward that cannot take \(x, edge_index, edge_attr\): "
                                         r"task 'sat_solving' calls model\(x, edge_index, edge_attr\) \(forward at "
                                         r".*test_neuroback\.py:\d+\)$"):
        SatSolving(SatOptions()).run(Entry("no_edge_attr", NoEdgeAttr), bench, dict(SatSolving.train_hparams),
                                     Budget(epochs=1), RunContext(torch.device("cpu"), seed=0))


def test_graph_of_a_formula_feeds_the_model() -> None:
    graphs = formula_graphs(parse_dimacs("p cnf 3 2\n1 -2 0\n2 3 0\n"))
    out = NeuroBack().eval()(graphs[0].x, graphs[0].edge_index, graphs[0].edge_attr)
    assert out.shape == (6,) and torch.isfinite(out).all()


def test_a_high_logit_is_a_negative_phase_all_the_way_to_the_solver() -> None:
    """The model's logit is for the negative backbone phase (label 1): a model that is sure of every label gives
    exactly the backbone's phases, so a score inverted anywhere between the logit and the phase list fails."""

    class Oracle(torch.nn.Module):
        def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
            return torch.where(self.y == 1, 10.0, -10.0)

    instance = labelled(parse_dimacs("p cnf 3 3\n-1 0\n2 0\n1 -2 3 0\n"), "t")  # backbone: -1, 2, 3
    task = SatSolving(SatOptions(solvers=("cadical195",), policies=("neuroback",)))
    (graph,) = instance.graphs
    oracle = Oracle()
    oracle.y = graph.y
    assert policy_phases("neuroback", instance, task.scores(oracle, instance), 0.9, 0) == [-1, 2, 3]


def test_validation_scores_each_component_as_the_solver_gets_it() -> None:
    """The relational GIN's self term counts the relations present in its input, so a component with positive
    literals only scores otherwise when batched with a mixed one: evaluation must see what reaches the solver."""
    torch.manual_seed(0)
    monotone = labelled(parse_dimacs("p cnf 2 2\n1 0\n2 0\n", name="monotone"), "t")  # backbone 1, 2; no -edges
    mixed = labelled(parse_dimacs("p cnf 3 3\n-1 0\n2 0\n1 -2 3 0\n", name="mixed"), "t")
    model, task = NeuroBack().eval(), SatSolving(SatOptions())
    with torch.no_grad():
        batched, _ = SatSolving.predict(model, Batch.from_data_list([*monotone.graphs, *mixed.graphs]))
        logits, targets = zip(*(SatSolving.predict(model, g) for inst in (monotone, mixed) for g in inst.graphs),
                              strict=True)
    logits, target = torch.cat(logits), torch.cat(targets)
    assert not torch.allclose(batched, logits)  # the batch changes the scores
    torch.testing.assert_close(torch.logit(task.scores(model, monotone)[1:]), logits[:2])  # the solver's scores
    metrics = task.evaluate(model, [monotone, mixed], torch.device("cpu"))
    assert metrics["loss"] == pytest.approx(float(class_weighted_bce(logits, target)))
    assert metrics["micro_f1"] == pytest.approx(float(((logits > 0).long() == target).float().mean()))
