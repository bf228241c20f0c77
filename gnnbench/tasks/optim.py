"""Optimiser and learning-rate schedule of the mini-batch tasks, set by training hyperparameters.

``optimizer`` (``adam`` | ``adamw``), ``lr``, ``weight_decay``; a linear warm-up over ``warmup_epochs``
(the learning rate of epoch e < warmup is ``lr * (e + 1) / warmup``); then, when ``lr_patience > 0``,
``ReduceLROnPlateau(factor=lr_factor, patience=lr_patience)`` stepped on the **training loss** (the SIR-GCN
protocol: it decays the learning rate, it never stops training; early stopping stays on validation), or, when
``lr_step > 0``, the rate multiplied by ``lr_factor`` every ``lr_step`` epochs (``StepLR``: Errica et al.'s
schedule for every model of their TU comparison, step 50, factor 0.5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

from gnnbench.errors import not_one_of
from gnnbench.hparams import HparamError, OptionError

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def check_hparams(hparams: Mapping[str, Any]) -> None:
    """Reject the optimiser and schedule settings (those of ``hparams`` present) that cannot be built: the tasks'
    ``check_run`` calls this so a suite fails when loaded, and the builders below call it again at run time."""
    if "optimizer" in hparams and hparams["optimizer"] not in OPTIMIZERS:
        raise OptionError("optimizer", not_one_of(hparams["optimizer"], OPTIMIZERS))
    patience, every = int(hparams.get("lr_patience", 0)), int(hparams.get("lr_step", 0))
    if patience > 0 and every > 0:
        raise HparamError("lr_step", f"lr_patience ({patience}) and lr_step ({every}) are two schedules: set one")


def unread_schedule(hparams: Mapping[str, Any]) -> dict[str, str]:
    """``lr_factor`` when no schedule reads it (``lr_patience`` and ``lr_step`` both 0)."""
    if "lr_factor" in hparams and int(hparams.get("lr_patience", 0)) <= 0 and int(hparams.get("lr_step", 0)) <= 0:
        return {"lr_factor": "no schedule reads it (lr_patience and lr_step are 0; set one of them)"}
    return {}


def build_optimizer(params: Iterable[torch.nn.Parameter], hparams: Mapping[str, Any]) -> torch.optim.Optimizer:
    check_hparams(hparams)
    return OPTIMIZERS[hparams["optimizer"]](params, lr=hparams["lr"], weight_decay=hparams["weight_decay"])


class LRSchedule:
    """Linear warm-up, then reduce-on-plateau of the training loss or a step decay; call :meth:`step` once per
    epoch."""

    def __init__(self, optimizer: torch.optim.Optimizer, hparams: Mapping[str, Any]) -> None:
        check_hparams(hparams)
        self.optimizer = optimizer
        self.lr = float(hparams["lr"])
        self.warmup = int(hparams["warmup_epochs"])
        patience, self.every = int(hparams["lr_patience"]), int(hparams["lr_step"])
        self.factor = float(hparams["lr_factor"])
        self.plateau = (torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=self.factor, patience=patience)
                        if patience > 0 else None)
        self._set(self._warmup_lr(0))

    def step(self, epoch: int, train_loss: float) -> None:
        """After epoch ``epoch``: set the learning rate of the next epoch."""
        if epoch + 1 < self.warmup:
            self._set(self._warmup_lr(epoch + 1))
        elif epoch + 1 == self.warmup:
            self._set(self.lr)
        elif self.plateau is not None:
            self.plateau.step(train_loss)
        elif self.every > 0 and (epoch + 1 - self.warmup) % self.every == 0:
            self._set(self.current() * self.factor)

    def current(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _warmup_lr(self, epoch: int) -> float:
        return self.lr * (epoch + 1) / self.warmup if self.warmup > 0 else self.lr

    def _set(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
