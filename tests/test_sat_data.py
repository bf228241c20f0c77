"""CNF data: the DIMACS reader (SATLIB quirks, malformed files) and NeuroBack's graph form."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gnnbench.data.dimacs import DimacsError, Formula, parse_dimacs, read_dimacs
from gnnbench.data.sat import formula_graphs, merge_by_variable

SATLIB = Path(__file__).resolve().parents[1] / "datasets" / "SATLIB"


def test_satlib_file_with_comments_and_percent_trailer() -> None:
    formula = read_dimacs(SATLIB / "uf20-91" / "uf20-01.cnf")
    assert formula.num_vars == 20 and len(formula.clauses) == 91 and formula.name == "uf20-01"
    assert formula.clauses[0] == (4, -18, 19) and all(len(c) == 3 for c in formula.clauses)


def test_quirks_spanning_lines_and_missing_last_zero() -> None:
    text = "c hello\n\np cnf  3 3 \n1 -2\n 0 2 3 0\nc mid comment\n-1 -3"
    assert parse_dimacs(text).clauses == ((1, -2), (2, 3), (-1, -3))
    round_trip = parse_dimacs(Formula(3, ((1, -2), (2, 3))).to_dimacs())
    assert round_trip.clauses == ((1, -2), (2, 3))


@pytest.mark.parametrize(("text", "line", "words"), [
    ("1 2 0\n", 1, "before the 'p cnf"),
    ("c x\np cnf 3\n1 2 0\n", 2, "expected 'p cnf"),
    ("p dnf 3 1\n1 2 0\n", 1, "expected 'p cnf"),
    ("p cnf three 1\n1 2 0\n", 1, "two integers"),
    ("p cnf 3 2\n1 2 0\n-1 4 0\n", 3, "literal 4 is out of range"),
    ("p cnf 3 2\n1 x 0\n", 2, "expected an integer literal"),
    ("p cnf 3 3\n1 2 0\n2 3 0\n", 3, "truncated: the header declares 3 clauses, the file ends after 2"),
    ("p cnf 3 1\n1 2 0\n2 3 0\n", 3, "more clauses"),
    ("c only a comment\n", 1, "no 'p cnf"),
])
def test_malformed_files_name_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "bad.cnf"
    path.write_text(text)
    with pytest.raises(DimacsError) as info:
        read_dimacs(path)
    assert str(info.value).startswith(f"{path}: line {line}: ") and words in str(info.value)
    assert info.value.line == line


def test_graph_of_three_variables_two_clauses() -> None:
    """p cnf 3 2 / 1 -2 0 / 2 3 0: 3 variable, 2 clause and 1 root node; 2 x (4 literal + 2 root) edges."""
    (graph,) = formula_graphs(parse_dimacs("p cnf 3 2\n1 -2 0\n2 3 0\n"))
    assert graph.x.view(-1).tolist() == [1, 1, 1, -1, -1, 0]
    assert graph.var_ids.tolist() == [1, 2, 3, 0, 0, 0]
    assert graph.edge_index.size(1) == 2 * (4 + 2) == graph.edge_attr.numel()
    one_way = {(s, d): a for (s, d), a in zip(graph.edge_index.t().tolist(), graph.edge_attr.tolist(), strict=True)}
    expected = {(0, 3): 1, (1, 3): -1, (1, 4): 1, (2, 4): 1, (5, 3): 0, (5, 4): 0}
    assert {k: v for k, v in one_way.items() if k in expected} == expected
    assert len(one_way) == 12 and all(one_way[(d, s)] == a for (s, d), a in expected.items())  # reverse edges


def test_variable_disjoint_subformulas_become_components_merged_by_variable_id() -> None:
    formula = parse_dimacs("p cnf 6 3\n4 -5 0\n1 -2 0\n2 3 0\n")  # {1,2,3} and {4,5}; 6 never occurs
    graphs = formula_graphs(formula, labels=torch.tensor([-1, 0, 1, 2, 0, 1, 2]))
    assert len(graphs) == 2
    assert [g.var_ids[g.x.view(-1) == 1].tolist() for g in graphs] == [[1, 2, 3], [4, 5]]
    assert [int((g.x == 0).sum()) for g in graphs] == [1, 1]  # one root each
    assert [g.num_nodes for g in graphs] == [3 + 2 + 1, 2 + 1 + 1]
    assert graphs[0].y.tolist() == [0, 1, 2, -1, -1, -1] and graphs[1].y.tolist() == [0, 1, -1, -1]
    merged = merge_by_variable(graphs, [g.var_ids.float() / 10 for g in graphs], formula.num_vars)
    assert merged[1:6].tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5]) and merged[6].isnan()


def test_satlib_slices_load_labelled_and_cached() -> None:
    pytest.importorskip("pysat")
    from gnnbench.data.sat_benchmark import SatlibSlice, load_family

    sat = load_family(SatlibSlice("uf75-325", 1, 3))
    unsat = load_family(SatlibSlice("uuf50-218", 1, 2))
    assert [i.formula.name for i in sat] == ["uf75-01", "uf75-02", "uf75-03"] and all(i.satisfiable for i in sat)
    assert all(i.labels is None and i.model is None for i in unsat)
    assert all(int(g.y[g.x.view(-1) == 1].min()) >= 0 for i in sat for g in i.graphs)
    again = load_family(SatlibSlice("uf75-325", 1, 3))  # from the processed cache
    assert all(torch.equal(a.labels, b.labels) for a, b in zip(sat, again, strict=True))
    with pytest.raises(ValueError, match="unknown SATLIB family"):
        SatlibSlice("uf100-430", 1, 2)
