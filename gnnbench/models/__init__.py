"""Models: importing this package registers the built-in ones (one file per method)."""

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
