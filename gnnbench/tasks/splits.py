"""Node splits: seeded, class-stratified random splits beside the datasets' own public splits."""

from __future__ import annotations

import torch


def stratified_masks(y: torch.Tensor, train: float, val: float, seed: int) -> tuple[torch.Tensor, ...]:
    """(train, val, test) boolean masks holding ``train``/``val``/rest of every class, drawn with ``seed``.

    Per class of size n: ``round(train * n)`` training nodes, ``round(val * n)`` validation nodes, the rest
    test, so every class appears in every split in proportion (classes of one node go to training).
    """
    check_fractions(train, val)
    generator = torch.Generator().manual_seed(seed)
    masks = [torch.zeros_like(y, dtype=torch.bool) for _ in range(3)]
    for cls in torch.unique(y[y >= 0]).tolist():
        members = (y == cls).nonzero().view(-1)
        members = members[torch.randperm(members.numel(), generator=generator)]
        n_train = max(1, round(train * members.numel()))
        n_val = min(round(val * members.numel()), members.numel() - n_train)
        masks[0][members[:n_train]] = True
        masks[1][members[n_train:n_train + n_val]] = True
        masks[2][members[n_train + n_val:]] = True
    return tuple(masks)


def check_fractions(train: float, val: float) -> None:
    if not (0 < train < 1 and 0 <= val < 1 and train + val < 1):
        raise ValueError(f"split fractions need 0 < train, 0 <= val and train + val < 1; got {train} and {val}")
