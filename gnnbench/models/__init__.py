"""Models: importing this package registers the built-in ones: a file (or package) per published method, the
classical baselines in ``baselines`` and ``pooled``, and the architecture-search algorithms, which a suite names
where it names models (``architecture_search`` runs them)."""

from gnnbench.models import (  # noqa: F401
    baselines,
    dgmlp,
    edgebank,
    forwardgnn,
    kpath,
    neuroback,
    pooled,
    sign,
    sir_gcn,
    tgn,
    todyformer,
)
from gnnbench.search import agnn, graphnas, random_search  # noqa: F401  (search algorithms)
