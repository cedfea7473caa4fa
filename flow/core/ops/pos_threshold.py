"""``ShiftbnnPosThreshold``: thresholds (or an offset) indexed by the border class of the output position,
on an integer accumulator stream (hardware: hw/rtl/pos_threshold.sv; golden: hw/golden/pos_threshold.py).

It carries the zero-padding correction of a binary convolution (flow/compiler/transforms/bipolar_pad.py):
the MVAU before it runs without activation, and

- ``numSteps`` > 0: ``out = ActVal + #{n : acc >= T[k, c, n]}`` (input 1: T, (classes, C, numSteps));
- ``numSteps`` = 0: ``out = AccScale * acc + O[k, c]`` (input 1: O, (classes, C)), for a multi-level
  re-quantization that follows as FINN's Thresholding (its thresholds scaled by AccScale).

``ImgDim`` [H, W] is the map the positions walk, ``RowBorders`` [top, bottom] and ``ColBorders`` [left,
right] the border classes (hw/golden/pos_threshold.py ``axis_class``). ``Flat`` = 1: the tensor is (1, C)
(one position, one class): a per-channel offset, e.g. a classifier's integer bias.
"""

from __future__ import annotations

import numpy as np
from finn.custom_op.fpgadataflow.hwcustomop import HWCustomOp
from qonnx.core.datatype import DataType

from flow.core.ops.datatypes import int_type
from hw.golden.pos_threshold import pos_threshold


class ShiftbnnPosThreshold(HWCustomOp):
    """See the module docstring."""

    def get_nodeattr_types(self):
        attrs = {
            "NumChannels": ("i", True, 0),
            "PE": ("i", False, 1),
            "ImgDim": ("ints", True, []),
            "RowBorders": ("ints", True, []),
            "ColBorders": ("ints", True, []),
            "numSteps": ("i", True, 1),
            "ActVal": ("i", False, 0),
            "AccScale": ("i", False, 1),
            "Flat": ("i", False, 0),
            "inputDataType": ("s", True, ""),
            "outputDataType": ("s", True, ""),
        }
        attrs.update(super().get_nodeattr_types())
        return attrs

    def get_normal_input_shape(self, ind=0):
        c = self.get_nodeattr("NumChannels")
        return (1, c) if self.get_nodeattr("Flat") else (1, *self.get_nodeattr("ImgDim"), c)

    get_normal_output_shape = get_normal_input_shape

    def get_folded_input_shape(self, ind=0):
        pe = self.get_nodeattr("PE")
        return (*self.get_normal_input_shape()[:-1], self.get_nodeattr("NumChannels") // pe, pe)

    get_folded_output_shape = get_folded_input_shape

    def get_input_datatype(self, ind=0):
        return DataType[self.get_nodeattr("inputDataType")]

    def get_output_datatype(self, ind=0):
        return DataType[self.get_nodeattr("outputDataType")]

    def get_instream_width(self, ind=0):
        return self.get_input_datatype().bitwidth() * self.get_nodeattr("PE")

    def get_outstream_width(self, ind=0):
        return self.get_output_datatype().bitwidth() * self.get_nodeattr("PE")

    def infer_node_datatype(self, model):
        """The input's type; in offset mode the output type follows it (the smallest INT holding
        ``AccScale * acc + O`` over the input's range)."""
        node = self.onnx_node
        idt = model.get_tensor_datatype(node.input[0])
        self.set_nodeattr("inputDataType", idt.name)
        table = model.get_initializer(node.input[1])
        if self.get_nodeattr("numSteps") == 0 and table is not None and idt.is_integer():
            k = self.get_nodeattr("AccScale")
            odt = int_type(k * idt.min() + int(table.min()), k * idt.max() + int(table.max()))
            self.set_nodeattr("outputDataType", odt.name)
        model.set_tensor_datatype(node.output[0], self.get_output_datatype())

    def borders(self) -> tuple[tuple[int, int], tuple[int, int]]:
        return tuple(self.get_nodeattr("RowBorders")), tuple(self.get_nodeattr("ColBorders"))

    def get_exp_cycles(self):
        h, w = self.get_nodeattr("ImgDim")
        return h * w * self.get_nodeattr("NumChannels") // self.get_nodeattr("PE")

    def execute_node(self, context, graph):
        node = self.onnx_node
        rows, cols = self.borders()
        acc = np.rint(context[node.input[0]]).astype(np.int64)
        out = pos_threshold(
            acc.reshape(1, *self.get_nodeattr("ImgDim"), self.get_nodeattr("NumChannels")),
            context[node.input[1]],
            rows,
            cols,
            self.get_nodeattr("ActVal"),
            self.get_nodeattr("AccScale"),
            offset_mode=self.get_nodeattr("numSteps") == 0,
        )
        if self.get_output_datatype() == DataType["BIPOLAR"]:
            out = 2 * out - 1
        context[node.output[0]] = out.astype(np.float32).reshape(context[node.output[0]].shape)

    def verify_node(self):
        return []


class ShiftbnnPosThreshold_rtl(ShiftbnnPosThreshold):  # noqa: N801 (FINN's naming of an RTL variant)
    """The specialized (RTL) node: pos_threshold.sv."""
