"""Row strides of one-row kernels as a sliding window of their own.

finn-rtllib's serial sliding window (``ConvolutionInputGenerator_rtl``, default style) keeps a circular
buffer of one window, ``(k_h - 1) * W + k_w`` elements (plus a little for strides), and moves to the
next output row by one address increment, ``(skip_cols - (k_h - 1) * W + (s_h - 1) * W) * CF + 1``. For
a kernel one row high that increment skips ``s_h - 1`` whole rows, more than the buffer holds: FINN
asserts ``H increment > buffer size`` for every ``1 x k`` kernel with a row stride above 1 (even with one
output row, where the window never moves down), and for a row stride of 1 when the columns no window
reads at the end of a row (``skip_cols``) reach the kernel width. Kernels two or more rows high hold
enough rows in the buffer (strides up to 3: checked exhaustively in tests/test_row_strides.py).

``RowStridesAsOwnWindow`` rewrites such an Im2Col (kernel ``1 x k_w``, strides ``(s_h, s_w)``) exactly:

    Im2Col(k=(1, k_w), s=(s_h, s_w), pads)
      == Im2Col(k=(1, k_w), s=(1, s_w), no pads) o Im2Col(k=(1, 1), s=(s_h, 1), pads)

The first window (1 x 1: hw/rtl/stream_subsample.sv, one beat per cycle) keeps every ``s_h``-th padded row,
the second slides along the kept rows only. Trailing padding that no window reads is dropped on the way
(``pad_end -= min(pad_end, padded - read)`` with ``read = (out - 1) * s + (k - 1) * d + 1``): the output
sizes stay the same, and no padded column ends up in ``skip_cols``. Runs on the streamlined graph,
before ``PadThinMaps``.
"""

from __future__ import annotations

from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation


def read_extent(out: int, kernel: int, stride: int, dilation: int) -> int:
    """Positions of a padded axis that some window reads: from 0 to the last window's end."""
    return (out - 1) * stride + (kernel - 1) * dilation + 1


def trimmed_pads(pads, in_hw, out_hw, kernel, stride, dilation) -> list[int]:
    """``pads`` [t, l, b, r] without the end padding that no window reads (same output size)."""
    pads = list(pads)
    for a in (0, 1):
        padded = in_hw[a] + pads[a] + pads[a + 2]
        unread = padded - read_extent(out_hw[a], kernel[a], stride[a], dilation[a])
        pads[a + 2] -= min(pads[a + 2], unread)
    return pads


def _needs_rewrite(kernel, stride, dilation, in_hw, out_hw, pads) -> bool:
    """A one-row kernel with a row stride, or with unread end columns (FINN's ``skip_cols``)."""
    if kernel[0] != 1 or kernel[1] == 1:  # a 1 x 1 kernel is stream_subsample, no increments
        return False
    padded_w = in_hw[1] + pads[1] + pads[3]
    return stride[0] > 1 or padded_w > read_extent(out_hw[1], kernel[1], stride[1], dilation[1])


class RowStridesAsOwnWindow(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.get_nodes_by_op_type("Im2Col"):
            inst = getCustomOp(node)
            n, h, w, c = model.get_tensor_shape(node.input[0])
            out = model.get_tensor_shape(node.output[0])
            kernel, stride = list(inst.get_nodeattr("kernel_size")), list(inst.get_nodeattr("stride"))
            dilation = list(inst.get_nodeattr("dilations"))
            pads = list(inst.get_nodeattr("pad_amount")) or [0, 0, 0, 0]
            if not _needs_rewrite(kernel, stride, dilation, (h, w), out[1:3], pads):
                continue
            pads = trimmed_pads(pads, (h, w), out[1:3], kernel, stride, dilation)
            if stride[0] == 1:  # nothing to skip between rows: the trimmed padding is the whole fix
                inst.set_nodeattr("pad_amount", pads)
                continue
            rows = model.make_new_valueinfo_name()
            row_shape = [n, out[1], w + pads[1] + pads[3], c]
            select = helper.make_node(
                "Im2Col",
                [node.input[0]],
                [rows],
                domain=node.domain,
                name=f"RowSelect_{node.name}",
                stride=[stride[0], 1],
                kernel_size=[1, 1],
                input_shape=str((n, h, w, c)),
                pad_amount=pads,
                pad_value=inst.get_nodeattr("pad_value"),
                dilations=[1, 1],
            )
            model.set_tensor_shape(rows, row_shape)
            model.set_tensor_datatype(rows, model.get_tensor_datatype(node.input[0]))
            node.input[0] = rows
            inst.set_nodeattr("stride", [1, stride[1]])
            inst.set_nodeattr("pad_amount", [0, 0, 0, 0])
            inst.set_nodeattr("input_shape", str(tuple(row_shape)))
            model.graph.node.insert(list(model.graph.node).index(node), select)
            return model, True
        return model, False


class PoolRowStridesAsOwnWindow(Transformation):
    """The same split for a pool (``ShiftbnnPool``, NHWC) of a one-row kernel with a row stride, whose
    window FINN makes with the same generator. PyTorch pads a pool by at most half its kernel, so a
    one-row kernel has no top padding, and every window starts inside the map: the rows it reads are the
    data rows ``i * s_h``, ``i < out_h`` (ceil mode's extra end rows are never read). A 1 x 1 window with
    stride ``(s_h, 1)`` and no padding keeps exactly those; the pool then has row stride 1 and no row
    padding. Runs on the streamlined graph (integer pool inputs only)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.get_nodes_by_op_type("ShiftbnnPool"):
            pool = getCustomOp(node)
            kernel, stride, pads = (list(pool.get_nodeattr(a)) for a in ("Kernel", "Stride", "Pads"))
            (h, w), out = pool.get_nodeattr("ImgDim"), pool.get_nodeattr("OutDim")
            dt = model.get_tensor_datatype(node.input[0])
            nhwc = pool.get_nodeattr("data_layout") == "NHWC"
            if kernel[0] != 1 or stride[0] == 1 or pads[0] != 0 or not nhwc or not dt.is_integer():
                continue
            c = pool.get_nodeattr("Channels")
            rows = model.make_new_valueinfo_name()
            select = helper.make_node(
                "Im2Col",
                [node.input[0]],
                [rows],
                domain="qonnx.custom_op.general",
                name=f"RowSelect_{node.name}",
                stride=[stride[0], 1],
                kernel_size=[1, 1],
                input_shape=str((1, h, w, c)),
                pad_amount=[0, 0, 0, 0],
                dilations=[1, 1],
            )
            model.set_tensor_shape(rows, [1, out[0], w, c])
            model.set_tensor_datatype(rows, dt)
            node.input[0] = rows
            pool.set_nodeattr("ImgDim", [out[0], w])
            pool.set_nodeattr("Stride", [1, stride[1]])
            pool.set_nodeattr("Pads", [0, pads[1], 0, pads[3]])
            model.graph.node.insert(list(model.graph.node).index(node), select)
            return model, True
        return model, False
