"""The shipped suites and the reference results made from them stay in step.

A changed default (a new hyperparameter, a new task option) changes the run_ids a suite expands to, because
defaults are resolved before hashing. Records made before the change then belong to no run of the suite: the
reference command would run them again, and the leaderboard would show results of a configuration the suite no
longer describes. This test fails on such orphans, naming the suite and the runs.
"""

from __future__ import annotations

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
