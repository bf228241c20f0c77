"""User-facing errors.

Everything a user can get wrong (a suite file, a dataset on disk, a command-line flag) raises a
:class:`GnnbenchError`. The CLI prints it as one line and exits with code 2; a traceback is only shown
with ``--debug``. Bugs in gnnbench itself stay ordinary exceptions so they are never mistaken for
bad input.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GnnbenchError(Exception):
    """Bad input from the user; printed without a traceback, exit code 2."""

    exit_code = 2


class ConfigError(GnnbenchError):
    """A problem at one key of one file: ``file: key.path: message``."""

    def __init__(self, file: str | None, key: str | None, message: str) -> None:
        self.file, self.key, self.message = file, key, message
        where = ": ".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class DataError(GnnbenchError):
    """A dataset that is missing, unreadable or fails its checksum."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, matched case-insensitively, or ``''``."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return f"; did you mean '{lowered[close[0]]}'?" if close else ""
