"""``gnnbench profile kernels``: the benchmarked ops agree across backends, the bandwidth figures follow their
definition, and the output is a leaderboard that ``gnnbench compare`` reads."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import weakref
from pathlib import Path

import pandas as pd
import pytest
import torch

from gnnbench import kernels
from gnnbench.cli import main
from gnnbench.cli.parser import build_parser
from gnnbench.harness.env import environment
from gnnbench.kernels import profile as kp
from gnnbench.kernels import timing
from gnnbench.leaderboard.aggregate import COLUMNS
from gnnbench.leaderboard.compare import compare
from gnnbench.leaderboard.labels import versions_label
from gnnbench.leaderboard.profile import ProfileWriter, profile_frame

CPU = torch.device("cpu")
RUNNABLE = [b for b in kernels.CONCRETE if kernels.available(b)]


@pytest.fixture(scope="module")
def graph() -> kp.Graph:
    return kp.Graph.random(kp.GraphSize(60, 400, 8), CPU, seed=1)


@pytest.mark.parametrize("op", kp.OPS)
def test_ops_agree_across_backends_in_value_and_gradient(graph: kp.Graph, op: str) -> None:
    torch.manual_seed(0)
    x, weight = torch.randn(60, 8, requires_grad=True), torch.randn(60, 8)
    results = []
    for backend in RUNNABLE:
        y = kp.op_fn(op, backend, graph)(x)
        (grad,) = torch.autograd.grad((y * weight).sum(), x)
        results.append((y.detach(), grad))
    for y, grad in results[1:]:
        torch.testing.assert_close(y, results[0][0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(grad, results[0][1], atol=1e-5, rtol=1e-5)


def test_gcn_op_is_the_symmetrically_normalised_adjacency_with_self_loops(graph: kp.Graph) -> None:
    n = graph.size.n_nodes
    a = torch.zeros(n, n)
    a[graph.edge_index[1], graph.edge_index[0]] = 1.0  # row = target
    a.fill_diagonal_(1.0)  # the missing self-loops are added; an existing one keeps weight 1
    d = a.sum(1).pow(-0.5)
    x = torch.randn(n, 8)
    torch.testing.assert_close(kp.op_fn("gcn", "csr", graph)(x), d[:, None] * a * d[None, :] @ x)


def test_random_graph_edges_are_distinct() -> None:
    graph = kp.Graph.random(kp.GraphSize(10, 200, 4), CPU)
    assert graph.size.n_edges == graph.edge_index.size(1) == torch.unique(graph.edge_index, dim=1).size(1) < 200
    assert graph.adj_t._nnz() == graph.size.n_edges


def test_profile_rows_follow_their_definitions(tmp_path) -> None:
    size = kp.GraphSize(80, 600, 8)
    records = kp.profile([size], CPU, ops=("sum", "gcn"), warmup=0, repeats=2)
    graph = kp.Graph.random(size, CPU)  # the profile's graph (same seed)
    loops = int((graph.edge_index[0] == graph.edge_index[1]).sum())
    entries = {"sum": graph.size.n_edges, "gcn": graph.size.n_edges + 80 - loops}  # gcn reads A + I
    variants = [*RUNNABLE, "auto"]
    assert len(records) == 2 * len(variants) * len(kp.PASSES)
    for r in records:
        assert r["status"] == "ok" and r["n"] == 2 and r["ms"] == statistics.median(r["values"]) > 0
        assert (r["n_edges"], r["n_nodes"], r["features"]) == (graph.size.n_edges, 80, 8)
        e = entries[r["op"]]
        moved = (e + 80) * 8 * 4 + 8 * e + (4 * e if r["op"] == "gcn" else 0)
        moved *= 2 if r["pass"] == "forward+backward" else 1
        assert r["gbps"] == pytest.approx(moved / (r["ms"] * 1e-3) / 1e9)
        assert r["bound_fraction"] == pytest.approx(r["gbps"] / r["copy_gbps"])
        assert r["peak_mem_mb"] >= 0
    auto_rows = [r for r in records if r["backend"] == "auto"]
    assert all(r["chosen"] in RUNNABLE and "fastest of" in r["reason"] for r in auto_rows)
    assert all("median of 2 timed forward+backward steps after 0 warm-up" in r["reason"] for r in auto_rows)


def out_of_memory_while_auto_decides(monkeypatch, backends: set[str]) -> None:
    """``backends`` run out of memory inside ``auto``'s timing (``_Bench.median_ms``), through its real handler
    (``timing.median_ms_or_inf``)."""
    real_timing, real_median = timing.median_ms, kp._Bench.median_ms
    deciding: list[str | None] = [None]  # the backend auto is timing now

    def timed(fn, device, warmup, repeats):
        if deciding[0] in backends:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_timing(fn, device, warmup, repeats)

    def median_ms(self, op, backend):
        deciding[0] = backend
        try:
            return real_median(self, op, backend)
        finally:
            deciding[0] = None

    monkeypatch.setattr(timing, "median_ms", timed)
    monkeypatch.setattr(kp._Bench, "median_ms", median_ms)


def test_the_cpu_allocator_s_failure_is_out_of_memory_and_other_errors_are_not() -> None:
    """Torch's CPU allocator raises a plain RuntimeError: a row or an ``auto`` candidate that does not fit in host
    memory fails as a GPU one does, where it used to abort the whole profile (and a run's ``auto``)."""
    failures: list[str] = []
    assert timing.unless_out_of_memory(lambda: torch.empty(2**60, dtype=torch.uint8), failures) is None
    assert len(failures) == 1 and "DefaultCPUAllocator: can't allocate memory" in failures[0]
    assert timing.median_ms_or_inf(lambda: torch.empty(2**60, dtype=torch.uint8), CPU) == float("inf")
    with pytest.raises(RuntimeError, match="a bug"):
        timing.unless_out_of_memory(lambda: (_ for _ in ()).throw(RuntimeError("a bug")), failures)
    assert len(failures) == 1


def test_a_graph_too_large_for_memory_is_refused_at_sizes(tmp_path, capsys) -> None:
    for size, what in (("1e12:1e13:8", "the graph 1000000000000:10000000000000:8"),
                       ("100:500:1e14", "the features of 100:500:100000000000000")):
        assert main(["profile", "kernels", "--device", "cpu", "--sizes", size, "--out", str(tmp_path)]) == 2
        out, err = capsys.readouterr()
        assert f"error: --sizes: {what} do" in err and "DefaultCPUAllocator" in err
        assert "Traceback" not in err and "stopped before the first row" not in out


def test_auto_with_one_backend_out_of_memory_chooses_another_and_says_why(monkeypatch) -> None:
    out_of_memory_while_auto_decides(monkeypatch, {"scatter"})
    records = kp.profile([kp.GraphSize(80, 600, 8)], CPU, ops=("sum",), backends=("scatter", "csr", "auto"),
                         warmup=0, repeats=1)
    auto_rows = [r for r in records if r["backend"] == "auto"]
    assert auto_rows and all(r["chosen"] == "csr" and r["reason"].endswith("; scatter ran out of memory")
                             for r in auto_rows)


def test_auto_with_every_backend_out_of_memory_is_a_failed_row_not_an_abort(monkeypatch) -> None:
    """On a GPU too small for the graph every candidate can run out: the rows measured so far must survive."""
    out_of_memory_while_auto_decides(monkeypatch, set(kernels.CONCRETE))
    records = kp.profile([kp.GraphSize(80, 600, 8)], CPU, ops=("sum",), warmup=0, repeats=1)
    auto_rows = [r for r in records if r["backend"] == "auto"]
    assert len(auto_rows) == len(kp.PASSES) and all(r["status"] == "failed" for r in auto_rows)
    assert all(r["status"] == "ok" for r in records if r["backend"] != "auto")



def test_auto_s_reason_tells_a_backend_left_by_the_request_from_one_left_by_support(monkeypatch) -> None:
    """A profile asked for csr alone leaves auto one backend by that request, not because csr is the only one
    supported; on CUDA (named only: nothing runs there) csr has no max, and without torch_scatter only scatter
    runs it."""
    records = kp.profile([kp.GraphSize(80, 600, 8)], CPU, ops=("sum",), backends=("csr", "auto"), warmup=0,
                         repeats=1)
    assert {r["reason"] for r in records if r["backend"] == "auto"} == {"the only backend asked for (csr)"}
    cuda = torch.device("cuda")
    monkeypatch.setattr(kernels, "available", lambda backend: backend != "torch_scatter")
    assert kp.candidates("max", kp.kernels.CONCRETE, cuda) == (["scatter"], "supported here")
    assert kp.candidates("max", ("scatter", "csr"), cuda) == (["scatter"], "supported here")
    assert kp.candidates("sum", ("csr",), cuda) == (["csr"], "asked for")
    monkeypatch.setattr(kernels, "available", lambda backend: True)
    assert kp.candidates("max", ("scatter", "csr"), cuda) == (["scatter"], "both asked for and supported here")
    assert kp.candidates("max", ("csr",), cuda) == ([], "both asked for and supported here")


@pytest.mark.parametrize(("option", "value", "message"), [
    ("backends", ("scater", "csr"), "unknown backend 'scater'; expected some of scatter, torch_scatter, csr, auto"),
    ("ops", ("sum", "min"), "unknown op 'min'; expected some of sum, mean, max, gcn")])
def test_an_unknown_op_or_backend_is_an_error_before_anything_is_timed(monkeypatch, option, value, message) -> None:
    """A typo would otherwise leave its rows out of a profile that looks complete."""
    monkeypatch.setattr(kp, "copy_bandwidth", lambda *args: pytest.fail("timed before the check"))
    with pytest.raises(ValueError, match=re.escape(message)):
        kp.profile([kp.GraphSize(80, 600, 8)], CPU, warmup=0, repeats=1, **{option: value})


def test_auto_without_a_backend_to_choose_from_is_a_failed_row_that_says_why() -> None:
    """Not the run's error about a model and a task, which a profile has neither of."""
    records = kp.profile([kp.GraphSize(80, 600, 8)], CPU, ops=("sum",), backends=("auto",), warmup=0, repeats=1)
    assert len(records) == len(kp.PASSES) and all(r["status"] == "failed" for r in records)
    assert {r["error"] for r in records} == {"auto has no backend to choose from: none is asked for"}


def test_auto_rows_keep_the_timings_that_decided_them_and_kernels_md_tables_them(monkeypatch, tmp_path) -> None:
    """The reason says auto took the fastest; its records say of what (``timings_ms``, as a run's record does), and
    kernels.md shows them: the rows taking turns time the kernels again and need not agree with the decision.
    scatter runs out of memory deciding mean: it has no timing, and a blank cell."""
    decided = {"sum": {"scatter": 3.0, "csr": 1.0}, "mean": {"scatter": float("inf"), "csr": 2.0}}
    monkeypatch.setattr(kp._Bench, "median_ms", lambda self, op, backend: decided[op][backend])
    records = kp.profile([kp.GraphSize(80, 600, 8)], CPU, ops=("sum", "mean"), backends=("scatter", "csr", "auto"),
                         warmup=0, repeats=1)
    auto_rows = [r for r in records if r["backend"] == "auto"]
    assert len(auto_rows) == 2 * len(kp.PASSES) and all(r["chosen"] == "csr" for r in auto_rows)
    assert [r["timings_ms"] for r in auto_rows] == [{"scatter": 3.0, "csr": 1.0}] * 2 + [{"csr": 2.0}] * 2
    assert all("timings_ms" not in r for r in records if r["backend"] != "auto")
    writer = ProfileWriter(tmp_path, "kernels")
    for record in records:
        writer.add(record)
    writer.finish()
    md = (tmp_path / "kernels.md").read_text().splitlines()
    graph = records[0]["dataset"]
    table = md.index("| dataset | op | chosen | scatter | csr |")
    assert md[table + 2:table + 4] == [f"| {graph} | sum | csr | 3 | 1 |", f"| {graph} | mean | csr |  | 2 |"]
    assert "timings_ms" not in pd.read_csv(tmp_path / "kernels.csv").columns  # the CSV's columns stay

def test_backends_take_turns_so_a_drifting_machine_biases_none(monkeypatch) -> None:
    """Each call here takes 1 ms longer than the one before (a machine slowing down). Timed one backend after
    another, the last row's median would be ``warmup + repeats`` calls of every backend later than the first's;
    taking turns in an order reversed every round gives every row (``auto``'s is its pick's) the same mean over an
    even number of rounds."""
    calls = iter(range(1, 10_000))

    def drifting(fn, device):
        fn()
        return float(next(calls))

    monkeypatch.setattr(kp, "time_once", drifting)
    records = kp.profile([kp.GraphSize(80, 600, 8)], CPU, ops=("sum",), warmup=1, repeats=4)
    for pass_ in kp.PASSES:
        rows = [r for r in records if r["pass"] == pass_]
        assert {r["backend"] for r in rows} == {*RUNNABLE, "auto"}
        means = [statistics.fmean(r["values"]) for r in rows]
        assert max(means) - min(means) < 1e-9, means
        assert max(r["ms"] for r in rows) - min(r["ms"] for r in rows) <= len(rows) - 1


def test_auto_s_rows_are_its_pick_s_rows_not_a_second_timing(monkeypatch, tmp_path) -> None:
    """The same kernel is not reported as two figures: timed again as a row of its own, ``auto``'s pick followed
    only its own kind of work in the turns and mostly measured faster than its row. Every call here takes
    another time, so a second timing could not repeat the row's figures; and kernels.md says the row repeats."""
    calls = iter(range(1, 10_000))

    def distinct(fn, device):
        fn()
        return float(next(calls))

    monkeypatch.setattr(kp, "time_once", distinct)
    records = kp.profile([kp.GraphSize(80, 600, 8)], CPU, ops=("sum", "mean"), warmup=1, repeats=3)
    rows = {(r["op"], r["pass"], r["backend"]): r for r in records}
    figures = ("status", "n", "values", "mean", "std", "ms", "gbps", "bound_fraction", "peak_mem_mb")
    for op in ("sum", "mean"):
        for pass_ in kp.PASSES:
            auto = rows[op, pass_, "auto"]
            chosen = rows[op, pass_, auto["chosen"]]
            assert [auto[key] for key in figures] == [chosen[key] for key in figures]
            assert auto["timed_as"] == auto["chosen"] in RUNNABLE and "timed_as" not in chosen
    writer = ProfileWriter(tmp_path, "kernels")
    for record in records:
        writer.add(record)
    writer.finish()
    md = (tmp_path / "kernels.md").read_text()
    assert kp.AUTO_ROWS["timed_as"] in md and kp.AUTO_ROWS["timed again"] not in md
    # records made before timed_as were timed again, and their kernels.md still says so
    before = [{key: value for key, value in r.items() if key != "timed_as"} for r in records]  # records made before
    assert kp.notes(before)[0] == kp._columns(kp.AUTO_ROWS["timed again"])


def test_every_timed_call_follows_an_untimed_call_of_its_own_row(monkeypatch) -> None:
    """A call finding the caches as another backend left them is slower than one after its own (here 5 ms
    against 1): timed back to back, two rows of one kernel differed by that alone. Each row's calls are told
    apart by the function ``op_fn`` made for it."""
    real_op_fn, called = kp.op_fn, []

    def op_fn(op, backend, graph):
        fn = real_op_fn(op, backend, graph)

        def tagged(x):
            called.append(tagged)
            return fn(x)
        return tagged

    def cached(fn, device):
        fn()
        return 1.0 if len(called) > 1 and called[-2] is called[-1] else 5.0

    monkeypatch.setattr(kp, "op_fn", op_fn)
    monkeypatch.setattr(kp, "time_once", cached)
    records = kp.profile([kp.GraphSize(80, 600, 8)], CPU, ops=("sum",), warmup=1, repeats=3)
    assert {r["backend"] for r in records} == {*RUNNABLE, "auto"}
    assert all(r["values"] == [1.0, 1.0, 1.0] for r in records), [(r["backend"], r["values"]) for r in records]


def test_a_backend_out_of_memory_in_its_turn_is_a_failed_row_and_leaves_the_turns(monkeypatch) -> None:
    """The first call fits, the next does not (memory fragmented meanwhile): the row fails, the other backends
    are measured in full."""
    real_op_fn = kp.op_fn
    csr_calls: list[str] = []

    def op_fn(op, backend, graph):
        fn = real_op_fn(op, backend, graph)
        calls_this_pass = len(csr_calls)

        def out_of_memory_after_one_call(x):
            csr_calls.append(op)
            if len(csr_calls) - calls_this_pass > 1:
                raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
            return fn(x)
        return out_of_memory_after_one_call if backend == "csr" else fn

    monkeypatch.setattr(kp, "op_fn", op_fn)
    records = kp.profile([kp.GraphSize(80, 600, 8)], CPU, ops=("sum",), backends=("scatter", "csr"), warmup=1,
                         repeats=3)
    rows = {(r["backend"], r["pass"]): r for r in records}
    for pass_ in kp.PASSES:
        assert rows["csr", pass_]["status"] == "failed"
        assert rows["csr", pass_]["error"] == "out of memory: CUDA out of memory (simulated)"
        assert rows["scatter", pass_]["status"] == "ok" and rows["scatter", pass_]["n"] == 3
    assert len(csr_calls) == 2 * len(kp.PASSES)  # the first call and the failed one: csr left the turns


def test_profile_rows_rank_by_their_median_not_their_mean() -> None:
    """One slow repeat moves the mean; the leaderboard ranks by ``ms``, the median the docs describe."""
    def row(backend: str, values: list[float]) -> dict:
        return {"task": "kernel_sum_forward", "dataset": "g", "model": backend, "metric": "ms", "direction": "min",
                "mean": statistics.fmean(values), "values": values, "ms": statistics.median(values)}

    frame = profile_frame([row("scatter", [2.0, 2.0, 2.0]), row("csr", [1.0, 1.0, 9.0])], kp.EXTRA_COLUMNS)
    assert dict(zip(frame["model"], frame["rank"], strict=True)) == {"csr": 1, "scatter": 2}


def test_cli_writes_a_leaderboard_that_compare_reads(tmp_path) -> None:
    argv = ["profile", "kernels", "--device", "cpu", "--sizes", "100:500:8", "--warmup", "0", "--repeats", "2", "-q"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    board = pd.read_csv(tmp_path / "a" / "kernels.csv", keep_default_na=False)
    assert list(board.columns[: len(COLUMNS)]) == COLUMNS
    assert set(kp.EXTRA_COLUMNS) <= set(board.columns)
    assert set(board["rank"].astype(int)) >= {1}
    assert (tmp_path / "a" / "kernels.md").read_text().startswith("# Kernel micro-benchmark")
    assert "| peak_mem_mb |" in (tmp_path / "a" / "kernels.md").read_text()  # what each measured pass added
    rows = [json.loads(line) for line in (tmp_path / "a" / "kernels.jsonl").read_text().splitlines()]
    assert {r["scatter_provider"] for r in rows} == {kernels.scatter_provider(torch.device("cpu"))}
    result = compare(tmp_path / "a" / "kernels.csv", tmp_path / "b" / "kernels.csv", min_effect=1.0)  # 1 ms
    assert len(result.table) == len(board) and set(result.table["status"]) == {"both"}
    assert set(board["versions"]) == {versions_label(environment(torch.device("cpu")))}  # compare notes a change
    other = board.assign(versions=board["versions"].str.replace("torch=", "torch=0.0+", regex=False))
    other.to_csv(tmp_path / "b" / "kernels.csv", index=False)
    notes = compare(tmp_path / "a" / "kernels.csv", tmp_path / "b" / "kernels.csv", min_effect=1.0).table["notes"]
    assert all("torch " in n and "-> 0.0+" in n for n in notes)


def test_a_profile_records_its_seed_warmup_and_repeats_and_compare_notes_a_change(tmp_path) -> None:
    """Two profiles made with another --warmup time the same kernels differently: each record keeps the settings
    that shaped it, and compare names the change on every row; a CSV written before the column existed is
    ``unknown``, not the same."""
    argv = ["profile", "kernels", "--device", "cpu", "--sizes", "100:500:8", "--repeats", "1", "-q"]
    for warmup in ("0", "1"):
        assert main([*argv, "--warmup", warmup, "--out", str(tmp_path / warmup)]) == 0
    rows = [json.loads(line) for line in (tmp_path / "0" / "kernels.jsonl").read_text().splitlines()]
    assert rows and all(r["protocol"] == {"seed": 0, "warmup": 0, "repeats": 1} for r in rows)
    assert "Protocol: repeats=1, seed=0, warmup=0." in (tmp_path / "0" / "kernels.md").read_text()
    a, b = tmp_path / "0" / "kernels.csv", tmp_path / "1" / "kernels.csv"
    notes = compare(a, b, min_effect=1.0).table["notes"]
    assert len(notes) == len(rows) and all("protocol warmup=0 -> warmup=1" in n for n in notes)
    pd.read_csv(a, dtype=str, keep_default_na=False).drop(columns="protocol").to_csv(a, index=False)
    assert all("protocol unknown in A" in n for n in compare(a, b, min_effect=1.0).table["notes"])


def test_a_profile_s_seed_draws_its_graphs(tmp_path, monkeypatch, capsys) -> None:
    """--seed 1 draws other edges than the default 0, and a seed given again draws the same ones."""
    drawn = []
    original = kp.Graph.random

    def spy(size, device, seed=0):
        graph = original(size, device, seed)
        drawn.append(graph.edge_index)
        return graph

    monkeypatch.setattr(kp.Graph, "random", spy)
    argv = ["profile", "kernels", "--device", "cpu", "--sizes", "100:500:8", "--warmup", "0", "--repeats", "1", "-q",
            "--replace", "--out", str(tmp_path)]
    for seed in ([], ["--seed", "0"], ["--seed", "1"]):
        assert main([*argv, *seed]) == 0
    default, zero, one = drawn
    assert torch.equal(default, zero) and not torch.equal(zero, one)
    seeds = {json.loads(line)["protocol"]["seed"] for line in (tmp_path / "kernels.jsonl").read_text().splitlines()}
    assert seeds == {1}
    capsys.readouterr()
    assert main([*argv, "--seed", "-1"]) == 2  # torch would wrap it around to 2**64 - 1
    assert "--seed: expected a whole number from 0 to 2**64 - 1, got -1" in capsys.readouterr().err


def test_a_profile_s_seed_draws_its_features_and_weights_too(monkeypatch) -> None:
    """Every input a timed call reads, x and the weights of the backward's sum (auto's timing included), comes from
    the profile's seed, not from the global random state, which the same seed then leaves free to differ."""
    inputs: list[tuple[torch.Tensor, torch.Tensor | None]] = []
    original = kp.step_fn

    def spy(fn, x, weight):
        inputs.append((x.detach().clone(), None if weight is None else weight.clone()))
        return original(fn, x, weight)

    monkeypatch.setattr(kp, "step_fn", spy)
    drawn = []
    for global_seed, seed in ((1, 3), (2, 3), (1, 4)):
        torch.manual_seed(global_seed)
        inputs.clear()
        kp.profile([kp.GraphSize(50, 200, 4)], CPU, ops=("sum",), backends=("scatter", "csr", "auto"), warmup=0,
                   repeats=1, seed=seed)
        drawn.append(list(inputs))
    again, other = drawn[1], drawn[2]
    # auto's timing of each candidate, then each row's two passes (auto's row is its pick's, not timed again)
    assert len(drawn[0]) == len(again) == 2 + 2 * 2 and any(weight is not None for _, weight in again)
    for (x, weight), (x_again, weight_again) in zip(drawn[0], again, strict=True):
        assert torch.equal(x, x_again) and (weight is weight_again is None or torch.equal(weight, weight_again))
    assert not torch.equal(drawn[0][0][0], other[0][0])


@pytest.mark.parametrize("size", ["10x20", "1000:5000.9:16", "1:2:3:4"])
def test_bad_size_is_a_clear_error(capsys, size) -> None:
    assert main(["profile", "kernels", "--device", "cpu", "--sizes", size]) == 2
    expected = f"expected a graph size N:E:F of whole numbers (e.g. 10000:200000:64), got '{size}'"
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(("what", "own", "other"), [("kernels", ["--sizes"], ["--rows", "--row-bytes", "--batches"]),
                                                    ("loading", ["--rows", "--row-bytes", "--batches"], ["--sizes"])])
def test_each_profile_s_help_lists_its_own_options(capsys, what, own, other) -> None:
    with pytest.raises(SystemExit) as info:
        main(["profile", what, "--help"])
    shown = capsys.readouterr().out
    assert info.value.code == 0 and shown.startswith(f"usage: gnnbench profile {what} ")
    assert all(option in shown for option in [*own, "--device", "--warmup", "--repeats", "--out", "--replace"])
    assert not any(option in shown for option in other)


@pytest.mark.parametrize(("args", "message"), [
    (["kernels", "--sizes", "10:50:4", "1e1:5e1:4"], "--sizes: 1e1:5e1:4 is given twice (as 10:50:4 too)"),
    (["kernels", "--sizes", "10:101:4"], "--sizes: 10 nodes hold at most 100 distinct edges, got '10:101:4'"),
    (["loading", "--rows", "100", "--batches", "10", "10"], "--batches: 10 is given twice (as 10 too)"),
    (["loading", "--rows", "100", "--row-bytes", "128", "128"], "--row-bytes: 128 is given twice"),
])
def test_a_size_given_twice_is_refused_as_its_rows_could_not_be_told_apart(capsys, tmp_path, args, message) -> None:
    """Two rows of one name: compare refuses the CSV, and the ranks count one measurement twice."""
    assert main(["profile", *args, "--device", "cpu", "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # refused before anything is measured


def test_two_sizes_that_draw_the_same_graph_are_rows_of_their_own() -> None:
    """Random edges drawn twice count once, so two edge counts near the 9 that 3 nodes hold can give one graph:
    each size's rows are named by the size asked for, so they are told apart, and n_edges says what was drawn."""
    distinct = {e: kp.Graph.random(kp.GraphSize(3, e, 2), torch.device("cpu")).size.n_edges for e in range(1, 10)}
    a, b = next((a, b) for a in distinct for b in distinct if a < b and distinct[a] == distinct[b])
    records = kp.profile([kp.GraphSize(3, a, 2), kp.GraphSize(3, b, 2)], torch.device("cpu"), ops=("sum",),
                         backends=("scatter",), warmup=0, repeats=1)
    assert {(r["dataset"], r["n_edges"]) for r in records} == {(f"random-n3-e{a}-f2", distinct[a]),
                                                               (f"random-n3-e{b}-f2", distinct[a])}


def test_profiles_of_two_seeds_pair_their_rows_and_compare_notes_the_seed_and_the_edges(tmp_path) -> None:
    """A row is named by the graph size asked for, which two seeds share, not by the distinct edges drawn (its
    n_edges), which differ: the rows pair, and compare notes the seed and the edges. A CSV of a profile written when
    rows were named by their distinct edges pairs with a newer profile of the seed that drew them (the seed is 0,
    fixed then; its records do not keep the size asked for), not with another seed's."""
    argv = ["profile", "kernels", "--device", "cpu", "--sizes", "100:500:8", "--warmup", "0", "--repeats", "1", "-q"]
    for seed in "01":
        assert main([*argv, "--seed", seed, "--out", str(tmp_path / seed)]) == 0
    zero, one = (pd.read_csv(tmp_path / seed / "kernels.csv", dtype=str, keep_default_na=False) for seed in "01")
    assert set(zero["dataset"]) == set(one["dataset"]) == {"random-n100-e500-f8"}
    (before,), (after,) = set(zero["n_edges"]), set(one["n_edges"])
    assert before != after and max(int(before), int(after)) < 500  # duplicates dropped, another number by seed
    notes = compare(tmp_path / "0" / "kernels.csv", tmp_path / "1" / "kernels.csv", min_effect=1.0).table["notes"]
    assert len(notes) == len(zero)
    assert all(f"protocol seed=0 -> seed=1; n_edges {before} -> {after}" in n for n in notes)
    older = tmp_path / "older.csv"  # as profiles wrote it before
    zero.assign(dataset=f"random-n100-e{before}-f8").drop(columns="protocol").to_csv(older, index=False)
    same = compare(older, tmp_path / "0" / "kernels.csv", min_effect=1.0).table
    assert set(same["status"]) == {"both"} and set(same["dataset"]) == {"random-n100-e500-f8"}
    assert not any("n_edges" in n for n in same["notes"])
    with pytest.warns(UserWarning, match=re.escape(f"kernel profiles of other graphs (random-n100-e{before}-f8 vs "
                                                   "random-n100-e500-f8)? A profile written before")):
        other = compare(older, tmp_path / "1" / "kernels.csv", min_effect=1.0).table
    assert other["status"].value_counts().to_dict() == {"only in A": len(zero), "only in B": len(zero)}


def test_a_size_in_exponent_notation_is_read_whole() -> None:
    assert kp.GraphSize.parse("1e4:2e5:64") == kp.GraphSize(10_000, 200_000, 64)
    for fraction in ("1e4:2e5:1.5e0", "2000:1.00000000000000001e4:64", "1e4:1e400000000:64"):
        with pytest.raises(ValueError, match="of whole numbers"):  # not rounded to 10000 through a float
            kp.GraphSize.parse(fraction)


def test_every_profile_count_reads_whole_numbers_as_sizes_does(capsys) -> None:
    """``--rows 1e5`` as ``--sizes 1e4:2e5:64``; a fraction is refused by name, not truncated."""
    args = build_parser("").parse_args(["profile", "loading", "--rows", "1e5", "--row-bytes", "128", "2.56e2",
                                        "--batches", "1e3"])
    assert (args.rows, args.row_bytes, args.batches) == (100_000, [128, 256], [1000])
    with pytest.raises(SystemExit):
        main(["profile", "loading", "--rows", "1.5e0"])
    assert "argument --rows: expected a positive integer, got '1.5e0'" in capsys.readouterr().err


def test_an_unknown_device_is_one_line_not_torch_s_list_of_device_types(capsys) -> None:
    assert main(["profile", "kernels", "--device", "foo"]) == 2
    assert capsys.readouterr().err == "gnnbench: error: --device: expected cpu, cuda, cuda:N or auto, got 'foo'\n"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error(capsys) -> None:
    assert main(["profile", "loading", "--device", "cuda"]) == 2
    assert "--device: device 'cuda' requested but CUDA is not available" in capsys.readouterr().err


def test_reference_profile_tables_rebuild_byte_for_byte_from_their_records(tmp_path, capsys) -> None:
    """The committed profile tables (CSV and Markdown) are what `gnnbench leaderboard` writes from the committed
    records, nothing edited by hand and nothing left from an earlier version of the tables."""
    folder = Path("results/reference/profile")
    for name in ("kernels", "loading"):
        shutil.copy(folder / f"{name}.jsonl", tmp_path)
    assert main(["leaderboard", str(tmp_path), "-q"]) == 0
    for name in ("kernels.csv", "kernels.md", "loading.csv", "loading.md"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name
    assert main(["leaderboard", str(tmp_path), "-q", "--html"]) == 0
    assert "--html: " in capsys.readouterr().err  # profiles have no HTML page: said, not dropped in silence
    assert "On the CPU, cpu and device run the same index_select" in (folder / "loading.md").read_text()


def test_a_profile_into_a_folder_with_an_earlier_one_is_refused_unless_replace(tmp_path, capsys) -> None:
    """The default --out is one folder: a second profile must not silently take the first one's records."""
    argv = ["profile", "kernels", "--device", "cpu", "--warmup", "0", "--repeats", "1", "-q", "--out", str(tmp_path)]
    assert main([*argv, "--sizes", "100:500:8"]) == 0
    before = (tmp_path / "kernels.jsonl").read_text()
    capsys.readouterr()
    assert main([*argv, "--sizes", "120:600:8"]) == 2
    assert capsys.readouterr().err == (f"gnnbench: error: --out: {tmp_path / 'kernels.jsonl'} holds the records of "
                                       "an earlier profile; give another --out to keep both (and `gnnbench compare` "
                                       "them), or --replace to replace them\n")
    assert (tmp_path / "kernels.jsonl").read_text() == before
    assert main([*argv, "--sizes", "120:600:8", "--replace"]) == 0
    assert {json.loads(line)["n_nodes"] for line in (tmp_path / "kernels.jsonl").read_text().splitlines()} == {120}


def test_a_profile_stopped_at_a_later_size_keeps_the_rows_measured_before(tmp_path, monkeypatch, capsys) -> None:
    """An error or Ctrl-C at the second graph leaves the first graph's rows in the jsonl and the tables, marked
    incomplete; an earlier profile's files survive a profile that stops before its first row."""
    first = tmp_path / "first"
    argv = ["profile", "kernels", "--device", "cpu", "--warmup", "0", "--repeats", "1", "-q"]
    assert main([*argv, "--sizes", "100:500:8", "--out", str(first)]) == 0
    before = (first / "kernels.jsonl").read_text()
    built = []
    original = kp.Graph.random

    def second_fails(size, device, seed=0):
        built.append(size)
        if len(built) == 2:
            raise KeyboardInterrupt
        return original(size, device, seed)

    monkeypatch.setattr(kp.Graph, "random", second_fails)
    assert main([*argv, "--sizes", "120:600:8", "140:700:8", "--out", str(tmp_path / "b")]) == 130
    rows = [json.loads(line) for line in (tmp_path / "b" / "kernels.jsonl").read_text().splitlines()]
    assert rows and {r["n_nodes"] for r in rows} == {120}
    assert len(pd.read_csv(tmp_path / "b" / "kernels.csv")) == len(rows)
    assert "**Incomplete:** stopped after" in (tmp_path / "b" / "kernels.md").read_text()
    with (tmp_path / "b" / "kernels.jsonl").open("a") as f:
        f.write('{"op": "ga')  # and then a kill -9 tore the row being written
    capsys.readouterr()
    assert main(["leaderboard", str(tmp_path / "b"), "-q"]) == 0  # rebuilt: still incomplete, and says so
    assert re.search(r"warning: .*kernels.jsonl:\d+: skipping a torn last line", capsys.readouterr().err)
    assert "**Incomplete:** stopped after" in (tmp_path / "b" / "kernels.md").read_text()
    assert len(pd.read_csv(tmp_path / "b" / "kernels.csv")) == len(rows)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(kp.Graph, "random", interrupted)
    capsys.readouterr()
    assert main([*argv[:-1], "--sizes", "100:500:8", "--out", str(first), "--replace"]) == 130
    assert (first / "kernels.jsonl").read_text() == before
    assert f"stopped before the first row; nothing in {first} was replaced" in capsys.readouterr().out
    monkeypatch.setattr(kp.Graph, "random", original)  # a whole profile into the stopped one's folder
    assert main([*argv, "--sizes", "100:500:8", "--out", str(tmp_path / "b"), "--replace"]) == 0
    assert not (tmp_path / "b" / "kernels.stopped").exists()
    assert "Incomplete" not in (tmp_path / "b" / "kernels.md").read_text()


def test_a_profile_whose_reader_leaves_says_so(tmp_path) -> None:
    """``profile ... | head -2``: the rows measured are kept, and the stop reads as the closed pipe it was, not as
    the ``SystemExit: 1`` Rich raises for it."""
    command = [sys.executable, "-m", "gnnbench", "profile", "kernels", "--device", "cpu", "--sizes", "200:1000:8",
               "300:2000:8", "--warmup", "0", "--repeats", "1", "--out", str(tmp_path)]
    proc = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()
    proc.wait(timeout=120)
    assert (tmp_path / "kernels.stopped").read_text().startswith("BrokenPipeError")
    assert (tmp_path / "kernels.jsonl").read_text()


@pytest.mark.parametrize("reference", ["kernels", "loading"])
def test_the_reference_copy_is_warm_at_warmup_0(monkeypatch, reference):
    """Every kernel gets an untimed call first, so its reference copy does too: a cold copy pays its destination's
    page faults, measured 2-35x too slow, and every bound_fraction over it was overstated."""
    from gnnbench.loading import profile as lp

    module, measure = (kp, kp.copy_bandwidth) if reference == "kernels" else (lp, lp.reference_copy_gbps)
    untimed = []
    monkeypatch.setattr(module, "median_ms", lambda fn, device, warmup, repeats: untimed.append(warmup) or 1.0)
    measure(torch.device("cpu"), 1, 0, 1)
    assert untimed == [1]


def test_profile_rows_name_auto_s_choice_carry_their_entries_and_no_process_peak(monkeypatch) -> None:
    """The auto row's ``kernel`` reads ``auto:csr``, as on a suite's leaderboard, so a filter on ``csr`` finds the
    backend's own row only; ``gbps`` can be recomputed from a record's ``entries``; where the peak cannot be reset
    (no clear_refs: macOS), ``peak_mem_mb`` is empty, not the process's lifetime peak on every row."""
    from gnnbench.harness import measure

    size = kp.GraphSize(200, 1000, 8)
    records = kp.profile([size], torch.device("cpu"), ops=("gcn",), backends=("scatter", "csr", "auto"),
                         warmup=0, repeats=2)
    frame = profile_frame(records, kp.EXTRA_COLUMNS)
    auto = frame[frame["model"] == "auto"]
    assert set(auto["kernel"]) == {f"auto:{chosen}" for chosen in auto["chosen"]}
    assert set(frame.loc[frame["model"] != "auto", "kernel"]) == {"scatter", "csr"}
    for r in records:
        moved = kp.bytes_moved(size, r["entries"], "gcn", 4) * (2 if r["pass"] == "forward+backward" else 1)
        assert r["gbps"] == pytest.approx(moved / (r["ms"] * 1e-3) / 1e9)
        assert r["entries"] > size.n_edges and r["peak_mem_mb"] >= 0  # A + I: the self-loops added
    monkeypatch.setattr(measure, "CLEAR_REFS", Path("/proc/self/no_clear_refs"))
    unreset = kp.profile([size], torch.device("cpu"), ops=("sum",), backends=("scatter",), warmup=0, repeats=1)
    assert unreset and all(r["status"] == "ok" and r["peak_mem_mb"] != r["peak_mem_mb"] for r in unreset)


def test_an_auto_row_written_before_it_read_auto_choice_compares_as_the_same_row(tmp_path) -> None:
    """An older kernels.csv names auto's choice ``csr`` in its kernel column, a newer one ``auto:csr``: a relabel,
    which compare must not note as a change of kernel on every auto row."""
    new = Path(__file__).parents[1] / "results" / "reference" / "profile" / "kernels.csv"
    frame = pd.read_csv(new, dtype=str, keep_default_na=False)
    auto = frame["backend"] == "auto"
    assert auto.any() and frame.loc[auto, "kernel"].str.startswith("auto:").all()
    frame.loc[auto, "kernel"] = frame.loc[auto, "chosen"]  # as profiles wrote it before
    old = tmp_path / "kernels.csv"
    frame.to_csv(old, index=False)
    result = compare(old, new)
    assert not any("kernel" in note for note in result.table["notes"])


def test_the_cuda_cache_is_emptied_after_a_failed_call_s_tensors_are_freed(monkeypatch) -> None:
    """An out-of-memory error's traceback holds the failed call's frames and the tensors they allocated: a cache
    emptied while it lives cannot give their blocks back. CUDA is faked (no GPU here): emptying its cache records
    which of the failed calls' tensors are still alive, and none may be."""
    real_op_fn = kp.op_fn
    allocated: list[weakref.ref] = []
    alive_when_emptied: list[list[bool]] = []

    def op_fn(op, backend, graph):
        fn = real_op_fn(op, backend, graph)

        def out_of_memory(x):
            partial = fn(x)  # what the call had allocated when it ran out
            allocated.append(weakref.ref(partial))
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return out_of_memory if backend == "csr" else fn

    monkeypatch.setattr(kp, "op_fn", op_fn)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: alive_when_emptied.append(
        [ref() is not None for ref in allocated]))
    records = kp.profile([kp.GraphSize(80, 600, 8)], CPU, ops=("sum",), backends=("scatter", "csr"), warmup=0,
                         repeats=1)
    assert {(r["backend"], r["status"]) for r in records} == {("scatter", "ok"), ("csr", "failed")}
    assert alive_when_emptied == [[False], [False, False]]  # once per pass, each failed call's tensors gone
