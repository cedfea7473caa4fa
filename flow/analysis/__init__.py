"""Analyses of a folded graph, below the compiler and every backend: the cycle and resource models of
our RTL, the parameter-memory fit, the folding rules and the folding search that uses them. The graph a
backend emits is handed in (``lower``), never imported."""
