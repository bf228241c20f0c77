"""Tasks: importing this package registers the built-in ones."""

from gnnbench.tasks import graph, node  # noqa: F401
