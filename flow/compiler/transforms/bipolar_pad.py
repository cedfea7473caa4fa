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

with ``v' = v`` when ``v`` is a value of ``x``'s datatype, and ``v' = 0`` when ``x`` is the BINARY code
of a bipolar map (the Im2Col feeds an ``XnorPopcountMatMul``): the hardware pads with -1 (bit 0).
Only spatial padding is absorbed (no padding of batch or channels). FINN's ``InferConvInpGen`` then
emits ``FMPadding`` (which pads with 0, the BINARY code of -1) + ``ConvolutionInputGenerator``.

Any other pad value ``v`` of a bipolar map (PyTorch's zero padding: v = 0; v = +1) is exact too: a tap
outside the image contributes ``v * w`` to the +-1 dot product where the hardware's -1 contributes
``-w``, so each output is off by ``(v + 1) * sum of the weights whose taps fall outside the image``, a
constant per output position and channel (``border_correction``). In the popcount units of the XNOR
layer (``dot = 2 * popcount - K``) that is half of it, added right after the ``XnorPopcountMatMul``:

    XnorPopcountMatMul -> Add(C[oy, ox, o])  with  C = (v + 1) / 2 * sum_{taps outside} W_bipolar

The constant takes one value per border class (the output rows whose window reaches over the top or
bottom edge, each its own class, one class for the interior rows; the same for columns): 9 classes for
a 3x3 kernel with padding 1 and stride 1. It then folds into position-indexed thresholds
(transforms/border_threshold.py, hardware pos_threshold.sv), as Larq Compute Engine's
``zero_padding_correction`` does for float outputs. ``ExplicitBipolarPadding`` (before streamlining)
turns a Conv's own padding of a bipolar map into such a Pad, so both forms take this path.
"""

from __future__ import annotations

import numpy as np
from onnx import helper
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
            xnor = dt == DataType["BINARY"] and consumer is not None and consumer.op_type == "XnorPopcountMatMul"
            bipolar_value = value
            if xnor:
                value = 0.0  # BINARY code of bipolar -1; any other bipolar pad value gets its correction below
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
            if xnor and bipolar_value != -1.0:
                _add_correction(model, im2col, consumer, bipolar_value)
            model = model.transform(InferShapes())
            return model, True
        return model, False


def border_correction(
    weights: np.ndarray, in_hw, kernel, stride, pads, dilation=(1, 1), pad_value: float = 0.0
) -> np.ndarray:
    """(OH, OW, O): what a ``pad_value`` border adds to each output of a +-1 convolution over what a -1
    border adds, ``(pad_value + 1) * sum of the weights whose taps fall outside the image``.

    ``weights``: bipolar (K_h * K_w * C, O) in Im2Col's row order (ky, kx, c); ``pads`` [t, l, b, r]."""
    (h, w), (kh, kw), (sh, sw), (dh, dw) = in_hw, kernel, stride, dilation
    oh = (h + pads[0] + pads[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (w + pads[1] + pads[3] - dw * (kw - 1) - 1) // sw + 1
    rows = np.arange(oh)[:, None] * sh - pads[0] + np.arange(kh)[None, :] * dh  # (OH, KH) input row of each tap
    cols = np.arange(ow)[:, None] * sw - pads[1] + np.arange(kw)[None, :] * dw
    outside = ((rows < 0) | (rows >= h))[:, None, :, None] | ((cols < 0) | (cols >= w))[None, :, None, :]
    per_tap = np.asarray(weights, dtype=np.float64).reshape(kh, kw, -1, weights.shape[-1]).sum(axis=2)
    return (pad_value + 1.0) * np.einsum("yxab,abo->yxo", outside.astype(np.float64), per_tap)


def _add_correction(model: ModelWrapper, im2col, xnor, pad_value: float) -> None:
    """Insert ``Add(C)`` after the XnorPopcountMatMul ``xnor`` fed by ``im2col`` (module docstring)."""
    g = im2col.get_nodeattr
    shape = [int(d) for d in g("input_shape").strip("()").split(",")]
    weights = 2.0 * model.get_initializer(xnor.input[1]) - 1.0  # BINARY code -> bipolar
    correction = border_correction(
        weights, shape[1:3], g("kernel_size"), g("stride"), g("pad_amount"), g("dilations"), pad_value
    )
    y, y_raw, const = xnor.output[0], model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
    xnor.output[0] = y_raw  # XnorPopcountMatMul -> y_raw -> Add(C) -> y (its consumers unchanged)
    model.set_initializer(const, (correction / 2.0)[None].astype(np.float32))
    # its NHWC layout annotation: the settle step after this transformation (constant_layouts.py)
    model.set_tensor_shape(y_raw, model.get_tensor_shape(y))
    model.set_tensor_datatype(y_raw, model.get_tensor_datatype(y))
    model.set_tensor_datatype(y, DataType["FLOAT32"])  # the corrected count may be a half or negative
    graph = model.graph
    graph.node.insert(list(graph.node).index(xnor) + 1, helper.make_node("Add", [y_raw, const], [y]))


class ExplicitBipolarPadding(Transformation):
    """A Conv that pads a bipolar (+-1) input with its own ``pads`` (PyTorch's zero padding) becomes
    ``Pad(value=0)`` -> Conv without padding (module docstring); runs before streamlining."""

    def apply(self, model: ModelWrapper):
        for conv in model.graph.node:
            if conv.op_type != "Conv" or model.get_tensor_datatype(conv.input[0]) != DataType["BIPOLAR"]:
                continue
            attr = get_by_name(conv.attribute, "pads")
            auto = get_by_name(conv.attribute, "auto_pad")
            if attr is None or not any(attr.ints) or (auto is not None and auto.s.decode() not in ("NOTSET", "")):
                continue
            t, left, b, r = list(attr.ints)
            pads, value, padded = (model.make_new_valueinfo_name() for _ in range(3))
            model.set_initializer(pads, np.array([0, 0, t, left, 0, 0, b, r], dtype=np.int64))
            model.set_initializer(value, np.array(0.0, dtype=np.float32))
            n, c, h, w = model.get_tensor_shape(conv.input[0])
            model.set_tensor_shape(padded, [n, c, h + t + b, w + left + r])
            model.set_tensor_datatype(padded, DataType["FLOAT32"])
            pad = helper.make_node("Pad", [conv.input[0], pads, value], [padded], mode="constant")
            conv.input[0] = padded
            del attr.ints[:]
            attr.ints.extend([0, 0, 0, 0])
            graph = model.graph
            graph.node.insert(list(graph.node).index(conv), pad)
            return model.transform(InferShapes()), True
        return model, False
