"""A metric's unit. A task names it (``Task.unit``) and every record carries it, so pages, plots and ``compare``
show a plugin task's metric as its task says, not as its name suggests."""

from __future__ import annotations

#: A value in [0, 1] (accuracy, F1, ROC-AUC): pages, plots and ``compare`` show it in percent.
FRACTION = "fraction"
#: Shown as recorded (a loss, an error in the target's unit, milliseconds).
AS_RECORDED = ""
UNITS = (FRACTION, AS_RECORDED)
#: The metrics shown in percent before records carried their unit: a record or a leaderboard CSV made before then
#: (it has no ``unit``) takes its unit from this list.
LEGACY_FRACTIONS = frozenset({"accuracy", "macro_f1", "micro_f1", "roc_auc", "rocauc", "ap", "average_precision",
                              "f1", "mrr", "hits@10", "hits@20", "hits@50", "hits@100"})


def legacy_unit(metric: object) -> str:
    """The unit a record or leaderboard written before units were recorded was shown in, by its metric's name."""
    return FRACTION if metric in LEGACY_FRACTIONS else AS_RECORDED


def scale(unit: str) -> float:
    """What a value is multiplied by to be shown: 100 for a fraction, else 1."""
    return 100.0 if unit == FRACTION else 1.0


def shown_unit(unit: str) -> str:
    """``fraction`` or ``as recorded``: a unit named in a note."""
    return unit or "as recorded"
