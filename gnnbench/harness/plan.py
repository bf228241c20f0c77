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


def entry_note(key: str, model: str, points: int, datasets: Sequence[str], scenarios: int,
               made: Iterable[RunSpec], unread: Mapping[str, set[str]]) -> PlanNote:
    """``experiments[0].models[0] (gcn): 6 grid points -> 4 runs per seed; run at the default where unread:
    heads, lr (on nasbench-cora)``: the entry at ``key``, its ``points`` on ``datasets`` under ``scenarios``
    merged into the runs it ``made``, and the ``unread`` keys it runs at their default (key -> the datasets
    where it does, named when not all). Why each is unread is the model's or task's rule, which a suite setting
    the key where no point reads it is told; the plan's labels show the points that leave it out
    (``num_layers=1``)."""
    runs = frozenset(map(_group, made))
    per = "per seed" + " and scenario" * (scenarios > 1)
    on = f" x {len(datasets)} datasets" if len(datasets) > 1 else ""
    keys = [name + ("" if len(where) == len(datasets) else f" (on {', '.join(d for d in datasets if d in where)})")
            for name, where in sorted(unread.items())]
    return PlanNote(runs, f"{key} ({model}): {_count(points, 'grid point')}{on} -> {_count(len(runs), 'run')} "
                          f"{per}; run at the default where unread: {', '.join(keys)}")


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
    """``1 grid point``, ``6 runs``."""
    return f"{n:,} {thing}{'s' * (n != 1)}"
