"""Tasks: importing this package registers the built-in ones."""

from gnnbench.tasks import link, node  # noqa: F401
