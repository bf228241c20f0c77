"""Models: importing this package registers the built-in ones (one file per method)."""

from gnnbench.models import baselines, dgmlp, forwardgnn, kpath, neuroback, pooled, sir_gcn  # noqa: F401
