"""A run record as its line of ``runs.jsonl``, and why a value cannot be one. A module of its own, below every
layer: the store writes with :func:`encode`, and the runner (a task's result) and the data layer's scenarios (what
one changed) check values with :func:`unrecordable` against that same encoding, without importing the harness."""

from __future__ import annotations

import json
from typing import Any


def encode(record: dict[str, Any]) -> bytes:
    """A record as its line of runs.jsonl; the runner checks a result with this too, so what it passes the
    store can write."""
    return (json.dumps(record, sort_keys=True, allow_nan=True) + "\n").encode()


def unrecordable(value: dict[str, Any]) -> str | None:
    """Why ``value`` cannot be written as JSON, and where in it (None when it can): a tensor or NumPy scalar
    left in a result or a scenario's record of what it changed is named by its path, before the store meets it."""
    try:
        encode(value)
    except (TypeError, ValueError) as exc:
        return f"{exc}{_at(value)}"
    return None


def _at(value: Any, path: str = "") -> str:
    """`` at metrics.test.accuracy`` where the first value JSON cannot record lies in ``value``; empty if none
    is found (a reference cycle, refused as a whole)."""
    if isinstance(value, dict):
        return next((found for k, v in value.items() if (found := _at(v, f"{path}.{k}" if path else str(k)))), "")
    if isinstance(value, (list, tuple)):
        return next((found for i, v in enumerate(value) if (found := _at(v, f"{path}[{i}]"))), "")
    try:
        encode({"value": value})
    except (TypeError, ValueError):
        return f" at {path} ({type(value).__module__}.{type(value).__qualname__})"
    return ""
