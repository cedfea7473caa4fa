"""Layout-only nodes of the folded graph as wires: a streaming design has no place for them.

A stream carries a tensor's elements in row-major order of its shape (FINN's HW layers read the last
dimension as channels, folded into beats). ``Reshape`` never changes row-major order, so FINN's HW
``Reshape`` (which ``InferReshape`` makes of e.g. the ``x.view(N, -1)`` of Brevitas' bnn_pynq FC
networks) is the identity on the stream. A ``Shuffle`` (FINN's HW Transpose) is the identity when its
permutation keeps the order of every axis longer than 1 (e.g. NCHW -> NHWC of a 1x1 map); any other
Shuffle really reorders the stream and stays: ``SerialReorders`` gives it (and the ``InnerShuffle`` /
``OuterShuffle`` nodes FINN splits a Shuffle into) one element per beat, the rate of hw/rtl/stream_reorder.sv,
and InsertDWC then joins it to its neighbours' widths (emitters/reorder.py). FINN decomposes one Shuffle into a
chain of InnerShuffle / OuterShuffle nodes (``step_transpose_decomposition``, for its HLS/RTL layers), each a
whole frame in memory: ``FuseReorderChains`` makes such a chain one Shuffle again where their composition is
one transpose of the chain's input (found by trying its permutations), so one stream_reorder does it.

``WireThroughLayoutNodes`` removes such nodes before ``InsertDWC``: the consumer reads the producer's
stream directly (InsertDWC then compares the two folded widths, which do not depend on the shape).
"""

from __future__ import annotations

import itertools

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from flow.core.graph_edit import replace_nodes
from flow.core.hw_graph import HW_DOMAIN, generic_op_type
from hw.golden.stream_reorder import reorder_frame

REORDER_OPS = ("Shuffle", "InnerShuffle", "OuterShuffle")  # FINN's HW Transpose, and its two halves


def reorder_of(node) -> tuple[list[int], list[int]]:
    """(input shape, perm) of a Shuffle / InnerShuffle / OuterShuffle node."""
    inst = getCustomOp(node)
    shape = list(inst.get_nodeattr("transpose_in_shape"))
    if generic_op_type(node.op_type) == "InnerShuffle":  # swaps the last two axes (it has no perm)
        return shape, [*range(len(shape) - 2), len(shape) - 1, len(shape) - 2]
    return shape, list(inst.get_nodeattr("perm"))


def keeps_stream_order(node) -> bool:
    """True for a Reshape, and for a Shuffle whose non-trivial axes stay in order."""
    kind = generic_op_type(node.op_type)
    if kind == "Reshape":
        return True
    if kind not in REORDER_OPS:
        return False
    shape, perm = reorder_of(node)
    moved = [axis for axis in perm if shape[axis] != 1]
    return moved == sorted(moved)


def wire_through(model: ModelWrapper, node) -> None:
    """Remove ``node`` (one input ``a``, one output ``b``) and connect ``a`` where ``b`` was."""
    a, b = node.input[0], node.output[0]
    model.graph.node.remove(node)
    if b in [o.name for o in model.graph.output]:
        producer = model.find_producer(a)
        if producer is None:  # the whole graph was this node: keep it
            model.graph.node.append(node)
            return
        producer.output[list(producer.output).index(a)] = b
        return
    for consumer in model.find_consumers(b) or []:
        consumer.input[list(consumer.input).index(b)] = a


class WireThroughLayoutNodes(Transformation):
    """Remove every Reshape / order-keeping Shuffle of the HW graph (see the module docstring)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in [n for n in model.graph.node if keeps_stream_order(n)]:
            wire_through(model, node)
        return model, False


class SerialReorders(Transformation):
    """SIMD 1 on every stream reorder left (stream_reorder.sv moves one element per beat)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if generic_op_type(node.op_type) in REORDER_OPS:
                getCustomOp(node).set_nodeattr("SIMD", 1)
        return model, False


def _chain(model: ModelWrapper, head) -> list:
    """``head`` and the reorder nodes that follow it one by one (each the sole consumer of the last)."""
    chain = [head]
    while True:
        consumers = model.find_consumers(chain[-1].output[0]) or []
        if len(consumers) != 1 or generic_op_type(consumers[0].op_type) not in REORDER_OPS:
            return chain
        chain.append(consumers[0])


def _as_one_transpose(chain) -> tuple[list[int], list[int]] | None:
    """(shape, perm): one transpose of the first node's input shape that the chain composes to, or None."""
    shape = reorder_of(chain[0])[0]
    order = np.arange(int(np.prod(shape)))
    for node in chain:
        order = reorder_frame(order, *reorder_of(node))
    if len(shape) > 6:
        return None
    for perm in itertools.permutations(range(len(shape))):
        if np.array_equal(reorder_frame(np.arange(order.size), shape, perm), order):
            return shape, list(perm)
    return None


class FuseReorderChains(Transformation):
    """A chain of stream reorders -> one Shuffle node where it is one transpose (module docstring)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for head in model.graph.node:
            if generic_op_type(head.op_type) not in REORDER_OPS:
                continue
            producer = model.find_producer(head.input[0])
            if producer is not None and generic_op_type(producer.op_type) in REORDER_OPS:
                continue
            chain = _chain(model, head)
            fused = _as_one_transpose(chain) if len(chain) > 1 else None
            if fused is None:
                continue
            shape, perm = fused
            first, last = getCustomOp(chain[0]), getCustomOp(chain[-1])
            node = helper.make_node(
                "Shuffle",
                [head.input[0]],
                [chain[-1].output[0]],
                domain=HW_DOMAIN,
                backend="fpgadataflow",
                name=f"Shuffle_{head.name}",
                data_type=first.get_input_datatype(0).name,
                in_shape=list(first.get_normal_input_shape()),
                transpose_in_shape=shape,
                transpose_out_shape=[shape[p] for p in perm],
                out_shape=list(last.get_normal_output_shape()),
                perm=perm,
                SIMD=1,
            )
            replace_nodes(model.graph, chain, [node])
            return model, True
        return model, False
