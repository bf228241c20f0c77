"""User-facing errors.

Everything a user can get wrong (a suite file, a dataset on disk, a command-line flag) raises a
:class:`GnnbenchError`. The CLI prints it as one line and exits with code 2; a traceback is only shown
with ``--debug``. Bugs in gnnbench itself stay ordinary exceptions so they are never mistaken for
bad input.
"""

from __future__ import annotations

import difflib
import math
import os
import reprlib
import sysconfig
import traceback
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from gnnbench import files
from gnnbench.natural import NUMBER, natural_key

#: Python's own library folders: a frame there is never the line to look at
STDLIB = tuple(Path(sysconfig.get_paths()[k]).resolve() for k in ("stdlib", "platstdlib"))


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


class SeedError(ValueError):
    """A seed a task cannot run (``Task.check_run``: a fold index past the folds): the suite names the key that
    sets the seed, not the task's."""


#: the most characters of a value an error quotes (:func:`quoted`)
QUOTED_MAX = 200


def quoted(value: Any) -> str:
    """A value as an error quotes it: ``repr(value)``, long strings, long lists and deep nesting elided with
    ``...``, and cut at :data:`QUOTED_MAX` characters with ``…``: a list of 20,000 epochs is one line of an error,
    not 60,000 characters, and a YAML alias bomb (lists of lists by reference) is not a 17 MB line, nor the work
    of writing one."""
    text = _QUOTED.repr(value)
    return text if len(text) <= QUOTED_MAX else f"{text[:QUOTED_MAX]}…"


class _Quoted(reprlib.Repr):
    """:func:`quoted`'s limits; an integer too long for Python to write as text is described by its size."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 2  # [['a']] shown whole; a list nested deeper (a YAML alias bomb) as [...]
        self.maxlist = self.maxdict = 8
        self.maxstring = self.maxother = 80
        self.maxlong = 40

    def repr_int(self, x: int, level: int) -> str:
        try:
            return super().repr_int(x, level)
        except ValueError:  # past sys.get_int_max_str_digits()
            return f"{'a negative' if x < 0 else 'an'} integer of {x.bit_length()} bits"


_QUOTED = _Quoted()


def where(exc: BaseException) -> str:
    """``path.py:line`` of the innermost frame that raised ``exc`` in a model, a plugin or gnnbench: not in
    Python's own files nor an installed library's (gnnbench counts as its own wherever it is installed). The
    innermost frame if every one is a library's. A failed run and a plugin that fails to import name it."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    own = [f for f in frames if not _library_file(Path(f.filename).resolve())]
    frame = (own or frames)[-1]
    return f"{frame.filename}:{frame.lineno}"


def raised(exc: BaseException) -> str:
    """``Type: message (at path.py:line)``: an exception a plugin's own code raised (importing it, or a hook
    checking a suite), in one line that says where, rather than a traceback in the middle of a suite's checks."""
    return f"{type(exc).__name__}: {exc} (at {where(exc)})"


def _library_file(path: Path) -> bool:
    if path.is_relative_to(files.PACKAGE):
        return False
    return any(path.is_relative_to(p) for p in STDLIB) or bool({"site-packages", "dist-packages"} & set(path.parts))


#: The most names a typed prefix is completed to: more is a listing, which an error's accepted names give
COMPLETIONS = 5


def not_one_of(value: Any, choices: Collection[str]) -> str:
    """``expected one of a, b, got ...`` for a ``value`` not among ``choices``: a string :func:`quoted` with
    :func:`did_you_mean`'s suggestion, anything else by its type and :func:`quoted` value, with none: it has no
    spelling to correct, and writing it out to compare would take a YAML alias bomb's gigabytes and seconds."""
    expected = f"expected one of {', '.join(choices)}, got "
    if value is None:  # an empty YAML value, as the suite's own type errors call it
        return f"{expected}nothing"
    if not isinstance(value, str):
        return f"{expected}{type(value).__name__} {quoted(value)}"
    return f"{expected}{quoted(value)}{did_you_mean(value, choices)}"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest choice, matched case-insensitively, or ``''`` (also without
    choices: a task that takes no options). Where choices read as the typed name but for their numbers, only
    those with the nearest numbers ('HeteroEdgeCount-3' -> 'HeteroEdgeCount-2' or 'HeteroEdgeCount-4';
    'HeteroEdgeCount-12' -> 'HeteroEdgeCount-10'); then the few (up to :data:`COMPLETIONS`) the typed name begins
    ('forwardgnn_ff' -> its three variants); else the closest by difflib, among equally close ones those keeping
    the most of the typed prefix ('gcm' -> 'gcn', not 'sgc'). Each left is named, in natural order."""
    lowered = {c.lower(): c for c in choices}
    if not lowered:
        return ""
    target = name.lower()
    distance = {c: _number_distance(target, c) for c in lowered}
    if (nearest := min(distance.values())) < math.inf:
        tied = [c for c, d in distance.items() if d == nearest]
    elif 0 < len(completions := [c for c in lowered if c.startswith(target)]) <= COMPLETIONS:
        tied = completions
    elif close := difflib.get_close_matches(target, list(lowered), n=len(lowered), cutoff=0.5):
        best = difflib.SequenceMatcher(None, target, close[0]).ratio()
        tied = [c for c in close if difflib.SequenceMatcher(None, target, c).ratio() == best]
        most = max(len(os.path.commonprefix([target, c])) for c in tied)
        tied = [c for c in tied if len(os.path.commonprefix([target, c])) == most]
    else:
        return ""
    named = " or ".join(f"'{c}'" for c in sorted((lowered[c] for c in tied), key=natural_key))
    return f"; did you mean {named}?"


def _number_distance(typed: str, choice: str) -> float:
    """How far the numbers in ``choice`` are from those in ``typed``, summed, where the two read alike around them
    ('w-3' and 'w-8': 5); infinite where they do not."""
    a, b = NUMBER.split(typed), NUMBER.split(choice)
    if a[::2] != b[::2]:
        return math.inf
    return sum(abs(float(x) - float(y)) for x, y in zip(a[1::2], b[1::2], strict=True))
