"""Whole numbers typed on the command line: every count and size ``gnnbench`` takes reads the same."""

from __future__ import annotations

import math


def whole_number(text: str) -> int:
    """``text`` as an integer, written as one (``100000``) or as a finite float that is whole (``1e5``, ``2.0``).
    Not truncated: ``1.5e0`` is a ValueError."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number.is_integer()):
        raise ValueError(f"expected a whole number (e.g. 100000 or 1e5), got {text!r}")
    return int(number)
