"""A comparison for people and machines: the summary line, rows as text (fraction metrics in points, untested
verdicts starred), the Markdown report (whose columns, legend and lines under its table the terminal's,
:mod:`gnnbench.cli.tables`, shares) and the CSV. What the rows say is decided in
:mod:`gnnbench.leaderboard.compare`; this module only shows it."""

from __future__ import annotations

import math
from pathlib import Path

from gnnbench import markdown, units
from gnnbench.leaderboard.compare import COMPARE_COLUMNS, DEFINED_BY, KEYS, UNDEFINED, VERDICTS, Comparison, n_text
from gnnbench.leaderboard.write import csv_float, decimals, shown_decimals

UNTESTED = ("`*`: too few per-seed values (one seed on each side, a hand-made row, a cost, which keeps only its "
            "mean, or a profile's median) or no spread among them (every seed the same value), so no test: the "
            "verdict rests on the minimum effect alone.")


def summary(comparison: Comparison) -> str:
    """``2 better, 1 worse, 5 same, 3 unclear; 1 only in A, 0 only in B`` (untested verdicts counted as well), then
    what a regression gate judged beyond the table (:func:`gate_notes`) and how much faster or slower B's machine
    ran than A's (:func:`probe_notes`)."""
    t = comparison.table
    counts = t["verdict"].value_counts()
    untested = sum(_starred(r.status, r.tested, r.verdict) for r in t.itertuples())
    undefined = counts.get(UNDEFINED, 0)
    return (", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICTS)
            + (f" ({untested} untested: verdict on the effect size alone)" if untested else "")
            + (f", {undefined} undefined (a mean is NaN, every run failed, both means are infinite, or the sides "
               f"differ in {' or '.join(['unit', *sorted(set(DEFINED_BY.values()))])}: see notes)"
               if undefined else "")
            + (f" (p Holm-adjusted over {int(t['tested'].sum())} tested rows)" if comparison.corrected else "")
            + (f" (--paired: {welch} row{'s' * (welch > 1)} tested with Welch's, {'their' if welch > 1 else 'its'} "
               "sides sharing fewer than two seeds, or a side without seeds or values or counting a seed twice)"
               if (welch := int((t["test"] == "welch").sum())) and comparison.paired else "")
            + (f", {comparison.without_cost} without {comparison.column} on either side left out"
               if comparison.without_cost else "")
            + f"; {int((t['status'] == 'only in A').sum())} only in A, {int((t['status'] == 'only in B').sum())} "
            f"only in B" + "".join(f". {note}" for note in [*gate_notes(comparison), *probe_notes(comparison)]))


def gate_notes(comparison: Comparison) -> list[str]:
    """What ``--fail-on-regression`` judged beyond the table: the rows whose selected configuration moved, as
    ``--ignore-config`` joins them (the table has them only in A and only in B), and which of them fail it; without
    this, a report kept would read ``0 worse`` beside an exit status of 1."""
    moved = comparison.moved[comparison.moved["status"] == "both"]
    if comparison.gate is None or moved.empty:
        return []
    failing = comparison.regressed(moved, comparison.gate)
    rows = len(moved)
    return [f"--fail-on-regression also judged the {rows} row{'s' * (rows > 1)} selected under another "
            "configuration on each side, as --ignore-config joins them: "
            + (f"{len(failing)} regression{'s' * (len(failing) > 1)} ("
               + ", ".join(f"{r.task} {r.dataset} {r.model}" for r in failing.itertuples(index=False)) + ")"
               if len(failing) else "no regression")]


def probe_notes(comparison: Comparison) -> list[str]:
    """``B's speed probes ran 1.38x slower than A's (...)``, per probe workload both sides ran, compared on a time:
    it includes how fast each machine ran that day, which no number here is rescaled for; or that one side has no
    probes, so that its silence is not read as machines of one speed."""
    notes = [f"{comparison.unprobed}'s rows have no speed probes (written before they were recorded): machine "
             "speed not compared"] if comparison.unprobed else []
    for workload, (ratio, rows) in comparison.probes.items():
        pace = ("as fast as" if round(ratio, 2) == 1 else f"{ratio:.2f}x slower than" if ratio > 1
                else f"{1 / ratio:.2f}x faster than")
        notes.append(f"B's speed probes ran {pace} A's (the median over {rows} row{'s' * (rows > 1)} both sides "
                     f"probed; {workload}): time ratios include that, unscaled")
    return notes


def _starred(status: str, tested: bool, verdict: str) -> bool:
    """A verdict reached without a test, on the minimum effect alone (an undefined one is no verdict)."""
    return status == "both" and not tested and verdict != UNDEFINED


def common_notes(comparison: Comparison) -> list[str]:
    """The notes of every compared row, when there are two or more (a new torch under every row): the tables for
    people state them once; the CSV keeps them on each row."""
    compared = comparison.table[comparison.table["status"] == "both"]["notes"]
    if len(compared) < 2:
        return []
    each = [set(filter(None, text.split("; "))) for text in compared]
    return [note for note in compared.iloc[0].split("; ") if note and all(note in notes for notes in each)]


def display_rows(comparison: Comparison) -> list[dict[str, str]]:
    """Rows as text for people: fraction metrics in percent, deltas signed, untested verdicts starred, the notes
    every row shares left to :func:`common_notes`. A delta and its interval are shown to the decimals the smallest of
    them needs (:func:`~gnnbench.leaderboard.write.shown_decimals`), never finer than the finer of the row's means:
    an MSE of 1.1e-6 against 3.3e-6 changes by +0.0000022, one of 1.1e-6 against 0.12 by +0.1233, where a
    float's noise of 1e-16 between means of 0.8 is +0.0000."""
    common = set(common_notes(comparison))
    asked = "paired" if comparison.paired else "welch"  # a row tested otherwise says so
    rows = []
    for r in comparison.table.itertuples(index=False):
        scale, digits = _scale(r.unit)
        smallest = min((abs(v) for v in (r.delta, r.ci_low, r.ci_high) if v and not math.isnan(v)), default=0.0)
        change = min(shown_decimals(smallest * scale, digits),  # their own, never finer than the finer mean's
                     max(shown_decimals(r.a_mean * scale, digits), shown_decimals(r.b_mean * scale, digits)))
        verdict = r.verdict + ("*" if _starred(r.status, r.tested, r.verdict) else "")
        rows.append({
            **{k: getattr(r, k) for k in KEYS},
            "A": _text(r.a_mean * scale, digits, n_text(r.a_n)), "B": _text(r.b_mean * scale, digits, n_text(r.b_n)),
            "delta": _text(r.delta * scale, change, sign=True),
            "ci": "–" if math.isnan(r.ci_low) else f"[{r.ci_low * scale:+.{change}f}, {r.ci_high * scale:+.{change}f}]",
            "rel": _text(r.rel_delta * 100, 2, sign=True, unit="%"),
            "p": p_text(r.p_value) + (f" {r.test}" if r.test != asked and not math.isnan(r.p_value) else ""),
            "verdict": verdict if r.status == "both" else r.status,
            "notes": "; ".join(note for note in r.notes.split("; ") if note and note not in common),
        })
    return rows


def varying_keys(rows: list[dict[str, str]]) -> list[str]:
    """The keys the tables for people give a column: dataset and model, and any other that differs between rows
    (:func:`footer` says the rest once)."""
    return [k for k in KEYS if k in ("dataset", "model") or len({r[k] for r in rows}) > 1]


def headers(comparison: Comparison, varying: list[str]) -> list[str]:
    """The columns of the tables for people: the varying keys, then ``A``, ``B``, ``Δ``, its interval at the
    comparison's level, ``Δ rel``, ``p`` with the tests the rows used (``no test`` where none was possible),
    ``verdict``, ``notes``."""
    used = set(comparison.table["test"])  # what the rows were tested with, whatever was asked; "": untested
    tests = " or ".join(name for test, name in (("welch", "Welch"), ("paired", "paired"), ("one seed", "one seed"))
                        if test in used)
    p = f"p ({tests}, Holm)" if comparison.corrected and tests else f"p ({tests or 'no test'})"
    return [*varying, "A", "B", "Δ", f"{100 * (1 - comparison.alpha):g}% CI of Δ", "Δ rel", p, "verdict", "notes"]


def sides(comparison: Comparison, quote: str = "`") -> str:
    """``A = `a.csv` (baseline), B = `b.csv```: which side is which, the baseline first (the paths in ``quote``)."""
    return f"A = {quote}{comparison.a}{quote} (baseline), B = {quote}{comparison.b}{quote}"


def legend(comparison: Comparison) -> str:
    """What Δ is and what the verdicts were judged at, under :func:`sides` atop the Markdown, under the table in
    the terminal."""
    return (f"Δ = B − A (fraction metrics in percentage points); verdict in each metric's direction at alpha = "
            f"{comparison.alpha:g}, minimum effect {effect_text(comparison)}.")


def footer(comparison: Comparison, rows: list[dict[str, str]], varying: list[str]) -> list[str]:
    """The lines under a table for people: the keys every row shares (``All rows: task = ..., metric =
    epoch_time_s.``), the notes every compared row has (:func:`common_notes`), and :data:`UNTESTED` where a verdict
    is starred."""
    fixed = [k for k in KEYS if k not in varying]
    lines = [f"All rows: {', '.join(f'{k} = {rows[0][k]}' for k in fixed)}."] if fixed and rows else []
    if common := common_notes(comparison):
        lines.append(f"Every compared row: {'; '.join(common)}.")
    if any(r["verdict"].endswith("*") for r in rows):
        lines.append(UNTESTED)
    return lines


def to_markdown(comparison: Comparison) -> str:
    """A Markdown report: what was compared and how, the summary, one table row per key, a legend."""
    rows = display_rows(comparison)
    varying = varying_keys(rows)
    lines = [f"# Compare: {comparison.b} against {comparison.a}", "",
             f"{sides(comparison)}; {legend(comparison)}", "", f"**{summary(comparison)}**", "",
             *markdown.table(headers(comparison, varying),
                             [[*(r[k] for k in varying), r["A"], r["B"], r["delta"], r["ci"], r["rel"], r["p"],
                               r["verdict"], r["notes"]] for r in rows]),
             "", *footer(comparison, rows, varying)]
    return "\n".join(lines) + "\n"


def to_csv(comparison: Comparison, path: Path | None = None) -> str:
    """The comparison as CSV: ``COMPARE_COLUMNS`` (means, deltas and intervals as a leaderboard's values,
    :func:`~gnnbench.leaderboard.write.csv_float`; ``rel_delta`` to six decimals; p-values to six significant
    digits), then what its p-values and verdicts were computed with: ``p_adjustment``, ``alpha``, ``min_effect``.
    Written to ``path`` when given."""
    out = comparison.table[COMPARE_COLUMNS].assign(p_adjustment="holm" if comparison.corrected else "none",
                                                   alpha=f"{comparison.alpha:g}",
                                                   min_effect=comparison.effect)
    for column in ("a_mean", "b_mean", "delta", "ci_low", "ci_high", "rel_delta", "p_value"):
        out[column] = ["" if math.isnan(v) else f"{v:.6g}" if column == "p_value"
                       else f"{v:.6f}" if column == "rel_delta" else csv_float(v, 6)
                       for v in out[column].astype(float)]
    for column in ("a_n", "b_n"):
        out[column] = [n_text(v) for v in out[column]]
    out["tested"] = out["tested"].map({True: "true", False: "false"})
    text = out.to_csv(index=False, lineterminator="\n")
    if path is not None:
        path.write_text(text, encoding="utf-8")
    return text


def p_text(p: float) -> str:
    """A p-value for people, three decimals so that a column of them lines up: ``0.027``, ``<0.001``, ``n/a``
    (the CSV keeps six significant digits)."""
    return "n/a" if math.isnan(p) else "<0.001" if p < 0.0005 else f"{p:.3f}"


def effect_text(comparison: Comparison) -> str:
    """The minimum effect as given, and in the points the tables show where fraction metrics are compared:
    ``0.02 (2 points)``, ``0.02 (2 points on fraction metrics)`` beside other units, ``5% of A``."""
    if comparison.relative:
        return f"{comparison.effect} of A"
    shown = set(comparison.table["unit"])
    if comparison.min_effect == 0 or units.FRACTION not in shown:
        return comparison.effect
    points = f"{comparison.min_effect * units.scale(units.FRACTION):g}"
    where = "" if shown == {units.FRACTION} else " on fraction metrics"
    return f"{comparison.effect} ({points} point{'s' * (points != '1')}{where})"


def _scale(unit: str) -> tuple[float, int]:
    """How the tables show a metric of ``unit``: fractions in points with 2 decimals, anything else as is with 4."""
    return units.scale(unit), 2 if unit == units.FRACTION else 4


def in_table_units(unit: str, value: float) -> str:
    """``82.02`` for an accuracy of 0.8202: a value as the tables show it."""
    scale, digits = _scale(unit)
    return _text(value * scale, digits)


def _text(value: float, digits: int, suffix: str = "", sign: bool = False, unit: str = "") -> str:
    """A value (a side's mean: a small one to two significant digits, :func:`~gnnbench.leaderboard.write.decimals`)
    or, ``sign``, a difference, kept to ``digits`` decimals (as :func:`display_rows` sizes them): a float's noise of
    1e-16 must read as no change."""
    if value is None or math.isnan(value):
        return "–"
    text = f"{round(value, digits) + 0.0:+.{digits}f}" if sign else decimals(value, digits)  # + 0.0: no "-0.00"
    return f"{text}{unit}" + (f" ({suffix})" if suffix else "")
