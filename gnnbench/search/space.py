"""Search spaces as ordered lists of fields, each belonging to an action class.

An architecture is a tuple of choice indices, one per :class:`Field`. Search algorithms only see fields,
their classes and their number of choices, so the same controller code searches GraphNAS/AGNN's macro space
(:func:`macro_space`) and NAS-Bench-Graph's cell space (:mod:`gnnbench.search.nasbench`). AGNN's "small step"
changes the fields of one action class (e.g. the activation of every layer) and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import torch

from gnnbench.search.layers import ACTIVATION_FUNCTIONS

Arch = tuple[int, ...]

#: GraphNAS's macro value lists (``graphnas/search_space.py``), plus AGNN's skip-connection class.
ATTENTIONS = ("gat", "gcn", "cos", "const", "gat_sym", "linear", "generalized_linear")
AGGREGATIONS = ("sum", "mean", "max", "mlp")
ACTIVATIONS = tuple(ACTIVATION_FUNCTIONS)  # sigmoid, tanh, relu, linear, softplus, leaky_relu, relu6, elu
HEADS = (1, 2, 4, 6, 8, 16)
HIDDEN = (4, 8, 16, 32, 64, 128, 256)
SKIP = (False, True)
#: the macro space's action classes, in the order a controller reads a layer's fields
MACRO_CLASSES = ("attention", "aggregation", "activation", "heads", "hidden", "skip")


@dataclass(frozen=True)
class Field:
    """One decision: ``name`` (e.g. ``activation[1]``), its action ``kind`` (class) and the values to pick from."""

    name: str
    kind: str
    choices: tuple[Any, ...]


@dataclass(frozen=True)
class Space:
    """Fields in reading order; ``valid`` rejects architectures the space cannot realise (None: all valid);
    ``canonical`` maps an architecture to a key shared by every architecture building the same network
    (None: the architecture itself)."""

    name: str
    fields: tuple[Field, ...]
    valid: Callable[[Arch], bool] | None = field(default=None, compare=False)
    canonical: Callable[[Arch], Hashable] | None = field(default=None, compare=False)

    @property
    def classes(self) -> tuple[str, ...]:
        """The action classes, in order of first appearance."""
        return tuple(dict.fromkeys(f.kind for f in self.fields))

    def indices(self, kind: str) -> tuple[int, ...]:
        """Positions of the fields of action class ``kind``."""
        return tuple(i for i, f in enumerate(self.fields) if f.kind == kind)

    def is_valid(self, arch: Arch) -> bool:
        return self.valid is None or self.valid(arch)

    def key(self, arch: Arch) -> Hashable:
        return arch if self.canonical is None else self.canonical(arch)

    def network_key(self, arch: Arch) -> Hashable | None:
        """The key of the network ``arch`` builds (isomorphic cells share one); None for an invalid one."""
        return self.key(arch) if self.is_valid(arch) else None

    def same_network(self, arch: Arch, other: Arch) -> bool:
        """Whether two architectures build the same network: equal, or both valid with the same key."""
        if arch == other:
            return True
        key = self.network_key(arch)
        return key is not None and key == self.network_key(other)

    def sample(self, generator: torch.Generator) -> Arch:
        """A uniformly random valid architecture (rejection sampling over the fields' product)."""
        while True:
            arch = tuple(int(torch.randint(len(f.choices), (1,), generator=generator)) for f in self.fields)
            if self.is_valid(arch):
                return arch

    def decode(self, arch: Arch) -> dict[str, Any]:
        """Field name -> chosen value."""
        if len(arch) != len(self.fields):
            raise ValueError(f"space '{self.name}' has {len(self.fields)} fields, got an architecture of {len(arch)}")
        return {f.name: f.choices[i] for f, i in zip(self.fields, arch, strict=True)}

    def describe(self, arch: Arch) -> str:
        """A readable form for records, e.g. ``attention[0]=gat,...``."""
        return ",".join(f"{k}={v}" for k, v in self.decode(arch).items())


def macro_space(layers: int = 2) -> Space:
    """GraphNAS's macro space with AGNN's skip class: per layer an attention function, an aggregation, an
    activation, a head count, a width and a skip connection; the last layer has no width field (its output
    is the class count, as in GraphNAS)."""
    if layers < 1:
        raise ValueError(f"a macro space needs at least one layer, got {layers}")
    values = {"attention": ATTENTIONS, "aggregation": AGGREGATIONS, "activation": ACTIVATIONS, "heads": HEADS,
              "hidden": HIDDEN, "skip": SKIP}
    fields = [Field(f"{kind}[{layer}]", kind, values[kind]) for layer in range(layers) for kind in MACRO_CLASSES
              if not (kind == "hidden" and layer == layers - 1)]
    return Space(f"macro{layers}", tuple(fields))


__all__ = ["Arch", "Field", "Space", "macro_space"]
