"""The data-width converter between two blocks of different folding: FINN's
``StreamingDataWidthConverter_rtl`` node (InsertDWC) -> hw/rtl/stream_dwc.sv, any pair of widths
(finn-rtllib's vpc, which it replaces, stops Verilator 5.48 with an internal error once an output beat
holds more than 256 lanes of gcd(in, out) bits, e.g. 2 -> 576 bits)."""

from __future__ import annotations

from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.rtl_backend.emitters.common import Edge, Instance, check_widths, hw_instance, io
from flow.rtl_backend.graph import RtlGraphError
from hw.sources import RTL_DIR


def emit_dwc(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (dst,) = ins, outs
    inst = getCustomOp(node)
    in_bits, out_bits = int(inst.get_nodeattr("inWidth")), int(inst.get_nodeattr("outWidth"))
    check_widths(node, src, dst, in_bits, out_bits)
    if src.beats * in_bits != dst.beats * out_bits:
        raise RtlGraphError(
            f"node {node.name!r}: {src.beats} beats of {in_bits} bits in, {dst.beats} of {out_bits} bits out per frame"
        )
    text = hw_instance("stream_dwc", node.name, {"InBits": in_bits, "OutBits": out_bits}, io(src, dst))
    return Instance(text, [RTL_DIR / "stream_dwc.sv"])
