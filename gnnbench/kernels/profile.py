r"""``gnnbench profile kernels``: every backend on every aggregation, timed on synthetic graphs.

Ops (``y`` has a row per node, ``x`` per node, one term per edge :math:`j \to i`):

* ``sum``, ``mean``, ``max``: :math:`y_i = \bigoplus_{j \to i} x_j`;
* ``gcn``: :math:`y = \hat D^{-1/2}(A + I)\hat D^{-1/2} x`, the normalisation computed once, as a cached layer does.

Each op runs ``forward`` (with autograd recording, as in training) and ``forward+backward`` (the gradient
with respect to ``x`` of a weighted sum of ``y``). The graph, ``x`` and the weights are drawn from the profile's
seed, so a seed given again gives every input again. Timing: CUDA events on a GPU, the wall clock on the CPU
(:mod:`gnnbench.kernels.timing`); the backends of an (op, pass) take turns, warm-up rounds first, each turn an
untimed call and a timed one (:meth:`_Bench.measure`), and the median of a backend's timed calls is its ``ms``.
Peak memory is measured on a call of its own, after a first call has built what a backend keeps per graph.

**The bandwidth bound.** An aggregation must read a feature row per edge and write a row per node, and read
one index per edge: :math:`B = (E + N) F s + 8E` bytes per pass (:math:`s` bytes per value; for ``gcn``,
:math:`E` counts the entries of :math:`A + I`, the edges and the self-loops added, and :math:`4E` more bytes
are the weights; the backward moves the same through the transpose). ``gbps`` is :math:`B` over the
measured time (doubled for ``forward+backward``), and ``bound_fraction`` is that rate over the device-copy
bandwidth measured in the same run (``copy_gbps``: a large ``Tensor.copy_``, read plus write): 1.0 would be a
kernel moving only what it must at copy speed.

``auto`` decides per (graph, op) by a run's rule (the fastest ``forward+backward`` of each backend, with the
profile's warm-up and repeat counts rather than a run's 1 and 3, one backend after another as in a run). Its
rows are not timed again: each takes the measurements of its pick's row of the same pass (``values``, ``ms``,
peak memory, ``gbps``, ``bound_fraction``) and names that row (``timed_as``), so ``auto / fastest`` is the pick's
time over the fastest row's, 1.0 where it picked the fastest. (Profiles written before ``timed_as`` timed the
pick a second time as a row of its own, which in the turns followed only the same kernel, its row or itself,
and mostly measured faster than that row: docs/BENCHMARKS.md.) Its records keep the timings that decided it
(``timings_ms``, the medians by backend), which kernels.md tables above the rows (:func:`notes`). Its
candidates are the backends of :func:`profile`'s ``backends`` that run the op here (:func:`candidates`): where
one is left, its reason says whether the request or what runs here left it (a profile asked for ``csr`` alone
is not one where only ``csr`` runs); where none is, its rows fail saying so.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import coalesce, scatter

from gnnbench import kernels, markdown
from gnnbench.counts import whole_number
from gnnbench.errors import GnnbenchError
from gnnbench.harness.env import environment
from gnnbench.harness.measure import PeakMemory
from gnnbench.kernels.adjacency import graph_input
from gnnbench.kernels.auto import decide
from gnnbench.kernels.csr_matmul import csr_matmul
from gnnbench.kernels.timing import median_ms, median_ms_or_inf, time_once, turns, unless_out_of_memory

T = TypeVar("T")

OPS = ("sum", "mean", "max", "gcn")
PASSES = ("forward", "forward+backward")
EXTRA_COLUMNS = ["op", "backend", "pass", "chosen", "n_nodes", "n_edges", "features", "ms", "gbps", "bound_fraction",
                 "copy_gbps", "device"]

#: the title of kernels.md
TITLE = "Kernel micro-benchmark"
#: what ``auto``'s rows are, in kernels.md's notes: records with ``timed_as`` take the figures of their pick's row;
#: those written before it (the reference profiles among them) timed the pick again, and their notes say so
AUTO_ROWS = {
    "timed_as": "`auto` decides per (graph, op) on forward+backward and is not timed again: its row repeats the "
                "measurements of its pick's row, which `chosen` names (the records' `timed_as`).",
    "timed again": "`auto` decides per (graph, op) on forward+backward and takes its turns as a row of its own; "
                   "`chosen` names its pick.",
}


def _columns(auto_rows: str) -> str:
    """kernels.md's first note: its columns, then ``auto_rows`` (:data:`AUTO_ROWS`)."""
    return ("`ms`: median of the timed repeats after warm-up, which ranks the rows (`mean` and `std` are of the same "
            "repeats; one slow repeat moves the mean); `gbps`: bytes that must move, (E + N) F s + 8E per "
            "pass (for gcn, E counts the entries of A + I, and +4E), over `ms`; `bound_fraction`: `gbps` over "
            "`copy_gbps`, the device-copy bandwidth measured in the same run (bytes read plus written by a large "
            "`copy_`): above 1, the pass ran faster than that copy (its data reused from cache, or a slow copy in "
            "this run: the copy's rate varied about 2x between runs, see docs/BENCHMARKS.md). `peak_mem_mb`: the "
            "pass's peak memory above what was allocated before it (resident set on the CPU), after a first call "
            "has built what a backend keeps per graph (csr's transpose). The backends take turns, each turn an "
            f"untimed and a timed call. {auto_rows} `scatter`'s max with "
            "gradients on CUDA runs torch_scatter's kernel where that package is installed (PyG's choice; each "
            "record's `scatter_provider` says which). See gnnbench/kernels/profile.py.")


def notes(records: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The header of kernels.md: what its columns mean and what ``auto``'s rows are (an ``auto`` row measured
    without ``timed_as`` was timed again, :data:`AUTO_ROWS`), then, where ``auto`` rows keep the timings that
    decided them (``timings_ms``; records written before they did have none), a table of ``auto``'s decisions."""
    timed_again = any(r.get("backend") == "auto" and r.get("status") == "ok" and "timed_as" not in r for r in records)
    columns = (_columns(AUTO_ROWS["timed again" if timed_again else "timed_as"]),)
    decisions: dict[tuple[str, str], dict[str, Any]] = {}  # (graph, op) -> an auto record: both passes share one
    for r in records:
        if r.get("backend") == "auto" and r.get("timings_ms"):
            decisions.setdefault((r["dataset"], r["op"]), r)
    if not decisions:
        return columns
    timed = [b for b in kernels.CONCRETE if any(b in r["timings_ms"] for r in decisions.values())]
    rows = [[graph, op, r["chosen"], *(f"{r['timings_ms'][b]:.4g}" if b in r["timings_ms"] else "" for b in timed)]
            for (graph, op), r in decisions.items()]
    return (*columns, "", "`auto`'s decisions: each candidate's forward+backward ms as `auto` timed it, one backend "
            "after another before the rows take turns (median of the rows' repeats after their warm-up), and its "
            "pick, the fastest; the records' `timings_ms`. Blank: not a candidate, or it ran out of memory (the "
            "record's `reason` says). The rows below time the same kernels again, taking turns, and can order "
            "close backends otherwise.", "",
            *markdown.table(["dataset", "op", "chosen", *timed], rows, right=range(3, 3 + len(timed))))


@dataclass(frozen=True)
class GraphSize:
    """A synthetic graph: ``n_edges`` uniformly random directed edges over ``n_nodes``, ``features`` floats.

    The ``label`` of the size asked for names a profile's rows (``random-n2000-e20000-f64``), not that of the
    distinct edges drawn (:attr:`Graph.size`), which vary with the seed: the rows of two seeds pair in ``compare``,
    which notes the seed and the edges. Profiles written before named them by the distinct edges
    (``random-n2000-e19951-f64``) and do not keep the size asked for (:func:`gnnbench.leaderboard.read.graphs_paired`).
    """

    n_nodes: int
    n_edges: int
    features: int

    @property
    def label(self) -> str:
        return f"random-n{self.n_nodes}-e{self.n_edges}-f{self.features}"

    def __str__(self) -> str:
        """``N:E:F``, as ``--sizes`` takes it: what an error about a size names."""
        return f"{self.n_nodes}:{self.n_edges}:{self.features}"

    @classmethod
    def parse(cls, text: str) -> GraphSize:
        """``N:E:F``, e.g. ``10000:200000:64`` or ``1e4:2e5:64``: whole numbers (:func:`whole_number`, as every
        count ``gnnbench profile`` takes), not truncated to them."""
        try:
            n, e, f = (whole_number(part) for part in text.split(":"))
        except ValueError:
            raise ValueError(f"expected a graph size N:E:F of whole numbers (e.g. 10000:200000:64), "
                             f"got {text!r}") from None
        if min(n, e, f) < 1:
            raise ValueError(f"a graph size needs positive N, E and F, got {text!r}")
        if e > n * n:
            raise ValueError(f"{n} nodes hold at most {n * n} distinct edges, got {text!r}")
        return cls(n, e, f)


#: CPU: small graphs; GPU: PyG's compile-benchmark size, 2.45M nodes at 30M edges, and ogbn-products scale
DEFAULT_SIZES = {
    "cpu": (GraphSize(2_000, 20_000, 64), GraphSize(10_000, 200_000, 64), GraphSize(50_000, 1_000_000, 64)),
    "cuda": (GraphSize(10_000, 200_000, 64), GraphSize(2_449_029, 30_000_000, 128),
             GraphSize(2_449_029, 123_718_280, 128)),
}


@dataclass
class Graph:
    """A synthetic graph in every form the backends read, built once per size."""

    size: GraphSize  # the edges drawn, distinct
    asked: GraphSize  # as --sizes gave it, which names the rows
    edge_index: Tensor
    adj_t: Tensor
    gcn_index: Tensor
    gcn_weight: Tensor
    gcn_adj_t: Tensor

    @classmethod
    def random(cls, size: GraphSize, device: torch.device, seed: int = 0) -> Graph:
        """Distinct random edges (a repeated pair would be one weighted entry of a sparse matrix, which changes
        ``mean`` and ``max``), so ``n_edges`` may fall slightly below the size asked for."""
        g = torch.Generator(device=device).manual_seed(seed)
        edge_index = coalesce(torch.randint(0, size.n_nodes, (2, size.n_edges), generator=g, device=device),
                              num_nodes=size.n_nodes)
        gcn_index, gcn_weight = gcn_norm(edge_index, None, size.n_nodes, add_self_loops=True)
        return cls(GraphSize(size.n_nodes, edge_index.size(1), size.features), size, edge_index,
                   graph_input("csr", edge_index, size.n_nodes), gcn_index, gcn_weight,
                   graph_input("csr", gcn_index, size.n_nodes, gcn_weight))

    def entries(self, op: str) -> int:
        """The (source, target) terms ``op`` reads: the edges, or for ``gcn`` those of :math:`A + I`."""
        return self.gcn_index.size(1) if op == "gcn" else self.size.n_edges


def op_fn(op: str, backend: str, graph: Graph) -> Callable[[Tensor], Tensor]:
    """``x -> y`` for ``op`` on ``backend``."""
    n = graph.size.n_nodes
    if backend == "csr":  # as the fused layers run it: sum and mean through the cached transpose
        if op == "gcn":
            return lambda x: csr_matmul(graph.gcn_adj_t, x, reduce="sum")
        return lambda x: csr_matmul(graph.adj_t, x, reduce=op)
    reduce_fn = _torch_scatter() if backend == "torch_scatter" else scatter
    if op == "gcn":
        src, dst = graph.gcn_index
        weight = graph.gcn_weight.unsqueeze(-1)
        return lambda x: reduce_fn(x[src] * weight, dst, dim=0, dim_size=n, reduce="sum")
    src, dst = graph.edge_index
    return lambda x: reduce_fn(x[src], dst, dim=0, dim_size=n, reduce=op)


def _torch_scatter() -> Callable[..., Tensor]:
    kernels.require("torch_scatter")
    import torch_scatter

    return torch_scatter.scatter


def applicable(op: str, backend: str, device: torch.device) -> bool:
    """torch's sparse CSR matmul has no max reduction on CUDA (PyG's ``spmm`` raises there)."""
    return kernels.available(backend) and not (backend == "csr" and op == "max" and device.type == "cuda")


def candidates(op: str, backends: Sequence[str], device: torch.device) -> tuple[list[str], str]:
    """The backends of ``backends`` that run ``op`` here (:func:`applicable`), which ``auto`` chooses from, and
    what left them, for its reason: ``supported here``, ``asked for`` (the profile's ``backends`` left out a
    backend that runs here) or ``both asked for and supported here``."""
    asked = [b for b in kernels.CONCRETE if b in backends]
    supported = [b for b in kernels.CONCRETE if applicable(op, b, device)]
    runnable = [b for b in asked if b in supported]
    narrowed_by_request, narrowed_by_support = runnable != supported, runnable != asked
    if narrowed_by_request and narrowed_by_support:
        return runnable, "both asked for and supported here"
    return runnable, "asked for" if narrowed_by_request else "supported here"


def step_fn(fn: Callable[[Tensor], Tensor], x: Tensor, weight: Tensor | None) -> Callable[[], object]:
    """``forward`` (``weight`` None) or ``forward+backward``: the gradient with respect to ``x`` of
    ``(fn(x) * weight).sum()``."""
    if weight is None:
        return lambda: fn(x)
    return lambda: torch.autograd.grad((fn(x) * weight).sum(), x)


def bytes_moved(size: GraphSize, entries: int, op: str, element_size: int) -> int:
    """:math:`B` of one pass (module docstring), with :math:`E` = ``entries`` (:meth:`Graph.entries`)."""
    per_pass = (entries + size.n_nodes) * size.features * element_size + 8 * entries
    return per_pass + (4 * entries if op == "gcn" else 0)


def copy_bandwidth(device: torch.device, megabytes: int, warmup: int, repeats: int) -> float:
    """GB/s of a device-to-device ``copy_`` of ``megabytes`` (bytes read plus bytes written). At least one untimed
    copy first, whatever ``warmup``, as every kernel gets one: a cold first copy pays ``dst``'s page faults, and a
    reference 2-35x too slow would overstate every ``bound_fraction``."""
    src = torch.ones(megabytes * 2**20 // 4, device=device)
    dst = torch.empty_like(src)
    ms = median_ms(lambda: dst.copy_(src), device, max(warmup, 1), repeats)
    return 2 * src.numel() * 4 / (ms * 1e-3) / 1e9


def profile(sizes: Sequence[GraphSize], device: torch.device, ops: Sequence[str] = OPS,
            backends: Sequence[str] = tuple(kernels.BACKENDS), warmup: int = 2, repeats: int = 5, seed: int = 0,
            on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """One record per (size, op, backend, pass), in the leaderboard's schema plus :data:`EXTRA_COLUMNS`. An
    unknown op or backend is an error before anything is timed (a typo would otherwise leave its rows out)."""
    for kind, given, known in (("op", ops, OPS), ("backend", backends, tuple(kernels.BACKENDS))):
        if unknown := [name for name in given if name not in known]:
            raise ValueError(f"unknown {kind} {', '.join(map(repr, unknown))}; expected some of {', '.join(known)}")
    env = environment(device)
    copy_gbps = copy_bandwidth(device, 1024 if device.type == "cuda" else 128, warmup, repeats)
    records: list[dict[str, Any]] = []
    for size in sizes:  # one graph alive at a time: the last one goes before the next is built
        graph = _fitting(functools.partial(Graph.random, size, device, seed), f"the graph {size} does", device)
        bench = _fitting(functools.partial(_Bench, graph, device, warmup, repeats, seed),
                         f"the features of {size} do", device)
        records += bench.run(ops, backends, copy_gbps, env, on_row)
    return records


def _fitting(build: Callable[[], T], what: str, device: torch.device) -> T:
    """``build()``, or a located ``--sizes`` error where it runs out of memory: ``what`` (``the graph N:E:F
    does``) not fit in the memory of ``device``."""
    failed: list[str] = []
    if (built := unless_out_of_memory(build, failed)) is None:
        raise GnnbenchError(f"--sizes: {what} not fit in the memory of {device} ({failed[0]}); expected a smaller "
                            "size")
    return built


class _Bench:
    """One graph, its input features ``x`` and the weights of the backward's sum, timed op by op; ``x`` and the
    weights are drawn from ``seed``, not the global random state, so a profile's seed fixes every input."""

    def __init__(self, graph: Graph, device: torch.device, warmup: int, repeats: int, seed: int) -> None:
        self.graph, self.device, self.warmup, self.repeats, self.seed = graph, device, warmup, repeats, seed
        generator = torch.Generator(device=device).manual_seed(seed)
        shape = (graph.size.n_nodes, graph.size.features)
        self.x = torch.randn(shape, generator=generator, device=device, requires_grad=True)
        self.weight = torch.randn(shape, generator=generator, device=device)

    def run(self, ops: Sequence[str], backends: Sequence[str], copy_gbps: float, env: dict[str, Any],
            on_row: Callable[[dict[str, Any]], None] | None) -> list[dict[str, Any]]:
        records = []
        # what shaped the timings, which compare notes a change of
        protocol = {"seed": self.seed, "warmup": self.warmup, "repeats": self.repeats}
        provider = kernels.scatter_provider(self.device)
        for op in ops:  # E and B depend on the op and graph only: once for its every pass and backend
            entries = self.graph.entries(op)
            moved = bytes_moved(self.graph.size, entries, op, self.x.element_size())
            runnable, left_by = candidates(op, backends, self.device)
            reason, undecided, decision = "", [], None
            if "auto" in backends and not runnable:
                undecided.append(f"auto has no backend to choose from: none is {left_by}")
            elif "auto" in backends:  # every candidate running out is a failed row, not an abort
                decision = unless_out_of_memory(
                    functools.partial(decide, "auto", runnable, functools.partial(self.median_ms, op),
                                      warmup=self.warmup, repeats=self.repeats, left_by=left_by), undecided)
                if decision is not None:
                    reason = decision.reason
            for pass_ in PASSES:
                measured = self.measure(op, pass_, runnable)
                for name in [*runnable, *(["auto"] if "auto" in backends else [])]:
                    # auto's row is its pick's: the same kernel is not reported as two figures
                    backend = decision.backend if name == "auto" and decision is not None else name
                    values, peak_mb, failure = measured.get(backend, ([], float("nan"), undecided[:1]))
                    record = _record(self.graph, op, name, backend, pass_, values, peak_mb, copy_gbps, moved, env,
                                     failure, reason if name == "auto" else "")
                    if name == "auto" and decision is not None:
                        record["timed_as"] = decision.backend
                        if decision.timings_ms:  # what decided it
                            record["timings_ms"] = decision.to_record()["timings_ms"]
                    record["scatter_provider"] = provider
                    record["entries"] = entries  # E of the bytes moved, to recompute gbps
                    record["protocol"] = protocol
                    records.append(record)
                    if on_row is not None:
                        on_row(record)
        return records

    def measure(self, op: str, pass_: str,
                backends: Sequence[str]) -> dict[str, tuple[list[float], float, list[str]]]:
        """Each backend's (milliseconds of its timed calls, peak MB, failure).

        Every backend is called once first, building what it keeps per graph (``csr``'s transpose); then its
        peak is measured on a call of its own; then the backends take turns
        (:func:`~gnnbench.kernels.timing.turns`), so that a machine warming up or slowing down during the op
        favours none. In its turn a backend is called untimed, then timed: every timed call finds the caches as
        its own previous call left them, as in a loop of that op, not as another backend's did (a scatter's
        per-edge messages evict a CSR matmul's inputs, and of two equal rows timed back to back the later one
        measured faster). A backend running out of memory is failed and leaves the turns."""
        weight = self.weight if pass_ == "forward+backward" else None
        steps = {backend: step_fn(op_fn(op, backend, self.graph), self.x, weight) for backend in backends}
        failures: dict[str, list[str]] = {name: [] for name in steps}
        for name, step in steps.items():
            unless_out_of_memory(step, failures[name])
        peaks: dict[str, float] = {}
        for name, step in steps.items():
            if not failures[name]:
                summary = unless_out_of_memory(functools.partial(self.peak, step), failures[name])
                if summary is not None:  # the process's lifetime peak where it cannot be reset: no pass's
                    peaks[name] = float("nan") if summary["kind"] == "process_peak_rss" else summary["peak_mb"]
        times: dict[str, list[float]] = {name: [] for name in steps}
        for round_, name in turns([name for name in steps if not failures[name]], self.warmup + self.repeats):
            if failures[name]:
                continue
            ms = unless_out_of_memory(functools.partial(self.turn, steps[name]), failures[name])
            if ms is not None and round_ >= self.warmup:
                times[name].append(ms)
        return {name: ([], float("nan"), failures[name]) if failures[name] else (times[name], peaks[name], [])
                for name in steps}

    def peak(self, step: Callable[[], object]) -> dict[str, Any]:
        """The memory summary of one call of ``step`` (:class:`~gnnbench.harness.measure.PeakMemory`)."""
        with PeakMemory(self.device, collect=False) as memory:
            step()
        return memory.summary()

    def turn(self, step: Callable[[], object]) -> float:
        """A row's turn: an untimed call, then the milliseconds of a timed one."""
        step()
        return time_once(step, self.device)

    def median_ms(self, op: str, backend: str) -> float:
        """``forward+backward``, as ``auto`` measures it (one backend after another, as a run does); a backend
        running out of memory is infinitely slow."""
        return median_ms_or_inf(step_fn(op_fn(op, backend, self.graph), self.x, self.weight), self.device,
                                self.warmup, self.repeats)


def _record(graph: Graph, op: str, backend: str, chosen: str, pass_: str, values: list[float], peak_mb: float,
            copy_gbps: float, bytes_per_pass: int, env: dict[str, Any], failure: list[str],
            reason: str) -> dict[str, Any]:
    moved = (2 if pass_ == "forward+backward" else 1) * bytes_per_pass
    ms = statistics.median(values) if values else float("nan")
    gbps = moved / (ms * 1e-3) / 1e9 if values else float("nan")
    mean = statistics.fmean(values) if values else float("nan")
    std = statistics.stdev(values) if len(values) > 1 else float("nan")
    size = graph.size  # the distinct edges drawn: n_edges; the row is named by the size asked for
    return {
        "status": "ok" if values else "failed", "suite": "profile_kernels", "task": f"kernel_{op}_{pass_}",
        "dataset": graph.asked.label, "model": backend, "config": "default", "scenario": "none", "metric": "ms",
        "direction": "min", "mean": mean, "std": std, "n": len(values), "values": values,
        "peak_mem_mb": peak_mb, "kernel": chosen, "op": op, "backend": backend, "pass": pass_,
        "chosen": chosen, "n_nodes": size.n_nodes, "n_edges": size.n_edges, "features": size.features, "ms": ms,
        "gbps": gbps, "bound_fraction": gbps / copy_gbps if values else float("nan"), "copy_gbps": copy_gbps,
        "device": env["device_name"], "env": env, **({"reason": reason} if reason else {}),
        **({"error": failure[0]} if failure else {}),
    }
