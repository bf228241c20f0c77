"""Graph neural architecture search: spaces, a PyG layer family for the macro space, search algorithms
(AGNN, a GraphNAS-style controller, random search), constrained parameter sharing and the evaluators the
``architecture_search`` task runs them with (:mod:`gnnbench.tasks.search`)."""
