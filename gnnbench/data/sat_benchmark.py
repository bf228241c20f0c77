"""SAT benchmarks: families of CNF formulas with backbone labels and NeuroBack graphs, split by role.

A benchmark names, for each of train / val / test, a list of families: vendored SATLIB slices
(:class:`SatlibSlice`, files verified against ``SHA256SUMS``) or seeded generated ones
(:class:`~gnnbench.data.cnf_generators.GeneratedFamily`). Every formula is parsed, labelled with its backbone
(python-sat, :mod:`gnnbench.data.backbone`) and turned into its component graphs (:mod:`gnnbench.data.sat`)
once; the result is cached on disk in ``<cache>/SATLIB/processed/`` (``<cache>/sat-generated/processed/`` for
generated families), labels beside the graphs in one file per family, so later runs only load it.

Registered: ``SAT-3SAT``, the suite's benchmark (see ``docs/models/neuroback.md``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import Tensor
from torch_geometric.data import Data

from gnnbench.data.backbone import backbone, backbone_labels
from gnnbench.data.cnf_generators import GeneratedFamily
from gnnbench.data.dimacs import Formula, read_dimacs
from gnnbench.data.sat import formula_graphs
from gnnbench.data.sources import cache_lock, cache_root, prepared
from gnnbench.files import replaced
from gnnbench.registry import register_dataset

PROCESSED_VERSION = 1
#: SATLIB folder -> file-name prefix (files are ``<prefix><number>.cnf``, numbered from 1)
SATLIB_PREFIX = {"uf20-91": "uf20-0", "uf50-218": "uf50-0", "uuf50-218": "uuf50-0", "uf75-325": "uf75-0"}


@dataclass(frozen=True)
class SatlibSlice:
    """Files ``first..last`` (by number, inclusive) of the vendored SATLIB folder ``family``."""

    family: str
    first: int
    last: int

    def __post_init__(self) -> None:
        if self.family not in SATLIB_PREFIX:
            raise ValueError(f"unknown SATLIB family {self.family!r}; vendored: {', '.join(SATLIB_PREFIX)}")
        if not 1 <= self.first <= self.last:
            raise ValueError(f"need 1 <= first <= last, got {self.first}..{self.last}")

    @property
    def name(self) -> str:
        return f"{self.family}[{self.first}-{self.last}]"


Family = SatlibSlice | GeneratedFamily


@dataclass
class SatInstance:
    """One formula: its family, backbone labels per variable and one model (None when unsatisfiable), and its
    component graphs."""

    family: str
    formula: Formula
    labels: Tensor | None
    model: tuple[int, ...] | None
    graphs: list[Data]

    @property
    def satisfiable(self) -> bool:
        return self.labels is not None


@dataclass
class SatBenchmark:
    """Formulas by role; a training protocol gets ``train`` and ``val`` only."""

    train: list[SatInstance]
    val: list[SatInstance]
    test: list[SatInstance] = field(default_factory=list)
    description: str = ""


def load_family(family: Family, data_root: str | Path | None = None) -> list[SatInstance]:
    """The labelled instances of ``family``, from the processed cache when it is there."""
    if not isinstance(family, SatlibSlice):
        with cache_lock(f"sat-generated-{family.name}"):  # one process labels a family, the others read it
            return _cached(family, cache_root() / "sat-generated", family.formulas, family.name)
    with prepared("SATLIB", data_root) as root:  # the raw files stay in place while they are read
        folder, prefix = root / "SATLIB" / family.family, SATLIB_PREFIX[family.family]
        return _cached(family, root / "SATLIB",
                       lambda: [read_dimacs(folder / f"{prefix}{i}.cnf") for i in range(family.first, family.last + 1)],
                       family.family)


def _cached(family: Family, root: Path, formulas: Callable[[], list[Formula]], label: str) -> list[SatInstance]:
    """The processed instances under ``root``, built from ``formulas()`` and saved on a miss. The file appears
    whole (renamed from a temporary file of this process), so concurrent first loads never read a torn one."""
    key = hashlib.sha256(repr((PROCESSED_VERSION, asdict(family))).encode()).hexdigest()[:12]
    cached = root / "processed" / f"{family.name}-{key}.pt"
    if cached.exists():
        return torch.load(cached, weights_only=False)
    instances = [labelled(f, label) for f in formulas()]
    cached.parent.mkdir(parents=True, exist_ok=True)
    with replaced(cached) as partial:
        torch.save(instances, partial)
    return instances


def labelled(formula: Formula, family: str) -> SatInstance:
    """``formula`` with its backbone labels and its component graphs."""
    found = backbone(formula)
    labels, model = (None, None) if found is None else (backbone_labels(formula, found[0]), found[1])
    return SatInstance(family=family, formula=formula, labels=labels, model=model,
                       graphs=formula_graphs(formula, labels))


def benchmark(train: list[Family], val: list[Family], test: list[Family], description: str = "",
              data_root: str | Path | None = None) -> SatBenchmark:
    """The instances of each split's families, labelled and converted once and cached (:func:`load_family`)."""

    def load(families: list[Family]) -> list[SatInstance]:
        return [inst for fam in families for inst in load_family(fam, data_root)]

    return SatBenchmark(train=load(train), val=load(val), test=load(test), description=description)


@register_dataset("SAT-3SAT", tasks=("sat_solving",), files="SATLIB",
                  source="SATLIB (Hoos & Stuetzle 2000) via sergedurand/SatSolver@204bcb0; generated with cnfgen",
                  stats="train 200 uf20 + 300 uf50 + 100 random n=50 + 100 planted n=100; val 100 uf50; "
                        "test 100 uf50, 100 uf75, 100 uuf50, 30 random n=150")
def sat_3sat(data_root: str | Path | None = None) -> SatBenchmark:
    """Random 3-SAT: train on SATLIB uf20/uf50 and generated formulas, test on held-out uf50/uf75/uuf50 and a
    larger generated family."""
    return benchmark(
        train=[SatlibSlice("uf20-91", 1, 200), SatlibSlice("uf50-218", 1, 300),
               GeneratedFamily("random", 50, 100, seed=0), GeneratedFamily("planted", 100, 100, seed=0, ratio=5.0)],
        val=[SatlibSlice("uf50-218", 301, 400)],
        test=[SatlibSlice("uf50-218", 401, 500), SatlibSlice("uf75-325", 1, 100), SatlibSlice("uuf50-218", 1, 100),
              GeneratedFamily("random", 150, 30, seed=1, ratio=4.2)],
        description="SATLIB uf20/uf50/uf75/uuf50 slices and generated random/planted 3-SAT",
        data_root=data_root)
