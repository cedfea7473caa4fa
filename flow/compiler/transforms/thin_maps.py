"""Padding of a map one pixel high (or wide) as its own FMPadding node.

qonnx's Im2Col reads a size-1 spatial axis as the dummy axis of a 1D convolution and refuses a kernel or
padding along it (its execution asserts), although PyTorch pads such a map like any other: a 7x7 conv
with padding 3 on a 1 x 4 map is a valid layer. ``PadThinMaps`` moves the padding of such an Im2Col into
FINN's ``FMPadding`` (the node FINN's conversion would make of it anyway, with the same zero: the
integer 0, or the bit 0 that stands for -1 on a bipolar map) and leaves the Im2Col a padded map without
padding of its own. Runs after streamlining; the hardware is FINN's FMPadding + sliding window, as for
any padded convolution.
``SingleWindowStrides``: along an axis with one output position the stride moves no window, so a stride
larger than the (padded) map there (a 1x1 conv with stride 3 on a 1 x 2 map, valid in PyTorch) becomes
the map's size, which still gives one window and which FINN's sliding window accepts (it asserts
stride <= map size). Along W every one-window stride becomes the map's width (see ``apply``).
"""

from __future__ import annotations

from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from flow.core.hw_graph import HW_DOMAIN


class PadThinMaps(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if node.op_type != "Im2Col":
                continue
            inst = getCustomOp(node)
            pads = list(inst.get_nodeattr("pad_amount"))
            n, h, w, c = model.get_tensor_shape(node.input[0])
            if not any(pads) or (h != 1 and w != 1) or inst.get_nodeattr("pad_value") != 0:
                continue
            dt = model.get_tensor_datatype(node.input[0])
            padded = model.make_new_valueinfo_name()
            shape = [n, h + pads[0] + pads[2], w + pads[1] + pads[3], c]
            pad = helper.make_node(
                "FMPadding",
                [node.input[0]],
                [padded],
                domain=HW_DOMAIN,
                backend="fpgadataflow",
                ImgDim=[h, w],
                Padding=pads,
                NumChannels=c,
                inputDataType=dt.name,
                SIMD=c,
                name=f"FMPadding_{node.name}",
            )
            model.set_tensor_shape(padded, shape)
            model.set_tensor_datatype(padded, dt)
            node.input[0] = padded
            inst.set_nodeattr("pad_amount", [0, 0, 0, 0])
            inst.set_nodeattr("input_shape", str(tuple(shape)))
            graph = model.graph
            graph.node.insert(list(graph.node).index(node), pad)
            return model, True
        return model, False


class SingleWindowStrides(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.get_nodes_by_op_type("Im2Col"):
            inst = getCustomOp(node)
            out, shape = model.get_tensor_shape(node.output[0]), model.get_tensor_shape(node.input[0])
            pads = list(inst.get_nodeattr("pad_amount")) or [0, 0, 0, 0]
            padded = [shape[1] + pads[0] + pads[2], shape[2] + pads[1] + pads[3]]
            strides = list(inst.get_nodeattr("stride"))
            # one window either way: (padded - k) // stride + 1 = 1 for any stride in (padded - k, padded];
            # along W the largest, the map's width: FINN's serial window adds buffer space for a column
            # stride, room that the skip over unread end columns needs (transforms/row_strides.py)
            fixed = [min(strides[0], padded[0]) if out[1] == 1 else strides[0]]
            fixed.append(padded[1] if out[2] == 1 else strides[1])
            if fixed != strides:
                inst.set_nodeattr("stride", fixed)
        return model, False
