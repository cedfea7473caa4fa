"""XNOR-Net's block order: ``conv -> max-pool -> BatchNorm -> sign(x - t)`` becomes
``conv -> BatchNorm -> sign(x - t) -> pool``, which FINN streamlines like CNV's (the pool on bits).

A max pool commutes with every non-decreasing elementwise function f: ``f(max x) = max f(x)``, and a
non-increasing one turns it into a min: ``f(max x) = min f(x)``. That holds in float32 too (rounding
is monotone), so the moved graph computes bit for bit what the original does. Between the pool and
the next quantizer (a MultiThreshold after ``step_qonnx_to_finn``) XNOR-Net has per-channel affine
functions (the conv bias, BatchNorm with a scale of either sign, the shift ``- t``); the direction of
their composition is the product of the signs of their scales, channel by channel. A channel whose
BatchNorm scale is negative therefore pools with the min: ``MoveMaxPoolPastMonotoneOps`` moves the
pool behind the quantizer and marks those channels in ``ShiftbnnPool``'s ``MinChannels`` (on bits:
an AND instead of an OR); FINN then folds the affine chain into the thresholds as usual (a negative
scale flips that channel's weights in the conv).

The chain may hold Mul, Div (by a constant), Add, Sub, BatchNormalization, Relu, Clip, Identity, each
with constants that vary at most per channel, and ends at the first MultiThreshold and the Add / Mul
right after it (an int8 quantizer's offset and scale, which must stay next to their MultiThreshold);
nothing in it may fork. Anything else (a position-dependent constant, a second stream) stops the move and the pool
stays where it was.
"""

from __future__ import annotations

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

from flow.compiler.transforms.pools import channel_vector, pool_geometry, replace_nchw_pool

ALWAYS_UP = ("Relu", "Clip", "Identity", "Add")


def _streamed(model: ModelWrapper, node, tensor: str) -> tuple[int, np.ndarray | None]:
    """Index of ``tensor`` among the node's inputs and the other (constant) operand of a binary op."""
    index = list(node.input).index(tensor)
    others = [i for i in node.input if i and i != tensor]
    const = model.get_initializer(others[0]) if len(others) == 1 else None
    return index, const


def direction(model: ModelWrapper, node, tensor: str, channels: int) -> np.ndarray | None:
    """Per channel, +1 / -1 / 0 where the node's output rises / falls / stays with its input ``tensor``
    (NCHW); None unless the node is such an elementwise function with per-channel constants."""
    op, up = node.op_type, np.ones(channels)
    if op == "BatchNormalization":
        if list(node.input).index(tensor) != 0:
            return None
        gamma = model.get_initializer(node.input[1])
        return None if gamma is None else np.sign(np.broadcast_to(gamma, (channels,))).astype(float)
    if op == "MultiThreshold":
        return up * np.sign(getCustomOp(node).get_nodeattr("out_scale"))
    bounds = [i for i in node.input[1:] if i]
    if op in ("Relu", "Identity") or (op == "Clip" and all(model.get_initializer(i) is not None for i in bounds)):
        return up
    if op not in ("Mul", "Div", "Add", "Sub"):
        return None
    index, const = _streamed(model, node, tensor)
    vec = None if const is None else channel_vector(model, const, channels, axis=1)
    if vec is None:
        return None
    if op == "Add":
        return up
    if op == "Sub":
        return up if index == 0 else -up
    if op == "Div" and index != 0:  # c / x is no monotone function of x over both signs
        return None
    return np.sign(vec)


def monotone_chain(model: ModelWrapper, pool) -> tuple[list, np.ndarray] | None:
    """The elementwise nodes from the pool's output to the first MultiThreshold and their direction."""
    channels = model.get_tensor_shape(pool.input[0])[1]
    chain, sign, tensor = [], np.ones(channels), pool.output[0]
    while True:
        consumers = model.find_consumers(tensor) or []
        if len(consumers) != 1:
            return None
        node = consumers[0]
        d = direction(model, node, tensor, channels)
        if d is None:
            return None
        chain.append(node)
        sign = sign * d
        if node.op_type == "MultiThreshold":
            return _quantizer_output(model, chain, sign, channels)
        tensor = node.output[0]


def _quantizer_output(model: ModelWrapper, chain: list, sign: np.ndarray, channels: int) -> tuple[list, np.ndarray]:
    """The chain extended past the quantizer's own output affine: FINN's conversion writes an int8
    quantizer as MultiThreshold (counts 0..255) -> Add(-128) -> Mul(scale), and streamlining makes the
    Add the MultiThreshold's ``out_bias`` only while nothing stands between them. A pool left there
    leaves an INT8 MultiThreshold with bias 0 (counts labelled as signed), which FINN cannot map."""
    tensor = chain[-1].output[0]
    while True:
        consumers = model.find_consumers(tensor) or []
        if len(consumers) != 1 or consumers[0].op_type not in ("Add", "Mul"):
            return chain, sign
        d = direction(model, consumers[0], tensor, channels)
        if d is None:
            return chain, sign
        chain.append(consumers[0])
        sign = sign * d
        tensor = consumers[0].output[0]


def move_past(model: ModelWrapper, pool, chain: list) -> None:
    """pool -> chain  ==>  chain -> pool (the chain now sees the unpooled map)."""
    x, y, z = pool.input[0], pool.output[0], chain[-1].output[0]
    first = chain[0]
    first.input[list(first.input).index(y)] = x
    z_new = model.make_new_valueinfo_name()
    chain[-1].output[0] = z_new
    pool.input[0], pool.output[0] = z_new, z
    for node in chain[:-1]:  # intermediate maps change shape: let InferShapes redo them
        vi = model.get_tensor_valueinfo(node.output[0])
        if vi is not None:
            model.graph.value_info.remove(vi)
    vi = model.get_tensor_valueinfo(y)
    if vi is not None:
        model.graph.value_info.remove(vi)
    model.set_tensor_shape(z_new, model.get_tensor_shape(x))
    graph = model.graph
    graph.node.remove(pool)
    graph.node.insert(list(graph.node).index(chain[-1]) + 1, pool)


class MoveMaxPoolPastMonotoneOps(Transformation):
    """See the module docstring (ONNX MaxPool in NCHW, before streamlining)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for pool in model.graph.node:
            if pool.op_type != "MaxPool" or model.is_fork_node(pool):
                continue
            geometry = pool_geometry(model, pool)
            found = monotone_chain(model, pool) if geometry is not None else None
            if found is None:
                continue
            chain, sign = found
            move_past(model, pool, chain)
            if (sign < 0).any():
                replace_nchw_pool(model, pool, geometry, "max", sign < 0)
            model = model.transform(InferShapes())
            model = model.transform(InferDataTypes())
            return model, True
        return model, False
