"""A digest of what a dataset's loader returned, so that a record tells which data a plugin dataset gave it.

A built-in dataset is versioned by its raw files, verified against ``SHA256SUMS`` as it loads (a record's
``data.fingerprint``). A plugin's loader reads files gnnbench does not know of, and hashing its source file
says nothing of them: rebuilding the data (another preprocessing, a refreshed download) would leave the records
of the old data counted as runs of the new. So what the loader returned is hashed instead: every tensor's
dtype, shape and bytes, every other value's type and fields, walked in a fixed order.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Dataset, InMemoryDataset
from torch_geometric.data.data import BaseData

#: attributes of a torch_geometric dataset left out of its digest (:func:`_fields`)
BOOKKEEPING = frozenset({"root", "transform", "pre_transform", "pre_filter", "log", "force_reload", "_data", "slices",
                         "_data_list"})
#: values hashed by their ``repr``, which is stable for them (an arbitrary object's holds its address)
PLAIN = (bool, int, float, complex, str, bytes, type(None), torch.dtype, torch.device)


def data_sha256(data: Any) -> str:
    """The sha256 of ``data``: equal for equal tensors and values, whichever process loaded them."""
    digest = hashlib.sha256()
    _update(digest, data, set())
    return digest.hexdigest()


def data_sha256_or_none(data: Any) -> str | None:
    """:func:`data_sha256`, or None where ``data`` holds what it cannot walk: a run goes on without it (which data
    it used is then not recorded), and the driver cannot tell a change; a digest is bookkeeping, and the data may
    be fine."""
    try:
        return data_sha256(data)
    except Exception:
        return None


def _update(digest: Any, value: Any, seen: set[int]) -> None:
    """Feed ``value`` to ``digest``; ``seen``: the containers on the way here (an object that contains itself
    is fed as a marker the second time, not followed forever)."""
    if isinstance(value, np.generic):  # a NumPy scalar: its value, not its type alone
        value = value.item()
    if isinstance(value, PLAIN):
        digest.update(f"{type(value).__name__} {value!r};".encode())
    elif isinstance(value, os.PathLike):
        digest.update(f"path {os.fspath(value)!r};".encode())
    elif isinstance(value, (torch.Tensor, np.ndarray)):
        _update_array(digest, value, seen)
    elif id(value) in seen:
        digest.update(b"cycle;")
    else:
        seen.add(id(value))
        _update_container(digest, value, seen)
        seen.discard(id(value))


def _update_array(digest: Any, value: torch.Tensor | np.ndarray, seen: set[int]) -> None:
    if isinstance(value, torch.Tensor) and value.layout != torch.strided:  # sparse: its index tensors and values
        sparse = value.coalesce() if value.layout == torch.sparse_coo else value
        parts = ((sparse.indices(),) if value.layout == torch.sparse_coo else
                 (sparse.crow_indices(), sparse.col_indices()) if value.layout == torch.sparse_csr else
                 (sparse.ccol_indices(), sparse.row_indices()))
        _update(digest, (str(value.layout), tuple(value.shape), *parts, sparse.values()), seen)
        return
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        digest.update(f"tensor {value.dtype} {tuple(value.shape)};".encode())
        digest.update(value.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    elif value.dtype.hasobject:  # Python objects: each by its value
        _update(digest, ("object array", value.shape, value.ravel().tolist()), seen)
    else:  # numbers, fixed-width text, records: their bytes
        digest.update(f"array {value.dtype.str} {value.dtype.descr} {value.shape};".encode())
        digest.update(np.ascontiguousarray(value).tobytes())


def _update_container(digest: Any, value: Any, seen: set[int]) -> None:
    if isinstance(value, BaseData):  # Data, HeteroData, TemporalData: their stores' attributes
        _update(digest, (type(value).__name__, value.to_dict()), seen)
    elif isinstance(value, InMemoryDataset):  # collated: the storage, not graph after graph
        _update(digest, (type(value).__name__, value._data, value.slices, _fields(value)), seen)
    elif isinstance(value, Dataset):
        _update(digest, (type(value).__name__, [value.get(i) for i in range(value.len())]), seen)
    elif isinstance(value, (pd.DataFrame, pd.Series)):
        _update(digest, (type(value).__name__, value.to_dict()), seen)
    elif isinstance(value, Mapping):  # in the order of the keys' own digests: no address-bearing repr decides
        digest.update(f"mapping {len(value)};".encode())
        for key in sorted(value, key=data_sha256):
            _update(digest, key, seen)
            _update(digest, value[key], seen)
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__} {len(value)};".encode())
        for item in value:
            _update(digest, item, seen)
    elif isinstance(value, (set, frozenset)):
        _update(digest, sorted(value, key=data_sha256), seen)
    else:  # another object: its type and its fields
        fields = vars(value) if hasattr(value, "__dict__") else {
            name: getattr(value, name) for name in getattr(type(value), "__slots__", ()) if hasattr(value, name)}
        _update(digest, (type(value).__qualname__, fields), seen)


def _fields(dataset: InMemoryDataset) -> dict[str, Any]:
    """What a loader set on the dataset besides its storage (a ``split_idx``, the ``_indices`` of a subset), not
    torch_geometric's bookkeeping: its root folder differs between machines, and its transforms are code, which
    the loader's file is hashed for."""
    return {k: v for k, v in vars(dataset).items() if k not in BOOKKEEPING}
