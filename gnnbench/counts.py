"""Whole numbers typed on the command line: the counts and sizes of ``gnnbench profile`` (``--sizes``, ``--rows``,
``--batches``, ...) and ``gnnbench run --workers`` read ``100000`` and ``1e5`` alike."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def whole_number(text: str) -> int:
    """``text`` as an integer, written as one (``100000``) or as a number whose exact decimal value is whole
    (``1e5``, ``2.0``). Never rounded: ``1.5e0``, and ``1.0000000000000001`` (1.0 as a float), are ValueErrors, as is
    a number of more than 19 digits (``1e400000000`` would take the memory to write out, and no count is that large)."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if number.is_finite() and number and number.adjusted() > 18:
        raise ValueError(f"expected a whole number of at most 19 digits, got {text!r}")
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"expected a whole number (e.g. 100000 or 1e5), got {text!r}")
    return int(number)
