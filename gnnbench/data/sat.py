"""NeuroBack's graph form of a CNF formula (Wang et al., ICLR 2024), one PyG ``Data`` per connected component.

Nodes, with the scalar feature ``x`` that alone tells their kind:

* one node per variable that occurs in the formula (``x = 1``), ordered by DIMACS id;
* one node per clause (``x = -1``), in file order;
* one root node per weakly connected component (``x = 0``), last.

There are no literal nodes: polarity lives on the edges. ``edge_attr`` is ``+1`` for a variable-clause edge of
a positive occurrence, ``-1`` for a negative one and ``0`` for the root-clause edges (the root joins every
clause of its component, which bounds the diameter by 4 hops). Edges are stored in both directions (NeuroBack's
files keep one and its loader adds the reverse), first the literal edges variable -> clause, then root -> clause,
then the same edges reversed. The relation type the model uses is ``edge_attr + 1`` (0 negative, 1 root,
2 positive).

The formula is split into weakly connected components (variables linked through shared clauses) with
``scipy.sparse.csgraph.connected_components``; each becomes its own ``Data`` with its own root, and
``var_ids`` maps every node to its DIMACS variable (0 for clause and root nodes), so per-component predictions
merge back by variable id (:func:`merge_by_variable`). Unlike NeuroBack, which drops components with fewer than
3 nodes or without a backbone variable, every component is kept: the solver needs a score for every variable,
and a component without labelled variables adds nothing to the loss.

Labels (``y``, variable nodes only; ``-1`` elsewhere) follow NeuroBack's convention: ``0`` the positive literal
is in the backbone, ``1`` the negative literal is, ``2`` not a backbone variable (masked from the loss).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from torch import Tensor
from torch_geometric.data import Data

from gnnbench.data.dimacs import Formula

VARIABLE, CLAUSE, ROOT = 1.0, -1.0, 0.0
POSITIVE, NEGATIVE, NOT_BACKBONE, NO_LABEL = 0, 1, 2, -1


def formula_graphs(formula: Formula, labels: Tensor | None = None) -> list[Data]:
    """One ``Data`` per connected component of ``formula``, ordered by its smallest variable id.

    ``labels[v]`` (``v = 1..num_vars``; index 0 unused) is the backbone label of variable ``v``; without it
    ``y`` is absent. An empty clause joins no variable and is left out (the formula is trivially unsatisfiable).
    """
    clauses = [c for c in formula.clauses if c]
    lit_clause = np.repeat(np.arange(len(clauses)), [len(c) for c in clauses])
    literals = np.fromiter((lit for c in clauses for lit in c), dtype=np.int64, count=lit_clause.size)
    variables = np.abs(literals)
    n_cells = formula.num_vars + 1 + len(clauses)  # variable v is cell v, clause j is cell num_vars + 1 + j
    adjacency = coo_matrix((np.ones(variables.size), (variables, formula.num_vars + 1 + lit_clause)),
                           shape=(n_cells, n_cells))
    _, component = connected_components(adjacency, directed=False)
    occurring = np.unique(variables)
    graphs = []
    for comp in dict.fromkeys(component[occurring]):  # in order of each component's smallest variable
        vars_here = occurring[component[occurring] == comp]
        clauses_here = np.flatnonzero(component[formula.num_vars + 1:] == comp)
        graphs.append(_component(vars_here, clauses_here, literals, variables, lit_clause, labels))
    return graphs


def _component(vars_here: np.ndarray, clauses_here: np.ndarray, literals: np.ndarray, variables: np.ndarray,
               lit_clause: np.ndarray, labels: Tensor | None) -> Data:
    n_vars, n_clauses = vars_here.size, clauses_here.size
    var_node = {int(v): i for i, v in enumerate(vars_here)}
    clause_node = {int(c): n_vars + j for j, c in enumerate(clauses_here)}
    root = n_vars + n_clauses
    keep = np.isin(lit_clause, clauses_here)
    src = [var_node[int(v)] for v in variables[keep]] + [root] * n_clauses
    dst = [clause_node[int(c)] for c in lit_clause[keep]] + [clause_node[int(c)] for c in clauses_here]
    attr = np.concatenate([np.sign(literals[keep]), np.zeros(n_clauses, dtype=np.int64)])
    one_way = torch.tensor([src, dst], dtype=torch.long)
    x = torch.tensor([VARIABLE] * n_vars + [CLAUSE] * n_clauses + [ROOT]).unsqueeze(1)
    var_ids = torch.zeros(root + 1, dtype=torch.long)
    var_ids[:n_vars] = torch.from_numpy(vars_here)
    data = Data(x=x, edge_index=torch.cat([one_way, one_way.flip(0)], dim=1),
                edge_attr=torch.from_numpy(np.concatenate([attr, attr])), var_ids=var_ids, num_nodes=root + 1)
    if labels is not None:
        y = torch.full((root + 1,), NO_LABEL, dtype=torch.long)
        y[:n_vars] = labels[var_ids[:n_vars]]
        data.y = y
    return data


def merge_by_variable(graphs: list[Data], scores: list[Tensor], num_vars: int) -> Tensor:
    """Per-variable scores of a formula from its components' per-node scores: ``out[v]`` for DIMACS variable
    ``v`` (index 0 unused), NaN for variables that occur in no clause."""
    out = torch.full((num_vars + 1,), float("nan"))
    for graph, score in zip(graphs, scores, strict=True):
        is_var = graph.var_ids > 0
        out[graph.var_ids[is_var]] = score[is_var].float()
    return out
