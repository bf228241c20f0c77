"""Tasks: importing this package registers the built-in ones."""

from gnnbench.tasks import graph, link, node, ogb_graph, sat, search, temporal_link  # noqa: F401
