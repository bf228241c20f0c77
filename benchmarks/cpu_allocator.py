"""glibc's heap kept for reuse (``gnnbench.harness.allocator``) against glibc's defaults, in the same run.

One run of the quickstart's GCN on Cora (seed 0, its full 200 epochs) per fresh process, the two settings
alternating, ``--repeats`` times each; prints each setting's median epoch time, wall time and peak memory, and the
ratios. Both settings must reach the same test accuracy: the allocator changes where memory comes from, not
what is computed.

    OMP_NUM_THREADS=1 python benchmarks/cpu_allocator.py --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import torch

from gnnbench.harness.env import described

ROOT = Path(__file__).resolve().parents[1]
RUN = """
import json
from gnnbench.harness.runner import execute
from gnnbench.harness.suite import load_suite
specs = load_suite("configs/quickstart.yaml").specs
r = execute(next(s for s in specs if (s.model, s.dataset, s.seed) == ("gcn", "Cora", 0)))
print(json.dumps({"epoch_ms": 1e3 * r["epoch_time_s"], "wall_s": r["timing"]["wall_s"],
                  "peak_mb": r["memory"]["peak_mb"], "allocator": r["env"]["allocator"],
                  "accuracy": r["metrics"]["test"]["accuracy"]}))
"""


def one_run(default: bool) -> dict:
    env = {**os.environ, **({"GNNBENCH_MALLOC": "default"} if default else {})}
    out = subprocess.run([sys.executable, "-c", RUN], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[bool, list[dict]] = {True: [], False: []}
    for _ in range(args.repeats):
        for default in (True, False):
            runs[default].append(one_run(default))
    print(f"GCN on Cora, 200 epochs, seed 0; {args.repeats} fresh processes per setting, alternating; medians")
    print(described(torch.device("cpu"), heap=False))  # each run sets its own heap: the table says which
    print(f"{'allocator':<56} {'epoch ms':>9} {'wall s':>7} {'peak MB':>8} {'test acc':>9}")
    medians = {}
    for default, rows in runs.items():
        medians[default] = {k: statistics.median(r[k] for r in rows) for k in ("epoch_ms", "wall_s", "peak_mb")}
        accuracy = {r["accuracy"] for r in rows}
        print(f"{rows[0]['allocator']:<56} {medians[default]['epoch_ms']:>9.1f} {medians[default]['wall_s']:>7.2f} "
              f"{medians[default]['peak_mb']:>8.1f} {', '.join(f'{a:.4f}' for a in sorted(accuracy)):>9}")
    print(f"default / kept: epoch time {medians[True]['epoch_ms'] / medians[False]['epoch_ms']:.2f}x, wall time "
          f"{medians[True]['wall_s'] / medians[False]['wall_s']:.2f}x")


if __name__ == "__main__":
    main()
