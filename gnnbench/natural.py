"""One order for the names and values gnnbench lists (:func:`natural_key`): the registry's names (``gnnbench list``,
its error messages) and the leaderboards' rows and values. Here, below both, so the registry need not import the
leaderboard."""

from __future__ import annotations

import math
import re

#: a run of digits as a number, decimals and a Python float's exponent included (0.05, 1e-05)
NUMBER = re.compile(r"(\d+(?:\.\d+)?(?:e[-+]?\d+)?)")


def natural_key(text: str) -> tuple:
    """The order people expect of names and values: numbers in them compared as numbers (HeteroEdgeCount-2 before
    HeteroEdgeCount-10, K=4 before K=16, lr=1e-05 before lr=0.0001), the rest as text; a value that is a finite
    number (-1) as one (``nan`` and ``inf`` are text, as in the HTML page's sort: a NaN key would make the order
    depend on the input's). A minus inside a name is a separator (HeteroEdgeCount-10), so ``K=-2`` sorts as
    ``K=2``. A plain string sort puts 10 before 2. The text itself breaks ties (2 and 2.0)."""
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
