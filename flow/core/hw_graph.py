"""The vocabulary of a folded FINN graph that every layer reads: FINN's hardware domain, generic op
types, the node types our RTL backend adds (fused add; our own ops register in flow/core/ops), and the stream shape and
accumulator width of a node. Read-only helpers; no transformation lives here."""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

import flow.core.ops  # noqa: F401  (registers shiftbnn's own HW ops in qonnx's registry)
from flow.core.ops.datatypes import int_type  # noqa: F401  (re-exported)
from hw.golden.bnn_mvau import rtl_acc_bits
from hw.golden.int_mvau import rtl_acc_bits as int_rtl_acc_bits

HW_DOMAIN = "finn.custom_op.fpgadataflow"
# Domain of the fused nodes below: not FINN ops, only markers for the emitter (never executed).
SHIFTBNN_DOMAIN = "shiftbnn.rtl"
# The add of two streams with its optional re-quantization clamp (stream_add).
ADD_OP = "ShiftbnnAdd"
ADD_OPS = ("ElementwiseAdd_hls", "ElementwiseAdd_rtl")
# Thresholds per channel a block compares in parallel (bnn_mvau, pos_threshold); more go to a
# Thresholding_rtl (binary search): flow/rtl_backend/split_thresholds.py.
MAX_EMBEDDED = 7


def generic_op_type(op_type: str) -> str:
    """``MVAU_hls`` -> ``MVAU`` (specialized FINN nodes carry an _hls/_rtl suffix)."""
    for suffix in ("_hls", "_rtl"):
        if op_type.endswith(suffix):
            return op_type[: -len(suffix)]
    return op_type


def mvau_acc_bits(inst) -> int:
    """The accumulator width bnn_mvau (binary weights) or int_mvau (integer weights) uses for this MVAU
    node (their AccBits default)."""
    wdt = DataType[inst.get_nodeattr("weightDataType")]
    if wdt not in (DataType["BINARY"], DataType["BIPOLAR"]):
        idt = inst.get_input_datatype(0)
        w_bits = wdt.bitwidth() + (0 if wdt.signed() else 1)
        return int_rtl_acc_bits(inst.get_nodeattr("MW"), w_bits, idt.bitwidth(), idt.signed())
    xnor = bool(inst.get_nodeattr("binaryXnorMode"))
    bits = 1 if xnor else inst.get_input_datatype(0).bitwidth()
    return rtl_acc_bits(inst.get_nodeattr("MW"), "xnor" if xnor else "int", bits)


def stream_shape(model: ModelWrapper, node, output: bool, ind: int = 0) -> tuple[int, int]:
    """(beats per frame, bits per beat) of a node's input or output stream ``ind`` (FINN folded shapes)."""
    if node.op_type == ADD_OP:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        bits = attrs["OutBits"] if output else attrs["BBits" if ind else "ABits"]
        return attrs["Beats"], attrs["PE"] * bits
    inst = getCustomOp(node)
    shape = inst.get_folded_output_shape(ind) if output else inst.get_folded_input_shape(ind)
    width = inst.get_outstream_width(ind) if output else inst.get_instream_width(ind)
    return int(np.prod(shape[:-1])), int(width)
