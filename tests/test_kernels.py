"""Message-passing backends: the same numbers on every backend, each backend's mechanism, ``auto``'s measured
choice in the record, and validation of backend/model/task pairs."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import Tensor, nn
from torch_geometric.nn import GCNConv, GINConv, MessagePassing, SAGEConv, SGConv
from torch_geometric.utils import coalesce, remove_self_loops

from gnnbench import kernels
from gnnbench.errors import ConfigError
from gnnbench.harness.runner import execute
from gnnbench.harness.suite import load_suite
from gnnbench.kernels import auto, timing
from gnnbench.kernels.adjacency import TorchScatterAggregation, configure, graph_input, graph_of, with_graph
from gnnbench.leaderboard.aggregate import runs_frame
from gnnbench.models.baselines import GCN, GIN, SGC, GraphSAGE

BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(not kernels.available(b), reason=f"{b} is not installed"))
            for b in kernels.CONCRETE]
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
needs_torch_scatter = pytest.mark.skipif(not kernels.available("torch_scatter"), reason="torch-scatter not installed")


def random_graph(n: int, e: int, seed: int) -> Tensor:
    """A directed random multigraph's distinct edges, without self-loops."""
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, n, (2, e), generator=g)
    return coalesce(remove_self_loops(edge_index)[0], num_nodes=n)


#: the graphs the backends must agree on: distinct edges; with a self-loop on every third node (PyG's GCN
#: normalisation adds only the missing loops on ``edge_index``, one more on a sparse matrix); and with a fifth of
#: its edges and one self-loop twice (a sparse matrix holds each once, weighted by its copies)
GRAPHS = ("distinct", "self-loops", "repeated")


def graph_of_kind(kind: str, n: int, e: int, seed: int) -> Tensor:
    """A random graph of ``kind`` (:data:`GRAPHS`)."""
    edge_index = random_graph(n, e, seed)
    if kind == "distinct":
        return edge_index
    loops = torch.arange(0, n, 3).repeat(2, 1)
    repeats = [edge_index[:, ::5], loops[:, :1]] if kind == "repeated" else []
    return torch.cat([edge_index, loops, *repeats], dim=1)


def layers() -> dict[str, nn.Module]:
    """One layer per aggregation the backends must agree on: GCN-normalised sum (``cached``, and ``improved``,
    which PyG honours on a sparse matrix but not on ``edge_index`` without weights), SGC's, sum, mean, max."""
    return {"gcn": GCNConv(8, 5), "gcn_cached": GCNConv(8, 5, cached=True),
            "gcn_improved": GCNConv(8, 5, improved=True), "sgc": SGConv(8, 5, K=2),
            "gin_sum": GINConv(nn.Linear(8, 5)), "sage_mean": SAGEConv(8, 5, aggr="mean"),
            "sage_max": SAGEConv(8, 5, aggr="max"), "sage_sum": SAGEConv(8, 5, aggr="sum")}


#: the layers that read a repeated edge otherwise on ``csr``, which is refused for them on such a graph
COUNTING = ("sage_mean", "sage_max")


def output_and_grads(module: nn.Module, backend: str, x: Tensor, edge_index: Tensor) -> list[Tensor]:
    configure(module, backend)
    module.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_(True)
    out = module(x, graph_input(backend, edge_index, x.size(0)))
    weights = torch.linspace(-1, 1, out.numel()).view_as(out)  # a loss whose gradient is not uniform
    (out * weights).sum().backward()
    return [out.detach(), x.grad, *(p.grad for p in module.parameters())]


@pytest.mark.parametrize("device", [torch.device("cpu"), pytest.param(torch.device("cuda"), marks=needs_cuda)],
                         ids=str)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(layers()))
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", GRAPHS)
def test_every_backend_gives_the_same_outputs_and_gradients(kind: str, name: str, backend: str, seed: int,
                                                            device: torch.device) -> None:
    """Against PyG's edge path on the CPU: on a GPU each backend runs other code (PyG's csr mean divides a sparse
    sum by the degree there; torch_scatter has CUDA kernels of its own)."""
    if device.type == "cuda" and backend == "csr" and name == "sage_max":
        pytest.skip("torch's sparse CSR matmul has no max reduction on CUDA")
    if kind == "repeated" and backend == "csr" and name in COUNTING:
        pytest.skip("csr is refused for a mean or max on a graph with repeated edges (tested below)")
    torch.manual_seed(seed)
    module, n = layers()[name], 40 + 7 * seed
    x, edge_index = torch.randn(n, 8), graph_of_kind(kind, n, 6 * n, seed)
    twin = copy.deepcopy(module)  # a cached layer keeps its first graph, so each backend gets a fresh copy
    reference = output_and_grads(module, "scatter", x, edge_index)
    outcome = output_and_grads(twin.to(device), backend, x.to(device), edge_index.to(device))
    for got, want in zip(outcome, reference, strict=True):
        torch.testing.assert_close(got.cpu(), want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", GRAPHS)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("model", [GCN, GraphSAGE, GIN, SGC])
def test_registered_models_agree_across_backends(model: type, backend: str, kind: str) -> None:
    if kind == "repeated" and backend == "csr" and model is GraphSAGE:
        pytest.skip("csr is refused for a mean on a graph with repeated edges (tested below)")
    torch.manual_seed(0)
    x, edge_index = torch.randn(60, 8), graph_of_kind(kind, 60, 300, 3)
    net = model(in_channels=8, out_channels=3).eval()
    twin = copy.deepcopy(net)  # SGC caches its propagation on the first call, so each backend gets a fresh copy
    reference = output_and_grads(net, "scatter", x, edge_index)
    for got, want in zip(output_and_grads(twin, backend, x, edge_index), reference, strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_csr_fuses_message_and_aggregation(monkeypatch: pytest.MonkeyPatch) -> None:
    """On ``adj_t`` no per-edge message tensor is built: ``message`` and the aggregation are never called."""
    x, edge_index = torch.randn(30, 8), random_graph(30, 120, 0)

    def forbidden(*args, **kwargs):
        raise AssertionError("per-edge path used")

    modules = list(layers().values())  # built before patching: PyG inspects the methods at construction
    monkeypatch.setattr(MessagePassing, "message", forbidden)
    monkeypatch.setattr(MessagePassing, "aggregate", forbidden)
    adj_t = graph_input("csr", edge_index, 30)
    assert adj_t.layout == torch.sparse_csr and adj_t._nnz() == edge_index.size(1)
    for module in modules:
        module(x, adj_t)
    with pytest.raises(AssertionError, match="per-edge"):
        modules[-1](x, edge_index)


def test_csr_builds_the_transpose_and_the_gcn_normalisation_once_per_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch's backward of a sparse matmul builds the transposed matrix on every call, and PyG's GCNConv (not
    ``cached``) normalises its input into a new matrix on every call; on ``csr`` both are built once per graph,
    kept on the graph's ``adj_t``, and a second graph gets its own."""
    from gnnbench.kernels import csr_matmul

    normalisations = []

    def counting(*args, **kwargs):
        normalisations.append(args)
        return real_norm(*args, **kwargs)

    real_norm = csr_matmul.gcn_norm
    monkeypatch.setattr(csr_matmul, "gcn_norm", counting)
    model = GCN(8, 3, num_layers=3)
    configure(model, "csr")
    x = torch.randn(40, 8)
    adj_t = graph_input("csr", random_graph(40, 200, 0), 40)
    model(x, adj_t).sum().backward()
    normalised = next(iter(getattr(adj_t, csr_matmul.NORMALISED).values()))[0]
    transpose = getattr(normalised, csr_matmul.CACHE)[1]
    torch.testing.assert_close(transpose.to_dense(), normalised.to_dense().t())
    for _ in range(2):
        model(x, adj_t).sum().backward()
    assert len(normalisations) == 1  # three layers, three steps: one normalisation of the one graph
    assert getattr(normalised, csr_matmul.CACHE)[1] is transpose  # and one transpose of it
    other = graph_input("csr", random_graph(40, 200, 1), 40)
    model(x, other).sum().backward()
    assert len(normalisations) == 2
    assert all(layer._cached_edge_index is None for layer in model.layers)  # nothing left for an edge_index call
    configure(model, "scatter")
    assert all("forward" not in vars(layer) and "message_and_aggregate" not in vars(layer) for layer in model.layers)


def test_csr_caches_follow_the_graph_s_values_and_leave_subclasses_and_saving_alone(tmp_path) -> None:
    """Values edited in place are transposed and normalised again; values that require a gradient are normalised
    on every step, and the gradient reaches them; a subclass overriding ``forward`` keeps it (only PyG's own
    classes are fused); a model saved whole loads again; a repeated edge counts twice in a sum, as on
    ``edge_index``."""
    torch.manual_seed(0)
    x, edge_index = torch.randn(30, 8), random_graph(30, 150, 0)

    def both(module: nn.Module, graph_csr: Tensor) -> tuple[Tensor, Tensor]:
        xs = x.clone().requires_grad_(True)
        out = module(xs, graph_csr)
        (grad,) = torch.autograd.grad((out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum(), xs)
        return out.detach(), grad

    for layer in (GCNConv(8, 5), SAGEConv(8, 5, aggr="sum")):
        fused, plain = copy.deepcopy(layer), copy.deepcopy(layer)
        configure(fused, "csr")
        adj_t = graph_input("csr", edge_index, 30)
        both(fused, adj_t)
        adj_t.values().mul_(3.0)  # after the caches were built
        for got, want in zip(both(fused, adj_t), both(plain, adj_t), strict=True):
            torch.testing.assert_close(got, want)

    fused = GCNConv(8, 5)
    configure(fused, "csr")
    learned = graph_input("csr", edge_index, 30).requires_grad_(True)
    for _ in range(2):  # a memoised normalisation would be backpropagated through twice
        fused(x, learned).sum().backward()
    assert learned.grad is not None

    class Scaled(GCNConv):
        def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
            return 10 * super().forward(x, edge_index)

    scaled = Scaled(8, 5)
    configure(scaled, "csr")
    adj_t = graph_input("csr", edge_index, 30)
    torch.testing.assert_close(scaled(x, adj_t), 10 * GCNConv.forward(scaled, x, adj_t))

    model = GCN(8, 3).eval()
    configure(model, "csr")
    torch.save(model, tmp_path / "model.pt")
    loaded = torch.load(tmp_path / "model.pt", weights_only=False)
    torch.testing.assert_close(loaded(x, adj_t), model(x, adj_t))

    repeated = torch.tensor([[0, 0, 1], [2, 2, 2]])
    gin = GINConv(nn.Identity())
    dense = torch.tensor([[1.0], [2.0], [3.0]])
    configure(gin, "csr")
    torch.testing.assert_close(gin(dense, graph_input("csr", repeated, 3)), gin(dense, repeated))


def test_csr_refuses_gcn_self_loops_on_a_weighted_adjacency() -> None:
    """With weights, PyG's edge path keeps a loop's own weight and fills the missing ones (2 for improved), which
    GCN's and SGC's loops on csr (the diagonal set to 1) are not: they refuse a weighted adjacency, and a layer
    adding no loops still reads the weights as the edge path does."""
    x, edge_index = torch.randn(3, 8), torch.tensor([[0, 1, 2, 1, 2], [1, 2, 0, 1, 0]])
    weight = torch.tensor([1.0, 2.0, 1.0, 3.0, 0.5])
    adj_t = graph_input("csr", edge_index, 3, weight)
    for layer in (GCNConv(8, 5), GCNConv(8, 5, improved=True), SGConv(8, 5, K=2)):
        configure(layer, "csr")
        with pytest.raises(kernels.KernelUnavailableError, match="adjacency built from edge weights"):
            layer(x, adj_t)
    plain = GCNConv(8, 5, normalize=False)
    want = plain(x, edge_index, weight)
    configure(plain, "csr")
    torch.testing.assert_close(plain(x, adj_t), want)


def test_csr_rows_are_targets() -> None:
    edge_index = torch.tensor([[0, 0, 2], [1, 2, 1]])  # 0->1, 0->2, 2->1
    dense = graph_input("csr", edge_index, 3).to_dense()
    assert dense.tolist() == [[0, 0, 0], [1, 0, 1], [1, 0, 0]]


def test_with_graph_leaves_its_input_as_it_was() -> None:
    """A task hands the model a copy carrying ``adj_t`` in place of ``edge_index``: the data it was given (kept
    for the next seed, or for another backend's timing) keeps its ``edge_index`` and gains no ``adj_t``."""
    from torch_geometric.data import Data

    edge_index = random_graph(10, 30, 0)
    data = Data(x=torch.randn(10, 4), edge_index=edge_index, y=torch.zeros(10, dtype=torch.long))
    adj_t = graph_input("csr", edge_index, 10)
    given = with_graph(data, adj_t)
    assert given is not data and graph_of(given) is adj_t and "edge_index" not in given
    assert sorted(data.keys()) == ["edge_index", "x", "y"] and data.edge_index is edge_index
    assert graph_of(data) is edge_index and given.x is data.x  # a shallow copy: no tensor copied
    assert with_graph(data, edge_index) is data  # edge_index: the data as it is


def test_configure_swaps_and_restores_the_aggregation_modules() -> None:
    model = GraphSAGE(8, 3)
    assert configure(model, "scatter") == 2
    assert all(type(layer.aggr_module).__name__ == "MeanAggregation" for layer in model.layers)
    if kernels.available("torch_scatter"):
        configure(model, "torch_scatter")
        assert all(isinstance(layer.aggr_module, TorchScatterAggregation) for layer in model.layers)
        configure(model, "csr")
        assert all(type(layer.aggr_module).__name__ == "MeanAggregation" for layer in model.layers)


@pytest.mark.parametrize("backend", BACKENDS)
def test_configure_leaves_aggregations_it_has_no_mapping_for_alone(backend: str) -> None:
    """A learnable softmax, a multi-aggregation or a named aggregation none of the backends maps keeps its own
    module (its learned parameters with it) and PyG's own path, and is not counted; the mapped layer beside them
    is set."""
    from torch_geometric.nn.aggr import SoftmaxAggregation

    torch.manual_seed(0)
    unmapped = [SAGEConv(8, 5, aggr=SoftmaxAggregation(learn=True)), SAGEConv(8, 5, aggr=["mean", "max"]),
                SAGEConv(8, 5, aggr="softmax")]
    model = nn.ModuleList([*unmapped, SAGEConv(8, 5, aggr="mean")])
    x, edge_index = torch.randn(20, 8), random_graph(20, 60, 0)
    modules = [layer.aggr_module for layer in unmapped]
    before = [layer(x, edge_index) for layer in unmapped]
    assert configure(model, backend) == 1
    assert [layer.aggr_module for layer in unmapped] == modules  # the very modules: compared by identity
    assert all("message_and_aggregate" not in vars(layer) and "forward" not in vars(layer) for layer in unmapped)
    for layer, want in zip(unmapped, before, strict=True):
        torch.testing.assert_close(layer(x, graph_input(backend, edge_index, 20)), want)


def test_torch_scatter_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "available", lambda backend: backend != "torch_scatter")
    with pytest.raises(kernels.KernelUnavailableError, match=r"pip install --no-build-isolation -e '\.\[scatter\]'"):
        kernels.require("torch_scatter")
    assert kernels.candidates(kernels.CONCRETE, kernels.CONCRETE) == ["scatter", "csr"]


def test_auto_keeps_the_fastest_measured_backend_and_says_why() -> None:
    timings = {"scatter": 3.0, "csr": 1.0, "torch_scatter": 2.0}
    measured: list[str] = []

    def measure(backend: str) -> float:
        measured.append(backend)
        return timings[backend]

    choice = auto.decide("auto", ["scatter", "csr"], measure, key=("test", 1))
    assert (choice.backend, choice.requested, choice.timings_ms) == ("csr", "auto", {"scatter": 3.0, "csr": 1.0})
    assert "fastest of scatter, csr" in choice.reason
    again = auto.decide("auto", ["scatter", "csr"], measure, key=("test", 1))
    assert again.backend == "csr" and again.reason.startswith("cached decision") and measured == ["scatter", "csr"]
    assert auto.decide("auto", ["scatter"], measure).reason == "the only backend supported here (scatter)"
    assert auto.decide("auto", ["csr"], measure, left_by="asked for").reason == "the only backend asked for (csr)"
    assert auto.decide("csr", ["scatter", "csr"], measure).reason == "set by the suite"
    # a named backend the model and task leave no alternative to was not the suite's choice (SIGN's scatter)
    assert auto.decide("scatter", ["scatter"], measure).reason == "the only backend supported here (scatter)"


def test_auto_times_each_graph_size_once_and_leaves_the_warm_up_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decision is cached by graph size: another graph of the same size reuses it untimed, one with other
    node or edge counts is timed again. Each backend runs WARMUP untimed steps before its REPEATS timed ones, and
    its timing is the median of the timed ones alone."""
    monkeypatch.setattr(auto, "_decisions", {})
    clock = iter(range(100, 10**6))
    timed: list[float] = []

    def fake_time_once(fn, device) -> float:
        fn()
        timed.append(float(next(clock)))
        return timed[-1]

    monkeypatch.setattr(timing, "time_once", fake_time_once)
    steps: list[int] = []

    def use(edge_index: Tensor, n: int) -> auto.KernelChoice:
        model = GCN(8, 3)
        model.register_forward_hook(lambda *args: steps.append(1))
        return auto.use_kernel("auto", ["scatter", "csr"], model, torch.randn(n, 8), edge_index, torch.device("cpu"))[1]

    graph = random_graph(50, 200, 1)
    first = use(graph, 50)
    assert len(steps) == 2 * (auto.WARMUP + auto.REPEATS) and len(timed) == 2 * auto.REPEATS
    assert first.timings_ms == {"scatter": timed[1], "csr": timed[4]}  # medians of 3 timed steps each
    relabelled = (graph + 1) % 50  # another graph of the same size
    assert use(relabelled, 50).reason.startswith("cached decision") and len(timed) == 6 and len(steps) == 8
    for edge_index, n in ((random_graph(60, 200, 1), 60), (graph[:, :-10], 50)):  # more nodes; fewer edges
        again = use(edge_index, n)
        assert again.reason.startswith("fastest of scatter, csr") and set(again.timings_ms) == {"scatter", "csr"}
    assert len(timed) == 3 * 6 and len(steps) == 3 * 8


def test_a_backend_that_runs_out_of_memory_loses_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Timing scatter's E x F messages on a large graph can exhaust a GPU that csr fits: the run goes on on csr."""
    monkeypatch.setattr(auto, "_decisions", {})
    real, calls = timing.median_ms, iter(range(2))

    def scatter_too_large(step, device, warmup, repeats):
        if next(calls) == 0:  # the first candidate, scatter
            raise torch.OutOfMemoryError("CUDA out of memory")
        return real(step, device, warmup, repeats)

    monkeypatch.setattr(timing, "median_ms", scatter_too_large)  # under median_ms_or_inf, the real handler
    model = GCN(8, 3)
    graph, choice = auto.use_kernel("auto", ["scatter", "csr"], model, torch.randn(50, 8), random_graph(50, 200, 1),
                                    torch.device("cpu"))
    assert choice.backend == "csr" and graph.layout == torch.sparse_csr and set(choice.timings_ms) == {"csr"}
    assert choice.reason.endswith("; scatter ran out of memory")
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(torch.OutOfMemoryError, match="every backend"):
        auto.decide("auto", ["scatter", "csr"], lambda backend: float("inf"))


def test_a_run_failing_after_auto_chose_records_the_choice(write_suite, monkeypatch: pytest.MonkeyPatch) -> None:
    from gnnbench.tasks.node import NodeClassification

    def diverges(*args, **kwargs):
        raise RuntimeError("training failed")

    monkeypatch.setattr(NodeClassification, "fit_model", diverges)
    suite = load_suite(write_suite(SUITE.format(kernel="auto", task="node_classification", models="gcn")))
    record = execute(suite.specs[0])
    assert record["status"] == "failed" and record["kernel"]["chosen"] in kernels.CONCRETE
    assert record["kernel"]["reason"] != "the run failed before auto chose"


class GraphLevelGCN(nn.Module):
    """A graph-level model's forward, which node classification cannot call."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = GCNConv(in_channels, out_channels)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor) -> Tensor:
        return self.conv(x, edge_index)


def test_a_run_under_auto_names_a_forward_the_task_cannot_call_before_timing_it() -> None:
    """A run started from Python (a suite refuses the model when it loads): ``auto`` times ``model(x, graph)``
    before training, and the run names the forward and the task's call, not a TypeError from the timing."""
    from torch_geometric.data import Data

    from gnnbench.registry import Entry
    from gnnbench.tasks.base import Budget, RunContext
    from gnnbench.tasks.node import NodeClassification, NodeOptions

    data = Data(x=torch.randn(30, 8), edge_index=random_graph(30, 80, 4), y=torch.arange(30) % 3)
    task = NodeClassification(NodeOptions(split="random"))
    with pytest.raises(ValueError, match=r"^GraphLevelGCN has a forward that cannot take \(x, edge_index\): "
                                         r"task 'node_classification' calls model\(x, edge_index\) \(forward at "
                                         r".*test_kernels\.py:\d+\)$"):
        task.run(Entry("graph_level", GraphLevelGCN, meta={"kernels": kernels.CONCRETE}), data,
                 dict(task.train_hparams), Budget(epochs=1), RunContext(torch.device("cpu"), seed=0, kernel="auto"))


def test_auto_timing_leaves_the_model_and_random_state_untouched() -> None:
    torch.manual_seed(0)
    model = GCN(8, 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, edge_index = torch.randn(50, 8), random_graph(50, 200, 1)
    state = torch.random.get_rng_state()
    graph, choice = auto.use_kernel("auto", ["scatter", "csr"], model.train(), x, edge_index, torch.device("cpu"))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    assert set(choice.timings_ms) == {"scatter", "csr"} and choice.backend == min(choice.timings_ms,
                                                                                   key=choice.timings_ms.get)
    assert (graph.layout == torch.sparse_csr) == (choice.backend == "csr")


def test_auto_times_the_propagation_of_a_cached_layer_on_every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """SGC caches its propagation; timed with the cache on, only the first warm-up would propagate."""
    monkeypatch.setattr(auto, "_decisions", {})
    model = SGC(8, 3, K=2)
    (conv,) = [m for m in model.modules() if isinstance(m, MessagePassing)]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    propagations: list[int] = []
    conv.register_propagate_forward_pre_hook(lambda module, inputs: propagations.append(1))
    x, edge_index = torch.randn(50, 8), random_graph(50, 200, 2)
    _, choice = auto.use_kernel("auto", ["scatter", "csr"], model, x, edge_index, torch.device("cpu"))
    assert len(choice.timings_ms) == 2
    assert len(propagations) == 2 * (auto.WARMUP + auto.REPEATS) * 2  # candidates x steps x K
    assert conv.cached and conv._cached_x is None  # the run fills the cache with its own backend's propagation
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_auto_times_nothing_for_a_model_without_message_passing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The MLP runs under every backend, and every backend computes the same: nothing to choose between."""
    from gnnbench.models.baselines import MLP

    monkeypatch.setattr(auto, "median_ms_or_inf", lambda *args: pytest.fail("timed a model without message passing"))
    x, edge_index = torch.randn(50, 8), random_graph(50, 200, 3)
    graph, choice = auto.use_kernel("auto", ["scatter", "csr"], MLP(8, 3), x, edge_index, torch.device("cpu"))
    assert choice.backend == "scatter" and not choice.timings_ms and "no message-passing layer" in choice.reason
    assert torch.equal(graph, edge_index)


@pytest.mark.parametrize("requested", ["auto", "scatter"])
@pytest.mark.parametrize("name", ["dgmlp", "sign"])
def test_a_model_without_message_passing_on_one_backend_says_it_runs_its_own_propagation(name: str,
                                                                                         requested: str) -> None:
    """DGMLP propagates with its own sparse matmul, SIGN with PyG's SIGN transform: the one backend their entries
    declare sets nothing in them, and the reason says so, not that every backend computes the same, nor, under the
    suite's default ``scatter``, that the suite set it."""
    from gnnbench.registry import MODELS
    from gnnbench.tasks.node import NodeClassification

    entry = MODELS.get(name)
    supported = kernels.candidates(kernels.model_kernels(entry), NodeClassification.kernels)
    x, edge_index = torch.randn(50, 8), random_graph(50, 200, 3)
    graph, choice = auto.use_kernel(requested, supported, entry.obj(8, 3), x, edge_index, torch.device("cpu"))
    assert choice.backend == "scatter" and torch.equal(graph, edge_index)
    assert choice.reason == ("the only backend supported here (scatter): the model has no message-passing layer for "
                             "a backend to set, so its propagation, if any, is its own code")


@pytest.mark.parametrize(("model", "reason"), [("sign", "the only backend supported here (scatter)"),
                                               ("gcn", "set by the suite")])
def test_a_run_failing_before_its_task_reports_a_kernel_says_what_chose_the_named_one(model: str,
                                                                                      reason: str) -> None:
    """The runner's reason for a run whose task never reported its backend: the suite's (default) ``scatter`` was
    SIGN's only backend, while GCN could have run csr."""
    from gnnbench.harness.runner import kernel_choice
    from gnnbench.harness.spec import RunSpec

    spec = RunSpec(task="node_classification", task_options={}, dataset="Cora", model=model, hparams={}, seed=0,
                   epochs=1, patience=None, device="cpu", kernel="scatter")
    assert kernel_choice(spec, None) == {"chosen": "scatter", "reason": reason}


SUITE = """\
name: k
defaults: {{seeds: 1, epochs: 3, patience: null, kernel: {kernel}}}
experiments:
  - task: {task}
    datasets: [Cora]
    models: [{models}]
"""


def test_auto_choice_is_in_every_record(write_suite) -> None:
    suite = load_suite(write_suite(SUITE.format(kernel="auto", task="node_classification", models="gcn, gat")))
    records = {r["spec"]["model"]: r for r in map(execute, suite.specs)}
    assert all(r["status"] == "ok" for r in records.values())
    gcn, gat = records["gcn"]["kernel"], records["gat"]["kernel"]
    assert gcn["backend"] == "auto" and gcn["chosen"] in kernels.CONCRETE
    assert set(gcn["timings_ms"]) == set(kernels.candidates(kernels.CONCRETE, kernels.CONCRETE))
    assert gcn["chosen"] == min(gcn["timings_ms"], key=gcn["timings_ms"].get)
    assert gat["chosen"] in ("scatter", "torch_scatter") and "csr" not in gat.get("timings_ms", {})
    labels = dict(zip(*runs_frame(records.values())[["model", "kernel"]].to_dict("list").values(), strict=True))
    assert labels == {"gcn": f"auto:{gcn['chosen']}", "gat": f"auto:{gat['chosen']}"}


def _csr_node_models() -> list[str]:
    """Every registered model that node classification can run with ``kernel: csr``."""
    from gnnbench.registry import MODELS
    from gnnbench.tasks.node import NodeClassification

    return [name for name in sorted(MODELS) if "node_classification" in MODELS.get(name).tasks
            and "csr" in kernels.candidates(kernels.model_kernels(MODELS.get(name)), NodeClassification.kernels)]


@pytest.mark.parametrize("model", _csr_node_models())
def test_csr_run_reaches_the_same_accuracy_as_scatter(write_suite, model) -> None:
    """A whole run (training, selection, test) is the same computation on either backend, for every model that
    runs csr: a model's own code that reads the graph outside the layers the backend sets (SGC's cache fill
    before training) must read it in the backend's form."""
    results = {}
    for kernel in ("scatter", "csr"):
        suite = load_suite(write_suite(SUITE.format(kernel=kernel, task="node_classification", models=model)))
        record = execute(suite.specs[0])
        assert record["kernel"]["chosen"] == kernel
        results[kernel] = record["metrics"]["val"]["loss"]
    assert results["csr"] == pytest.approx(results["scatter"], abs=1e-4)


@pytest.mark.parametrize(("kernel", "task", "models", "key", "message"), [
    ("csr", "node_classification", "gcn, gat", "experiments[0].models[1]",
     "model 'gat' cannot run with kernel 'csr' (set at defaults.kernel); it supports: scatter, torch_scatter"),
    ("csr", "link_prediction", "gcn", "defaults.kernel", "task 'link_prediction' cannot run kernel 'csr'"),
    ("csv", "node_classification", "gcn", "defaults.kernel", "expected one of scatter"),
])
def test_an_unsupported_pair_fails_validation_with_its_location(write_suite, kernel, task, models, key,
                                                                message) -> None:
    with pytest.raises(ConfigError) as info:
        load_suite(write_suite(SUITE.format(kernel=kernel, task=task, models=models)))
    assert info.value.key == key and message in str(info.value)


@pytest.mark.parametrize(("models", "instead"), [("gcn", "scatter, csr or auto"), ("gat", "scatter or auto"),
                                                  ("gcn, gat", "scatter or auto")])
def test_a_missing_torch_scatter_fails_validation(write_suite, monkeypatch: pytest.MonkeyPatch, models,
                                                  instead) -> None:
    """The error suggests only the backends the task and every model of the experiment can run: never csr where
    GAT is one of them (the key sets the backend of all)."""
    monkeypatch.setattr(kernels, "available", lambda backend: backend != "torch_scatter")
    with pytest.raises(ConfigError, match="needs the torch-scatter package") as info:
        load_suite(write_suite(SUITE.format(kernel="torch_scatter", task="node_classification", models=models)))
    assert info.value.key == "defaults.kernel" and info.value.message.endswith(f", or use kernel: {instead}")


@needs_torch_scatter
def test_torch_scatter_backend_really_calls_torch_scatter(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch_scatter

    calls = []
    real = torch_scatter.scatter
    monkeypatch.setattr(torch_scatter, "scatter", lambda *a, **k: calls.append(k["reduce"]) or real(*a, **k))
    model = GraphSAGE(8, 3)
    configure(model, "torch_scatter")
    model(torch.randn(20, 8), random_graph(20, 60, 0))
    assert calls == ["mean", "mean"]


def test_csr_is_refused_by_name_and_left_out_of_auto_for_a_max_aggregation_on_cuda(monkeypatch) -> None:
    """torch's sparse CSR matmul has no max reduction on CUDA: `kernel: csr` names why, `auto` never times it
    (the run would fail rather than csr lose). Checked on CPU tensors: both happen before anything runs."""
    class Sage(nn.Module):
        def __init__(self, aggr: str) -> None:
            super().__init__()
            self.conv = SAGEConv(8, 5, aggr=aggr)

        def forward(self, x: Tensor, graph: Tensor) -> Tensor:
            return self.conv(x, graph)

    sage_max, sage_mean = Sage("max"), Sage("mean")
    assert auto.has_max_aggregation(sage_max.modules()) and not auto.has_max_aggregation(sage_mean.modules())
    x, edge_index = torch.randn(4, 8), torch.tensor([[0, 1, 2], [1, 2, 3]])
    cuda = torch.device("cuda")
    with pytest.raises(kernels.KernelUnavailableError, match="kernel 'csr' cannot run this model on CUDA"):
        auto.use_kernel("csr", ["scatter", "csr"], sage_max, x, edge_index, cuda)
    timed: list[list[str]] = []
    monkeypatch.setattr(auto, "decide", lambda requested, candidates, *a, **k: timed.append(list(candidates))
                        or auto.KernelChoice(candidates[0], requested, "test"))
    auto.use_kernel("auto", ["scatter", "csr"], sage_max, x, edge_index, cuda)
    auto.use_kernel("auto", ["csr"], sage_mean, x, edge_index, cuda)  # one candidate: no CUDA random state forked
    assert timed == [["scatter"], ["csr"]]
    # csr_refusal walks the model's modules once per check: without a max the repeated edges still refuse a mean
    repeated = torch.tensor([[0, 0, 1], [1, 1, 2]])
    assert auto.csr_refusal(sage_mean, edge_index, 4, cuda) is None
    assert "on this graph, which repeats edges" in auto.csr_refusal(sage_mean, repeated, 4, cuda)


def test_csr_is_refused_by_name_and_left_out_of_auto_for_a_mean_or_max_on_repeated_edges(monkeypatch) -> None:
    """A sparse matrix holds a repeated edge once, weighted by its copies: a sum reads it as the edge path's
    message per copy (GCN's degree too), a mean or max does not, so `kernel: csr` names why and `auto` never times
    csr there; a graph whose edges are distinct, self-loops or not, runs csr."""
    x = torch.randn(60, 8)
    repeated, looped = graph_of_kind("repeated", 60, 300, 3), graph_of_kind("self-loops", 60, 300, 3)
    cpu = torch.device("cpu")
    with pytest.raises(kernels.KernelUnavailableError, match=r"kernel 'csr' cannot run this model on this graph, "
                                                             r"which repeats edges: .* aggregates by mean"):
        auto.use_kernel("csr", ["scatter", "csr"], GraphSAGE(8, 3), x, repeated, cpu)
    timed: list[list[str]] = []
    monkeypatch.setattr(auto, "decide", lambda requested, candidates, *a, **k: timed.append(list(candidates))
                        or auto.KernelChoice(candidates[0], requested, "test"))
    auto.use_kernel("auto", ["scatter", "csr"], GraphSAGE(8, 3), x, repeated, cpu)
    for model in (GCN(8, 3), GIN(8, 3), SGC(8, 3)):  # sums
        auto.use_kernel("auto", ["scatter", "csr"], model, x, repeated, cpu)
    auto.use_kernel("auto", ["scatter", "csr"], GraphSAGE(8, 3), x, looped, cpu)
    assert timed == [["scatter"], *[["scatter", "csr"]] * 4]


def test_auto_s_reason_says_why_csr_was_left_out() -> None:
    """Where `auto` drops csr for this model and graph, its reason says so, and why, after the reason of the pick
    among the rest; where csr stays in, the reason says nothing of it."""
    x, cpu = torch.randn(60, 8), torch.device("cpu")
    _, choice = auto.use_kernel("auto", ["scatter", "csr"], GraphSAGE(8, 3), x, graph_of_kind("repeated", 60, 300, 3),
                                cpu)
    assert choice.backend == "scatter"
    assert choice.reason.startswith("the only backend supported here (scatter); csr left out: it cannot run this "
                                    "model on this graph, which repeats edges")
    _, choice = auto.use_kernel("auto", ["scatter"], GraphSAGE(8, 3), x, graph_of_kind("repeated", 60, 300, 3), cpu)
    assert choice.reason == "the only backend supported here (scatter)"
