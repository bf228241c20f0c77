"""The ``gnnbench`` command: run suites, set aside stale records, list the registries, rebuild and compare
leaderboards, profile kernels and feature loading.

User errors (a bad suite, a missing dataset) print one line and exit with 2; ``--debug`` adds the
traceback. ``run`` exits with 1 when a run of the suite (of ``--only``'s experiments) is recorded as failed,
in this invocation or kept from an earlier one (its record says why); ``compare
--fail-on-regression`` exits with 1 when a row got worse, ``--fail-on-missing`` when a row is gone. Ctrl-C
exits with 130 and SIGTERM with 143, after recording the finished runs and rebuilding the leaderboard.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from gnnbench.cli.parser import build_parser
from gnnbench.cli.signals import TERMINATED, Terminated, reader_left, terminate
from gnnbench.errors import GnnbenchError
from gnnbench.files import PACKAGE


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser(__doc__).parse_args(argv)
    # piped (a CI log), text is not wrapped and tables get 200 columns ($COLUMNS if set) instead of Rich's 80, so
    # numbers, paths and labels stay whole
    piped = not sys.stdout.isatty()
    columns = os.environ.get("COLUMNS", "")
    console = Console(stderr=False, quiet=args.quiet, soft_wrap=piped,
                      width=(int(columns) if columns.isdigit() and int(columns) > 0 else 200) if piped else None)
    with warnings.catch_warnings():
        if not args.debug:
            warnings.showwarning = _one_line(warnings.showwarning)
        return _handle(args, console)


def _one_line(shown: Callable[..., None]) -> Callable[..., None]:
    """gnnbench's own warnings as one line of the command; a library's keep their source location."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        if Path(filename).resolve().is_relative_to(PACKAGE):
            print(f"gnnbench: warning: {' '.join(str(message).split())}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    return show


#: the exit status of a file that cannot be read or written (sysexits' EX_IOERR): not a failed run (1), not a
#: mistake in what was asked (2)
EX_IOERR = 74


def _handle(args: argparse.Namespace, console: Console) -> int:
    main_thread = threading.current_thread() is threading.main_thread()  # signal handlers live there only
    TERMINATED.clear()
    previous = signal.signal(signal.SIGTERM, terminate) if main_thread else None
    try:
        return args.handler(args, console)
    except GnnbenchError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"gnnbench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # the reader of the output left (`| head`): stop quietly, as `ls | head` does
        return reader_left()
    except SystemExit as exc:  # Rich's own exit when its reader left
        if isinstance(exc.__context__, BrokenPipeError):
            return reader_left()
        raise
    except OSError as exc:  # a file that cannot be read or written (permissions, a full disk): which, and why
        if args.debug:
            traceback.print_exc()
        path = exc.filename2 or exc.filename  # a rename's destination, which the user named, not a temporary file
        print(f"gnnbench: error: {f'{path}: ' if path else ''}{exc.strerror or exc}", file=sys.stderr)
        return EX_IOERR
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated) or TERMINATED.is_set()
        kept = {"run": "; finished runs are recorded, rerun the same command to resume",
                "profile": "; the rows measured before it, if any, are written"}.get(args.command, "")
        print(f"gnnbench: {'terminated' if terminated else 'interrupted'}{kept}", file=sys.stderr)
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)
    finally:
        if main_thread:  # None: a handler not installed from Python, which the default stands for
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
