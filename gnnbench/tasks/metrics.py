"""Classification and ranking metrics, in torch: they run every epoch on every validation split, where
scikit-learn takes 12 to 42 times as long on 500 to 1,000 items (``benchmarks/metrics.py``, docs/BENCHMARKS.md).
Each follows scikit-learn's, OGB's or TGB's definition, ties included; ``tests/test_link_task.py`` and
``tests/test_node_task.py`` check them against scikit-learn on random scores."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


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


def classification(scores: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Accuracy, macro-F1 and cross-entropy of class ``scores`` (one row per item, one column per class)."""
    pred = scores.argmax(-1)
    return {"accuracy": accuracy(pred, target), "macro_f1": macro_f1(pred, target, scores.size(-1)),
            "loss": float(F.cross_entropy(scores, target))}


def check_scored(model: torch.nn.Module, scores: torch.Tensor, items: str) -> None:
    """A ValueError naming ``model`` when a row of the selected model's class ``scores`` holds NaN: argmax reads
    such a row as class 0, which would be scored and ranked as if it were a prediction."""
    nan = torch.isnan(scores).any(-1)
    if nan.any():
        raise ValueError(f"{type(model).__name__} returned NaN class scores in eval mode for {int(nan.sum())} "
                         f"{items} after training (argmax would read them as class 0)")


def roc_auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Area under the ROC curve: the Mann-Whitney statistic, tied scores counting one half (as scikit-learn)."""
    positive = labels.bool()
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return math.nan
    order = scores.argsort()
    _, inverse, counts = torch.unique_consecutive(scores[order], return_inverse=True, return_counts=True)
    mid_rank = counts.cumsum(0).double() - (counts.double() - 1) / 2  # 1-based average rank of each tie group
    ranks = torch.empty(scores.numel(), dtype=torch.float64, device=scores.device)
    ranks[order] = mid_rank[inverse]
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Sum over thresholds of (recall increase) x precision, tied scores forming one threshold (as scikit-learn)."""
    n_pos = int(labels.bool().sum())
    if not n_pos:
        return math.nan
    order = scores.argsort(descending=True)
    _, counts = torch.unique_consecutive(scores[order], return_counts=True)
    last = counts.cumsum(0) - 1  # the last position of every threshold group
    tp = labels[order].double().cumsum(0)[last]
    precision, recall = tp / (last + 1), tp / n_pos
    return float(((recall - torch.cat([recall.new_zeros(1), recall[:-1]])) * precision).sum())


def hits_at_k(scores: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    """OGB's Hits@K: the share of positives scored strictly above the K-th best negative (ties count as misses)."""
    positive = labels.bool()
    negatives = scores[~positive]
    if not int(positive.sum()):
        return math.nan
    if negatives.numel() < k:
        return 1.0
    kth = negatives.topk(k).values[-1]
    return float((scores[positive] > kth).double().mean())


def mrr(positive: torch.Tensor, negatives: torch.Tensor) -> float:
    """Mean reciprocal rank of each positive score among its row of negative scores (``[n]`` vs ``[n, K]``),
    tie-aware as TGB: the rank is the mean of the optimistic (``1 + #neg > pos``) and pessimistic
    (``1 + #neg >= pos``) ranks, so a constant scorer gets ``1 / (1 + K / 2)``, not 1."""
    if not positive.numel():
        return math.nan
    pos = positive.unsqueeze(1)
    rank = 1 + 0.5 * ((negatives > pos).sum(1) + (negatives >= pos).sum(1)).double()
    return float((1 / rank).mean())
