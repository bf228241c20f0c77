"""Robustness scenarios: perturbations of the training data, chosen per run with ``scenario:`` in a suite.

A scenario changes what a model learns from, never what it is judged on: label noise, class imbalance and
few-shot touch only the training labels and the training mask; validation and test labels stay clean. The
perturbation is drawn from the run's seed (each seed sees a different draw, the same seed the same one) and
what it changed is written into the record (``scenario`` section).

Structure noise perturbs the graph itself. In transductive node classification the one graph is the input
of training and inference alike, so the perturbed graph is what the model sees throughout (a poisoning
setting); the labels used for validation and test are still the clean ones.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from gnnbench.registry import register_scenario

NODE = ("node_classification",)


class Scenario(ABC):
    """A perturbation of node-classification training data (``train_mask`` and ``y`` of training nodes)."""

    name: str

    def generator(self, seed: int) -> torch.Generator:
        """A generator for this scenario and run seed, independent of the generators used for training."""
        salt = int.from_bytes(hashlib.sha256(f"{self.name}:{asdict(self)}".encode()).digest()[:4], "big")
        return torch.Generator().manual_seed(seed * 1_000_003 + salt)

    @abstractmethod
    def apply(self, data: Data, seed: int) -> tuple[Data, dict[str, Any]]:
        """(perturbed copy of ``data``, what was changed, for the record)."""


def _train_per_class(data: Data) -> list[int]:
    classes = int(data.y.max()) + 1
    return torch.bincount(data.y[data.train_mask], minlength=classes).tolist()


def _keep_per_class(data: Data, counts: list[int], generator: torch.Generator) -> Data:
    """A copy whose training mask keeps ``counts[c]`` randomly chosen training nodes of each class c."""
    out = data.clone()
    out.train_mask = torch.zeros_like(data.train_mask)
    for cls, keep in enumerate(counts):
        members = (data.train_mask & (data.y == cls)).nonzero().view(-1)
        chosen = members[torch.randperm(members.numel(), generator=generator)[:keep]]
        out.train_mask[chosen] = True
    return out


@register_scenario("label_noise", tasks=NODE, paper="symmetric label noise (e.g. Patrini et al., CVPR 2017)")
@dataclass(frozen=True)
class LabelNoise(Scenario):
    """Symmetric label noise: ``round(rate * |train|)`` training labels replaced by a different class, uniformly."""

    rate: float = 0.2
    name = "label_noise"

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError(f"label_noise rate must be in [0, 1], got {self.rate}")

    def apply(self, data: Data, seed: int) -> tuple[Data, dict[str, Any]]:
        generator = self.generator(seed)
        classes = int(data.y.max()) + 1
        train = data.train_mask.nonzero().view(-1)
        flipped = train[torch.randperm(train.numel(), generator=generator)[: round(self.rate * train.numel())]]
        shift = torch.randint(1, classes, (flipped.numel(),), generator=generator)  # never the true class
        out = data.clone()
        out.y = data.y.clone()
        out.y[flipped] = (data.y[flipped] + shift) % classes
        return out, {"flipped": int(flipped.numel()), "train": int(train.numel())}


@register_scenario("structure_noise", tasks=NODE, paper="random edge deletion / insertion (poisoning)")
@dataclass(frozen=True)
class StructureNoise(Scenario):
    """Drops a ``drop`` fraction of the undirected edges and adds ``add`` x |E| random new ones."""

    drop: float = 0.1
    add: float = 0.1
    name = "structure_noise"

    def __post_init__(self) -> None:
        if not (0 <= self.drop <= 1 and self.add >= 0):
            raise ValueError(f"structure_noise needs 0 <= drop <= 1 and add >= 0, got {self.drop} and {self.add}")

    def apply(self, data: Data, seed: int) -> tuple[Data, dict[str, Any]]:
        generator = self.generator(seed)
        row, col = data.edge_index
        undirected = data.edge_index[:, row < col]
        count = undirected.size(1)
        kept = undirected[:, torch.randperm(count, generator=generator)[round(self.drop * count):]]
        n, wanted = data.num_nodes, round(self.add * count)
        existing = set((row * n + col).tolist())
        added: list[tuple[int, int]] = []
        while len(added) < wanted:  # rejection sampling of non-edges, in batches
            for u, v in torch.randint(0, n, (2 * (wanted - len(added)), 2), generator=generator).tolist():
                if u != v and u * n + v not in existing and len(added) < wanted:
                    existing.update((u * n + v, v * n + u))
                    added.append((min(u, v), max(u, v)))
        new = torch.tensor(added, dtype=torch.long).t().reshape(2, -1)
        out = data.clone()
        out.edge_index = to_undirected(torch.cat([kept, new], dim=1), num_nodes=n)
        return out, {"edges_before": count, "dropped": count - kept.size(1), "added": len(added)}


@register_scenario("class_imbalance", tasks=NODE, paper="step imbalance (e.g. Zhao et al., GraphSMOTE, WSDM 2021)")
@dataclass(frozen=True)
class ClassImbalance(Scenario):
    """Step imbalance: the last ``minority_fraction`` of the classes keep ``ratio`` of their training nodes
    (at least one), so minority / majority training counts equal ``ratio`` on a balanced split."""

    ratio: float = 0.1
    minority_fraction: float = 0.5
    name = "class_imbalance"

    def __post_init__(self) -> None:
        if not (0 < self.ratio <= 1 and 0 < self.minority_fraction < 1):
            raise ValueError("class_imbalance needs 0 < ratio <= 1 and 0 < minority_fraction < 1, "
                             f"got {self.ratio} and {self.minority_fraction}")

    def apply(self, data: Data, seed: int) -> tuple[Data, dict[str, Any]]:
        before = _train_per_class(data)
        first_minority = len(before) - max(1, round(self.minority_fraction * len(before)))
        counts = [n if c < first_minority else min(n, max(1, round(self.ratio * n))) for c, n in enumerate(before)]
        out = _keep_per_class(data, counts, self.generator(seed))
        return out, {"train_per_class_before": before, "train_per_class": _train_per_class(out)}


@register_scenario("few_shot", tasks=NODE, paper="k labelled nodes per class")
@dataclass(frozen=True)
class FewShot(Scenario):
    """Exactly ``k`` labelled training nodes per class, drawn from the split's training nodes."""

    k: int = 5
    name = "few_shot"

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"few_shot k must be >= 1, got {self.k}")

    def apply(self, data: Data, seed: int) -> tuple[Data, dict[str, Any]]:
        before = _train_per_class(data)
        short = [c for c, n in enumerate(before) if n < self.k]
        if short:
            raise ValueError(f"few_shot k={self.k}: classes {short} have only {[before[c] for c in short]} training "
                             "nodes; use a larger training split (split: random) or a smaller k")
        out = _keep_per_class(data, [self.k] * len(before), self.generator(seed))
        return out, {"train_per_class": _train_per_class(out)}
