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


def stratified_folds(y: torch.Tensor, folds: int, seed: int) -> list[torch.Tensor]:
    """Indices of the ``folds`` test folds of a stratified k-fold partition of ``y``, drawn with ``seed``.

    Every class is shuffled and dealt round-robin, continuing where the previous class stopped, so fold sizes
    differ by at most one and every class is spread over the folds in proportion.
    """
    if folds < 2 or folds > y.numel():
        raise ValueError(f"need 2 <= folds <= number of items ({y.numel()}), got {folds}")
    generator = torch.Generator().manual_seed(seed)
    classes = [(y == c).nonzero().view(-1) for c in torch.unique(y).tolist()]
    order = torch.cat([members[torch.randperm(members.numel(), generator=generator)] for members in classes])
    assignment = torch.empty_like(order)
    assignment[order] = torch.arange(order.numel()) % folds
    return [(assignment == f).nonzero().view(-1) for f in range(folds)]


def holdout(index: torch.Tensor, y: torch.Tensor | None, fraction: float, seed: int) -> tuple[torch.Tensor, ...]:
    """(rest, held out) of ``index``: ``round(fraction * n)`` items held out, per class when ``y`` is given."""
    if not 0 < fraction < 1:
        raise ValueError(f"holdout fraction must be in (0, 1), got {fraction}")
    generator = torch.Generator().manual_seed(seed)
    groups = [index] if y is None else [index[y[index] == c] for c in torch.unique(y[index]).tolist()]
    kept, held = [], []
    for group in groups:
        group = group[torch.randperm(group.numel(), generator=generator)]
        n_held = round(fraction * group.numel())
        held.append(group[:n_held])
        kept.append(group[n_held:])
    return torch.cat(kept).sort().values, torch.cat(held).sort().values
