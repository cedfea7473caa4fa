"""Pools: ``ShiftbnnMaxPool`` (sliding window + max Pool fused by graph.py) -> hw/rtl/bnn_maxpool.sv,
``GlobalAccPool_hls`` -> hw/rtl/bnn_globalaccpool.sv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.rtl_backend.emitters.common import Edge, Instance, attr, check_widths, hw_instance, io
from flow.rtl_backend.graph import RtlGraphError
from hw.sources import RTL_DIR


def emit_maxpool(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (dst,) = ins, outs
    params = {k: int(attr(node, k)) for k in ("ImgDim", "Channels", "PE", "Kernel", "ElemBits", "Signed")}
    text = hw_instance("bnn_maxpool", node.name, params, io(src, dst))
    return Instance(text, [RTL_DIR / "bnn_maxpool.sv"])


def emit_globalaccpool(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (dst,) = ins, outs
    inst = getCustomOp(node)
    g = inst.get_nodeattr
    idt, odt = inst.get_input_datatype(0), inst.get_output_datatype(0)
    if not idt.is_integer() or idt == DataType["BIPOLAR"]:
        raise RtlGraphError(f"node {node.name!r}: input type {idt.name} has no RTL global pool")
    vecs = list(g("numInputVectors"))
    params = {
        "Channels": g("NumChannels"),
        "PE": g("PE"),
        "Pixels": int(np.prod(vecs[1:])),
        "InBits": idt.bitwidth(),
        "InSigned": int(idt.signed()),
        "OutBits": odt.bitwidth(),
    }
    check_widths(node, src, dst, g("PE") * idt.bitwidth(), g("PE") * odt.bitwidth())
    text = hw_instance("bnn_globalaccpool", node.name, params, io(src, dst))
    return Instance(text, [RTL_DIR / "bnn_globalaccpool.sv"])
