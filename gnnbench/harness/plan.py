"""The plan's notes: a line per model entry on what the labels of its runs cannot show (grid points merged into
one run, keys run at their default where unread), printed above the runs by ``gnnbench run`` and ``--dry-run``
while some of the entry's runs are left to run. :mod:`gnnbench.harness.suite` makes one per such entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # for annotations only: spec imports this module
    from gnnbench.harness.spec import RunSpec


class PlanNote(NamedTuple):
    """A model entry's line in the plan, with the runs it is about."""

    runs: frozenset[tuple[str, str, str, str]]  # the entry's runs, seeds and scenarios aside: :func:`_group`
    line: str


#: How long a note may be: the plan prints it indented by two, within the project's 120 characters.
WIDTH = 118


def entry_note(key: str, model: str, points: int, datasets: Sequence[str], made: Iterable[RunSpec],
               unread: Mapping[str, set[str]]) -> PlanNote:
    """``experiments[0].models[0] (gcn): 6 grid points -> 4 configs; default where unread: heads, lr (on
    nasbench-cora)``: the entry at ``key``, its ``points`` on ``datasets`` merged into the configs of the runs it
    ``made`` (a config runs once per seed and scenario), and the ``unread`` keys it runs at their default (key ->
    the datasets where it does, named when not all). Within :data:`WIDTH` where it can be: where the names do not fit,
    the datasets are counted (``lr (on 3 of 5)``), else only marked (``lr (on some)``: not all), then the keys past
    those that fit are counted (``lr and 2 more``). Why each is unread is the model's or task's rule, which a suite
    setting the key where no point reads it is told; the plan's labels show the points that leave it out
    (``num_layers=1``)."""
    runs = frozenset(map(_group, made))
    on = f" x {len(datasets)} datasets" if len(datasets) > 1 else ""
    merged = f"{_count(points, 'grid point')}{on} -> {_count(len(runs), 'config')}"
    head = f"{key} ({model}): {merged}; default where unread: "
    keys = sorted(unread)
    partly = {k: [d for d in datasets if d in where] for k, where in unread.items() if len(where) < len(datasets)}
    named = [k + (f" (on {', '.join(partly[k])})" if k in partly else "") for k in keys]
    counted = [k + (f" (on {len(partly[k])} of {len(datasets)})" if k in partly else "") for k in keys]
    marked = [k + (" (on some)" if k in partly else "") for k in keys]
    forms = [", ".join(named), ", ".join(counted), ", ".join(marked),
             *(f"{', '.join(marked[:n])} and {len(keys) - n} more" for n in range(len(keys) - 1, 0, -1))]
    return PlanNote(runs, head + next((form for form in forms if len(head + form) <= WIDTH), min(forms, key=len)))


def notes_about(notes: Iterable[PlanNote], specs: Iterable[RunSpec]) -> list[str]:
    """The lines of the ``notes`` about any of ``specs`` (the runs a plan runs): a note of an entry whose runs are
    all recorded, or left out by ``--only``, tells of no run there."""
    runs = set(map(_group, specs))
    return [note.line for note in notes if note.runs & runs]


def _group(spec: RunSpec) -> tuple[str, str, str, str]:
    """(experiment, model, dataset, config): the runs of one model entry's grid point on a dataset (an experiment's
    entries share its datasets, so two entries with a point of one label would define the same runs), kept by
    ``--smoke``, whose runs have other ids."""
    return spec.experiment, spec.model, spec.dataset, spec.config


def _count(n: int, thing: str) -> str:
    """``1 grid point``, ``6 configs``."""
    return f"{n:,} {thing}{'s' * (n != 1)}"
