"""Move a multi-level activation out of an MVAU into its own Thresholding_rtl (binary search).

FINN's MVAU embeds the MultiThreshold that follows a matrix product. bnn_mvau compares the accumulator
with every threshold in parallel: PE * N comparators, fine for the sign (N = 1) but 255 per PE for an
INT8 re-quantization (the Bi-Real/ResNet blocks and the stem), and int_mvau has no activation at all.
``SplitMvauThresholds`` rewrites

    MVAU(W, T, ActVal, out = odt)   ==>   MVAU(W, noActivation, out = INT<AccBits>) -> Thresholding_rtl(T, ActVal, odt)

for every MVAU whose weights are not binary (int_mvau) or that has more than ``max_embedded``
thresholds per channel. The result is the same function: the MultiThreshold count
``ActVal + #{t : acc >= T[o, t]}`` does not depend on the order of a channel's thresholds, so they are
sorted (FINN's Thresholding_rtl searches them), and clipping them to [acc_lo, acc_hi + 1] keeps every
comparison for a reachable accumulator. The Thresholding takes the least PE (dividing the MVAU's) that
keeps up with the MVAU: an MVAU folded over SIMD emits a beat of PE channels every MW / SIMD cycles,
so PE_t >= PE * SIMD / MW lanes suffice (a width converter splits the beats). A stem at PE 64 and
SIMD 21 of MW 147 needs 16 of them, a binary MVAU at SIMD = MW all PE.
Cost: FINN's Thresholding_rtl uses ceil(log2(N + 1)) pipelined comparators per PE instead of N.
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from flow.core.hw_graph import HW_DOMAIN, MAX_EMBEDDED, binary_weights, int_type
from hw.golden import bnn_mvau, int_mvau


def mvau_acc_range(model: ModelWrapper, node) -> tuple[int, int]:
    """Reachable accumulator interval of an MVAU node (its weights and input type)."""
    inst = getCustomOp(node)
    idt = inst.get_input_datatype(0)
    if binary_weights(model, node):
        mode = "xnor" if inst.get_nodeattr("binaryXnorMode") else "int"
        return bnn_mvau.acc_range(inst.get_nodeattr("MW"), mode, idt.bitwidth(), idt.signed())
    return int_mvau.acc_range(model.get_initializer(node.input[1]), idt.bitwidth(), idt.signed())


def threshold_pe(inst) -> int:
    """The least divisor of the MVAU's PE of at least PE * SIMD / MW lanes (module docstring)."""
    pe, simd, mw = (int(inst.get_nodeattr(a)) for a in ("PE", "SIMD", "MW"))
    return min(d for d in range(1, pe + 1) if pe % d == 0 and d * mw >= pe * simd)


class SplitMvauThresholds(Transformation):
    """See the module docstring."""

    def __init__(self, max_embedded: int = MAX_EMBEDDED):
        super().__init__()
        self.max_embedded = max_embedded

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in list(model.graph.node):
            if not node.op_type.startswith("MVAU") or len(node.input) < 3:
                continue
            inst = getCustomOp(node)
            T = model.get_initializer(node.input[2])
            if inst.get_nodeattr("noActivation") or T is None:
                continue
            if binary_weights(model, node) and T.shape[1] <= self.max_embedded:
                continue
            self._split(model, node, inst, T)
        return model, False

    @staticmethod
    def _split(model: ModelWrapper, node, inst, T: np.ndarray) -> None:
        lo, hi = mvau_acc_range(model, node)
        acc_dt = int_type(lo, hi)
        T = np.clip(np.sort(T, axis=1), lo, hi + 1).astype(np.float32)
        t_name, acc_name = node.input[2], node.output[0] + "_acc"
        model.set_initializer(t_name, T)
        model.set_tensor_datatype(t_name, int_type(int(T.min()), int(T.max())))
        odt = inst.get_output_datatype(0)
        thr = helper.make_node(
            "Thresholding_rtl",
            [acc_name, t_name],
            [node.output[0]],
            domain=HW_DOMAIN + ".rtl",
            backend="fpgadataflow",
            NumChannels=int(inst.get_nodeattr("MH")),
            PE=threshold_pe(inst),
            numSteps=int(T.shape[1]),
            inputDataType=acc_dt.name,
            weightDataType=model.get_tensor_datatype(t_name).name,
            outputDataType=odt.name,
            numInputVectors=list(inst.get_nodeattr("numInputVectors")),
            ActVal=0 if odt == DataType["BIPOLAR"] else int(inst.get_nodeattr("ActVal")),  # bipolar: 0/1 stream bits
            name=f"Thresholding_{node.name}",
        )
        shape = model.get_tensor_shape(node.output[0])
        node.output[0] = acc_name
        del node.input[2]
        inst.set_nodeattr("noActivation", 1)
        inst.set_nodeattr("ActVal", 0)
        inst.set_nodeattr("outputDataType", acc_dt.name)
        model.set_tensor_shape(acc_name, shape)
        model.set_tensor_datatype(acc_name, acc_dt)
        model.graph.node.insert(list(model.graph.node).index(node) + 1, thr)
