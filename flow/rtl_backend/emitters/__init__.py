"""Per-node emitters: one node of the RTL-ready graph -> one SystemVerilog instance in ``shiftbnn_top``.

An emitter gets the graph, the node, the output folder and the node's input and output streams
(``Edge``s, in the node's input/output order) and returns an ``Instance``: its text in the top plus
the sources to copy and the files it wrote. The top (``emit.py``) declares every edge and stitches them.
Where each node type goes (one module per block family; the table is in docs/architecture.md):

- ``mvau.py``      ``MVAU_hls`` -> hw/rtl/bnn_mvau.sv (weights and thresholds in ``<node>_w.dat``/``_t.dat``)
- ``int_mvau.py``  integer-weight ``MVAU_hls`` / ``MVAU_rtl`` -> hw/rtl/int_mvau.sv (no activation)
- ``pool.py``      ``ShiftbnnPool_rtl`` -> bnn_pool.sv, ``ShiftbnnPosThreshold_rtl`` -> pos_threshold.sv
- ``label.py``     ``LabelSelect_hls`` -> bnn_labelselect.sv
- ``residual.py``  ``DuplicateStreams_hls`` -> stream_dup.sv, ``ShiftbnnAdd`` -> stream_add.sv, a staircase
                   ``Thresholding_rtl`` and a ``ShiftbnnRequant`` -> stream_requant.sv
- ``dwc.py``       ``StreamingDataWidthConverter_rtl`` (FINN's InsertDWC) -> stream_dwc.sv
- ``subsample.py`` a 1 x 1 ``ConvolutionInputGenerator_rtl`` (a subsample of the stream) -> stream_subsample.sv
- ``reorder.py``   ``Shuffle`` / ``InnerShuffle`` / ``OuterShuffle`` (a Transpose that reorders the stream)
                   -> stream_reorder.sv
- ``finn_rtl.py``  FINN's RTL layers (FIFO, K x K sliding window, padding, thresholding) from the HDL
                   FINN's own ``generate_hdl`` writes (finn-rtllib, no Vivado involved)
"""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper

from flow.core.hw_graph import ADD_OP, REQUANT_OP, generic_op_type, is_subsample_window
from flow.rtl_backend.emitters import dwc, finn_rtl, int_mvau, label, pool, reorder, residual, subsample
from flow.rtl_backend.emitters.common import Edge, Instance
from flow.rtl_backend.graph import RtlGraphError
from flow.rtl_backend.requant import staircase

__all__ = ["EMITTERS", "Edge", "Instance", "emit_node", "has_rtl"]

EMITTERS = {
    "MVAU_hls": int_mvau.emit_any_mvau,  # bnn_mvau (binary weights) or int_mvau (integer weights)
    "MVAU_rtl": int_mvau.emit_int_mvau,  # FINN's DSP MVU choice for integer weights
    "LabelSelect_hls": label.emit_labelselect,
    "ShiftbnnPool_rtl": pool.emit_pool,
    "ShiftbnnPosThreshold_rtl": pool.emit_pos_threshold,
    "DuplicateStreams_hls": residual.emit_dup,
    ADD_OP: residual.emit_add,
    REQUANT_OP: residual.emit_muladd_requant,
    "StreamingDataWidthConverter_rtl": dwc.emit_dwc,
}


CLOCKED = {"MVAU_hls"}  # emitters that size their pipeline from the clock (``clk_ns``)


def emit_node(model: ModelWrapper, node, rtl_dir, ins: list[Edge], outs: list[Edge], part: str, clk_ns: float):
    """The instance of one node; an error that names the node for anything without RTL."""
    if node.op_type in CLOCKED:
        return EMITTERS[node.op_type](model, node, rtl_dir, ins, outs, clk_ns=clk_ns)
    if node.op_type in EMITTERS:
        return EMITTERS[node.op_type](model, node, rtl_dir, ins, outs)
    if is_subsample_window(node):
        return subsample.emit_subsample(model, node, rtl_dir, ins, outs)
    if generic_op_type(node.op_type) in reorder.REORDER_OPS:
        return reorder.emit_reorder(model, node, rtl_dir, ins, outs)
    if node.op_type.startswith("Thresholding") and staircase(model, node) is not None:
        return residual.emit_requant(model, node, rtl_dir, ins, outs)
    if node.op_type in finn_rtl.FINN_RTL_OPS:
        if len(ins) != 1 or len(outs) != 1:
            raise RtlGraphError(f"node {node.name!r}: expected one input and one output stream")
        return finn_rtl.emit_finn_rtl(model, node, rtl_dir, ins[0], outs[0], part, clk_ns)
    raise RtlGraphError(f"node {node.name!r} (op {node.op_type}) has no RTL implementation")


def has_rtl(model: ModelWrapper, node) -> bool:
    kinds = (generic_op_type(node.op_type) in reorder.REORDER_OPS, node.op_type in EMITTERS)
    return any(kinds) or node.op_type in finn_rtl.FINN_RTL_OPS
