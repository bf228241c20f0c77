"""Signals and closed pipes: Ctrl-C and SIGTERM end a command as an interruption whose finished work is kept,
and a reader of the output that left ends it quietly."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM (a batch scheduler's time limit, ``timeout``, ``kill``), handled as Ctrl-C is."""


#: set by SIGTERM: a library between the handler and ``gnnbench.cli``'s (Ray's wait) may turn Terminated into a plain
#: KeyboardInterrupt, and the exit status must still say terminated
TERMINATED = threading.Event()


def terminate(signum: int, frame: Any) -> None:
    TERMINATED.set()
    raise Terminated


@contextlib.contextmanager
def uninterrupted(deliver: bool = True) -> Iterator[None]:
    """Ctrl-C and SIGTERM held back for the block: a leaderboard's files are written one after another, and a
    signal between them would leave the CSV and the Markdown describing different records. A signal that came
    is raised when the block ends (``deliver``), so the exit status still says it; while handling an earlier
    one (not ``deliver``), it is dropped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: held.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    if held and deliver:
        previous_handler = previous[held[0]]
        if callable(previous_handler):  # the handlers in force outside: KeyboardInterrupt, Terminated
            previous_handler(held[0], None)


def reader_left() -> int:
    """The exit status of a command whose output pipe closed, 128 + SIGPIPE as a shell reports for ``ls``;
    standard output goes to the null device, so Python's last flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):  # a stream without a descriptor (captured) has nothing to flush
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 128 + signal.SIGPIPE
