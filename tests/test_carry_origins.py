"""carry_origins (flow/compiler/refusals.py) stamps the user's layer names onto the nodes a transformation
made; its worklist gives exactly the stamps of the fixpoint it replaced (kept here as the reference) on
generated graphs: any node order, forks and joins, nodes stamped before, several outputs, unnamed nodes,
cycles (no valid graph has one; both must leave them alone)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.util.basic import qonnx_make_model

from flow.compiler.refusals import ORIGIN_KEY, carry_origins

pytestmark = pytest.mark.fast
ORIGINS = ("/conv1/Conv", "/bn1/BatchNormalization", "/fc/Gemm")


def _origin(node) -> str | None:
    return next((e.value for e in node.metadata_props if e.key == ORIGIN_KEY), None)


def _stamp(node, origin: str) -> None:
    entry = node.metadata_props.add()
    entry.key, entry.value = ORIGIN_KEY, origin


def fixpoint_carry_origins(model, before: dict[str, str]) -> None:
    """The quadratic original: rescan the whole graph until no node takes an origin."""
    consumers: dict[str, list] = {}
    for node in model.graph.node:
        for tensor in node.input:
            consumers.setdefault(tensor, []).append(node)
    taken: dict[int, str] = {}
    for node in model.graph.node:
        origin = next((before[t] for t in node.output if t in before), None)
        if origin is not None and _origin(node) is None:
            _stamp(node, origin)
            taken[id(node)] = origin
    changed = bool(taken)
    while changed:
        changed = False
        for node in model.graph.node:
            users = [c for t in node.output for c in consumers.get(t, [])]
            origins = {taken.get(id(c)) for c in users}
            if _origin(node) is None and users and len(origins) == 1 and None not in origins:
                taken[id(node)] = origins.pop()
                _stamp(node, taken[id(node)])
                changed = True


def stamps(model) -> list[list[tuple[str, str]]]:
    return [[(e.key, e.value) for e in node.metadata_props] for node in model.graph.node]


@st.composite
def graphs(draw) -> tuple[ModelWrapper, dict[str, str]]:
    """Nodes wired to earlier outputs (a back edge now and then), drawn in a shuffled order; some stamped
    already, some tensors in ``before``."""
    count = draw(st.integers(1, 24))
    outputs = [[f"t{i}_{k}" for k in range(draw(st.integers(1, 2)))] for i in range(count)]
    tensors = [t for outs in outputs for t in outs]
    nodes = []
    for i, outs in enumerate(outputs):
        back_edge = draw(st.integers(0, 9)) == 0  # any tensor, its own output included: a cycle
        sources = tensors if back_edge else ["x"] + [t for o in outputs[:i] for t in o]
        inputs = draw(st.lists(st.sampled_from(sources), min_size=1, max_size=3))
        node = helper.make_node("Identity", inputs, outs, name=draw(st.sampled_from(["", f"n{i}"])))
        if draw(st.integers(0, 4)) == 0:
            _stamp(node, draw(st.sampled_from(ORIGINS)))
        nodes.append(node)
    nodes = draw(st.permutations(nodes))
    before = draw(st.dictionaries(st.sampled_from(tensors), st.sampled_from(ORIGINS), max_size=count))
    graph = helper.make_graph(nodes, "g", [], [])
    return ModelWrapper(qonnx_make_model(graph), fix_missing_initializer_valueinfo=False), before


@given(graphs())
@settings(max_examples=300, deadline=None)
def test_worklist_stamps_what_the_fixpoint_stamped(graph):
    model, before = graph
    reference = copy.deepcopy(model)
    fixpoint_carry_origins(reference, before)
    carry_origins(model, before)
    assert stamps(model) == stamps(reference)


def test_a_lowered_conv_takes_the_origin_of_the_node_it_replaced_in_any_order():
    """Conv -> Relu became Transpose -> Im2Col -> MatMul -> Transpose (its output 'c' kept) -> Relu."""
    chain = [("Transpose", "x", "a"), ("Im2Col", "a", "b"), ("MatMul", "b", "m"), ("Transpose", "m", "c")]
    nodes = [helper.make_node(op, [i], [o], name=f"{op}_{o}") for op, i, o in chain]
    relu = helper.make_node("Relu", ["c"], ["y"], name="/relu/Relu")
    _stamp(relu, "/relu/Relu")
    graph = helper.make_graph([relu, *reversed(nodes)], "g", [], [])  # consumers first: no single pass does it
    model = ModelWrapper(qonnx_make_model(graph), fix_missing_initializer_valueinfo=False)
    carry_origins(model, {"c": "/conv/Conv", "y": "/relu/Relu"})
    assert [_origin(n) for n in model.graph.node] == ["/relu/Relu"] + ["/conv/Conv"] * 4
