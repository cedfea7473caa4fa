"""``LabelSelect_hls`` (FINN's TopK in hardware) -> hw/rtl/bnn_labelselect.sv."""

from __future__ import annotations

from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.rtl_backend.emitters.common import Edge, Instance, check_widths, hw_instance, io
from hw.sources import RTL_DIR


def emit_labelselect(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (dst,) = ins, outs
    inst = getCustomOp(node)
    g = inst.get_nodeattr
    idt, odt = inst.get_input_datatype(0), inst.get_output_datatype(0)
    params = {
        "Labels": g("Labels"),
        "PE": g("PE"),
        "K": g("K"),
        "InputBits": idt.bitwidth(),
        "Signed": int(idt.signed()),
        "OutBits": odt.bitwidth(),
    }
    check_widths(node, src, dst, g("PE") * idt.bitwidth(), odt.bitwidth())
    text = hw_instance("bnn_labelselect", node.name, params, io(src, dst))
    return Instance(text, [RTL_DIR / "bnn_labelselect.sv"])
