"""The results commands on a large results folder, against the floor of reading its records, in the same run.

Builds a synthetic but valid store of about ``--records`` records without training: the reference records of
``results/reference/node_classification`` (and ``deep_gnns`` for the ``-raw`` datasets' data) are copied as
templates, each copy given the spec and run id of one run of a generated suite (4 models x 4 datasets x a
hyperparameter grid sized to the count x 10 seeds, expanded by ``load_suite``), varied metrics and timestamps;
a few runs failed before a retry succeeded, a few failed for good, and a few records are stale (the same run
under an earlier epoch budget). A second store shifts two models' test accuracy, for ``compare``'s B side.

Then times, each in a fresh process, ``--repeats`` turns, medians of the wall time (interpreter start included)
and of peak resident memory: ``leaderboard DIR -q``, ``compare A/leaderboard.csv B/leaderboard.csv`` (the
records beside them read too), ``prune SUITE --dry-run`` and ``run SUITE --dry-run``, each on a fresh copy of
store A (``leaderboard`` rewrites its tables). The floor, timed in the same turns: ``json.loads`` of every line of
``runs.jsonl`` in a fresh interpreter, keeping none. Each command prints as seconds and megabytes and as
multiples of the floor. ``--other`` runs every command under a second checkout too (``PYTHONPATH``), the two
taking turns, and prints new / old; both must succeed on the same stores.

    python benchmarks/results_at_scale.py --records 20000 --repeats 3 --other /tmp/old
    # the old checkout: git worktree add --detach /tmp/old COMMIT
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

import torch

from gnnbench.harness.env import checkout_commit, described
from gnnbench.harness.spec import RunSpec
from gnnbench.harness.store import RUNS_FILE, RunStore
from gnnbench.harness.suite import load_suite
from gnnbench.recordable import encode

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "results" / "reference"
SUITE = "scale"
MODELS = ("gcn", "gat", "sage", "mlp")
DATASETS = ("Cora", "CiteSeer", "Cora-raw", "CiteSeer-raw")
SEEDS = 10
#: the grid's values; the suite takes a prefix of each, sized to the records asked for
GRID = {"lr": [0.001, 0.005, 0.01, 0.02, 0.05], "hidden_channels": [8, 16, 32, 64, 128],
        "dropout": [round(0.05 * i, 2) for i in range(1, 19)]}
#: shares of the runs: failed, then succeeded on a retry; failed for good; with a stale record beside them
RETRIED, FAILED, STALE = 0.02, 0.01, 0.03
RECORDS_PER_POINT = len(MODELS) * len(DATASETS) * SEEDS * (1 + RETRIED + STALE)
#: B's shift of the test accuracy, by model: compare finds rows better, worse and the same
SHIFT = {"gcn": 0.02, "sage": -0.02}
#: runs a command (its output to a file) and prints its exit code, wall time and peak RSS; a small process of its own,
#: as Linux counts into a child's peak the pages it had before its exec: a fork of this script, torch's among them
LAUNCH = """import json, resource, subprocess, sys, time
with open(sys.argv[1], "wb") as output:
    start = time.perf_counter()
    code = subprocess.run(sys.argv[2:], stdout=output, stderr=subprocess.STDOUT).returncode
    wall_s = time.perf_counter() - start
print(json.dumps([code, wall_s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))"""
FLOOR = "import json, sys\nfor line in open(sys.argv[1], 'rb'):\n    json.loads(line)"


def suite_grid(records: int) -> dict[str, list[Any]]:
    """The prefix of :data:`GRID` whose suite comes closest to ``records`` records (the most even one of ties)."""
    shapes = itertools.product(*(range(1, len(values) + 1) for values in GRID.values()))
    shape = min(shapes, key=lambda s: (abs(math.prod(s) * RECORDS_PER_POINT - records), max(s)))
    return {key: values[:n] for (key, values), n in zip(GRID.items(), shape, strict=True)}


def write_suite(path: Path, records: int) -> None:
    """The suite file (JSON, which YAML reads) whose runs the store records."""
    models = [{"name": model, "hparams": suite_grid(records)} for model in MODELS]
    path.write_text(json.dumps({
        "name": SUITE, "description": "synthetic records for benchmarks/results_at_scale.py",
        "defaults": {"seeds": SEEDS, "epochs": 1000, "patience": 100, "device": "cpu"},
        "experiments": [{"name": "sweep", "task": "node_classification", "datasets": list(DATASETS),
                         "models": models}]}, indent=1))


def templates() -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(model, dataset) -> reference records to copy: node_classification's of the model on the dataset (on the
    normalised one for a -raw dataset, with the -raw dataset's own ``data`` as deep_gnns recorded it)."""
    def read(suite: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (REFERENCE / suite / RUNS_FILE).open("rb")]

    base = read("node_classification")
    data = {r["spec"]["dataset"]: r["data"] for r in [*base, *read("deep_gnns")]}
    return {(model, dataset): [{**r, "data": data[dataset]} for r in base
                               if (r["spec"]["model"], r["spec"]["dataset"]) == (model, dataset.removesuffix("-raw"))]
            for model in MODELS for dataset in DATASETS}


def moved(metrics: dict[str, Any], offsets: dict[str, float]) -> dict[str, Any]:
    """``metrics`` with the accuracy of each split in ``offsets`` moved by its offset (kept within 0 and 1)."""
    return {**metrics, **{split: {**metrics[split], "accuracy": min(1.0, max(0.0, metrics[split]["accuracy"] + offset))}
                          for split, offset in offsets.items()}}


class Lines(NamedTuple):
    """A record as its line in store A and in store B (B's test accuracy shifted)."""

    a: bytes
    b: bytes


class Stores:
    """Generates the two stores' records in file order: stale records first (the oldest), the suite's runs, then
    the retries that succeeded."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.templates = templates()
        self.quality: dict[tuple[str, str, str], float] = {}  # configuration -> its offset from the template
        self.clock = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def lines(self, specs: list[RunSpec]) -> list[Lines]:
        stale, runs, retries = [], [], []
        for spec in specs:
            if self.rng.random() < STALE:
                stale.append(self.ok(dataclasses.replace(spec, epochs=500), at=self.clock - timedelta(days=200)))
            draw = self.rng.random()
            if draw < RETRIED + FAILED:
                runs.append(self.failed(spec))
            if draw < RETRIED:
                retries.append(spec)
            elif draw >= RETRIED + FAILED:
                runs.append(self.ok(spec))
        return [*stale, *runs, *(self.ok(spec) for spec in retries)]

    def ok(self, spec: RunSpec, at: datetime | None = None) -> Lines:
        template = self.template(spec)
        key = (spec.model, spec.dataset, spec.config)
        if key not in self.quality:
            self.quality[key] = self.rng.gauss(0, 0.03)
        best = self.rng.randint(20, 400)
        record = {**template, **self.identity(spec, template, at), "best_epoch": best,
                  "epochs_run": min(spec.epochs, best + (spec.patience or 0) + 1),
                  "epoch_time_s": template["epoch_time_s"] * self.rng.uniform(0.8, 1.25)}
        offsets = {split: self.rng.gauss(self.quality[key], 0.01) for split in ("val", "test")}
        a = encode({**record, "metrics": moved(template["metrics"], offsets)})
        if spec.model not in SHIFT:
            return Lines(a, a)
        shifted = {**offsets, "test": offsets["test"] + SHIFT[spec.model]}
        return Lines(a, encode({**record, "metrics": moved(template["metrics"], shifted)}))

    def failed(self, spec: RunSpec) -> Lines:
        template = self.template(spec)
        kept = ("schema", "task_label", "metric", "direction", "unit", "env", "kernel")
        line = encode({**{k: template[k] for k in kept if k in template}, **self.identity(spec, template),
                       "status": "failed", "error": {"type": "RuntimeError", "message": "out of memory (synthetic)",
                                                     "where": "gnnbench/tasks/node.py:1", "traceback": ""}})
        return Lines(line, line)

    def template(self, spec: RunSpec) -> dict[str, Any]:
        options = self.templates[(spec.model, spec.dataset)]
        return options[spec.seed % len(options)]

    def identity(self, spec: RunSpec, template: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
        """The run's spec, id and timestamps; ``at`` the start, else the generator's clock, which this advances."""
        start = at or self.clock
        end = start + timedelta(seconds=template["timing"]["wall_s"] * self.rng.uniform(0.8, 1.25))
        if at is None:
            self.clock = end
        return {"run_id": spec.run_id, "spec": spec.to_dict(), "started_at": start.isoformat(timespec="seconds"),
                "finished_at": end.isoformat(timespec="seconds")}


def build(work: Path, records: int, seed: int) -> tuple[Path, Path, Path, str]:
    """The suite file and stores A and B (``work/{a,b}/scale``) with their expected runs: the suite's path, the
    two stores' and what they hold."""
    suite_path = work / "scale.yaml"
    write_suite(suite_path, records)
    suite = load_suite(suite_path)
    lines = Stores(seed).lines(suite.specs)
    stores = work / "a" / SUITE, work / "b" / SUITE
    for store, side in zip(stores, zip(*lines, strict=True), strict=True):
        store.mkdir(parents=True)
        (store / RUNS_FILE).write_bytes(b"".join(side))
        RunStore(store).expect(suite.name, str(suite_path), [spec.run_id for spec in suite.specs])
    made = (f"{len(lines):,} records ({(stores[0] / RUNS_FILE).stat().st_size / 2**20:.1f} MiB) of "
            f"{len(suite.specs):,} runs, {len({(s.model, s.dataset, s.config) for s in suite.specs}):,} configurations")
    return suite_path, *stores, made


class Measured(NamedTuple):
    """A command's wall time and peak resident memory."""

    wall_s: float
    peak_mb: float


def measured(argv: list[str], checkout: Path | None, cwd: Path) -> Measured:
    """``argv`` run with ``checkout`` first on the path (None: no gnnbench needed): its wall time and peak resident
    memory. Fails, with its output, where the command does."""
    env = {**os.environ, **({"PYTHONPATH": str(checkout)} if checkout else {})}
    with tempfile.NamedTemporaryFile() as output:
        launched = subprocess.run([sys.executable, "-c", LAUNCH, output.name, *argv], cwd=cwd, env=env, check=True,
                                  capture_output=True, text=True)
        code, wall_s, peak_kb = json.loads(launched.stdout)
        if code:
            raise SystemExit(f"{' '.join(argv[2:])} under {checkout} exited with {code}:\n"
                             + Path(output.name).read_bytes()[-3000:].decode(errors="replace"))
    return Measured(wall_s, peak_kb / 1024)  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000,
                        help=f"about this many records (at least {RECORDS_PER_POINT:.0f}); default 20,000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--other", type=Path, help="a second gnnbench checkout to time too (e.g. a git worktree)")
    parser.add_argument("--seed", type=int, default=0, help="of the generated metrics and failures")
    args = parser.parse_args()
    most = math.prod(map(len, GRID.values())) * RECORDS_PER_POINT
    if not RECORDS_PER_POINT <= args.records <= most:
        parser.error(f"--records: expected {RECORDS_PER_POINT:.0f} to {most:,.0f}, the suites the grid makes")
    if args.other is not None and not (args.other / "gnnbench" / "__main__.py").is_file():
        parser.error(f"--other: {args.other} is no gnnbench checkout (no gnnbench/__main__.py in it)")
    checkouts = {"new": ROOT, **({"old": args.other.resolve()} if args.other else {})}
    python = [sys.executable, "-m", "gnnbench"]
    with tempfile.TemporaryDirectory(prefix="gnnbench-scale-") as tmp:
        work = Path(tmp)  # also the commands' working directory: no checkout on their path but the one named
        suite, a, b, made = build(work, args.records, args.seed)
        # command -> its argv on the results root of a fresh copy of store A
        commands = {
            "leaderboard -q": lambda root: [*python, "leaderboard", str(root / SUITE), "-q"],
            "compare": lambda root: [*python, "compare", str(root / SUITE / "leaderboard.csv"),
                                     str(b / "leaderboard.csv")],
            "prune --dry-run": lambda root: [*python, "prune", str(suite), "--results", str(root), "--dry-run"],
            "run --dry-run": lambda root: [*python, "run", str(suite), "--results", str(root), "--dry-run"],
        }
        for store in (a, b):  # the tables compare reads, made by this checkout
            measured([*python, "leaderboard", str(store), "-q"], ROOT, work)
        floor: list[Measured] = []
        times: dict[tuple[str, str], list[Measured]] = {}
        for _ in range(args.repeats):
            floor.append(measured([sys.executable, "-c", FLOOR, str(a / RUNS_FILE)], None, work))
            for (name, argv), (side, checkout) in itertools.product(commands.items(), checkouts.items()):
                copy = work / "copy"
                shutil.copytree(a, copy / SUITE)
                times.setdefault((name, side), []).append(measured(argv(copy), checkout, work))
                shutil.rmtree(copy)
    print(f"{made}; {args.repeats} turn(s), each command in a fresh process, on a fresh copy of A; medians")
    report(checkouts, floor, times)


def report(checkouts: dict[str, Path], floor: list[Measured],
           times: dict[tuple[str, str], list[Measured]]) -> None:
    def median(runs: list[Measured]) -> Measured:
        return Measured(*(statistics.median(column) for column in zip(*runs, strict=True)))

    base = median(floor)
    print(described(torch.device("cpu"), heap=False))  # `run` sets the runs' heap setting, the others keep glibc's
    for side, checkout in checkouts.items():
        print(f"{side}: {checkout} at commit {checkout_commit(checkout) or 'unknown'}")
    print(f"{'command':<17} {'code':<5} {'wall s':>7} {'x floor':>8} {'peak MB':>8} {'x floor':>8}")
    print(f"{'floor':<17} {'':<5} {base.wall_s:>7.2f} {1:>8.2f} {base.peak_mb:>8.0f} {1:>8.2f}  "
          "(json.loads of every line, none kept)")
    medians = {key: median(runs) for key, runs in times.items()}
    for (name, side), m in medians.items():
        print(f"{name:<17} {side:<5} {m.wall_s:>7.2f} {m.wall_s / base.wall_s:>8.2f} {m.peak_mb:>8.0f} "
              f"{m.peak_mb / base.peak_mb:>8.2f}")
    if "old" in checkouts:
        for name in dict.fromkeys(name for name, _ in medians):
            new, old = medians[(name, "new")], medians[(name, "old")]
            print(f"new / old, {name}: wall {new.wall_s / old.wall_s:.2f}x, "
                  f"peak memory {new.peak_mb / old.peak_mb:.2f}x")


if __name__ == "__main__":
    main()
