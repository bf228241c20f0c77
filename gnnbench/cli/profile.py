"""``gnnbench profile``: the kernel and feature-loading micro-benchmarks, written as records and tables as they
are measured."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console

from gnnbench.errors import GnnbenchError

if TYPE_CHECKING:
    import argparse


def profile(args: argparse.Namespace, console: Console) -> int:
    """``gnnbench profile kernels|loading``: each row written as it is measured, the tables kept on an interruption."""
    from gnnbench.harness.allocator import keep_freed_memory
    from gnnbench.harness.runner import resolve_device
    from gnnbench.harness.suite import DEVICE_RE
    from gnnbench.leaderboard.profile import ProfileWriter

    if not DEVICE_RE.match(args.device):  # torch's own error lists every device type it knows
        raise GnnbenchError(f"--device: expected cpu, cuda, cuda:N or auto, got {args.device!r}")
    try:
        device = resolve_device(args.device)
    except RuntimeError as exc:  # cuda asked for on a machine without it
        raise GnnbenchError(f"--device: {exc}") from None
    if args.warmup < 0 or args.repeats < 1:
        raise GnnbenchError(f"--warmup must be >= 0 and --repeats >= 1, got {args.warmup} and {args.repeats}")
    if not 0 <= args.seed < 2**64:  # what torch's generators take (a negative seed would wrap around)
        raise GnnbenchError(f"--seed: expected a whole number from 0 to 2**64 - 1, got {args.seed}")
    other = {"kernels": {"--rows": args.rows, "--row-bytes": args.row_bytes, "--batches": args.batches},
             "loading": {"--sizes": args.sizes}}[args.what]
    if given := [option for option, value in other.items() if value]:
        raise GnnbenchError(f"{', '.join(given)}: not an option of `profile {args.what}` (it belongs to `profile "
                            f"{'loading' if args.what == 'kernels' else 'kernels'}`)")
    earlier = args.out / f"{args.what}.jsonl"
    if not args.replace and earlier.is_file() and earlier.stat().st_size:
        raise GnnbenchError(f"--out: {earlier} holds the records of an earlier profile; give another --out to keep "
                            "both (and `gnnbench compare` them), or --replace to replace them")
    keep_freed_memory()  # as runs have it, so that a profile's timings are theirs

    def show(row: dict[str, Any]) -> None:
        if row["status"] != "ok":
            console.print(f"{row['task']:<32} {row['dataset']:<34} {row['model']:<14} {row['error']}")
            return
        ms = row["ms"] if "ms" in row else row["seconds"] * 1e3
        console.print(f"{row['task']:<32} {row['dataset']:<34} {row['model']:<14} {ms:10.3f} ms "
                      f"{row['gbps']:8.2f} GB/s")

    if args.what == "kernels":
        from gnnbench.kernels import profile as kp

        try:
            sizes = [kp.GraphSize.parse(s) for s in args.sizes] if args.sizes else kp.DEFAULT_SIZES[device.type]
        except ValueError as exc:
            raise GnnbenchError(f"--sizes: {exc}") from None
        _once("--sizes", sizes, args.sizes)
        writer = ProfileWriter(args.out, "kernels")
        run = functools.partial(kp.profile, sizes, device)
    else:
        from gnnbench.loading import profile as lp

        _once("--row-bytes", args.row_bytes or [])
        _once("--batches", args.batches or [])
        writer = ProfileWriter(args.out, "loading")
        run = functools.partial(lp.profile, device, args.rows or lp.DEFAULT_ROWS[device.type],
                                args.row_bytes or lp.ROW_BYTES, args.batches or lp.DEFAULT_BATCHES[device.type])

    def measured(row: dict[str, Any]) -> None:
        writer.add(row)
        show(row)

    try:
        run(warmup=args.warmup, repeats=args.repeats, seed=args.seed, on_row=measured)
    except BaseException as exc:  # an error, out of memory, Ctrl-C: the rows measured so far get their tables
        if writer.records:
            if isinstance(exc, SystemExit) and isinstance(exc.__context__, BrokenPipeError):
                exc = exc.__context__  # Rich's exit when the reader of its output left (`| head`): say that
            reason = type(exc).__name__ + (f": {str(exc).splitlines()[0][:200]}" if str(exc).strip() else "")
            paths = writer.finish(stopped=reason)
            console.print(f"stopped after {len(writer.records)} rows; wrote " + ", ".join(map(str, paths)))
        elif not isinstance(exc, GnnbenchError):  # an earlier profile's files go with the first new row only
            console.print(f"stopped before the first row; nothing in {args.out} was replaced")
        raise
    console.print("wrote " + ", ".join(map(str, writer.finish())))
    return 0


def _once(option: str, values: Sequence[Any], given: Sequence[str] | None = None) -> None:
    """Each value of ``option`` at most once: one given twice (``1e4:2e5:64`` and ``10000:200000:64`` alike) would
    be measured twice into rows of one name, which neither the tables nor ``compare`` can tell apart."""
    written = given or values  # as the command line has them
    for i, value in enumerate(values):
        if value in values[:i]:
            raise GnnbenchError(f"{option}: {written[i]} is given twice (as {written[values.index(value)]} too); "
                                "expected each once")
