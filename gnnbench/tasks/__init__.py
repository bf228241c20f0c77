"""Tasks: importing this package registers the built-in ones."""

from gnnbench.tasks import node  # noqa: F401
from gnnbench.tasks import link  # noqa: F401
