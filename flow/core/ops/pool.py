"""``ShiftbnnPool``: max / min / sum pooling of any kernel, stride and padding, one node for what FINN
spreads over FMPadding + ConvolutionInputGenerator + Pool (hardware: hw/rtl/bnn_pool.sv).

Attributes (FINN-style; ``ImgDim``, ``Kernel``, ``Stride``, ``OutDim`` are [H, W] pairs):

- ``Pads`` [top, left, bottom, right]: the image's padding as the window walk sees it (bottom and
  right include the extension of ONNX's ``ceil_mode``); a pad position holds no value.
- ``Function``: "max" (per channel the max, or the min for ``MinChannels``) or "sum" (the average
  pool's sum: the 1/n that follows is a separate Mul, absorbed by streamlining into the next threshold).
- ``data_layout``: "NHWC" (the hardware node) or "NCHW" (before streamlining moved the transposes
  away; ``MakeShiftbnnPoolNHWC`` swaps it with them).

Execution is the golden model (hw/golden/bnn_pool.py) on the values the tensors hold (a bipolar map
is -1/+1), so the graphs that contain this node are verified against Brevitas/QONNX like any other.
"""

from __future__ import annotations

import numpy as np
from finn.custom_op.fpgadataflow.hwcustomop import HWCustomOp
from qonnx.core.datatype import DataType

from flow.core.ops.datatypes import int_type
from hw.golden.bnn_pool import pool_nhwc, sum_range


def sum_datatype(idt: DataType, kernel) -> DataType:
    """The smallest INT type holding a sum pool's output for inputs of type ``idt``."""
    return int_type(*sum_range(int(idt.min()), int(idt.max()), kernel))


class ShiftbnnPool(HWCustomOp):
    """See the module docstring."""

    def get_nodeattr_types(self):
        attrs = {
            "Channels": ("i", True, 0),
            "PE": ("i", False, 1),
            "ImgDim": ("ints", True, []),
            "Kernel": ("ints", True, []),
            "Stride": ("ints", True, []),
            "Pads": ("ints", True, []),
            "OutDim": ("ints", True, []),
            "Function": ("s", True, "max", {"max", "sum"}),
            "MinChannels": ("ints", False, []),
            "InputDataType": ("s", True, ""),
            "OutputDataType": ("s", False, ""),
            "data_layout": ("s", False, "NHWC", {"NHWC", "NCHW"}),
        }
        attrs.update(super().get_nodeattr_types())
        return attrs

    def _nhwc(self, dims) -> tuple[int, ...]:
        h, w = (int(d) for d in dims)
        c = self.get_nodeattr("Channels")
        return (1, h, w, c) if self.get_nodeattr("data_layout") == "NHWC" else (1, c, h, w)

    def get_normal_input_shape(self, ind=0):
        return self._nhwc(self.get_nodeattr("ImgDim"))

    def get_normal_output_shape(self, ind=0):
        return self._nhwc(self.get_nodeattr("OutDim"))

    def _folded(self, dims) -> tuple[int, ...]:
        pe = self.get_nodeattr("PE")
        return (1, *(int(d) for d in dims), self.get_nodeattr("Channels") // pe, pe)

    def get_folded_input_shape(self, ind=0):
        return self._folded(self.get_nodeattr("ImgDim"))

    def get_folded_output_shape(self, ind=0):
        return self._folded(self.get_nodeattr("OutDim"))

    def get_input_datatype(self, ind=0):
        return DataType[self.get_nodeattr("InputDataType")]

    def get_output_datatype(self, ind=0):
        idt = self.get_input_datatype()
        if self.get_nodeattr("Function") == "max" or not idt.is_integer():
            return idt
        return sum_datatype(idt, self.get_nodeattr("Kernel"))

    def get_instream_width(self, ind=0):
        return self.get_input_datatype().bitwidth() * self.get_nodeattr("PE")

    def get_outstream_width(self, ind=0):
        return self.get_output_datatype().bitwidth() * self.get_nodeattr("PE")

    def infer_node_datatype(self, model):
        node = self.onnx_node
        self.set_nodeattr("InputDataType", model.get_tensor_datatype(node.input[0]).name)
        odt = self.get_output_datatype()
        self.set_nodeattr("OutputDataType", odt.name)
        model.set_tensor_datatype(node.output[0], odt)

    def min_channels(self) -> np.ndarray:
        mask = self.get_nodeattr("MinChannels")
        return np.zeros(self.get_nodeattr("Channels"), bool) if not len(mask) else np.asarray(mask, bool)

    def grid(self) -> tuple[int, int]:
        """Rows and columns of the padded grid the RTL walks (bnn_pool.sv)."""
        (h, w), (kh, kw), (sh, sw) = (
            self.get_nodeattr("ImgDim"),
            self.get_nodeattr("Kernel"),
            self.get_nodeattr("Stride"),
        )
        t, left = self.get_nodeattr("Pads")[:2]
        oh, ow = self.get_nodeattr("OutDim")
        return max(t + h, (oh - 1) * sh + kh), max(left + w, (ow - 1) * sw + kw)

    def get_exp_cycles(self):
        rows, cols = self.grid()
        return rows * cols * self.get_nodeattr("Channels") // self.get_nodeattr("PE")

    def execute_node(self, context, graph):
        node = self.onnx_node
        x = context[node.input[0]]
        nchw = self.get_nodeattr("data_layout") == "NCHW"
        if nchw:
            x = x.transpose(0, 2, 3, 1)
        mode = self.get_nodeattr("Function")
        t, left = self.get_nodeattr("Pads")[:2]
        y = pool_nhwc(
            x,
            self.get_nodeattr("Kernel"),
            self.get_nodeattr("Stride"),
            (t, left),
            self.get_nodeattr("OutDim"),
            mode,
            self.min_channels(),
            empty=0 if mode == "sum" else self.get_input_datatype().min(),
        )
        if nchw:
            y = y.transpose(0, 3, 1, 2)
        context[node.output[0]] = np.asarray(y, dtype=np.float32).reshape(context[node.output[0]].shape)

    def verify_node(self):
        return []


class ShiftbnnPool_rtl(ShiftbnnPool):  # noqa: N801 (FINN's naming of an RTL variant)
    """The specialized (RTL) node: bnn_pool.sv."""
