"""kill -9 in the middle of a suite, then the same command again: nothing finished is rerun or lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from gnnbench import leaderboard

ROOT = Path(__file__).resolve().parents[1]


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_kill_minus_9_then_rerun_resumes_without_repeating_finished_runs(tiny_suite, tmp_path):
    suite = tiny_suite(models="mlp", seeds=8, epochs=40)
    command = [sys.executable, "-m", "gnnbench", "run", str(suite), "--results", str(tmp_path), "-q"]
    runs = tmp_path / "tiny" / "runs.jsonl"
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 240
    while len(lines(runs)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = lines(runs)
    assert 2 <= len(before) < 8, "the kill must land in the middle of the suite"
    board = leaderboard.build(tmp_path / "tiny").markdown.read_text()  # the runs so far: not the suite's result
    assert f"**Incomplete: {len(before)} of the 8 runs of suite tiny ({suite}) are recorded;" in board

    subprocess.run(command, cwd=ROOT, check=True, timeout=300, capture_output=True)
    assert "Incomplete" not in (tmp_path / "tiny" / "leaderboard.md").read_text()
    assert len(json.loads((tmp_path / "tiny" / "expected.json").read_text())["run_ids"]) == 8  # kept: see prune
    after = lines(runs)
    assert after[: len(before)] == before  # what was written is kept byte for byte
    records = [json.loads(line) for line in after]
    ok = Counter(r["run_id"] for r in records if r["status"] == "ok")
    assert len(ok) == 8 and set(ok.values()) == {1}  # exactly one successful record per run
    assert len(records) == 8  # finished runs were not run again
    assert {r["spec"]["seed"] for r in records} == set(range(8))
