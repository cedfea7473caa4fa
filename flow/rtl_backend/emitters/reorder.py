"""A Transpose left in the folded graph that really reorders the stream (FINN's ``Shuffle`` and the
``InnerShuffle`` / ``OuterShuffle`` pair FINN decomposes it into) -> hw/rtl/stream_reorder.sv, one element
per beat (``SerialReorders`` in layout.py sets SIMD 1 before the width converters go in). The output
walk's levels come from hw/golden/stream_reorder.py ``walk_params``; a transpose that needs more than
its four levels is refused by name."""

from __future__ import annotations

from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.rtl_backend.emitters.common import Edge, Instance, check_widths, hw_instance, io
from flow.rtl_backend.graph import RtlGraphError
from flow.rtl_backend.layout import REORDER_OPS, reorder_of
from hw.golden.stream_reorder import walk_params
from hw.sources import RTL_DIR

__all__ = ["REORDER_OPS", "emit_reorder"]


def emit_reorder(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (dst,) = ins, outs
    inst = getCustomOp(node)
    shape, perm = reorder_of(node)
    simd = inst.get_nodeattr("SIMD")
    if simd != 1:
        raise RtlGraphError(f"node {node.name!r}: stream_reorder takes one element per beat, SIMD is {simd}")
    bits = inst.get_input_datatype(0).bitwidth()
    try:
        dims, strides = walk_params(shape, perm)
    except ValueError as exc:
        raise RtlGraphError(f"node {node.name!r}: {exc}") from None
    check_widths(node, src, dst, bits, bits)
    params = {"ElemBits": bits, **{f"D{k}": d for k, d in enumerate(dims)}}
    params.update({f"S{k}": s for k, s in enumerate(strides)})
    return Instance(hw_instance("stream_reorder", node.name, params, io(src, dst)), [RTL_DIR / "stream_reorder.sv"])
