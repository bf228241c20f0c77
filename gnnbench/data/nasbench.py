"""NAS-Bench-Graph's light tables (Qin et al., NeurIPS 2022 Datasets and Benchmarks) as datasets.

The ``nas-bench-graph`` wheel (1.4.0) ships, for each dataset, a pickled ``dict`` from an architecture's
``Arch(link, ops).valid_hash()`` to its mean validation accuracy (``valid_perf``), test accuracy (``perf``),
inference latency and parameter count (millions) over three training seeds. The pickles hold numpy scalars,
so they are read with an unpickler that resolves only those two numpy globals, after checking the files'
sha256 against the sums below. The tables serve the ``architecture_search`` task as zero-cost evaluators.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import warnings
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from gnnbench.errors import DataError
from gnnbench.registry import dataset_loader, register_dataset

SOURCE = "PyPI nas-bench-graph 1.4.0 (THUMNLab, Apache-2.0), nas_bench_graph/light/<name>.bench"
#: sha256 of the light tables in the nas-bench-graph 1.4.0 wheel
SHA256 = {
    "cora": "5e69b2f9bb08d8927d9ffd4921f8494a3cea349c9c3a461334cb9dc9e11701a8",
    "citeseer": "99c7f79b73372636305bf73fb32a58b63c57bd1871a152dd62ec72d984c8c50f",
    "pubmed": "10b4dcf6cfd3a24f6059f7d541a4a872960b4adac0b3dba26abed1bb9a3d904d",
}
#: the only globals a light table may reference
ALLOWED_GLOBALS = {("numpy", "dtype"), ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")}


class TableUnpickler(pickle.Unpickler):
    """Refuses every global but numpy's scalar reconstruction, so a table cannot run code when loaded."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a NAS-Bench-Graph table")
        with warnings.catch_warnings():  # numpy 2 renamed numpy.core; the alias still resolves
            warnings.simplefilter("ignore", DeprecationWarning)
            return super().find_class(module, name)


@dataclass(frozen=True)
class BenchTable:
    """One dataset's table: ``valid_hash -> {"valid_perf", "perf", "latency", "para"}`` as Python floats."""

    #: the dataset name it is registered under (``nasbench-cora``), which per-dataset defaults are keyed by
    name: str
    entries: dict[int, dict[str, float]]

    def validation(self, key: int) -> float:
        """The validation accuracy of entry ``key``, rounded to 9 digits: the tables store equal fractions with
        different float noise (Cora's two best, 1229 of 1500 nodes each, differ in the 16th digit), and a search
        comparing them would rank noise."""
        return round(self.entries[key]["valid_perf"], 9)

    def oracle(self) -> float:
        """Test accuracy of the best-validation architecture (ties: the higher test), what search can reach."""
        return self.entries[max(self.entries, key=lambda k: (self.validation(k), self.entries[k]["perf"]))]["perf"]


def load_table(dataset: str) -> BenchTable:
    """The verified light table of ``dataset`` (``cora``, ``citeseer`` or ``pubmed``)."""
    try:
        path = files("nas_bench_graph") / "light" / f"{dataset}.bench"
    except ModuleNotFoundError:
        raise DataError(f"dataset 'nasbench-{dataset}' needs the nas-bench-graph package: "
                        "the search extra, pip install -e '.[search]' in the checkout") from None
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256[dataset]:
        raise DataError(f"dataset 'nasbench-{dataset}': checksum mismatch for {path}: "
                        f"expected sha256 {SHA256[dataset]}, got {digest}")
    table = TableUnpickler(io.BytesIO(raw)).load()
    entries = {int(k): {f: float(v[f]) for f in ("valid_perf", "perf", "latency", "para")} for k, v in table.items()}
    return BenchTable(f"nasbench-{dataset}", entries)


for _dataset, _label in (("cora", "Cora"), ("citeseer", "CiteSeer"), ("pubmed", "PubMed")):
    register_dataset(f"nasbench-{_dataset}", tasks=("architecture_search",), source=SOURCE,
                     stats="26,206 architectures", tabular=True)(dataset_loader(
        load_table, _dataset, reads_root=False,
        doc=f"NAS-Bench-Graph table of {_label} (26,206 architectures, val/test accuracy): zero-cost search."))

__all__ = ["BenchTable", "load_table"]
