"""A digest of what a dataset's loader returned, so that a record tells which data a plugin dataset gave it.

A built-in dataset is versioned by its raw files, verified against ``SHA256SUMS`` as it loads (a record's
``data.fingerprint``). A plugin's loader reads files gnnbench does not know of, and hashing its source file
says nothing of them: rebuilding the data (another preprocessing, a refreshed download) would leave the records
of the old data counted as runs of the new. So what the loader returned is hashed instead: every tensor's
dtype, shape and bytes, every other value's type and fields, walked in a fixed order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Dataset, InMemoryDataset
from torch_geometric.data.data import BaseData

#: attributes of a torch_geometric dataset left out of its digest (:func:`_fields`)
BOOKKEEPING = frozenset({"root", "transform", "pre_transform", "pre_filter", "log", "force_reload", "_data", "slices",
                         "_data_list"})
#: values hashed by their ``repr``, which is stable for them (an arbitrary object's holds its address)
PLAIN = (bool, int, float, complex, str, bytes, type(None))


def data_sha256(data: Any) -> str:
    """The sha256 of ``data``: equal for equal tensors and values, whichever process loaded them."""
    digest = hashlib.sha256()
    _update(digest, data)
    return digest.hexdigest()


def _update(digest: Any, value: Any) -> None:
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"tensor {tensor.dtype} {tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, PLAIN):
        digest.update(f"{type(value).__name__} {value!r};".encode())
    elif isinstance(value, BaseData):  # Data, HeteroData, TemporalData: their stores' attributes
        _update(digest, (type(value).__name__, value.to_dict()))
    elif isinstance(value, InMemoryDataset):  # collated: the storage, not graph after graph
        _update(digest, (type(value).__name__, value._data, value.slices, _fields(value)))
    elif isinstance(value, Dataset):
        _update(digest, (type(value).__name__, [value.get(i) for i in range(value.len())]))
    elif isinstance(value, Mapping):
        digest.update(f"mapping {len(value)};".encode())
        for key in sorted(value, key=repr):
            _update(digest, key)
            _update(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__} {len(value)};".encode())
        for item in value:
            _update(digest, item)
    elif isinstance(value, (set, frozenset)):
        _update(digest, sorted(value, key=repr))
    else:  # another object: its type and its fields
        _update(digest, (type(value).__qualname__, vars(value) if hasattr(value, "__dict__") else None))


def _fields(dataset: InMemoryDataset) -> dict[str, Any]:
    """What a loader set on the dataset besides its storage (a ``split_idx``, the ``_indices`` of a subset), not
    torch_geometric's bookkeeping: its root folder differs between machines, and its transforms are code, which
    the loader's file is hashed for."""
    return {k: v for k, v in vars(dataset).items() if k not in BOOKKEEPING}
