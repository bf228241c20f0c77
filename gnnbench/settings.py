"""A run's settings, compared the way its run id hashes them.

Three places tell settings apart: the suite refuses runs that would share a leaderboard row with other settings,
the leaderboard warns about a row whose records were made with other settings, and ``compare`` notes what
changed between two leaderboards. They flatten and compare with the functions here, so one key reads and counts
the same in all three (``task_options.split``, ``epochs``, ``hparams.lr``; :func:`shown` writes their values,
:func:`seed_ranges` their seeds).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_ABSENT = object()


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, floats as Python's shortest repr: equal settings give equal strings, also once
    written to a record and read back. JSON writes every key as text, so keys are sorted as the text they become
    (``{2: .., 10: ..}`` and its record's ``{"2": .., "10": ..}`` both as ``"10"``, ``"2"``): a run id hashed
    from a suite's setting is the one its record's spec hashes to."""
    text_keys = obj if _keys_are_text(obj) else _keys_as_text(obj)  # the check: about half the cost of the copy
    return json.dumps(text_keys, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _keys_are_text(obj: Any) -> bool:
    """Whether every mapping in ``obj`` is a dict keyed by text already, as every built-in setting is (tested by
    exact types first: an ``isinstance`` against ``Mapping`` on every value would cost what the check saves)."""
    if type(obj) in _SCALARS:
        return True
    if type(obj) is dict:
        return all(type(k) is str and _keys_are_text(v) for k, v in obj.items())
    if type(obj) in (list, tuple):
        return all(_keys_are_text(v) for v in obj)
    return not isinstance(obj, Mapping)  # another mapping: copied as a dict by _keys_as_text


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _keys_as_text(obj: Any) -> Any:
    """``obj`` with every mapping's keys as JSON writes them (``2`` -> ``"2"``, ``True`` -> ``"true"``); keys JSON
    refuses are refused as it does, and two keys that would be written alike (``2`` and ``"2"``) are an error, not
    a value silently lost."""
    if isinstance(obj, Mapping):
        texts = {k if isinstance(k, str) else _key_text(k): _keys_as_text(v) for k, v in obj.items()}
        if len(texts) < len(obj):
            raise ValueError(f"keys {sorted(map(repr, obj))} are written alike as JSON text")
        return texts
    if isinstance(obj, list | tuple):
        return [_keys_as_text(v) for v in obj]
    return obj


def _key_text(key: Any) -> str:
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(key, allow_nan=False)  # NaN or an infinity: ValueError, as for a value
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def flatten(setting: Mapping[str, Any]) -> dict[str, Any]:
    """``{"task_options": {"split": "random"}, "epochs": 4}`` -> ``{"task_options.split": "random", "epochs": 4}``."""
    return {f"{k}.{sub}" if isinstance(v, dict) else k: x for k, v in setting.items()
            for sub, x in (v.items() if isinstance(v, dict) else [(None, v)])}


def shown(setting: Mapping[str, Any], key: str) -> str:
    """A value as the three reports write it: text as it is, anything else as JSON (``null``, ``true``,
    ``[16,32]``), and ``–`` where the setting lacks the key."""
    if key not in setting:
        return "–"
    value = setting[key]
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


#: what a run's spec sets besides its row (task, dataset, model, scenario) and seed
RUN_FIELDS = ("task_options", "hparams", "epochs", "patience", "device", "kernel")


def run_setting(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A run spec's :data:`RUN_FIELDS`, flattened: what tells apart two runs of one leaderboard row."""
    return flatten({k: spec.get(k) for k in RUN_FIELDS})


def described(settings: Sequence[Mapping[str, Any]], sep: str = " vs ", join: str = "; ") -> str:
    """``epochs 200 vs 50; task_options.split public vs random``: each key that differs, with its value in each
    setting, in their order (``sep=" -> "`` for a before and an after; ``join=", "`` inside a text that ``"; "``
    already separates)."""
    return join.join(f"{k} {sep.join(shown(s, k) for s in settings)}" for k in differing(settings))


def differing(settings: Sequence[Mapping[str, Any]]) -> list[str]:
    """The sorted keys whose values are not all equal as canonical JSON (1 and 1.0 differ, as in a run id); a
    key that some settings lack differs from every value, None included."""
    keys = sorted({k for s in settings for k in s})
    return [k for k in keys
            if len({canonical_json(s[k]) if k in s else _ABSENT for s in settings}) > 1]


def seed_ranges(seeds: Iterable[int], sep: str = ", ") -> str:
    """``0-4, 7``: the distinct seeds in order, consecutive ones as a range."""
    spans: list[list[int]] = []
    for n in sorted(set(seeds)):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return sep.join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
