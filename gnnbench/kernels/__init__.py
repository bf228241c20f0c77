"""Message-passing backends a run can choose with ``kernel:`` in a suite; the choice is in every record.

``scatter`` is PyG's default path: messages per edge of ``edge_index`` reduced with
``torch_geometric.utils.scatter``, which uses torch's ``scatter_add_``/``scatter_reduce_`` and, for min/max
with gradients on GPU, ``torch_scatter`` when it is installed.
"""

from __future__ import annotations

import torch_geometric.typing

BACKENDS: dict[str, str] = {
    "scatter": "PyG utils.scatter on edge_index (torch scatter_add_/scatter_reduce_, torch_scatter where installed)",
}


def scatter_provider() -> str:
    """Which library serves PyG's scatter where it has a choice."""
    return "torch_scatter" if torch_geometric.typing.WITH_TORCH_SCATTER else "torch"
