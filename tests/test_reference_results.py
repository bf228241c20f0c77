"""The shipped suites and the reference results made from them stay in step.

A changed default (a new hyperparameter, a new task option) changes the run_ids a suite expands to, because
defaults are resolved before hashing. Records made before the change then belong to no run of the suite: the
reference command would run them again, and the leaderboard would show results of a configuration the suite no
longer describes. This test fails on such orphans, naming the suite and the runs.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from gnnbench.harness.driver import stale
from gnnbench.harness.store import RunStore
from gnnbench.harness.suite import load_suite

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_reference_record_is_a_run_of_its_shipped_suite(config: Path) -> None:
    suite = load_suite(config)
    orphans = stale(suite, RunStore(ROOT / "results" / "reference" / suite.name).latest())
    counts = Counter((r["spec"]["model"], r["spec"]["dataset"]) for r in orphans.values())
    assert not orphans, (f"results/reference/{suite.name}/runs.jsonl holds {len(orphans)} runs that are no run "
                         f"of {config.name} (a default changed after they were made?): {dict(counts)}")


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_reference_folder_notes_the_runs_of_its_suite(config: Path) -> None:
    """expected.json is what lets a reference page say it is incomplete (a record lost in a merge, a suite grown
    and not yet run): it must name the shipped suite file and every run of it."""
    suite = load_suite(config)
    noted = RunStore(ROOT / "results" / "reference" / suite.name).expected()
    assert noted is not None, f"results/reference/{suite.name}: no expected.json (run the suite's command)"
    assert (noted["file"], noted["run_ids"]) == (f"configs/{config.name}", sorted(suite.all_run_ids))


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


@pytest.mark.skipif(_git("rev-parse", "--is-shallow-repository").stdout.strip() != "false",
                    reason="needs the project's whole git history (not a shallow clone, nor an export)")
def test_every_reference_record_names_a_commit_of_this_repository() -> None:
    """A record's ``git_commit`` is how its code is found again: a commit lost to a rewritten history makes the
    record's number one nobody can check out (``-dirty`` records name their commit too, less exactly)."""
    named = Counter(json.loads(line)["env"]["git_commit"].removesuffix("-dirty")
                    for path in (ROOT / "results" / "reference").glob("**/*.jsonl") if path.name != "stale.jsonl"
                    for line in path.read_text().splitlines() if line.strip())
    missing = {commit: n for commit, n in named.items() if _git("cat-file", "-e", f"{commit}^{{commit}}").returncode}
    assert not missing, f"records name commits this repository does not have (commit: records): {missing}"


BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.stem)
def test_every_benchmark_s_documented_command_keeps_its_output(script: Path) -> None:
    """BENCHMARKS.md's figures come from a command that tees what the script prints into
    results/reference/profile/<script>.txt, whose second line names the machine, versions and commit: figures
    with no output behind them (as csr_backward's had) cannot be checked."""
    text = (ROOT / "docs" / "BENCHMARKS.md").read_text().replace("\\\n", " ")  # a command continued on a line
    kept = f"results/reference/profile/{script.stem}.txt"
    commands = [line for line in text.splitlines() if f"python benchmarks/{script.name}" in line]
    assert any(f"| tee {kept}" in line for line in commands), f"BENCHMARKS.md: no command tees its output into {kept}"
    lines = (ROOT / kept).read_text().splitlines()
    assert len(lines) > 2 and re.search(r"\(\d+ cores\), \d+ thread\(s\), .*gnnbench commit [0-9a-f]{40}\b", lines[1])


@pytest.mark.skipif(_git("rev-parse", "--is-shallow-repository").stdout.strip() != "false",
                    reason="needs the project's whole git history (not a shallow clone, nor an export)")
def test_every_kept_benchmark_output_names_a_commit_of_this_repository() -> None:
    """As a record's: a benchmark output whose commit was lost (a cherry-pick, a rewritten history) names code
    nobody can check out."""
    named = {path.name: re.search(r"gnnbench commit ([0-9a-f]{40})", path.read_text()).group(1)
             for path in (ROOT / "results" / "reference" / "profile").glob("*.txt")}
    missing = {name: commit for name, commit in named.items()
               if _git("cat-file", "-e", f"{commit}^{{commit}}").returncode}
    assert named and not missing, f"benchmark outputs name commits this repository does not have: {missing}"
