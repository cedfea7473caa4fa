"""Absorb an explicit ``Pad`` in front of a lowered convolution into the ``Im2Col``'s padding.

Bi-Real blocks pad the bipolar map with -1 (``BinaryPad``), so the export has ``Pad(value=-1)``
between ``sign(x - t)`` and the conv, which FINN's ``LowerConvsToMatMul`` leaves in place (a Conv's
own padding is zero, the wrong value for a bipolar map). Two things then go wrong in FINN:

- ``ConvertBipolarMatMulToXnorPopcount`` re-encodes the bipolar map as BINARY (``b = (x + 1) / 2``:
  +1 -> 1, -1 -> 0) by changing the producing MultiThreshold, but not the Pad: its -1 becomes the
  bipolar value ``2 * (-1) - 1 = -3`` in the popcount — a wrong result at every border pixel.
- ``InferFMPadding`` cannot read an opset-13 ``Pad`` (no ``axes`` input) and only takes value 0.

This transformation rewrites

    Pad(x, pads, value=v) [-> Transpose(perm=0,2,3,1)] -> Im2Col(pad_amount=0)
    ==>                     [Transpose(perm=0,2,3,1) ->] Im2Col(pad_amount=[t, l, b, r], pad_value=v')

with ``v' = 0`` when ``x`` is the BINARY code of a bipolar map (``v = -1``, i.e. ``b = 0``, and the
Im2Col feeds an ``XnorPopcountMatMul``) and ``v' = v`` when ``v`` is a value of ``x``'s datatype.
Only spatial padding is absorbed (no padding of batch or channels). FINN's ``InferConvInpGen`` then
emits ``FMPadding`` (which pads with 0, the BINARY code of -1) + ``ConvolutionInputGenerator``.
"""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import get_by_name

NCHW_TO_NHWC = [0, 2, 3, 1]


def _spatial_pads(model: ModelWrapper, pad, layout_perm) -> list[int] | None:
    """[H_begin, W_begin, H_end, W_end] of a 4D Pad, or None if it pads batch/channels."""
    pads = model.get_initializer(pad.input[1])
    if pads is None:
        return None
    pads = [int(p) for p in np.asarray(pads).flatten()]
    rank = len(model.get_tensor_shape(pad.input[0]))
    axes = list(range(rank))
    if len(pad.input) > 3 and pad.input[3]:
        given = model.get_initializer(pad.input[3])
        if given is None:
            return None
        axes = [int(a) % rank for a in np.asarray(given).flatten()]
    if rank != 4 or len(pads) != 2 * len(axes):
        return None
    begin, end = [0] * 4, [0] * 4
    for i, a in enumerate(axes):
        begin[a], end[a] = pads[i], pads[i + len(axes)]
    # spatial axes of the Pad's input layout: NCHW (2, 3) before a Transpose, NHWC (1, 2) without one
    h, w = (2, 3) if layout_perm else (1, 2)
    other = [a for a in range(4) if a not in (h, w)]
    if any(begin[a] or end[a] for a in other) or min(begin + end) < 0:
        return None
    return [begin[h], begin[w], end[h], end[w]]


class AbsorbBipolarPadIntoIm2Col(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper):
        graph = model.graph
        for pad in list(graph.node):
            if pad.op_type != "Pad" or model.is_fork_node(pad):
                continue
            mode = get_by_name(pad.attribute, "mode")
            if mode is not None and mode.s.decode() != "constant":
                continue
            nxt = model.find_consumer(pad.output[0])
            transpose = None
            if nxt is not None and nxt.op_type == "Transpose" and not model.is_fork_node(nxt):
                if list(get_by_name(nxt.attribute, "perm").ints) != NCHW_TO_NHWC:
                    continue
                transpose, nxt = nxt, model.find_consumer(nxt.output[0])
            if nxt is None or nxt.op_type != "Im2Col":
                continue
            im2col = getCustomOp(nxt)
            if any(im2col.get_nodeattr("pad_amount")):
                continue
            amount = _spatial_pads(model, pad, transpose is not None)
            if amount is None:
                continue
            value = 0.0
            if len(pad.input) > 2 and pad.input[2]:
                const = model.get_initializer(pad.input[2])
                if const is None:
                    continue
                value = float(np.asarray(const).flatten()[0])
            dt = model.get_tensor_datatype(pad.input[0])
            consumer = model.find_consumer(nxt.output[0])
            if dt == DataType["BINARY"] and value == -1.0:
                if consumer is None or consumer.op_type != "XnorPopcountMatMul":
                    continue
                value = 0.0  # BINARY code of bipolar -1
            elif not dt.allowed(value) or value != int(value):
                continue
            # bypass the Pad: its input goes straight into the Transpose / Im2Col
            (transpose or nxt).input[0] = pad.input[0]
            graph.node.remove(pad)
            im2col.set_nodeattr("pad_amount", amount)
            im2col.set_nodeattr("pad_value", int(value))
            shape = model.get_tensor_shape(pad.input[0])
            in_shape = [shape[i] for i in NCHW_TO_NHWC] if transpose is not None else shape
            if transpose is not None:
                model.set_tensor_shape(transpose.output[0], in_shape)
            im2col.set_nodeattr("input_shape", str(tuple(in_shape)))
            model = model.transform(InferShapes())
            return model, True
        return model, False
