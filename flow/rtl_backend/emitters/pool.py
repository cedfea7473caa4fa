"""Pools, ``ShiftbnnPool_rtl`` (flow/core/ops/pool.py: max / min / sum of any window, global ones included)
-> hw/rtl/bnn_pool.sv; the border-class thresholds of a zero-padded binary conv, ``ShiftbnnPosThreshold_rtl``
(flow/core/ops/pos_threshold.py) -> hw/rtl/pos_threshold.sv."""

from __future__ import annotations

from pathlib import Path

from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.rtl_backend.emitters.common import Edge, Instance, check_widths, hw_instance, io
from flow.rtl_backend.graph import RtlGraphError
from hw.golden.pos_threshold import write_table
from hw.sources import RTL_DIR, sv_mask


def emit_pool(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (dst,) = ins, outs
    inst = getCustomOp(node)
    g = inst.get_nodeattr
    idt, odt = inst.get_input_datatype(0), inst.get_output_datatype(0)
    if not idt.is_integer():
        raise RtlGraphError(f"node {node.name!r}: input type {idt.name} has no RTL pool")
    bipolar = idt == DataType["BIPOLAR"]
    (h, w), (kh, kw), (sh, sw), (oh, ow) = g("ImgDim"), g("Kernel"), g("Stride"), g("OutDim")
    channels = g("Channels")
    params = {
        "Channels": channels,
        "PE": g("PE"),
        **dict(InH=h, InW=w, KH=kh, KW=kw, SH=sh, SW=sw, PadT=g("Pads")[0], PadL=g("Pads")[1], OutH=oh, OutW=ow),
        "ElemBits": idt.bitwidth(),
        "Signed": int(idt.signed() and not bipolar),
        "Bipolar": int(bipolar),
        "SumMode": int(g("Function") == "sum"),
        "OutBits": odt.bitwidth(),
        "MinMask": sv_mask(inst.min_channels(), channels),
    }
    check_widths(node, src, dst, g("PE") * idt.bitwidth(), g("PE") * odt.bitwidth())
    return Instance(hw_instance("bnn_pool", node.name, params, io(src, dst)), [RTL_DIR / "bnn_pool.sv"])


def emit_pos_threshold(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    """``ShiftbnnPosThreshold_rtl`` (border-class thresholds or offsets) -> hw/rtl/pos_threshold.sv; its
    table goes to ``<node>_t.dat`` (hw/golden/pos_threshold.py)."""
    (src,), (dst,) = ins, outs
    inst = getCustomOp(node)
    g = inst.get_nodeattr
    idt, odt = inst.get_input_datatype(0), inst.get_output_datatype(0)
    table = model.get_initializer(node.input[1])
    if table is None or not idt.is_integer():
        raise RtlGraphError(f"node {node.name!r}: expected an integer input and a constant table")
    lo, hi = int(table.min()), int(table.max())
    bits = max(hi.bit_length(), (-lo - 1).bit_length() if lo < 0 else 0) + 1
    tfile = f"{node.name}_t.dat"
    write_table(table, g("PE"), bits, rtl_dir / tfile)
    (h, w), (top, bottom), (left, right) = g("ImgDim"), g("RowBorders"), g("ColBorders")
    params = {
        "Channels": g("NumChannels"),
        "PE": g("PE"),
        **dict(OutH=h, OutW=w, RowTop=top, RowBot=bottom, ColLeft=left, ColRight=right),
        "InBits": idt.bitwidth(),
        "InSigned": int(idt.signed()),
        "NumThresholds": g("numSteps"),
        "ThrBits": bits,
        "OutBits": odt.bitwidth(),
        "OutBias": 0 if odt == DataType["BIPOLAR"] else g("ActVal"),
        "AccScale": g("AccScale"),
        "TableFile": tfile,
    }
    check_widths(node, src, dst, g("PE") * idt.bitwidth(), g("PE") * odt.bitwidth())
    text = hw_instance("pos_threshold", node.name, params, io(src, dst))
    return Instance(text, [RTL_DIR / "pos_threshold.sv"], [tfile])
