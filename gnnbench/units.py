"""A metric's unit. A task may name it (``Task.unit``); one that names none gets the unit its metric's name implies,
as every metric did before tasks named units. Every record carries the result, so pages, plots and ``compare``
show a metric as its task says, and a plugin's fraction under a name of its own in percent."""

from __future__ import annotations

#: A value in [0, 1] (accuracy, F1, ROC-AUC): pages, plots and ``compare`` show it in percent.
FRACTION = "fraction"
#: Shown as recorded (a loss, an error in the target's unit, milliseconds).
AS_RECORDED = ""
UNITS = (FRACTION, AS_RECORDED)
#: Metric names that are fractions: the unit of a task that names none, and of a record or a leaderboard CSV made
#: before records carried their unit.
NAMED_FRACTIONS = frozenset({"accuracy", "macro_f1", "micro_f1", "roc_auc", "rocauc", "ap", "average_precision",
                             "f1", "mrr", "hits@10", "hits@20", "hits@50", "hits@100"})


def unit_by_name(metric: object) -> str:
    """The unit ``metric``'s name implies: :data:`FRACTION` for the names of :data:`NAMED_FRACTIONS`."""
    return FRACTION if metric in NAMED_FRACTIONS else AS_RECORDED


def scale(unit: str) -> float:
    """What a value is multiplied by to be shown: 100 for a fraction, else 1."""
    return 100.0 if unit == FRACTION else 1.0


def shown_unit(unit: str) -> str:
    """``fraction`` or ``as recorded``: a unit named in a note."""
    return unit or "as recorded"
