"""Models: importing this package registers the built-in ones (one file per method)."""

from gnnbench.models import baselines, dgmlp, edgebank, forwardgnn, kpath, pooled, sir_gcn, tgn, todyformer  # noqa: F401
