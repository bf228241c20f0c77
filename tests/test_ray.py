"""A real Ray cluster on loopback: a worker killed mid-run is retried and recorded, every run ends with
exactly one successful record, and the leaderboard equals the local executor's for the same seeds."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[1]
RAY = str(Path(sys.executable).with_name("ray"))
SUITE = """\
name: cluster
defaults: {seeds: 4, epochs: 60, patience: null}
experiments:
  - task: node_classification
    datasets: [Cora]
    models: [mlp, gcn]
"""
# A model that SIGKILLs the process running it the first time it trains (the marker file remembers): a worker
# dying mid-run, deterministically, whatever the machine's speed.
DIES_ONCE = """\
import os, signal
from pathlib import Path
from gnnbench.models.baselines import MLP
from gnnbench.registry import register_model

MARKER = Path({marker!r})

@register_model("mlp_dies_once", paper="test", tasks=("node_classification",))
class DiesOnce(MLP):
    def forward(self, x, edge_index):
        if self.training and not MARKER.exists():
            MARKER.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return super().forward(x, edge_index)
"""
# A model that signals every process that trains it (SIGKILL, or SIGTERM as `ray stop` sends): a worker that
# dies on every attempt.
ALWAYS_DIES = """\
import os, signal
from gnnbench.models.baselines import MLP
from gnnbench.registry import register_model

@register_model("mlp_always_dies", paper="test", tasks=("node_classification",))
class AlwaysDies(MLP):
    def forward(self, x, edge_index):
        os.kill(os.getpid(), signal.{signal})
"""
# A model in a module beside the suite file: the driver imports it from there, a Ray worker cannot by itself.
BESIDE = """\
from gnnbench.models.baselines import MLP
from gnnbench.registry import register_model

@register_model("mlp_beside_the_suite", paper="test", tasks=("node_classification",))
class Beside(MLP):
    pass
"""
SAME = ["task", "dataset", "model", "config", "metric", "mean", "std", "n", "values", "val_mean", "rank"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pids(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.fixture
def token_auth(tmp_path, monkeypatch):
    """Token authentication with this test's own token, for the cluster and every driver (all subprocesses, so
    they read it from the environment). Left to itself, Ray turns token auth on for ``ray start`` once
    ``~/.ray/auth_token`` exists, and a driver not told so fails to connect."""
    token = tmp_path / "ray_token"
    token.write_text(secrets.token_hex(32))
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(token))
    return token


@pytest.fixture
def ray_here(monkeypatch):
    """For Ray started in this process. Its config was read at import, so tell the cluster it starts the same (no
    token auth), and keep Ray from replacing ``builtins.print`` for the rest of the session, as its progress-bar
    manager does once a worker's death is reported to this driver."""
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.setenv("RAY_TQDM_PATCH_PRINT", "0")


@pytest.fixture
def ray_cluster(token_auth):
    """``ray start --head`` on 127.0.0.1 in its own process group and temp dir; everything it started is killed
    afterwards, whatever happened."""
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="gb-ray-", dir="/tmp")  # short: Ray's socket paths have a length limit
    head = subprocess.Popen(
        [RAY, "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
         "--object-store-memory=100000000", "--include-dashboard=false", "--disable-usage-stats",
         f"--temp-dir={temp}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = head.communicate(timeout=120)
        assert head.returncode == 0, output
        yield f"127.0.0.1:{port}"
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(head.pid, sig)
            for pid in _pids(temp):  # anything of this cluster that left the process group
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            time.sleep(2 if sig == signal.SIGTERM else 0)
        shutil.rmtree(temp, ignore_errors=True)


def _run(suite: Path, results: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gnnbench", "run", str(suite), "--results", str(results),
                             *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _board(results: Path):
    import pandas as pd

    return pd.read_csv(results / "cluster" / "leaderboard.csv", keep_default_na=False)[SAME]


def test_a_killed_worker_is_retried_and_the_leaderboard_equals_the_local_one(ray_cluster, tmp_path):
    marker = tmp_path / "killed"
    (tmp_path / "dies_once.py").write_text(DIES_ONCE.format(marker=str(marker)))
    suite = tmp_path / "cluster.yaml"
    suite.write_text(SUITE.replace("name: cluster", "name: cluster\nplugins: [dies_once.py]")
                     .replace("models: [mlp, gcn]", "models: [mlp_dies_once, gcn]"))
    driver = _run(suite, tmp_path / "ray", "--executor", "ray", "--address", ray_cluster)
    output, _ = driver.communicate(timeout=300)
    assert driver.returncode == 0, output
    assert marker.exists(), "the worker never trained the model that kills it"
    assert "runs per node:" in output

    records = [json.loads(line) for line in (tmp_path / "ray" / "cluster" / "runs.jsonl").read_text().splitlines()]
    assert Counter(r["status"] for r in records) == {"ok": 8}, output
    assert len({r["run_id"] for r in records}) == 8  # exactly one successful record per run_id
    retried = [r for r in records if r["attempts"]["count"] > 1]
    assert len(retried) == 1 and "WorkerCrashedError" in retried[0]["attempts"]["lost"][0]
    assert retried[0]["spec"]["model"] == "mlp_dies_once"
    assert {r["node"]["hostname"] for r in records} == {socket.gethostname()}
    assert len({r["node"]["node_id"] for r in records}) == 1  # the cluster's one node, named in every record

    local = _run(suite, tmp_path / "local", "-q")  # the marker exists now: nothing dies in the local run
    assert local.wait(timeout=300) == 0, local.stdout.read()
    assert _board(tmp_path / "ray").equals(_board(tmp_path / "local"))


def test_an_error_inside_a_run_is_recorded_once_and_not_retried(tmp_path, ray_here):
    from gnnbench.harness.ray_executor import RayExecutor
    from gnnbench.harness.suite import load_suite

    suite = tmp_path / "bad.yaml"
    suite.write_text(SUITE.replace("models: [mlp, gcn]", "models: [{name: mlp, hparams: {lr: 1.0e+38}}]")
                     .replace("seeds: 4", "seeds: 1"))  # the weights overflow: an error every attempt would meet
    records = list(RayExecutor(num_cpus=1).map(load_suite(suite).specs))  # no address: Ray starts locally
    assert len(records) == 1
    (record,) = records
    assert record["status"] == "failed" and record["error"]["type"] == "RuntimeError"
    assert "Traceback" in record["error"]["traceback"] and record["attempts"] == {"count": 1, "lost": []}


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_a_run_whose_worker_dies_every_time_fails_once_its_retries_are_spent(tmp_path, ray_here, sig):
    """SIGTERM too: Ray's own handler turns it into SystemExit, which the run would record as its own failure,
    not retried, where the worker was stopped from outside."""
    from gnnbench.harness.ray_executor import RayExecutor
    from gnnbench.harness.suite import load_suite

    (tmp_path / "always_dies.py").write_text(ALWAYS_DIES.format(signal=sig))
    suite = tmp_path / "cluster.yaml"
    suite.write_text(SUITE.replace("name: cluster", "name: cluster\nplugins: [always_dies]")
                     .replace("models: [mlp, gcn]", "models: [mlp_always_dies]").replace("seeds: 4", "seeds: 1"))
    (record,) = RayExecutor(num_cpus=1, max_retries=1).map(load_suite(suite).specs)
    assert record["status"] == "failed"
    assert record["attempts"]["count"] == 2 and len(record["attempts"]["lost"]) == 2  # the first and its one retry
    assert all(lost.startswith("WorkerCrashedError") for lost in record["attempts"]["lost"])
    assert record["error"]["message"].startswith("worker died 2 times; last: WorkerCrashedError")


def test_a_driver_that_loses_its_ray_stops_after_yielding_the_finished_runs(tmp_path, ray_here, monkeypatch):
    """Ray's own death (simulated: the second answer raises it) is no worker's: nothing is retried or recorded as
    failed, and the error says that the same command resumes the rest."""
    from gnnbench.harness.ray_executor import RayExecutor, RayLostError
    from gnnbench.harness.suite import load_suite

    suite = tmp_path / "cluster.yaml"
    suite.write_text(SUITE.replace("models: [mlp, gcn]", "models: [mlp]")
                     .replace("seeds: 4, epochs: 60", "seeds: 2, epochs: 3"))
    answers, real_get = [], ray.get

    def get(ref, *args, **kwargs):  # the second answer finds the raylet gone
        answers.append(ref)
        if len(answers) == 2:
            raise ray.exceptions.LocalRayletDiedError()
        return real_get(ref, *args, **kwargs)

    monkeypatch.setattr(ray, "get", get)
    records = RayExecutor(num_cpus=1).map(load_suite(suite).specs)
    assert next(records)["status"] == "ok"
    with pytest.raises(RayLostError, match=r"the Ray instance of this driver died \(LocalRayletDiedError\); the "
                                           r"finished runs are recorded, and the same command resumes the rest"):
        next(records)
    assert not ray.is_initialized()  # the Ray it started is shut down


def test_a_module_plugin_beside_the_suite_travels_to_the_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # the driver starts Ray itself
    (tmp_path / "beside_models.py").write_text(BESIDE)
    suite = tmp_path / "cluster.yaml"
    suite.write_text(SUITE.replace("name: cluster", "name: cluster\nplugins: [beside_models]")
                     .replace("models: [mlp, gcn]", "models: [mlp_beside_the_suite]")
                     .replace("seeds: 4, epochs: 60", "seeds: 1, epochs: 3"))
    driver = _run(suite, tmp_path / "ray", "--executor", "ray")  # cwd is the checkout, not the suite's folder
    output, _ = driver.communicate(timeout=300)
    assert driver.returncode == 0, output
    (record,) = [json.loads(line) for line in (tmp_path / "ray" / "cluster" / "runs.jsonl").read_text().splitlines()]
    assert record["status"] == "ok", record.get("error")
    assert record["sources"]["model"]["file"] == str(tmp_path / "beside_models.py")  # not Ray's copy of it


def test_a_record_names_the_drivers_file_only_when_the_worker_ran_the_same_bytes(monkeypatch):
    from gnnbench.harness.env import plugin_sources
    from gnnbench.harness.ray_executor import named_as_here
    from gnnbench.models.baselines import MLP
    from gnnbench.registry import MODELS, register_model

    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    register_model("mlp_in_this_file", tasks=("node_classification",))(type("Here", (MLP,), {}))
    spec = {"model": "mlp_in_this_file", "task": "node_classification", "dataset": "Cora"}
    here = plugin_sources(spec)["model"]  # the task and the dataset are gnnbench's own
    assert here["file"] == __file__ and plugin_sources(spec).keys() == {"model"}

    def record(sha256: str) -> dict:
        return {"spec": spec, "sources": {"model": {"file": "/tmp/ray/copy.py", "sha256": sha256}}}

    assert named_as_here(record(here["sha256"]))["sources"]["model"] == here
    assert named_as_here(record("0" * 64))["sources"]["model"]["file"] == "/tmp/ray/copy.py"  # what ran


def test_only_module_plugins_no_installed_package_provides_travel(tmp_path):
    from gnnbench.harness.ray_executor import travelling_modules
    from gnnbench.harness.suite import load_suite

    (tmp_path / "gb_travelling_pkg").mkdir()
    (tmp_path / "gb_travelling_pkg" / "__init__.py").write_text("")
    (tmp_path / "gb_travelling_pkg" / "models.py").write_text("")
    (tmp_path / "gb_travelling_single.py").write_text("")
    (tmp_path / "gb_file_plugin.py").write_text("")
    suite = tmp_path / "cluster.yaml"
    suite.write_text(SUITE.replace("name: cluster", "name: cluster\nplugins: [gb_travelling_pkg.models, "
                                   "gb_travelling_single, gb_file_plugin.py, pandas.plotting]"))
    assert travelling_modules(load_suite(suite).specs) == [str(tmp_path / "gb_travelling_pkg"),
                                                           str(tmp_path / "gb_travelling_single.py")]


def test_a_caller_that_started_ray_is_warned_that_local_plugins_cannot_travel(tmp_path, ray_here):
    from gnnbench.harness.ray_executor import RayExecutor
    from gnnbench.harness.suite import load_suite

    (tmp_path / "started_before.py").write_text(BESIDE.replace("mlp_beside_the_suite", "mlp_started_before"))
    suite = tmp_path / "cluster.yaml"
    suite.write_text(SUITE.replace("name: cluster", "name: cluster\nplugins: [started_before]")
                     .replace("models: [mlp, gcn]", "models: [mlp_started_before]").replace("seeds: 4", "seeds: 1"))
    specs = load_suite(suite).specs
    sigterm = signal.getsignal(signal.SIGTERM)  # ray.init installs its own, which would outlive this test
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        with pytest.warns(UserWarning, match=r"Ray was started before gnnbench could name the suite's local plugin "
                                             r"modules \(.*started_before\.py\)"):
            (record,) = RayExecutor(num_cpus=1).map(specs)
    finally:
        ray.shutdown()
        signal.signal(signal.SIGTERM, sigterm)
    assert record["status"] == "failed" and "No module named 'started_before'" in record["error"]["message"]


def test_an_address_that_answers_nothing_or_is_malformed_is_one_line_before_ray_starts(tmp_path, write_suite):
    """Ray itself retries a silent address for minutes, and meets a malformed one with a traceback."""
    from gnnbench.errors import ConfigError, GnnbenchError
    from gnnbench.harness.executors import executor_options
    from gnnbench.harness.ray_executor import RayExecutor
    from gnnbench.harness.spec import RunSpec
    from gnnbench.harness.suite import load_suite

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    specs = load_suite(write_suite(SUITE)).specs
    started = time.monotonic()
    with pytest.raises(GnnbenchError, match=rf"Ray address 127.0.0.1:{port}: nothing answers there"):
        list(RayExecutor(address=f"127.0.0.1:{port}").map(specs))
    assert time.monotonic() - started < 30 and not ray.is_initialized()
    on_cuda = [RunSpec.from_dict({**spec.to_dict(), "device": "cuda"}) for spec in specs]
    with pytest.warns(UserWarning, match="runs on device cuda reserve no GPU"), pytest.raises(GnnbenchError):
        list(RayExecutor(address=f"127.0.0.1:{port}").map(on_cuda))  # said before joining, whatever happens
    if importlib.util.find_spec("grpc") is None:  # the ray extra installs Ray core, without Ray Client
        with pytest.raises(GnnbenchError, match=r"Ray address ray://127.0.0.1:\d+: Ray Client requires"):
            list(RayExecutor(address=f"ray://127.0.0.1:{port}").map(specs))
    with pytest.raises(GnnbenchError, match="--address: expected HOST:PORT of a Ray cluster's head, auto or ray://"):
        executor_options({"type": "ray"}, "ray", None, "127.0.0.1")
    with pytest.raises(ConfigError, match=r"executor.address: expected HOST:PORT .*got '10.0.0.1'"):
        load_suite(write_suite(SUITE + "executor: {type: ray, address: 10.0.0.1}\n", "bad.yaml"))


@pytest.mark.parametrize(("executor", "key", "expected"), [
    ("{type: ray, num_cpus: 4}", "executor.num_cpus", "expected at most 2, the most CPUs a live node has"),
    ("{type: ray, num_gpus: 1}", "executor.num_gpus", "expected at most 0.5, the most GPUs a live node has"),
    ("{type: ray, num_cpus: 2, num_gpus: 0.5}", "executor", "expected num_cpus and num_gpus that one node has "
                                                            "together"),
])
def test_a_run_no_node_can_hold_is_refused_at_the_suite_s_key_before_anything_is_submitted(
        tmp_path, write_suite, monkeypatch, executor, key, expected):
    """num_gpus on CPU-only nodes: Ray would wait for such a node for ever, without a word. The cluster is
    faked (Ray already started, these nodes): nothing is submitted before the refusal."""
    from gnnbench.errors import ConfigError
    from gnnbench.harness.executors import executor_options, make_executor
    from gnnbench.harness.suite import load_suite

    nodes = [{"Alive": True, "NodeManagerHostname": "a", "Resources": {"CPU": 2.0}},
             {"Alive": True, "NodeManagerHostname": "g", "Resources": {"CPU": 1.0, "GPU": 0.5}},
             {"Alive": False, "NodeManagerHostname": "b", "Resources": {"CPU": 64.0, "GPU": 8.0}}]  # dead
    monkeypatch.setattr(ray, "is_initialized", lambda: True)
    monkeypatch.setattr(ray, "nodes", lambda: nodes)
    monkeypatch.setattr(ray, "remote", lambda *args: pytest.fail("a run was submitted"))
    path = write_suite(SUITE + f"executor: {executor}\n")
    suite = load_suite(path)
    with pytest.raises(ConfigError) as info:
        list(make_executor(*executor_options(suite.executor, None, None, None), suite_file=str(path))
             .map(suite.specs))
    assert (info.value.file, info.value.key) == (str(path), key)
    assert "no node of the Ray cluster has that many (a: 2 CPUs, 0 GPUs; g: 1 CPUs, 0.5 GPUs)" in info.value.message
    assert expected in info.value.message
