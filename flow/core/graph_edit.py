"""One edit of an ONNX graph that many transformations make: nodes replaced in place by new ones."""

from __future__ import annotations


def replace_nodes(graph, old: list, new: list) -> None:
    """Remove the nodes ``old`` and insert ``new`` (in this order) where the first of ``old`` was: the
    graph stays topologically sorted when ``new`` consumes what ``old`` consumed and produces what it
    produced."""
    index = list(graph.node).index(old[0])
    for node in old:
        graph.node.remove(node)
    for k, node in enumerate(new):
        graph.node.insert(index + k, node)
