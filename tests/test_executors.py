from __future__ import annotations

import hashlib
import inspect
import json
import platform
import sys
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
import torch

from gnnbench.errors import ConfigError
from gnnbench.harness import driver, executors, runner
from gnnbench.harness.env import git_commit
from gnnbench.harness.executors import LocalExecutor, ProcessExecutor, worker_failure
from gnnbench.harness.spec import RunSpec
from gnnbench.harness.store import RunStore
from gnnbench.harness.suite import load_suite
from gnnbench.leaderboard.aggregate import leaderboard_frame, runs_frame

CRASHING_PLUGIN = """\
import os, signal
from torch import nn
from gnnbench import register_model

@register_model("dies", tasks=("node_classification",))
class Dies(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels)

    def forward(self, x, edge_index):
        os.kill(os.getpid(), signal.SIGKILL)  # like the kernel's OOM killer
"""


def test_process_workers_take_omp_num_threads_when_it_is_set_else_their_share_of_the_cores(monkeypatch):
    """``OMP_NUM_THREADS=1 gnnbench run ... --executor process`` means one thread per run, on any machine."""
    from gnnbench.harness.env import cpu_count

    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert ProcessExecutor(workers=2).threads == 3
    for unset in ("", "0", "two"):
        monkeypatch.setenv("OMP_NUM_THREADS", unset)
        assert ProcessExecutor(workers=2).threads == max(1, cpu_count() // 2)


def metrics(records):
    return {r["spec"]["seed"]: r["metrics"]["test"] for r in records}


def test_process_pool_gives_the_same_records_as_local(tiny_suite, tmp_path):
    suite = load_suite(tiny_suite(models="gcn", seeds=3, epochs=8))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # what each of 3 workers gets on 2 cores
    try:
        local = list(LocalExecutor().map(suite.specs))
    finally:
        torch.set_num_threads(threads)
    pooled = list(ProcessExecutor(workers=3).map(suite.specs))
    assert all(r["status"] == "ok" for r in local + pooled)
    assert sorted(r["run_id"] for r in pooled) == sorted(r["run_id"] for r in local)
    assert metrics(pooled) == metrics(local)
    assert {r["env"]["threads"] for r in pooled} == {1}
    # runs at a time share the cores: the records say how many the executor ran so (the pool's size, not the cores)
    assert {r["env"]["concurrent_runs"] for r in local} == {1}
    assert {r["env"]["concurrent_runs"] for r in pooled} == {3}


def test_the_commit_is_read_when_the_run_starts_not_when_it_ends(tiny_suite, monkeypatch):
    """A commit made while a long run trains must not be credited with the code that run imported."""
    git_commit.cache_clear()
    read_before_training = []

    def training(*args, **kwargs):
        read_before_training.append(git_commit.cache_info().currsize == 1)
        raise RuntimeError("stop here")

    monkeypatch.setattr(runner, "seed_everything", training)
    record = runner.execute(load_suite(tiny_suite()).specs[0])
    assert record["error"]["message"] == "stop here" and read_before_training == [True]
    assert record["env"]["git_commit"] == git_commit()


def test_a_run_that_calls_exit_is_a_failed_record_and_the_suite_goes_on(tiny_suite, tmp_path, monkeypatch):
    """``sys.exit()`` in a plugin (or ``argparse`` parsing a model's options) raised SystemExit through the local
    driver, which ended the suite with no message and no record, again on every resume."""
    suite = load_suite(tiny_suite(seeds=2))
    task = type(suite.specs[0].build_task())
    monkeypatch.setattr(task, "run", lambda self, entry, data, hparams, budget, ctx: sys.exit(3) if ctx.seed == 0
                        else {"metrics": {"val": {"accuracy": 0.5}, "test": {"accuracy": 0.5}}})
    summary = driver.run(suite, RunStore(tmp_path / "results"), LocalExecutor())
    assert (summary.ok, summary.failed) == (1, 1)
    (failure,) = summary.failures
    assert failure["error"]["type"] == "SystemExit" and "sys.exit(3)" in failure["error"]["traceback"]


def test_a_task_that_ignores_its_scenario_fails_the_run_rather_than_filling_a_perturbed_row(write_suite, tmp_path,
                                                                                            monkeypatch):
    """A task written from scratch with ``like="node_classification"`` takes that task's scenarios: one whose run
    never applied them was recorded ok, its clean numbers in each scenario's row."""
    from gnnbench.tasks.node import NodeClassification

    suite = load_suite(write_suite("name: s\ndefaults: {seeds: 1, epochs: 2}\nexperiments: [{task: "
                                   "node_classification, datasets: [Cora], models: [mlp], scenario: [none, "
                                   "{name: label_noise, rate: 0.2}]}]\n"))
    monkeypatch.setattr(NodeClassification, "run", lambda self, *a, **k: {
        "metrics": {"val": {"accuracy": 0.5}, "test": {"accuracy": 0.5}}})
    summary = driver.run(suite, RunStore(tmp_path / "results"), LocalExecutor())
    assert (summary.ok, summary.failed) == (1, 1)
    assert summary.failures[0]["spec"]["scenario"]["name"] == "label_noise"
    assert "ran under scenario 'label_noise' and returned no 'scenario' field: it did not apply it" in \
        summary.failures[0]["error"]["message"]


def test_a_result_that_is_no_record_fails_its_run_not_the_suite(tiny_suite, tmp_path, monkeypatch):
    """A tensor left in a metric would raise in the driver's json.dumps, stop the suite, and again on resume; a
    result without its test metric would be recorded ok, then skipped by every reader with a warning."""
    suite = load_suite(tiny_suite(seeds=5))
    task = type(suite.specs[0].build_task())

    results = iter([{"metrics": {"val": {"accuracy": 0.5}, "test": {"accuracy": torch.tensor(0.5)}}},
                    {"metrics": {"val": {"accuracy": 0.5}, "test": {"accuracy": 0.5}}, "search": {1: "x", "a": "y"}},
                    {"metrics": {"val": {"accuracy": 0.5}}},
                    {"metrics": {"val": {"accuracy": 0.5}, "test": {"acc": 0.5}}},
                    [{"accuracy": 0.5}]])

    def run(self, *args, **kwargs):
        return next(results)

    monkeypatch.setattr(task, "run", run)
    summary = driver.run(suite, RunStore(tmp_path / "results"), LocalExecutor())
    assert (summary.ok, summary.failed) == (0, 5)
    messages = [r["error"]["message"] for r in sorted(summary.failures, key=lambda r: r["spec"]["seed"])]
    assert all(m.startswith(f"{task.__name__}.run ({task.__module__}.{task.__qualname__}) returned ") for m in messages)
    assert "cannot be recorded as JSON" in messages[0]
    assert messages[0].endswith(" at metrics.test.accuracy (torch.Tensor)")  # where, in a result of many keys
    assert "'<' not supported" in messages[1]  # the store sorts keys
    assert messages[2].endswith("expected 'accuracy' as a number under 'val' and 'test', e.g. {'val': {'accuracy': "
                                "0.8}, 'test': {...}}")
    assert "returned metrics {'val': {'accuracy': 0.5}, 'test': {'acc': 0.5}}" in messages[3]
    assert "returned list; expected a dict of record fields" in messages[4]


def test_records_name_the_vector_instructions_of_the_cpu_kernels():
    """Another instruction set can round sums differently: a reason two machines' records differ."""
    from gnnbench.harness.env import environment

    assert environment(torch.device("cpu"))["cpu_capability"] == torch.backends.cpu.get_cpu_capability()


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs CUDA"))])
def test_the_speed_probe_times_its_fixed_workload_without_touching_the_run_s_random_state(device):
    from gnnbench.harness.speed_probe import WORKLOAD, speed_probe

    state, threads = torch.random.get_rng_state(), torch.get_num_threads()
    probe = speed_probe(torch.device(device))
    assert probe["workload"] == f"{WORKLOAD}, {'1 cpu thread' if device == 'cpu' else 'cuda'}" and probe["ms"] > 0
    assert torch.equal(torch.random.get_rng_state(), state)  # the run's draws are those it would make without it
    assert torch.get_num_threads() == threads  # a CPU probe runs on one thread, and the run keeps its setting


def test_a_probe_that_does_not_fit_leaves_the_finished_run_as_it_was(tiny_suite, monkeypatch):
    """The probe runs in what memory the run left: out of memory it is left out of the record, which keeps the
    run's figures, and the thread setting is restored."""
    from gnnbench.harness import speed_probe

    def full(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1 MiB")

    threads = torch.get_num_threads()
    monkeypatch.setattr(speed_probe, "median_ms", full)  # the probe's timing alone
    assert speed_probe.speed_probe(torch.device("cpu")) is None and torch.get_num_threads() == threads
    record = runner.execute(load_suite(tiny_suite(seeds=1, epochs=1)).specs[0])
    assert record["status"] == "ok" and "speed_probe" not in record["env"] and record["metrics"]["test"]


def test_the_cpu_speed_probe_runs_on_one_thread_as_the_median_of_its_repeats(monkeypatch):
    """A 2 ms step split over threads that other work shares measures the scheduler: the probe runs on one, in
    a process set to two, which it keeps; its figure is the median of REPEATS timings after WARMUP untimed steps."""
    from gnnbench.harness import speed_probe

    seen, index_select = [], torch.index_select
    monkeypatch.setattr(torch, "index_select",
                        lambda *args, **kwargs: seen.append(torch.get_num_threads()) or index_select(*args, **kwargs))
    from gnnbench.kernels import timing

    # each timed step "takes" as many ms as steps ran: the 9 timed after 3 warm-ups are 4..12 ms, median 8
    monkeypatch.setattr(timing, "time_once", lambda step, device: step() or float(len(seen)))
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        probe = speed_probe.speed_probe(torch.device("cpu"))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert set(seen) == {1} and len(seen) == speed_probe.WARMUP + speed_probe.REPEATS
    assert probe["ms"] == speed_probe.WARMUP + (speed_probe.REPEATS + 1) / 2 == 8


def test_a_run_records_how_fast_its_machine_was_measured_after_its_timed_part(tiny_suite, monkeypatch):
    """One day's runs were slower than another's with the same code: the record must say how fast the
    machine was, measured outside the epochs' timing and the peak memory, and after them, so that the probe's
    first matmul does not take a one-off cost off the run's first epoch."""
    from gnnbench.harness.speed_probe import speed_probe, workload

    order = []

    class Measured(runner.PeakMemory):
        def __exit__(self, *exc):
            order.append("memory")
            return super().__exit__(*exc)

    monkeypatch.setattr(runner, "PeakMemory", Measured)
    monkeypatch.setattr(runner, "speed_probe", lambda device: order.append("probe") or speed_probe(device))
    record = runner.execute(load_suite(tiny_suite(seeds=1, epochs=1)).specs[0])
    assert record["status"] == "ok" and order == ["memory", "probe"]
    probe = record["env"]["speed_probe"]
    assert probe["workload"] == workload(torch.device("cpu")) and probe["ms"] > 0


def test_the_commit_is_of_the_checkout_gnnbench_is_in_not_of_one_around_it(tmp_path):
    """A non-editable install into a virtual environment inside some repository must not claim its HEAD."""
    import os
    import subprocess

    from gnnbench.harness.env import checkout_commit

    def git(*args):  # without the user's git configuration (signing, hooks)
        return subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True,
                              env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}).stdout

    git("init", "-q")
    (tmp_path / "f.txt").write_text("x\n")
    git("add", "f.txt")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    installed = tmp_path / ".venv" / "lib" / "site-packages"
    installed.mkdir(parents=True)
    assert checkout_commit(tmp_path) == git("rev-parse", "HEAD").strip()
    assert checkout_commit(installed) is None
    (tmp_path / "f.txt").write_text("y\n")
    assert checkout_commit(tmp_path).endswith("-dirty")


def test_a_file_of_the_package_git_does_not_track_is_hashed_as_a_plugin_s(tmp_path, monkeypatch):
    """A model added as gnnbench/models/my_file.py (loaded through ``plugins:``) is in no commit: its records named
    a clean commit and no file, so editing it left its old numbers counted as current under the same run id."""
    import os
    import subprocess

    from gnnbench.harness import env
    from gnnbench.models.baselines import GCN

    def git(*args):  # without the user's git configuration (signing, hooks)
        return subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True,
                              env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}).stdout

    package = tmp_path / "gnnbench"
    (package / "models").mkdir(parents=True)
    for name in ("shipped.py", "added.py", "ignored.py"):
        (package / "models" / name).write_text(f"# {name}\n")
    (tmp_path / ".gitignore").write_text("ignored.py\n")
    git("init", "-q")
    git("add", ".gitignore", "gnnbench/models/shipped.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    env.untracked_package_files.cache_clear()
    try:
        with monkeypatch.context() as patched:
            patched.setattr(env, "PACKAGE", package)
            assert env.untracked_package_files() == {(package / "models" / name).resolve()  # in no commit
                                                     for name in ("added.py", "ignored.py")}
    finally:
        env.untracked_package_files.cache_clear()  # this checkout's, read again when asked
    baselines = Path(inspect.getfile(GCN)).resolve()
    assert env._file_source(GCN) is None  # tracked: the commit versions it
    monkeypatch.setattr(env, "untracked_package_files", lambda: frozenset({baselines}))
    digest = hashlib.sha256(baselines.read_bytes()).hexdigest()
    assert env._file_source(GCN) == {"file": str(baselines), "sha256": digest}
    # once committed, the records of the file it was need not run again: they are set aside only if it differs
    monkeypatch.setattr(env, "untracked_package_files", frozenset)
    spec = {"model": "gcn", "task": "node_classification", "dataset": "Cora", "seed": 0}
    records = {sha: {"spec": spec, "sources": {"model": {"file": str(baselines), "sha256": sha}}}
               for sha in (digest, "0" * 64)}
    assert driver.edited_files(records, driver.DataDigests(None)) == {digest: [], "0" * 64: [str(baselines)]}


def test_a_benchmark_names_the_machine_threads_heap_versions_and_commit_it_measured_on():
    """What ``benchmarks/*.py`` print above their tables: their figures come with the record's provenance."""
    from gnnbench.harness.env import described, environment

    env = environment(torch.device("cpu"))
    line = described(torch.device("cpu"))
    for part in (env["device_name"], f"{env['threads']} thread(s)", f"heap {env['allocator']}",
                 f"torch {env['versions']['torch']}", f"gnnbench commit {env['git_commit']}"):
        assert part in line
    assert "heap" not in described(torch.device("cpu"), heap=False)


def test_a_modified_checkout_is_the_dirty_commit_the_records_name(monkeypatch):
    from gnnbench.harness import env

    monkeypatch.undo()  # the test session reads the checkout as committed (conftest)
    for commit, modified in (("abc-dirty", "abc-dirty"), ("abc", None), (None, None)):
        monkeypatch.setattr(env, "host_environment", lambda commit=commit: {"git_commit": commit})
        assert env.modified_checkout() == modified


def test_the_driver_reads_its_own_environment_before_any_run(tiny_suite, tmp_path):
    """A worker death is recorded with the driver's environment, possibly hours in: its commit must be the one
    the driver imported at the start."""
    from gnnbench.harness import env

    env._static.cache_clear()
    read_before_runs = []

    class Checks:
        name = "local"
        runs_here = True
        in_process = False

        def map(self, specs, data_root=None):
            read_before_runs.append(env._static.cache_info().currsize == 1)
            return iter(())

    driver.run(load_suite(tiny_suite()), RunStore(tmp_path / "results"), Checks())
    assert read_before_runs == [True]


def test_the_driver_lets_go_of_its_plan_before_the_runs(tiny_suite, tmp_path, monkeypatch):
    """The local executor trains in the driver's process: the records the plan held (those of no run of the suite,
    read with all of runs.jsonl) kept that read's memory resident under every run, in its baseline_rss_mb."""
    import weakref

    made, alive = [], []
    prepare = driver.prepare
    monkeypatch.setattr(driver, "prepare", lambda *args, **kwargs: made.append(weakref.ref(
        planned := prepare(*args, **kwargs))) or planned)

    class Checks:
        name = "local"
        runs_here = True
        in_process = False

        def map(self, specs, data_root=None):
            alive.append([ref() is not None for ref in made])
            return iter(())

    driver.run(load_suite(tiny_suite()), RunStore(tmp_path / "results"), Checks())
    assert alive == [[False]]


def test_a_killed_worker_fails_only_its_run_and_the_driver_keeps_going(write_suite, tmp_path):
    (tmp_path / "dies.py").write_text(CRASHING_PLUGIN)
    suite = load_suite(write_suite("""\
        name: crash
        plugins: [dies.py]
        defaults: {seeds: 2, epochs: 2}
        executor: {type: process, workers: 1}
        experiments:
          - task: node_classification
            datasets: [Cora]
            models: [dies, mlp]
        """))
    store = RunStore(tmp_path / "results")
    summary = driver.run(suite, store, ProcessExecutor(workers=1))
    by_model = {}
    for r in store.records():
        by_model.setdefault(r["spec"]["model"], []).append(r)
    assert (summary.ok, summary.failed) == (2, 2)
    assert all(r["status"] == "failed" and "worker process died" in r["error"]["message"] for r in by_model["dies"])
    assert all(r["task_label"] == "node_classification" and r["env"]["recorded_by"] == "driver"
               and r["started_at"] <= r["finished_at"] for r in by_model["dies"])
    assert all(r["status"] == "ok" for r in by_model["mlp"])


def test_a_run_that_kills_the_local_driver_is_named_run_again_once_then_recorded_failed(write_suite, tmp_path):
    """The local executor runs in the driver's process: a run that kills it (here SIGKILL, as the OOM killer
    sends; a segfault alike) took the suite down on every resume, naming nothing. Now the next run names it and runs
    it again (a ``kill -9`` of the user's is resumed so), and a second death in a row records it as failed, so the
    suite goes on to the runs after it."""
    import subprocess
    import sys

    (tmp_path / "dies.py").write_text(CRASHING_PLUGIN)
    path = write_suite("""\
        name: crash
        plugins: [dies.py]
        defaults: {seeds: 1, epochs: 2}
        experiments:
          - task: node_classification
            datasets: [Cora]
            models: [dies, mlp]
        """)
    results = tmp_path / "results"

    def run(*options: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gnnbench", "run", str(path), "--results", str(results), "-q",
                               *options], capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[1])

    first, planned = run(), run("--dry-run")
    assert "died without recording it (killed, out of memory, or a crash in native code); `run` runs it again" in \
        planned.stderr  # and moves nothing: the next run still counts this death
    second, third = run(), run()
    assert first.returncode == second.returncode == -9  # SIGKILL, as a shell shows 137
    assert "died" not in first.stderr
    assert ("gnnbench: note: the gnnbench process running dies (default) on Cora seed 0 died without recording it "
            "(killed, out of memory, or a crash in native code); it runs again now") in second.stderr
    assert third.returncode == 1  # a failed run, recorded
    assert "died without recording it 2 times in a row" in third.stderr and "recorded as failed" in third.stderr
    records = RunStore(results / "crash").latest()
    by_model = {r["spec"]["model"]: r for r in records.values()}
    assert by_model["mlp"]["status"] == "ok"
    assert by_model["dies"]["status"] == "failed" and by_model["dies"]["error"]["type"] == "ProcessDied"
    assert not (results / "crash" / ".running.json").exists()
    fourth = run()
    assert fourth.returncode == 1 and "died" not in fourth.stderr  # kept as failed, as any failed run


TWO_EXPERIMENTS = """\
    name: two
    defaults: {seeds: 1, epochs: 2}
    experiments:
      - {name: a, task: node_classification, datasets: [Cora], models: [mlp]}
      - {name: b, task: node_classification, datasets: [Cora], models: [gcn]}
"""


def test_a_run_dead_twice_is_not_rerun_by_the_same_invocation_even_with_rerun_failed(write_suite, tmp_path):
    """--smoke (and --rerun-failed) retry failed runs: the run just recorded as ProcessDied must not be retried
    in the same invocation, or a crashing run would stop every resume forever."""
    suite = load_suite(write_suite(TWO_EXPERIMENTS))
    store = RunStore(tmp_path / "results")
    dies = next(s for s in suite.specs if s.experiment == "a")
    store.directory.mkdir(parents=True)
    store.mark_running(dies.run_id, deaths=1)  # as a process that died running it, the second time, leaves it
    summary = driver.run(suite, store, LocalExecutor(), rerun_failed=True)
    assert (summary.ok, summary.failed) == (1, 1)
    records = store.latest()
    assert records[dies.run_id]["status"] == "failed" and records[dies.run_id]["error"]["type"] == "ProcessDied"
    assert store.left_running() is None


def test_a_dead_run_is_kept_by_a_suite_that_cannot_start_and_left_out_by_only(write_suite, tmp_path, monkeypatch,
                                                                            capsys):
    """The note of a dead run is consumed only by a run that gets past its checks; --only that leaves the run out
    says so; a dry run while another process writes the store names no dead run (the note is that process's)."""
    from gnnbench.cli import main

    path = write_suite(TWO_EXPERIMENTS)
    suite = load_suite(path)
    store = RunStore(tmp_path / "results" / "two")
    dies = next(s for s in suite.specs if s.experiment == "a")
    store.directory.mkdir(parents=True)
    store.mark_running(dies.run_id, deaths=0)
    def cannot_start(*args, **kwargs):
        raise ConfigError(str(path), "experiments[0].device", "a device this machine lacks")

    monkeypatch.setattr(driver, "preflight", cannot_start)
    with pytest.raises(ConfigError):
        driver.run(suite, store, LocalExecutor())
    assert store.left_running()["run_id"] == dies.run_id  # kept for the run that can start
    monkeypatch.undo()
    with store.writer():  # another process writing: its own note
        assert main(["run", str(path), "--results", str(tmp_path / "results"), "--dry-run", "-q"]) == 0
    assert "died" not in capsys.readouterr().err
    assert main(["run", str(path), "--results", str(tmp_path / "results"), "--dry-run", "-q"]) == 0
    assert "died without recording it (killed, out of memory, or a crash in native code); `run` runs it again" in \
        capsys.readouterr().err
    assert main(["run", str(path), "--results", str(tmp_path / "results"), "--only", "b", "-q"]) == 0
    assert f"running a run of another experiment ({dies.run_id}) died without recording it" in capsys.readouterr().err
    assert store.left_running() is None and dies.run_id not in store.latest()
    store.mark_running(dies.run_id, deaths=0)  # dead again; its failure recorded earlier is kept, not retried
    with store.writer() as writer:
        writer.append({**store.latest()[next(iter(store.latest()))], "run_id": dies.run_id, "status": "failed",
                       "spec": dies.to_dict(), "started_at": "2000-01-01T00:00:00+00:00",
                       "error": {"type": "ValueError", "message": "earlier", "traceback": ""}})
    assert main(["run", str(path), "--results", str(tmp_path / "results"), "-q"]) == 1  # a failure kept
    assert "this run does not run it (not among --only's experiments, or an earlier failure of it kept)" in \
        capsys.readouterr().err


def test_a_dry_run_plans_without_a_run_that_run_will_record_as_failed(write_suite, tmp_path, capsys):
    """After a second death the dry run's plan leaves the run out, as run does, rather than listing it to run."""
    from gnnbench.cli import main

    path = write_suite(TWO_EXPERIMENTS)
    store = RunStore(tmp_path / "results" / "two")
    dies = next(s for s in load_suite(path).specs if s.experiment == "a")
    store.directory.mkdir(parents=True)
    store.mark_running(dies.run_id, deaths=1)
    assert main(["run", str(path), "--results", str(tmp_path / "results"), "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "2 times in a row" in err and "`run` records it as failed" in err
    assert "1 to run" in out and "a: mlp" not in out
    assert store.left_running() is not None  # a dry run moves nothing


def test_a_note_left_by_a_run_that_was_recorded_or_is_no_run_of_the_suite_is_dropped(tiny_suite, tmp_path):
    """The process can die between a run's record and clearing its note: that run is done, not dead; and a note
    naming no run of the suite (edited since) names nothing to rerun."""
    suite = load_suite(tiny_suite())
    store = RunStore(tmp_path / "results")
    driver.run(suite, store, LocalExecutor())
    spec = suite.specs[0]
    for run_id, started in ((spec.run_id, "2000-01-01T00:00:00+00:00"), ("no-such-run", "2000-01-01T00:00:00+00:00")):
        store.mark_running(run_id, deaths=1)
        note = store.left_running()
        (store.directory / ".running.json").write_text(json.dumps({**note, "started_at": started}))
        with store.writer() as writer:
            assert driver.died(suite, store, writer) is None
        assert store.left_running() is None
    assert all(r["status"] == "ok" for r in store.records())


def test_a_worker_found_dead_at_the_next_submission_hands_the_rest_to_a_fresh_pool(tiny_suite, monkeypatch):
    """A worker can die after its run reported and before the next submit: ``submit`` then raises
    BrokenProcessPool itself. The run it could not submit was never started, so a fresh pool runs it."""
    pools = []

    class DiesAfterItsFirstRun:
        def __init__(self, workers: int, **options: object) -> None:  # mp_context, the driver watch
            pools.append(self)
            self.submitted = 0

        def submit(self, fn, spec, *args):
            self.submitted += 1
            if len(pools) == 1 and self.submitted == 2:
                raise BrokenProcessPool("A child process terminated abruptly")
            future = Future()
            future.set_result({"run_id": spec.run_id, "status": "ok"})
            return future

        def shutdown(self, wait: bool, cancel_futures: bool) -> None:
            pass

    monkeypatch.setattr(executors, "ProcessPoolExecutor", DiesAfterItsFirstRun)
    specs = load_suite(tiny_suite(seeds=3)).specs
    records = list(ProcessExecutor(workers=1).map(specs))
    assert [(r["run_id"], r["status"]) for r in records] == [(s.run_id, "ok") for s in specs]
    assert [p.submitted for p in pools] == [2, 2]


def test_a_worker_death_fails_only_the_run_that_dies_alone(tiny_suite, monkeypatch):
    """A death breaks the whole pool, so every run in flight loses its worker. Each reruns alone; only the one
    whose worker dies again is failed, and the runs not yet started go to a fresh pool."""
    specs = load_suite(tiny_suite(seeds=4)).specs
    culprit = specs[1].run_id
    pools = []

    class Pool:
        def __init__(self, workers: int, **options: object) -> None:  # mp_context, the driver watch
            pools.append(workers)
            self.broken = len(pools) == 1  # the first pool's worker dies while the first two runs train

        def submit(self, fn, spec, *args):
            future = Future()
            if self.broken or (len(pools) > 1 and pools[-1] == 1 and spec.run_id == culprit):
                future.set_exception(BrokenProcessPool("A child process terminated abruptly"))
            else:
                future.set_result({"run_id": spec.run_id, "status": "ok", "concurrent_runs": args[-1]})
            return future

        def shutdown(self, wait: bool, cancel_futures: bool) -> None:
            pass

    monkeypatch.setattr(executors, "ProcessPoolExecutor", Pool)
    records = {r["run_id"]: r for r in ProcessExecutor(workers=2).map(specs)}
    assert sorted(records) == sorted(s.run_id for s in specs)
    assert records[culprit]["status"] == "failed" and "worker process died" in records[culprit]["error"]["message"]
    assert all(r["status"] == "ok" for id_, r in records.items() if id_ != culprit)
    assert [records[s.run_id].get("attempts", {}).get("count") for s in specs] == [2, 2, None, None]
    assert pools == [2, 1, 1, 2]  # the two suspects alone, then a fresh pool for the two runs never started
    assert [records[s.run_id].get("concurrent_runs") for s in specs] == [1, None, 2, 2]  # a suspect ran alone
    pools.clear()
    culprit = specs[0].run_id
    records = list(ProcessExecutor(workers=1).map(specs))  # alone in its pool already: failed at once
    assert [r["status"] for r in records] == ["failed", "ok", "ok", "ok"] and "attempts" not in records[0]
    assert pools == [1, 1]


def test_a_dead_workers_run_of_a_labelled_task_counts_in_its_row():
    """The driver's failure record carries the task label, so a killed ``temporal_link(...)`` run is counted in
    that row's ``failed``, with when it was handed out and the driver's environment."""
    def spec(seed: int) -> RunSpec:
        return RunSpec(task="temporal_link", task_options={}, dataset="CollegeMsg", model="tgn", hparams={},
                       seed=seed, epochs=1, patience=None, device="cpu", kernel="scatter")

    label = "temporal_link(transductive,random)"
    dead = worker_failure(spec(2), BrokenProcessPool(), started_at="2000-01-01T00:00:00+00:00")
    assert (dead["task_label"], dead["started_at"]) == (label, "2000-01-01T00:00:00+00:00")
    assert dead["finished_at"] > dead["started_at"] and "worker process died" in dead["error"]["message"]
    assert dead["env"]["recorded_by"] == "driver" and dead["env"]["python"] == platform.python_version()
    ok = [{"run_id": spec(s).run_id, "status": "ok", "task_label": label, "spec": spec(s).to_dict(), "metric": "ap",
           "direction": "max", "metrics": {"val": {"ap": 0.8}, "test": {"ap": 0.7}}} for s in (0, 1)]
    row = leaderboard_frame(runs_frame([*ok, dead])).iloc[0]
    assert (row["task"], row["n"], row["failed"]) == (label, 2, 1)


@pytest.fixture
def one_gpu(monkeypatch):
    """This machine seen as one with a single GPU, cuda:0."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_a_run_on_a_gpu_ordinal_the_machine_lacks_is_a_failed_record(tiny_suite, one_gpu):
    spec = load_suite(tiny_suite(seeds=1)).specs[0]
    record = runner.execute(RunSpec.from_dict({**spec.to_dict(), "device": "cuda:1"}))
    assert record["status"] == "failed" and record["task_label"] == "node_classification"
    assert record["error"]["message"] == "device 'cuda:1' requested but this machine has 1 CUDA device(s): cuda:0"
    assert record["env"]["device"] == "cpu"


@pytest.mark.parametrize(("cuda", "device", "message"), [
    (True, "cuda:1", "device 'cuda:1' requested but this machine has 1 CUDA device(s): cuda:0"),
    (False, "cuda", "device 'cuda' requested but CUDA is not available on this machine"),
])
def test_preflight_names_the_key_of_a_device_the_machine_lacks(write_suite, one_gpu, monkeypatch, cuda, device,
                                                               message):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    path = write_suite(f"""\
        name: gpu
        defaults: {{device: cpu}}
        experiments:
          - {{task: node_classification, datasets: [Cora], models: [mlp], device: auto}}
          - {{task: node_classification, datasets: [Cora], models: [gcn], device: {device}}}
        """)
    suite = load_suite(path)
    with pytest.raises(ConfigError) as info:
        driver.preflight(suite, suite.specs, None)
    assert (info.value.file, info.value.key) == (str(path), "experiments[1].device")
    assert info.value.message == f"{message}; expected cpu, auto or a CUDA device this machine has"


def test_devices_are_checked_where_the_runs_execute(write_suite, tmp_path, monkeypatch):
    """A Ray driver (a login node) may have no GPU while its workers do: it leaves the device to each run."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    suite = load_suite(write_suite("""\
        name: gpu
        experiments: [{task: node_classification, datasets: [Cora], models: [mlp], device: cuda}]
        """))

    class Cluster:
        name = "ray"
        runs_here = False
        in_process = False
        handed_out = 0

        def map(self, specs, data_root=None):
            self.handed_out += len(specs)
            return iter(())

    cluster = Cluster()
    driver.run(suite, RunStore(tmp_path / "ray"), cluster)
    assert cluster.handed_out == 1
    cluster.runs_here = True
    with pytest.raises(ConfigError, match="CUDA is not available"):
        driver.run(suite, RunStore(tmp_path / "local"), cluster)


def test_a_dry_run_checks_devices_where_the_runs_would_execute(write_suite, tmp_path, monkeypatch, capsys):
    from gnnbench.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = write_suite("""\
        name: gpu
        experiments: [{task: node_classification, datasets: [Cora], models: [mlp], device: cuda}]
        """)
    assert main(["run", str(path), "--results", str(tmp_path), "--dry-run", "-q"]) == 2
    assert "experiments[0].device: device 'cuda' requested but CUDA is not available" in capsys.readouterr().err
    assert main(["run", str(path), "--results", str(tmp_path), "--dry-run", "--executor", "ray", "-q"]) == 0


SLEEPING_PLUGIN = """\
import pathlib, time
from torch import nn
from gnnbench import register_model

@register_model("sleeps", tasks=("node_classification",))
class Sleeps(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels)

    def forward(self, x, edge_index):
        pathlib.Path(MARKER).touch()
        time.sleep(300)
"""


def test_sigterm_in_the_driver_ends_the_workers_of_the_runs_in_flight(write_suite, tmp_path):
    """A scheduler signals the driver alone; shutdown() would let the run in flight sleep on, and the
    interpreter wait for it at exit."""
    import multiprocessing
    import os
    import signal
    import threading
    import time

    marker = tmp_path / "started"
    (tmp_path / "sleeps.py").write_text(SLEEPING_PLUGIN.replace("MARKER", repr(str(marker))))
    suite = load_suite(write_suite("name: s\nplugins: [sleeps.py]\n"
                                   "experiments: [{task: node_classification, datasets: [Cora], models: [sleeps]}]\n"))
    workers = []
    earlier = set(multiprocessing.active_children())  # another test's processes are not this executor's workers

    def terminate_once_running() -> None:
        while not marker.exists():
            time.sleep(0.1)
        workers.extend(p for p in multiprocessing.active_children() if p not in earlier)
        os.kill(os.getpid(), signal.SIGTERM)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)  # as gnnbench.cli installs it
    try:
        threading.Thread(target=terminate_once_running, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            list(ProcessExecutor(workers=1).map(suite.specs))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert workers
    deadline = time.monotonic() + 20
    while any(map(_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [(p.name, p.pid) for p in workers if _running(p)]


def _running(process) -> bool:
    """Not ended. ``is_alive`` alone can say a worker lives when the pool's own thread reaped it first: its
    waitpid then fails, which it reads as still running (seen about once in ten runs)."""
    import os

    if process.exitcode is not None:
        return False
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_starting_ray_keeps_the_drivers_sigterm_handler(monkeypatch):
    """ray.init installs a SIGTERM handler that exits at once; the driver's (rebuild the leaderboard) must stay."""
    import signal
    import sys
    import types

    from gnnbench.harness import ray_executor

    def init(**kwargs):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(signum))  # what Ray's worker module does
        raise RuntimeError("stop after init")

    fake = types.SimpleNamespace(is_initialized=lambda: False, init=init)
    monkeypatch.setattr(ray_executor, "_import_ray", lambda: fake)

    def drivers(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, drivers)
    try:
        with pytest.raises(RuntimeError, match="stop after init"):
            list(ray_executor.RayExecutor().map([]))
        assert signal.getsignal(signal.SIGTERM) is drivers
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_driver_killed_with_sigkill_takes_its_workers_with_it(write_suite, tmp_path):
    """No signal reaches a worker when its driver is killed outright (kill -9, the OOM killer): it notices its
    parent is gone and exits, instead of training on for nothing beside the resumed suite."""
    import os
    import signal
    import subprocess
    import sys
    import time

    marker = tmp_path / "started"
    (tmp_path / "sleeps.py").write_text(SLEEPING_PLUGIN.replace("pathlib.Path(MARKER).touch()",
                                                                f"pathlib.Path({str(marker)!r}).write_text("
                                                                "str(__import__('os').getpid()))"))
    suite = write_suite("name: s\nplugins: [sleeps.py]\n"
                        "experiments: [{task: node_classification, datasets: [Cora], models: [sleeps]}]\n")
    driver = subprocess.Popen([sys.executable, "-c", "import sys; from gnnbench.harness.executors import "
                               "ProcessExecutor; from gnnbench.harness.suite import load_suite; "
                               f"list(ProcessExecutor(workers=1).map(load_suite({str(suite)!r}).specs))"],
                              cwd=Path(__file__).parents[1])
    try:
        deadline = time.monotonic() + 120
        while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        worker = int(marker.read_text())
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        deadline = time.monotonic() + 20
        while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        alive = Path(f"/proc/{worker}/stat").exists() and Path(f"/proc/{worker}/stat").read_text().split()[2] != "Z"
        if alive:
            os.kill(worker, signal.SIGKILL)
        assert not alive
    finally:
        driver.kill()


def test_the_local_executor_names_the_run_each_epoch_belongs_to(tiny_suite):
    """``run -v`` shows epochs as they pass: with several runs in a suite, each line must say whose it is."""
    suite = load_suite(tiny_suite(models="gcn", seeds=2, epochs=3))
    seen: list[tuple[int, int]] = []
    records = list(LocalExecutor(on_epoch=lambda spec, epoch, values: seen.append((spec.seed, epoch))).map(
        suite.specs))
    assert [r["status"] for r in records] == ["ok", "ok"]
    assert seen == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]


def test_a_leaderboard_of_part_of_a_suite_says_so_until_the_rest_is_recorded(write_suite, tmp_path):
    """``--only`` (or an interrupt) leaves a folder holding some of a suite's runs: its tables say how many."""
    from gnnbench import leaderboard

    suite = load_suite(write_suite("""\
        name: parts
        defaults: {seeds: 1, epochs: 2}
        experiments:
          - {name: first, task: node_classification, datasets: [Cora], models: [mlp]}
          - {name: second, task: node_classification, datasets: [Cora], models: [gcn]}
        """))
    store = RunStore(tmp_path / "results")
    driver.run(suite.only(["first"]), store, LocalExecutor())
    assert store.expected()["run_ids"] == sorted(suite.all_run_ids)
    page = leaderboard.build(store.directory, html=True)
    assert f"Incomplete: 1 of the 2 runs of suite parts ({suite.path}) are recorded" in page.markdown.read_text()
    assert f"Incomplete: 1 of the 2 runs of suite parts ({suite.path}) are recorded" in page.html.read_text()
    assert f"`gnnbench run {suite.path} --results {tmp_path}` runs the rest" in page.notice  # not the --only run
    driver.run(suite, store, LocalExecutor())
    assert store.expected()["run_ids"] == sorted(suite.all_run_ids)
    assert "Incomplete" not in leaderboard.build(store.directory).markdown.read_text()


def test_a_leaderboard_counting_records_of_no_run_of_the_suite_says_so_until_they_are_pruned(write_suite, tmp_path,
                                                                                          capsys):
    """An edited hyperparameter makes a new configuration; the old one's records stay in the folder, and
    validation can select them. The page says so atop its tables, not only the run's note on stderr."""
    from gnnbench import leaderboard
    from gnnbench.cli import main

    text = """\
        name: edited
        defaults: {seeds: 1, epochs: 2}
        experiments: [{task: node_classification, datasets: [Cora], models: [mlp, %s]}]
        """
    results = tmp_path / "results"
    assert main(["run", str(write_suite(text % "gcn")), "--results", str(results), "-q"]) == 0
    path = write_suite(text % "{name: gcn, hparams: {lr: 0.001}}")
    assert main(["run", str(path), "--results", str(results), "-q"]) == 0
    notice = (f"1 record here is no run of suite edited ({path}) as last run (made under other defaults or an "
              f"earlier version of the file); the tables count it until `gnnbench prune {path} --results {results}` "
              "sets it aside.")
    assert notice in (results / "edited" / "leaderboard.md").read_text()
    capsys.readouterr()
    assert main(["leaderboard", str(results / "edited"), "-q"]) == 0
    assert f"gnnbench: note: {notice}" in capsys.readouterr().err
    assert main(["prune", str(path), "--results", str(results)]) == 0
    assert "no run of" not in leaderboard.build(results / "edited").markdown.read_text()


def _sigint_ignored() -> bool:
    import signal

    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_ctrl_c_is_the_driver_s_alone():
    """The terminal sends SIGINT to the whole process group: a pool worker waiting for work died of its own
    KeyboardInterrupt and printed ``Process SpawnProcess-1:`` among the driver's lines. Workers ignore it; the
    driver ends them (``_stop``)."""
    pool = executors._pool(1)
    try:
        assert pool.submit(_sigint_ignored).result(timeout=120)
    finally:
        pool.shutdown()
