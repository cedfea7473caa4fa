"""The residual stream of Bi-Real-Net blocks: the fork ``DuplicateStreams_hls`` -> stream_dup.sv, the
join ``ShiftbnnAdd`` -> stream_add.sv, a staircase ``Thresholding`` (a clamp, requant.staircase) ->
stream_requant.sv; a ``ShiftbnnRequant`` (a threshold table as multiply-add-shift, requant.py) ->
stream_requant.sv with its parameter memory in ``<node>_p.dat``."""

from __future__ import annotations

from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.rtl_backend.emitters.common import Edge, Instance, attr, check_widths, hw_instance, io
from flow.rtl_backend.graph import RtlGraphError
from flow.rtl_backend.requant import fit_of, staircase
from hw.golden.requant_fit import write_param_mem
from hw.sources import RTL_DIR


def emit_dup(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (m0, m1) = ins, outs
    inst = getCustomOp(node)
    width = inst.get_instream_width(0)
    check_widths(node, src, m0, width, width)
    check_widths(node, src, m1, width, width)
    text = hw_instance("stream_dup", node.name, {"Width": width}, [("s", src), ("m0", m0), ("m1", m1)])
    return Instance(text, [RTL_DIR / "stream_dup.sv"])


def emit_add(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (a, b), (dst,) = ins, outs
    keys = ("PE", "ABits", "ASigned", "BBits", "BSigned", "OutBits", "Offset", "OutMin", "OutMax")
    params = {k: int(attr(node, k)) for k in keys}
    pe = params["PE"]
    for e, bits in ((a, params["ABits"]), (b, params["BBits"]), (dst, params["OutBits"])):
        if e.width != pe * bits:
            raise RtlGraphError(f"node {node.name!r}: stream {e.name} is {e.width} bits, stream_add uses {pe * bits}")
    text = hw_instance("stream_add", node.name, params, [("s0", a), ("s1", b), ("m", dst)])
    return Instance(text, [RTL_DIR / "stream_add.sv"])


def emit_requant(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    """A staircase Thresholding (graph.staircase) as stream_requant."""
    (src,), (dst,) = ins, outs
    inst = getCustomOp(node)
    offset, lo, hi = staircase(model, node)
    idt, odt = inst.get_input_datatype(0), inst.get_output_datatype(0)
    pe = inst.get_nodeattr("PE")
    params = {
        "PE": pe,
        "InBits": idt.bitwidth(),
        "InSigned": int(idt.signed()),
        "OutBits": odt.bitwidth(),
        "Offset": offset,
        "OutMin": lo,
        "OutMax": hi,
    }
    check_widths(node, src, dst, pe * idt.bitwidth(), pe * odt.bitwidth())
    text = hw_instance("stream_requant", node.name, params, io(src, dst))
    return Instance(text, [RTL_DIR / "stream_requant.sv"])


def emit_muladd_requant(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    """A ShiftbnnRequant as stream_requant's multiply-add-shift form."""
    (src,), (dst,) = ins, outs
    keys = ("PE", "InBits", "InSigned", "OutBits", "OutMin", "OutMax", "Channels", "MulBits", "AddBits", "Shift",
            "ShiftBits")  # fmt: skip
    params = {k: int(attr(node, k)) for k in keys}
    pfile = f"{node.name}_p.dat"
    write_param_mem(fit_of(model, node), params["PE"], params["MulBits"], params["AddBits"], rtl_dir / pfile)
    params["ParamFile"] = pfile
    check_widths(node, src, dst, params["PE"] * params["InBits"], params["PE"] * params["OutBits"])
    text = hw_instance("stream_requant", node.name, params, io(src, dst))
    return Instance(text, [RTL_DIR / "stream_requant.sv"], [pfile])
