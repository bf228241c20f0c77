"""Models: importing this package registers the built-in ones (one file per method)."""

from gnnbench.models import baselines  # noqa: F401
from gnnbench.models import forwardgnn  # noqa: F401
