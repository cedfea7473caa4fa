"""The vocabulary of a folded FINN graph that every layer reads: FINN's hardware domain, generic op
types, the node types our RTL backend adds (fused add, multiply-add re-quantization; our own ops register in
flow/core/ops), and the stream shape and accumulator width of a node. Read-only helpers; no transformation
lives here."""

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
BINARY_TYPES = (DataType["BINARY"], DataType["BIPOLAR"])
# A threshold table as a per-channel multiply-add-shift (stream_requant, Channels > 0); its second input
# is the (channels, 3) int64 table of (M, A, S) rows.
REQUANT_OP = "ShiftbnnRequant"
# FINN's MVAU attribute for weights written at run time (our RTL: s_axis_wgt, mvau_wload) instead of
# initialised from the bitstream; the only way weights can live in URAM, which has no initial contents.
RUNTIME_WEIGHTS = "runtime_writeable_weights"
# Thresholds per channel a block compares in parallel (bnn_mvau, pos_threshold); more go to a
# Thresholding_rtl (binary search): flow/rtl_backend/split_thresholds.py.
MAX_EMBEDDED = 7


def generic_op_type(op_type: str) -> str:
    """``MVAU_hls`` -> ``MVAU`` (specialized FINN nodes carry an _hls/_rtl suffix)."""
    for suffix in ("_hls", "_rtl"):
        if op_type.endswith(suffix):
            return op_type[: -len(suffix)]
    return op_type


def runtime_writeable(inst) -> bool:
    """Does this node load its weights at run time (``RUNTIME_WEIGHTS`` set)?"""
    return RUNTIME_WEIGHTS in inst.get_nodeattr_types() and bool(inst.get_nodeattr(RUNTIME_WEIGHTS))


def is_subsample_window(node) -> bool:
    """A sliding window with a 1 x 1 kernel: only a subsample of the stream, which our backend builds as
    hw/rtl/stream_subsample.sv instead of FINN's generator (docs/compile_any.md, "1 x 1 windows")."""
    if generic_op_type(node.op_type) != "ConvolutionInputGenerator":
        return False
    return list(getCustomOp(node).get_nodeattr("ConvKernelDim")) == [1, 1]


def binary_weights(model: ModelWrapper, node) -> bool:
    """An MVAU whose weights bnn_mvau takes: XNOR mode (0/1 for -1/+1) or values in {-1, +1}, whatever
    type FINN's MinimizeWeightBitWidth gave them (a first layer's +-1 weights become INT2); otherwise
    int_mvau (integer weights, DSP multipliers)."""
    inst = getCustomOp(node)
    if inst.get_nodeattr("binaryXnorMode") or DataType[inst.get_nodeattr("weightDataType")] in BINARY_TYPES:
        return True
    W = model.get_initializer(node.input[1])
    return W is not None and set(np.unique(W).tolist()) <= {-1.0, 1.0}


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
    if node.op_type == REQUANT_OP:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        return attrs["Beats"], attrs["PE"] * attrs["OutBits" if output else "InBits"]
    inst = getCustomOp(node)
    shape = inst.get_folded_output_shape(ind) if output else inst.get_folded_input_shape(ind)
    width = inst.get_outstream_width(ind) if output else inst.get_instream_width(ind)
    return int(np.prod(shape[:-1])), int(width)
