"""A 1 x 1 sliding window (``ConvolutionInputGenerator_rtl`` with ConvKernelDim [1, 1], e.g. the row
select of flow/compiler/transforms/row_strides.py, a strided 1 x 1 pool, a strided 1 x 1 conv) ->
hw/rtl/stream_subsample.sv: it keeps pixel (h, w) iff h % s_h == 0, w % s_w == 0 and (h / s_h,
w / s_w) is inside the output map (hw/golden/stream_subsample.py), every channel group of SIMD elements
one beat. It replaces FINN's generator for every 1 x 1 window (one rule): FINN always picks its
parallel style there, whose loop counters fail to size on small maps (``math domain error``), and
ours is smaller (docs/hw.md, "1 x 1 windows")."""

from __future__ import annotations

from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.rtl_backend.emitters.common import Edge, Instance, check_widths, hw_instance, io
from flow.rtl_backend.graph import RtlGraphError
from hw.golden.stream_subsample import check_shape
from hw.sources import RTL_DIR


def subsample_params(node) -> dict:
    """stream_subsample's parameters of a 1 x 1 window node; RtlGraphError naming the node otherwise."""
    inst = getCustomOp(node)
    g = inst.get_nodeattr
    channels, simd = g("IFMChannels"), g("SIMD")
    if channels % simd:
        raise RtlGraphError(f"node {node.name!r}: SIMD {simd} does not divide the {channels} channels")
    if "M" in inst.get_nodeattr_types() and g("M") != 1:
        raise RtlGraphError(f"node {node.name!r}: stream_subsample takes one pixel per beat, M is {g('M')}")
    in_hw, stride, out_hw = list(g("IFMDim")), list(g("Stride")), list(g("OFMDim"))
    try:
        check_shape(in_hw, stride, out_hw)
    except ValueError as exc:
        raise RtlGraphError(f"node {node.name!r}: {exc}") from None
    bits = simd * inst.get_input_datatype(0).bitwidth()
    (h, w), (sh, sw), (oh, ow) = in_hw, stride, out_hw
    return {"BeatBits": bits, "Folds": channels // simd, "H": h, "W": w, "SH": sh, "SW": sw, "OH": oh, "OW": ow}


def emit_subsample(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (dst,) = ins, outs
    params = subsample_params(node)
    check_widths(node, src, dst, params["BeatBits"], params["BeatBits"])
    kept = params["Folds"] * params["OH"] * params["OW"]
    if (src.beats, dst.beats) != (params["Folds"] * params["H"] * params["W"], kept):
        raise RtlGraphError(f"node {node.name!r}: {src.beats} -> {dst.beats} beats differ from its map's")
    return Instance(hw_instance("stream_subsample", node.name, params, io(src, dst)), [RTL_DIR / "stream_subsample.sv"])
