"""An in-memory dataset built from a list of graphs (generated, or transformed once instead of per access)."""

from __future__ import annotations

from collections.abc import Sequence

from torch_geometric.data import Data, InMemoryDataset


class GraphCollection(InMemoryDataset):
    """``graphs`` collated into one in-memory dataset; indexing, slicing and ``DataLoader`` work as for TU sets."""

    def __init__(self, graphs: Sequence[Data]) -> None:
        super().__init__(None)
        self.data, self.slices = self.collate(list(graphs))
