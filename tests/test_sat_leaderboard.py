"""The SAT solving table: per family, solver and policy, for the selected configuration, pooled over seeds."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import wilcoxon

from gnnbench.leaderboard.sat import sat_frame, sat_markdown

#: The leaderboard's selection: the default configuration of neuroback.
BOARD = pd.DataFrame([{"task": "sat_solving", "dataset": "SAT-3SAT", "model": "neuroback", "config": "default",
                       "scenario": "none"}])


def record(config: str, seed: int, conflicts: dict[str, list[int]], solved: bool = True) -> dict:
    rows = [(f"f{i}", policy, c) for policy, values in conflicts.items() for i, c in enumerate(values)]
    return {"status": "ok", "spec": {"task": "sat_solving", "dataset": "SAT-3SAT", "model": "neuroback",
                                     "config": config, "seed": seed},
            "solving": {"family": ["uf75-325"] * len(rows), "formula": [f for f, _, _ in rows],
                        "solver": ["cadical195"] * len(rows), "policy": [p for _, p, _ in rows],
                        "solved": [solved] * len(rows), "status": [True] * len(rows),
                        "conflicts": [c for _, _, c in rows], "decisions": [2 * c for _, _, c in rows],
                        "propagations": [10 * c for _, _, c in rows], "solve_s": [0.001] * len(rows),
                        "inference_s": [0.01 if p == "neuroback" else 0.0 for _, p, _ in rows],
                        "variables": [10] * len(rows), "phased": [5 if p == "neuroback" else 0 for _, p, _ in rows],
                        "phased_backbone": [4 if p == "neuroback" else 0 for _, p, _ in rows],
                        "phased_agree": [3 if p == "neuroback" else 0 for _, p, _ in rows]}}


def test_sat_frame_pools_seeds_of_the_selected_config_and_computes_reductions() -> None:
    records = [record("default", 0, {"default": [10, 20, 30], "neuroback": [5, 10, 15]}),
               record("default", 1, {"default": [10, 20, 30], "neuroback": [5, 10, 15]}),
               record("lr=0.1", 0, {"default": [1, 1, 1], "neuroback": [100, 100, 100]}, solved=False)]
    frame = sat_frame(records, BOARD)
    assert frame["policy"].tolist() == ["default", "neuroback"]  # run order, not alphabetical
    default, neuroback = (frame.iloc[i] for i in range(2))
    assert default.formulas == 3 and default.runs == 6 and default.solved == 6
    assert default.median_conflicts == 20 and neuroback.median_conflicts == 10 and neuroback.median_decisions == 20
    assert neuroback.conflict_reduction == pytest.approx(0.5) and default.conflict_reduction == 0
    assert neuroback.inference_s == pytest.approx(0.01)
    # what a user waits for: the model's inference, then the solve
    assert (neuroback.mean_total_s, default.mean_total_s) == (pytest.approx(0.011), pytest.approx(0.001))
    text = "\n".join(sat_markdown(frame))
    assert "| cadical195 | neuroback | 6/6 | 10 |" in text and "+50.0%" in text
    assert neuroback.phased_fraction == 0.5 and neuroback.backbone_fraction == 0.8 and neuroback.agreement == 0.75
    assert default.phased_fraction == 0 and pd.isna(default.agreement)
    # the formula is the unit: two seeds solving the same three formulas are three pairs, not six (p 2 / 2**3)
    assert "| 10.0 | 11.0 | +50.0% | +50.0% | 3 / 0 | 0.25 | 0.25 | 50.0% | 75.0% |" in text  # one test: Holm = p
    assert default.fewer == default.more == 0 and pd.isna(default.paired_p)


def test_paired_counts_compare_each_formula_with_its_own_default_solve() -> None:
    """Equal medians (3 and 3), yet four of five formulas need more conflicts: pairing is per formula."""
    records = [record("default", 0, {"default": [1, 2, 3, 4, 5], "random": [2, 3, 4, 5, 1]})]
    random = sat_frame(records, BOARD).set_index("policy").loc["random"]
    assert random.median_conflicts == 3 and random.conflict_reduction == 0
    assert (random.fewer, random.more) == (1, 4)
    assert random.paired_p == pytest.approx(wilcoxon([1, 1, 1, 1, -4]).pvalue)  # the per-formula differences


def test_a_formulas_seeds_are_averaged_before_the_paired_test() -> None:
    """Each seed is paired with the same seed's default solve, then the formula's differences are averaged."""
    records = [record("default", 0, {"default": [10, 10, 10, 10], "neuroback": [4, 12, 9, 30]}),
               record("default", 1, {"default": [20, 20, 20, 20], "neuroback": [20, 4, 22, 0]})]
    neuroback = sat_frame(records, BOARD).set_index("policy").loc["neuroback"]
    differences = [(-6 + 0) / 2, (2 - 16) / 2, (-1 + 2) / 2, (20 - 20) / 2]  # the last formula ties: dropped
    assert (neuroback.fewer, neuroback.more) == (2, 1)
    assert neuroback.paired_p == pytest.approx(wilcoxon(differences[:3]).pvalue)


def test_holm_adjusts_the_paired_p_over_every_test_of_the_model_s_tables() -> None:
    """Three policies tested against the default: the smallest p is multiplied by 3, the next by 2 (kept at
    least the one before), the largest by 1; the default, which is no test, has none."""
    conflicts = {"default": [10 * i for i in range(1, 9)], "neuroback": [10 * i - i for i in range(1, 9)],
                 "random": [10 * i + (-1) ** i * i for i in range(1, 9)], "all_true": [10 * i - 1 for i in range(1, 9)]}
    frame = sat_frame([record("default", 0, conflicts)], BOARD).set_index("policy")
    p = frame["paired_p"].drop("default")
    order = p.sort_values().index
    expected = pd.Series([p[order[0]] * 3, max(p[order[0]] * 3, p[order[1]] * 2),
                          max(p[order[0]] * 3, p[order[1]] * 2, p[order[2]])], index=order).clip(upper=1)
    assert frame["holm_p"].drop("default").to_dict() == pytest.approx(expected.to_dict())
    assert pd.isna(frame.loc["default", "holm_p"]) and (frame["holm_p"].drop("default") > p).any()


def test_sat_frame_reads_records_made_before_coverage_was_recorded() -> None:
    old = record("default", 0, {"default": [10, 20], "neuroback": [5, 10]})
    for key in ("variables", "phased", "phased_backbone", "phased_agree"):
        del old["solving"][key]
    frame = sat_frame([old], BOARD)
    assert frame["median_conflicts"].tolist() == [15, 7.5] and frame["phased_fraction"].isna().all()
    assert "| – | – |" in "\n".join(sat_markdown(frame))
