"""Models: importing this package registers the built-in ones (one file per method)."""

from gnnbench.models import baselines, forwardgnn  # noqa: F401
