"""Robustness scenarios: perturbations of the training data, chosen per run with ``scenario:`` in a suite.

A scenario changes what a model learns from, never what it is judged on: label noise, class imbalance and
few-shot touch only the training labels and the training mask; validation and test labels stay clean. Nodes
dropped from training become unlabelled (-1), so a model's own ``fit`` cannot learn from them either. The
perturbation is drawn from the run's seed (each seed sees a different draw, the same seed the same one) and
what it changed is written into the record (``scenario`` section).

The same scenarios serve graph classification, where the training items are graphs: label noise flips graph
labels, imbalance and few-shot keep a subset of the training graphs, structure noise perturbs the edges of
every training graph (validation and test graphs stay clean). Structure noise also applies to graph regression.

Structure noise perturbs the graph itself. In transductive node classification the one graph is the input
of training and inference alike, so the perturbed graph is what the model sees throughout (a poisoning
setting); the labels used for validation and test are still the clean ones. It is refused on datasets whose
features or targets are computed from the edges (degree one-hots, substructure counts): they would describe
the clean graph, not the perturbed one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from gnnbench.data.checks import check_graph, described_value
from gnnbench.errors import DataError
from gnnbench.options import resolved_options
from gnnbench.recordable import unrecordable
from gnnbench.registry import defined_in, register_scenario

LABELLED = ("node_classification", "graph_classification")  # scenarios on training labels
ANY_GRAPH = (*LABELLED, "graph_regression")  # structure noise


class Scenario(ABC):
    """A perturbation of training data: of node classification (``apply``) or of training graphs
    (``apply_graphs``)."""

    name: str
    #: whether it changes edges: refused on datasets whose features or targets are computed from them
    changes_edges = False

    def generator(self, seed: int) -> torch.Generator:
        """A generator for this scenario and run seed, independent of the generators used for training."""
        options = resolved_options(self)  # an added option, while off, keeps the draws
        salt = int.from_bytes(hashlib.sha256(f"{self.name}:{options}".encode()).digest()[:4], "big")
        return torch.Generator().manual_seed(seed * 1_000_003 + salt)

    @abstractmethod
    def apply(self, data: Data, seed: int) -> tuple[Data, dict[str, Any]]:
        """(perturbed copy of ``data``, what was changed, for the record)."""

    @abstractmethod
    def apply_graphs(self, graphs: Sequence[Data], classes: int | None, seed: int) -> tuple[list[Data], dict[str, Any]]:
        """(perturbed training graphs, what was changed); ``classes`` is None for a regression target."""


def scenario_class_problem(name: str, cls: Any) -> str | None:
    """What a class registered as scenario ``name`` lacks of what the harness reads, or None. Checked when it is
    registered, rather than by a traceback when a suite names it."""
    if not (isinstance(cls, type) and issubclass(cls, Scenario)):
        return "is not a subclass of gnnbench.data.scenarios.Scenario"
    if inspect.isabstract(cls):
        return f"does not implement {', '.join(sorted(cls.__abstractmethods__))}"
    if not dataclasses.is_dataclass(cls):
        return "is not a dataclass; expected @dataclass(frozen=True) on it, its fields the options a suite sets"
    if getattr(cls, "name", None) != name:
        return (f"has name = {getattr(cls, 'name', None)!r}; expected name = {name!r}, the name it is registered "
                "under (its draws and leaderboard sections are named by it)")
    return None


def perturbed(scenario: Scenario, data: Data, seed: int) -> tuple[Data, dict[str, Any]]:
    """``scenario.apply`` on a copy of ``data``, checked to have changed the training data only: the labels and
    masks of validation and test nodes as they were, no validation or test node trained on, and the edges too
    unless it declares ``changes_edges``. A scenario that touched them would be scored on what it changed, or
    slip past the refusal on datasets whose features come from the edges, without a word; the copy keeps one
    that edits its input in place from changing the data the check compares with (and the loader's, which later
    runs may share)."""
    out, info = _unpacked(scenario, "apply", scenario.apply(data.clone(), seed), (Data, dict),
                          "(data, info): the perturbed Data and a dict of what it changed")
    _check_info(scenario, "apply", info)
    for key in ("y", "val_mask", "test_mask"):  # compared below; the task reads them after
        if not isinstance(value := getattr(out, key, None), Tensor):
            raise _misreturned(scenario, "apply", f"a {key} that is {described_value(value)}",
                               f"the {key} of the data it was given")
    _check_readable(scenario, "apply", "data", out)
    judged = data.val_mask | data.test_mask
    if not (torch.equal(out.val_mask, data.val_mask) and torch.equal(out.test_mask, data.test_mask)
            and out.y.shape == data.y.shape and torch.equal(out.y[judged], data.y[judged])):
        raise ValueError(f"{_named(scenario)} changed the labels or masks of validation or test nodes; a scenario "
                         "perturbs the training data only")
    train = getattr(out, "train_mask", None)
    if not (isinstance(train, Tensor) and train.dtype == torch.bool and train.shape == data.train_mask.shape):
        raise _misreturned(scenario, "apply", f"a train_mask that is {described_value(train)}",
                           f"a boolean tensor of one entry per node ({data.num_nodes})")
    if peeked := int((train & judged).sum()):  # trained on the nodes it is then scored on
        raise ValueError(f"{_named(scenario)} put {peeked} validation or test nodes in train_mask; a scenario may "
                         "drop training nodes or add nodes of no split, never a node it is judged on")
    _check_classes(scenario, "apply", out.y[train], int(data.y.max()) + 1)
    if not scenario.changes_edges and not torch.equal(out.edge_index, data.edge_index):
        raise _undeclared_edges(scenario)
    return out, info


def perturbed_graphs(scenario: Scenario, graphs: Sequence[Data], classes: int | None, seed: int,
                     level: str = "graph") -> tuple[list[Data], dict[str, Any]]:
    """``scenario.apply_graphs`` on copies of the training graphs, checked, unless it declares ``changes_edges``,
    to return graphs whose edges are those of the graphs it was given, and, for classes, labels of them (on
    ``level`` "node", -1 marks a node without a target, as the task reads it)."""
    out, info = _unpacked(scenario, "apply_graphs", scenario.apply_graphs([g.clone() for g in graphs], classes, seed),
                          (list, dict), "(graphs, info): a list of the training graphs and a dict of what changed")
    _check_info(scenario, "apply_graphs", info)
    for i, graph in enumerate(out):
        _check_readable(scenario, "apply_graphs", f"graph {i}", graph)
    if not scenario.changes_edges:
        given = {_edges(g) for g in graphs}
        if any(_edges(g) not in given for g in out):
            raise _undeclared_edges(scenario)
    if classes is not None:
        labels = torch.cat([g.y.view(-1) for g in out])
        _check_classes(scenario, "apply_graphs", labels[labels != -1] if level == "node" else labels, classes)
    return out, info


def _check_classes(scenario: Scenario, method: str, trained: Tensor, classes: int) -> None:
    """Every training label a class of the data: a label past the last class would silently widen the model
    (the node task counts the classes after the perturbation), a negative one fail inside the loss."""
    if (bad := trained[(trained < 0) | (trained >= classes)]).numel():
        raise _misreturned(scenario, method, f"training label {int(bad[0])}", f"a class of 0..{classes - 1}")


def _check_info(scenario: Scenario, method: str, info: dict[str, Any]) -> None:
    """What it changed, recordable as JSON: a tensor left in it would fail the run where the record is checked,
    named at the task rather than the scenario."""
    if (problem := unrecordable(info)) is not None:
        raise _misreturned(scenario, method, f"info that cannot be recorded as JSON ({problem})",
                           "numbers and text (.item() or .tolist() converts a tensor)")


def _check_readable(scenario: Scenario, method: str, what: str, graph: Data) -> None:
    """``graph`` as the task's data check wants it (float32 features, edges within its nodes): float64 features
    or an edge past the last node would fail inside the model, named at neither the scenario nor its file."""
    try:
        check_graph(graph)
    except DataError as exc:
        raise ValueError(f"{_named(scenario)} {method} returned {what} the task cannot read: {exc}") from None


def _edges(graph: Data) -> tuple[tuple[int, ...], bytes]:
    return tuple(graph.edge_index.shape), graph.edge_index.cpu().numpy().tobytes()


def _named(scenario: Scenario) -> str:
    """How an error names a scenario: by its name and where it is defined, the file to fix."""
    return f"scenario '{scenario.name}' ({defined_in(type(scenario))})"


def _undeclared_edges(scenario: Scenario) -> ValueError:
    return ValueError(f"{_named(scenario)} changed edges without declaring changes_edges = True, which keeps it off "
                      "datasets whose features or targets are computed from the edges")


def _misreturned(scenario: Scenario, method: str, returned: str, expected: str) -> ValueError:
    return ValueError(f"{_named(scenario)} {method} returned {returned}; expected {expected}")


def _unpacked(scenario: Scenario, method: str, returned: Any, types: tuple[type, ...], expected: str) -> tuple:
    """``returned``, checked to be a tuple of values of ``types``: a scenario returning another shape is named,
    rather than by an unpacking error in this file."""
    if not (isinstance(returned, tuple) and len(returned) == len(types)
            and all(isinstance(value, kind) for value, kind in zip(returned, types, strict=True))):
        what = (f"{len(returned)} values ({', '.join(type(v).__name__ for v in returned)})"
                if isinstance(returned, tuple) else type(returned).__name__)
        raise _misreturned(scenario, method, what, expected)
    return returned


class LabelScenario(Scenario):
    """A scenario on the training labels: it relabels and/or keeps a subset of the training items (nodes or
    graphs) through one rule, :meth:`perturb`."""

    @abstractmethod
    def perturb(self, y: Tensor, classes: int, generator: torch.Generator) -> tuple[Tensor, Tensor, dict[str, Any]]:
        """(new labels of the items, indices of the items kept, what was changed)."""

    def perturbed_labels(self, y: Tensor, classes: int, seed: int) -> tuple[Tensor, Tensor, dict[str, Any]]:
        """:meth:`perturb` of the run's draw, checked: a mistake in what it returns is named at the scenario, not
        by an indexing error in this file, and a kept label past the last class would silently widen the model
        (the node task counts the classes after the perturbation)."""
        labels, kept, info = _unpacked(self, "perturb", self.perturb(y, classes, self.generator(seed)),
                                       (Tensor, Tensor, dict), "(labels, kept indices, info)")
        _check_info(self, "perturb", info)
        if labels.shape != y.shape or labels.dtype != torch.long:
            raise _misreturned(self, "perturb", f"labels that are {described_value(labels)}",
                               f"int64 labels of the shape of y, {list(y.shape)}")
        items = f"an int64 vector of indices of the {y.numel()} items (0..{y.numel() - 1})"
        if kept.dim() != 1 or kept.dtype != torch.long:
            raise _misreturned(self, "perturb", f"kept indices that are {described_value(kept)}", items)
        if kept.numel() and not 0 <= int(kept.min()) <= int(kept.max()) < y.numel():
            raise _misreturned(self, "perturb", f"kept indices {int(kept.min())}..{int(kept.max())}", items)
        _check_classes(self, "perturb", labels[kept], classes)
        return labels, kept, info

    def apply(self, data: Data, seed: int) -> tuple[Data, dict[str, Any]]:
        train = data.train_mask.nonzero().view(-1)
        labels, keep, info = self.perturbed_labels(data.y[train], int(data.y.max()) + 1, seed)
        out = data.clone()
        out.y = data.y.clone()
        out.y[train] = -1
        out.y[train[keep]] = labels[keep]
        out.train_mask = torch.zeros_like(data.train_mask)
        out.train_mask[train[keep]] = True
        return out, info

    def apply_graphs(self, graphs: Sequence[Data], classes: int | None, seed: int) -> tuple[list[Data], dict[str, Any]]:
        if classes is None:
            raise ValueError(f"scenario '{self.name}' perturbs class labels; this task's targets are not classes")
        y = torch.cat([g.y.view(-1) for g in graphs])
        labels, keep, info = self.perturbed_labels(y, classes, seed)
        out = []
        for i in keep.tolist():
            graph = graphs[i].clone()
            graph.y = labels[i].view_as(graphs[i].y)
            out.append(graph)
        return out, info


def _per_class(y: Tensor, classes: int) -> list[int]:
    return torch.bincount(y, minlength=classes).tolist()


def _keep_per_class(y: Tensor, counts: list[int], generator: torch.Generator) -> Tensor:
    """Indices (sorted) of ``counts[c]`` randomly chosen items of each class c."""
    kept = []
    for cls, keep in enumerate(counts):
        members = (y == cls).nonzero().view(-1)
        kept.append(members[torch.randperm(members.numel(), generator=generator)[:keep]])
    return torch.cat(kept).sort().values


@register_scenario("label_noise", tasks=LABELLED, paper="symmetric label noise (e.g. Patrini et al., CVPR 2017)")
@dataclass(frozen=True)
class LabelNoise(LabelScenario):
    """Symmetric label noise: ``round(rate * |train|)`` training labels replaced by a different class, uniformly."""

    rate: float = 0.2
    name = "label_noise"

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError(f"label_noise rate must be in [0, 1], got {self.rate}")

    def perturb(self, y: Tensor, classes: int, generator: torch.Generator) -> tuple[Tensor, Tensor, dict[str, Any]]:
        flipped = torch.randperm(y.numel(), generator=generator)[: round(self.rate * y.numel())]
        shift = torch.randint(1, classes, (flipped.numel(),), generator=generator)  # never the true class
        labels = y.clone()
        labels[flipped] = (y[flipped] + shift) % classes
        return labels, torch.arange(y.numel()), {"flipped": int(flipped.numel()), "train": int(y.numel())}


@register_scenario("structure_noise", tasks=ANY_GRAPH, paper="random edge deletion / insertion (poisoning)")
@dataclass(frozen=True)
class StructureNoise(Scenario):
    """Drops a ``drop`` fraction of the undirected edges and adds ``add`` x |E| random non-edges of the original
    graph, or all of them where it has fewer (a dense graph); ``added`` records how many were added."""

    drop: float = 0.1
    add: float = 0.1
    name = "structure_noise"
    changes_edges = True

    def __post_init__(self) -> None:
        if not (0 <= self.drop <= 1 and self.add >= 0):
            raise ValueError(f"structure_noise needs 0 <= drop <= 1 and add >= 0, got {self.drop} and {self.add}")

    def apply(self, data: Data, seed: int) -> tuple[Data, dict[str, Any]]:
        out, info = self._perturb(data, self.generator(seed))
        return out, info

    def apply_graphs(self, graphs: Sequence[Data], classes: int | None, seed: int) -> tuple[list[Data], dict[str, Any]]:
        generator = self.generator(seed)
        out, totals = [], {"edges_before": 0, "dropped": 0, "added": 0}
        for graph in graphs:
            perturbed, info = self._perturb(graph, generator)
            out.append(perturbed)
            for key in totals:
                totals[key] += info[key]
        return out, {**totals, "graphs": len(out)}

    def _perturb(self, data: Data, generator: torch.Generator) -> tuple[Data, dict[str, int]]:
        row, col = data.edge_index
        undirected = data.edge_index[:, row < col]
        count = undirected.size(1)
        kept = undirected[:, torch.randperm(count, generator=generator)[round(self.drop * count):]]
        n = data.num_nodes
        # never added: an original edge, dropped ones included, so the candidates are the original non-edges
        off = row != col
        existing = set((row[off] * n + col[off]).tolist()) | set((col[off] * n + row[off]).tolist())
        wanted = min(round(self.add * count), n * (n - 1) // 2 - len(existing) // 2)  # a dense graph has fewer
        added: list[tuple[int, int]] = []
        while len(added) < wanted:  # rejection sampling of non-edges, in batches; ends as wanted <= candidates
            for u, v in torch.randint(0, n, (2 * (wanted - len(added)), 2), generator=generator).tolist():
                if u != v and u * n + v not in existing and len(added) < wanted:
                    existing.update((u * n + v, v * n + u))
                    added.append((min(u, v), max(u, v)))
        new = torch.tensor(added, dtype=torch.long).t().reshape(2, -1)
        out = data.clone()
        out.edge_index = to_undirected(torch.cat([kept, new], dim=1), num_nodes=n)
        if "edge_attr" in data:  # edges changed: their attributes no longer line up
            del out.edge_attr
        return out, {"edges_before": count, "dropped": count - kept.size(1), "added": len(added)}


@register_scenario("class_imbalance", tasks=LABELLED, paper="step imbalance (e.g. Zhao et al., GraphSMOTE, WSDM 2021)")
@dataclass(frozen=True)
class ClassImbalance(LabelScenario):
    """Step imbalance: the last ``minority_fraction`` of the classes keep ``ratio`` of their training items
    (at least one), so minority / majority training counts equal ``ratio`` on a balanced split."""

    ratio: float = 0.1
    minority_fraction: float = 0.5
    name = "class_imbalance"

    def __post_init__(self) -> None:
        if not (0 < self.ratio <= 1 and 0 < self.minority_fraction < 1):
            raise ValueError("class_imbalance needs 0 < ratio <= 1 and 0 < minority_fraction < 1, "
                             f"got {self.ratio} and {self.minority_fraction}")

    def perturb(self, y: Tensor, classes: int, generator: torch.Generator) -> tuple[Tensor, Tensor, dict[str, Any]]:
        before = _per_class(y, classes)
        first_minority = len(before) - max(1, round(self.minority_fraction * len(before)))
        counts = [n if c < first_minority else min(n, max(1, round(self.ratio * n))) for c, n in enumerate(before)]
        keep = _keep_per_class(y, counts, generator)
        return y, keep, {"train_per_class_before": before, "train_per_class": _per_class(y[keep], classes)}


@register_scenario("few_shot", tasks=LABELLED, paper="k labelled nodes or graphs per class")
@dataclass(frozen=True)
class FewShot(LabelScenario):
    """Exactly ``k`` labelled training items (nodes or graphs) per class, drawn from the split's training items."""

    k: int = 5
    name = "few_shot"

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"few_shot k must be >= 1, got {self.k}")

    def perturb(self, y: Tensor, classes: int, generator: torch.Generator) -> tuple[Tensor, Tensor, dict[str, Any]]:
        before = _per_class(y, classes)
        short = [c for c, n in enumerate(before) if n < self.k]
        if short:
            raise ValueError(f"few_shot k={self.k}: classes {short} have only {[before[c] for c in short]} training "
                             "items; use a larger training split or a smaller k")
        keep = _keep_per_class(y, [self.k] * classes, generator)
        return y, keep, {"train_per_class": _per_class(y[keep], classes)}
