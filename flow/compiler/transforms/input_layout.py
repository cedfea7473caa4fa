"""Channels-last from the graph input on: the elementwise nodes that read the NCHW input directly become NHWC.

FINN's streamlining makes a graph NHWC by moving the transposes its conv lowering inserts
(``Transpose -> Im2Col``) through the rest. A network whose input first goes through per-channel
elementwise nodes (an input standardisation and its int8 quantizer become MultiThresholds, then a
Bi-Real block or a max pool) has no transpose in front of them: they stay NCHW, and every transpose
after them meets the fork, the add or the flatten of the NCHW map, where FINN leaves a hardware
Transpose (Shuffle). ``ChannelsLastAtInput`` rewrites

    input (NCHW) -> [MultiThreshold | Mul | Add | Sub | Div by per-channel constants]*  -> rest
    ==>  input -> Transpose(0, 2, 3, 1) -> [the same nodes in NHWC] -> Transpose(0, 3, 1, 2) -> rest

(a MultiThreshold gets ``data_layout`` NHWC, a per-channel constant moves to the last axis); the
input transpose is the software prefix every conv network has, and the other one moves on with FINN's
MoveTransposePastFork / MoveTransposePastJoinAdd / AbsorbConsecutiveTransposes / RemoveCNVtoFCFlatten.
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from flow.compiler.transforms.pools import NCHW_TO_NHWC, NHWC_TO_NCHW, channel_vector

ELEMENTWISE = ("MultiThreshold", "Mul", "Add", "Sub", "Div")


def _convertible(model: ModelWrapper, node, tensor: str, channels: int) -> bool:
    """An elementwise node of ``tensor`` (NCHW) whose other operand is a scalar or per-channel constant."""
    if node.op_type not in ELEMENTWISE or node.input[0] != tensor:
        return False
    if node.op_type == "MultiThreshold":
        return getCustomOp(node).get_nodeattr("data_layout") in ("", "NCHW")
    const = model.get_initializer(node.input[1])
    return const is not None and channel_vector(model, const, channels, axis=1) is not None


def _to_nhwc(model: ModelWrapper, node, channels: int) -> None:
    if node.op_type == "MultiThreshold":
        getCustomOp(node).set_nodeattr("data_layout", "NHWC")
        return
    const = model.get_initializer(node.input[1])
    vec = channel_vector(model, const, channels, axis=1)
    if np.asarray(const).size > 1:
        model.set_initializer(node.input[1], vec.reshape(1, 1, 1, channels).astype(np.float32))


class ChannelsLastAtInput(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        x = model.graph.input[0].name
        shape = model.get_tensor_shape(x)
        consumers = model.find_consumers(x) or []
        if shape is None or len(shape) != 4 or len(consumers) != 1:
            return model, False
        n, c, h, w = shape
        chain, tensor = [], x
        while True:
            nxt = model.find_consumers(tensor) or []
            if len(nxt) != 1 or not _convertible(model, nxt[0], tensor, c):
                break
            chain.append(nxt[0])
            tensor = nxt[0].output[0]
        if not chain or tensor in [o.name for o in model.graph.output]:
            return model, False
        nhwc_in, nhwc_out = model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
        dt = model.get_tensor_datatype(tensor)
        graph = model.graph
        graph.node.insert(0, helper.make_node("Transpose", [x], [nhwc_in], perm=NCHW_TO_NHWC))
        chain[0].input[0] = nhwc_in
        for node in chain:
            _to_nhwc(model, node, c)
            model.set_tensor_shape(node.output[0], [n, h, w, c])
        chain[-1].output[0] = nhwc_out
        back = helper.make_node("Transpose", [nhwc_out], [tensor], perm=NHWC_TO_NCHW)
        graph.node.insert(list(graph.node).index(chain[-1]) + 1, back)
        for name in (nhwc_in, nhwc_out):
            model.set_tensor_shape(name, [n, h, w, c])
        model.set_tensor_shape(tensor, [n, c, h, w])
        model.set_tensor_datatype(nhwc_in, model.get_tensor_datatype(x))
        model.set_tensor_datatype(nhwc_out, dt)
        return model, False
