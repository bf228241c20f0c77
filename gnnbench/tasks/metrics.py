"""Classification metrics computed in torch (no scikit-learn dependency)."""

from __future__ import annotations

import math

import torch


def accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    return float((pred == target).float().mean()) if target.numel() else math.nan


def macro_f1(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> float:
    """Unweighted mean of per-class F1 over the classes present in ``target`` or ``pred`` (as scikit-learn)."""
    if not target.numel():
        return math.nan
    idx = target * num_classes + pred
    confusion = torch.bincount(idx, minlength=num_classes * num_classes).view(num_classes, num_classes).double()
    tp = confusion.diag()
    support = confusion.sum(1) + confusion.sum(0)  # = 2TP + FP + FN
    present = support > 0
    return float((2 * tp[present] / support[present]).mean())
