"""What a task's data must hold, checked once per dataset before any run (``Task.check_data``): a plugin loader
that returns a dict, float class labels or edges past the last node is named there, rather than failing every
run with a torch error deep in a model."""

from __future__ import annotations

from typing import Any

import torch
from torch_geometric.data import Data, Dataset, TemporalData

from gnnbench.errors import DataError


def check_graph(data: Any) -> None:
    """A PyG ``Data`` with features ``x`` of one row per node and ``edge_index`` of node ids below ``num_nodes``.
    Float features are finite and float32, as the models' weights (``torch.from_numpy`` keeps NumPy's float64,
    which fails in the first matrix product); integer features are ids for a model that embeds them."""
    if not isinstance(data, Data):
        raise DataError(f"the loader returned {type(data).__name__}; expected a torch_geometric.data.Data with "
                        "x, edge_index and y")
    x, edge_index = getattr(data, "x", None), getattr(data, "edge_index", None)
    if not (isinstance(x, torch.Tensor) and x.dim() == 2 and x.dtype != torch.bool):
        raise DataError(f"x is {described_value(x)}; expected a float32 tensor of one row of features per node (or "
                        "integer ids, for a model that embeds them)")
    if x.is_floating_point() and (rows := nonfinite_rows(x)).numel():  # else every run fails at its first loss
        raise DataError(f"x holds NaN or infinite features in {len(rows)} node{'s' * (len(rows) > 1)} (first: node "
                        f"{int(rows[0])}); expected finite features (a missing value needs filling before training)")
    if x.is_floating_point() and x.dtype != torch.float32:
        raise DataError(f"x is {described_value(x)}; expected float32 features, as the models' weights (x.float() "
                        "converts them)")
    if not (isinstance(edge_index, torch.Tensor) and edge_index.dim() == 2 and edge_index.size(0) == 2
            and edge_index.dtype == torch.long):
        raise DataError(f"edge_index is {described_value(edge_index)}; expected a long tensor of shape [2, edges]")
    check_edges(edge_index, x.size(0))


def check_edges(edge_index: torch.Tensor, nodes: int) -> None:
    """``edge_index`` of node ids below ``nodes``: an id past them fails inside a model's scatter."""
    if edge_index.numel() and not 0 <= int(edge_index.min()) <= int(edge_index.max()) < nodes:
        raise DataError(f"edge_index holds node ids {int(edge_index.min())}..{int(edge_index.max())}; expected ids "
                        f"of the {nodes} nodes of x (0..{nodes - 1})")


def check_classes(y: Any, items: int, what: str) -> None:
    """Class ids: an int64 tensor of one entry per item (what the losses take), -1 for an unlabelled one."""
    if not (isinstance(y, torch.Tensor) and y.dim() == 1 and y.numel() == items and y.dtype == torch.long):
        raise DataError(f"y is {described_value(y)}; expected an int64 tensor of one class id per {what} ({items} "
                        "here), -1 where unlabelled (y.long() converts integer ids)")
    if y.numel() and int(y.min()) < -1:
        raise DataError(f"y holds {int(y.min())}; expected class ids from 0, and -1 where unlabelled")


def check_graph_set(dataset: Any) -> Data:
    """A PyG dataset of graphs (``InMemoryDataset``; a list of ``Data`` wrapped in
    ``gnnbench.data.collection.GraphCollection``), its first graph checked as :func:`check_graph`, with ``y``, and,
    collated in memory, the features and edges of every graph (a few milliseconds on NCI1's 4,110 graphs); a
    dataset read graph by graph is checked at its first only. Returns that graph."""
    if not isinstance(dataset, Dataset):
        hint = " (wrap a list of Data in gnnbench.data.collection.GraphCollection)" if isinstance(dataset, list) else ""
        raise DataError(f"the loader returned {type(dataset).__name__}; expected a torch_geometric dataset of graphs"
                        f"{hint}")
    if not len(dataset):
        raise DataError("the loader returned a dataset without graphs")
    first = dataset[0]
    try:
        check_graph(first)
    except DataError as exc:
        raise DataError(f"its first graph: {exc}") from None
    if getattr(first, "y", None) is None:
        raise DataError("its first graph has no y; expected every graph's target in y")
    stored, slices = getattr(dataset, "_data", None), getattr(dataset, "slices", None) or {}
    x = getattr(stored, "x", None)
    collated = isinstance(x, torch.Tensor) and x.is_floating_point() and "x" in slices  # every graph, in memory
    if collated and (bad := nonfinite_rows(x)).numel():
        graph = int(torch.searchsorted(slices["x"], bad[0], right=True)) - 1
        raise DataError(f"graph {graph} holds NaN or infinite features; expected finite features (a missing value "
                        "needs filling before training)")
    if "x" in slices and "edge_index" in slices:  # collated: each graph's node ids from 0, as the first's
        _check_edges_of_every_graph(stored.edge_index, slices["edge_index"], slices["x"])
    return first


def _check_edges_of_every_graph(edge_index: torch.Tensor, edge_slices: torch.Tensor, node_slices: torch.Tensor) -> None:
    """Every graph's edges within its own nodes, at once over the collated storage: a later graph's edge past its
    nodes would otherwise fail inside a model, at the batch that holds it."""
    graph = torch.repeat_interleave(edge_slices.diff())  # the graph of each edge
    nodes = node_slices.diff()
    outside = ((edge_index < 0) | (edge_index >= nodes[graph])).any(dim=0).nonzero()
    if outside.numel():
        g = int(graph[outside[0]])
        try:
            check_edges(edge_index[:, edge_slices[g]:edge_slices[g + 1]], int(nodes[g]))
        except DataError as exc:
            raise DataError(f"graph {g}: {exc}") from None


def check_split_idx(split_idx: Any, graphs: int) -> None:
    """A dataset's own split of its ``graphs`` (``split_idx``, as OGB ships it, keyed train, val, test): each a
    non-empty 1-D integer tensor of graph indices in range, every graph in one split at most, once. Node masks get
    the same checks: a test graph trained on would be scored as unseen, and the run recorded a success."""
    names = ("train", "val", "test")
    if not isinstance(split_idx, dict) or set(split_idx) != set(names):
        keys = ", ".join(sorted(map(str, split_idx))) if isinstance(split_idx, dict) else described_value(split_idx)
        raise DataError(f"split_idx holds {keys or 'nothing'}; expected train, val and test graph indices")
    owner = torch.full((graphs,), -1)
    for i, name in enumerate(names):
        index = split_idx[name]
        if not (isinstance(index, torch.Tensor) and index.dim() == 1 and index.dtype in (torch.long, torch.int)):
            raise DataError(f"split_idx['{name}'] is {described_value(index)}; expected a 1-D integer tensor of "
                            "graph indices")
        if not index.numel():
            raise DataError(f"split_idx['{name}'] is empty; expected the indices of its graphs")
        if (outside := index[(index < 0) | (index >= graphs)]).numel():
            raise DataError(f"split_idx['{name}'] holds graph {int(outside[0])}; the dataset has graphs "
                            f"0..{graphs - 1}")
        index = index.long()
        if (twice := (torch.bincount(index, minlength=graphs) > 1).nonzero()).numel():
            raise DataError(f"split_idx['{name}'] lists graph {int(twice[0])} twice; expected each graph once")
        if (shared := index[owner[index] >= 0]).numel():
            graph = int(shared[0])
            raise DataError(f"graph {graph} is in split_idx['{names[int(owner[graph])]}'] and in "
                            f"split_idx['{name}']; expected each graph in one split at most")
        owner[index] = i


def check_stream(data: Any) -> None:
    """A PyG ``TemporalData`` of events sorted by time: integer ``src``, ``dst`` and ``t``, and a float ``msg`` row
    per event. Unsorted events would make the chronological split mix past and future, without an error."""
    if not isinstance(data, TemporalData):
        raise DataError(f"the loader returned {type(data).__name__}; expected a torch_geometric.data.TemporalData "
                        "(gnnbench.data.temporal.stream builds one from src, dst, t, msg)")
    fields = {k: getattr(data, k, None) for k in ("src", "dst", "t", "msg")}
    events = fields["src"].numel() if isinstance(fields["src"], torch.Tensor) else -1
    for key in ("src", "dst", "t"):
        value = fields[key]
        if not (isinstance(value, torch.Tensor) and value.dim() == 1 and value.numel() == events
                and not value.is_floating_point() and value.dtype != torch.bool):
            raise DataError(f"{key} is {described_value(value)}; expected an integer tensor of one entry per event")
    msg = fields["msg"]
    if not (isinstance(msg, torch.Tensor) and msg.dim() == 2 and msg.size(0) == events and msg.is_floating_point()):
        raise DataError(f"msg is {described_value(msg)}; expected a float tensor of one row of features per event")
    if (bad := nonfinite_rows(msg)).numel():
        raise DataError(f"msg holds NaN or infinite features in {bad.numel()} event{'s' * (bad.numel() > 1)} (first: "
                        f"event {int(bad[0])}); expected finite features")
    unsorted = (fields["t"][1:] < fields["t"][:-1]).nonzero()
    if unsorted.numel():
        at = int(unsorted[0]) + 1
        raise DataError(f"t is not sorted: event {at} (t={int(fields['t'][at])}) comes after t="
                        f"{int(fields['t'][at - 1])}; expected events in time order (gnnbench.data.temporal.stream "
                        "sorts them)")


def described_value(value: Any) -> str:
    """A value a check names: a tensor by its dtype and shape, else by its type (``missing`` for None)."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of dtype {str(value.dtype).removeprefix('torch.')} and shape {list(value.shape)}"
    return "missing" if value is None else type(value).__name__


def nonfinite_rows(features: torch.Tensor) -> torch.Tensor:
    """The indices of the rows of ``features`` holding a NaN or an infinity: the nodes or events to name."""
    return torch.nonzero(~torch.isfinite(features).all(dim=1)).flatten()
