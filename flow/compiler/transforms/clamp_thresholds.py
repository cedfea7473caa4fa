"""Clamp every MVAU's thresholds to the accumulator range the node can reach.

A unit's output is ``#{i : acc >= T_i}`` with ``acc`` in the reachable interval ``[lo, hi]``
(hw/golden/bnn_mvau.py ``acc_range``: the popcount ``0..MW`` of an XNOR layer, ``+-MW * max|x|``
for integer inputs). A threshold ``T <= lo`` is met by every reachable ``acc`` (always on), one
``T > hi`` by none (always off), so

    clamp(T, lo, hi + 1)   changes no comparison:   acc >= T  <=>  acc >= clamp(T, lo, hi + 1).

Large shifts ``t`` in ``sign(x - t)`` (or BatchNorm statistics that make a channel constant) put
thresholds outside that interval; FINN's ``get_hw_compatible_threshold_tensor`` then asserts that an
XNOR layer's thresholds are >= 0 (``MinimizeWeightBitWidth`` calls it before FINN's own
``RoundAndClipThresholds``, which clips to the accumulator *type*, not to the reachable range).
``ClampMvauThresholds`` runs right after the conversion to HW layers, so every later step sees
in-range thresholds; thresholds are rounded up first (``acc >= T <=> acc >= ceil(T)`` for integer acc).

``XnorAccumulatorType``: FINN's ``MinimizeAccumulatorWidth`` sizes an XNOR MVAU's accumulator for
``sum(w * x)`` with w in {-1, +1} and x in {0, 1}, i.e. [-#(w = -1), #(w = +1)], but the node computes
the popcount of ``x XNOR w``, in [0, MW]. ``RoundAndClipThresholds`` then clips the thresholds to that
smaller type (finn-plus 1.6.1): a threshold above #(w = +1) + 1 drops to it and every popcount
between the two flips the output (e.g. an MW = 36 layer with 32 positive weights: 131 of 255 INT8
re-quantization thresholds clipped from 37 to 32, so popcounts 32..36 gave 127 instead of -4).
Setting the popcount's type ``UINT<bits(MW)>`` before the clip keeps every threshold in [0, MW + 1].
"""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from hw.golden.bnn_mvau import acc_range


def reachable_range(inst) -> tuple[int, int] | None:
    """``[lo, hi]`` of an MVAU node's accumulator, or None for non-integer inputs (no clamp)."""
    mw = inst.get_nodeattr("MW")
    if inst.get_nodeattr("binaryXnorMode"):
        return acc_range(mw, "xnor")
    idt = inst.get_input_datatype(0)
    wdt = inst.get_input_datatype(1)
    if not idt.is_integer() or wdt not in (DataType["BIPOLAR"], DataType["BINARY"]):
        return None
    if idt == DataType["BIPOLAR"]:
        return -mw, mw
    lo, hi = acc_range(mw, "int", idt.bitwidth(), idt.signed())
    return lo, hi


def clamp_thresholds(thresholds: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``clamp(ceil(T), lo, hi + 1)`` as float32 (FINN's container type); see the module docstring."""
    return np.clip(np.ceil(thresholds.astype(np.float64)), lo, hi + 1).astype(np.float32)


class ClampMvauThresholds(Transformation):
    """Thresholds of every MVAU with an activation clamped to its reachable accumulator range."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if not node.op_type.startswith("MVAU") or len(node.input) < 3:
                continue
            inst = getCustomOp(node)
            thresholds = model.get_initializer(node.input[2])
            bounds = reachable_range(inst)
            if inst.get_nodeattr("noActivation") or thresholds is None or bounds is None:
                continue
            clamped = clamp_thresholds(thresholds, *bounds)
            if not np.array_equal(clamped, thresholds):
                model.set_initializer(node.input[2], clamped)
        return model, False


class XnorAccumulatorType(Transformation):
    """``accDataType`` (and, without an activation, the output type) of every XNOR MVAU set to the
    popcount's ``UINT<bits(MW)>``; see the module docstring."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if not node.op_type.startswith("MVAU"):
                continue
            inst = getCustomOp(node)
            if not inst.get_nodeattr("binaryXnorMode"):
                continue
            dt = DataType[f"UINT{int(inst.get_nodeattr('MW')).bit_length()}"]
            inst.set_nodeattr("accDataType", dt.name)
            if inst.get_nodeattr("noActivation"):
                inst.set_nodeattr("outputDataType", dt.name)
                model.set_tensor_datatype(node.output[0], dt)
        return model, False
