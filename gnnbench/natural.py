"""One order for the names and values gnnbench lists (:func:`natural_key`): the registry's names (``gnnbench list``,
its error messages) and the leaderboards' rows and values. Here, below both, so the registry need not import the
leaderboard."""

from __future__ import annotations

import functools
import math
import re

#: a number in a name (:func:`natural_key` says which): a minus where it is a sign, one decimal point, a Python
#: float's exponent (0.05, 1e-05); of a dotted version (2.13.0, 1.9.dev24) each part on its own. ASCII letters and
#: digits only, as the page's JavaScript reads the same pattern (:mod:`gnnbench.leaderboard.html`)
NUMBER = re.compile(r"((?:(?<![\w.])-)?(?:(?<!\d\.)\d+\.\d+(?!\.\w|\d)|\d+)(?:e[-+]?\d+)?)", re.ASCII)


@functools.lru_cache(maxsize=1 << 16, typed=True)
def natural_key(text: str) -> tuple:
    """The order people expect of names and values: numbers in them compared as numbers (HeteroEdgeCount-2 before
    HeteroEdgeCount-10, K=4 before K=16, lr=1e-05 before lr=0.0001), the rest as text; a value that is a finite
    number (-1) as one (``nan`` and ``inf`` are text, as in the HTML page's sort: a NaN key would make the order
    depend on the input's). A plain string sort puts 10 before 2. The text itself breaks ties (2 and 2.0).

    Read as the suite writes its names: a minus after an (ASCII) letter, digit, underscore or dot joins words
    (HeteroEdgeCount-10, uf50-218), anywhere else it is a sign (``K=-2`` before ``K=0``, ``offset=-0.5``); a
    number with one dot is a decimal, as every hyperparameter and scenario option is written (``rate=0.25``
    before ``rate=0.5``, and so ``v1.10`` before ``v1.9``), one of a chain of dots a version's part
    (``torch=2.9.1`` before ``torch=2.10.0``, ``1.9.dev24``). The leaderboard page's click sort
    (:mod:`gnnbench.leaderboard.html`) splits text with the same :data:`NUMBER`.

    Cached (the key is immutable): a leaderboard sorts a few thousand names over a hundred thousand times."""
    number = _finite(text)
    if number is not None:
        parts = ["", number, ""]
    else:
        parts = NUMBER.split(text)
        parts[1::2] = map(float, parts[1::2])
    return tuple(parts), text


def _finite(text: str) -> float | None:
    """``text`` as a finite number, else None."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
