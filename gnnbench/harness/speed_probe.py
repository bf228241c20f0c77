"""A fixed workload timed after every run that finished, so that a record says how fast its machine was that day.

The same code ran slower on one day than on another on this project's shared machine (docs/models/dgmlp.md): an
epoch time alone cannot tell a slower machine from slower code. The probe is a message-passing step of fixed size
(a dense matmul, a gather of source rows and a scatter-add into their targets) over tensors allocated before the
timing, so the heap setting does not move it. On a CPU it runs on one thread, whatever the run's setting: a step of
2 ms split over threads that other work shares measures the scheduler
(results/reference/profile/speed_probe_threads.txt), and one thread compares across thread settings. A record
keeps it as ``env.speed_probe``, with its :func:`workload` name, so that probes of another workload or device are
never compared with these.
"""

from __future__ import annotations

from typing import Any

import torch

from gnnbench.kernels.timing import median_ms, unless_out_of_memory

NODES, FEATURES, EDGES = 4096, 64, 32768
WARMUP, REPEATS = 3, 9
#: changed whenever the workload or its protocol changes: probes are compared only within one workload
WORKLOAD = f"mm+gather+index_add n{NODES} f{FEATURES} e{EDGES}, median of {REPEATS} after {WARMUP} (v1)"


def workload(device: torch.device) -> str:
    """What a probe on ``device`` ran: :data:`WORKLOAD` on one CPU thread, or on the GPU."""
    return f"{WORKLOAD}, {'1 cpu thread' if device.type == 'cpu' else device.type}"


def speed_probe(device: torch.device) -> dict[str, Any] | None:
    """``{"ms": ..., "workload": ...}``: the median milliseconds of one step of the workload on ``device`` (about
    2 ms on this project's CPU: results/reference/profile/speed_probe_threads.txt); None where it does not fit in
    the memory the run left, which must not fail the run. Seeded with its own generator, and the thread setting
    restored: the run's global random state and threads are untouched."""
    threads = torch.get_num_threads()
    generator = torch.Generator().manual_seed(0)
    x, weight = (torch.randn(n, FEATURES, generator=generator).to(device) for n in (NODES, FEATURES))
    src, dst = (torch.randint(0, NODES, (EDGES,), generator=generator).to(device) for _ in range(2))
    hidden, messages, out = (torch.empty(n, FEATURES, device=device) for n in (NODES, EDGES, NODES))

    def step() -> None:
        torch.mm(x, weight, out=hidden)
        torch.index_select(hidden, 0, src, out=messages)
        out.zero_().index_add_(0, dst, messages)

    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        ms = unless_out_of_memory(lambda: median_ms(step, device, WARMUP, REPEATS))
    finally:
        torch.set_num_threads(threads)
    return None if ms is None else {"ms": round(ms, 4), "workload": workload(device)}
