"""Models: importing this package registers the built-in ones (one file per method)."""

from gnnbench.models import baselines, dgmlp, forwardgnn, kpath, neuroback, pooled, sign, sir_gcn  # noqa: F401
from gnnbench.search import agnn, graphnas, random_search  # noqa: F401  (search algorithms)
