"""Per-node emitters: one FINN (or fused) node of the RTL-ready graph -> one SystemVerilog instance.

An emitter gets the node, the output folder and the node's input and output streams (``Edge``s, in
the node's input/output order) and returns an ``Instance``: its text in ``shiftbnn_top`` plus the
sources to copy and the files it wrote. The top (emit.py) declares every edge and stitches them.

- ``MVAU_hls``            -> hw/rtl/bnn_mvau.sv (weights and thresholds in ``<node>_w.dat``/``_t.dat``)
- ``LabelSelect_hls``     -> hw/rtl/bnn_labelselect.sv
- ``ShiftbnnMaxPool``     -> hw/rtl/bnn_maxpool.sv (ConvolutionInputGenerator + max Pool, graph.py)
- ``DuplicateStreams_hls``-> hw/rtl/stream_dup.sv (the fork of a residual block)
- ``ShiftbnnAdd``         -> hw/rtl/stream_add.sv (the join; FINN's add, or add + staircase clamp)
- ``GlobalAccPool_hls``   -> hw/rtl/bnn_globalaccpool.sv
- ``Thresholding_rtl``    -> hw/rtl/stream_requant.sv when its thresholds are one unit staircase
                             (graph.staircase), else FINN's own thresholding RTL
- FINN's RTL layers (FIFO, DWC, sliding window, padding, thresholding) -> the HDL FINN's own
  ``generate_hdl`` writes from finn-rtllib (no Vivado involved), wrapper named after the node.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.rtl_backend.graph import ADD_OP, MAXPOOL_OP, RtlGraphError, mvau_acc_bits, staircase
from hw.golden.bnn_mvau import acc_range
from hw.golden.mem_files import write_threshold_mem, write_weight_mem
from hw.sources import RTL_DIR

# FINN layers whose RTL FINN generates itself (finn-rtllib templates).
FINN_RTL_OPS = {
    "StreamingFIFO_rtl",
    "StreamingDataWidthConverter_rtl",
    "ConvolutionInputGenerator_rtl",
    "FMPadding_rtl",
    "Thresholding_rtl",
}


@dataclass
class Instance:
    text: str
    sources: list[Path] = field(default_factory=list)  # copied into rtl/ (deduplicated by name)
    written: list[str] = field(default_factory=list)  # files the emitter wrote into rtl/ itself
    fifo: str | None = None  # node name of a FIFO (its maxcount wire is <name>_maxcount)


@dataclass
class Edge:
    name: str  # SV signal prefix
    width: int
    beats: int  # beats per frame


def _sv(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _pad8(bits: int) -> int:
    return (bits + 7) // 8 * 8


def _attr(node, name):
    from onnx import helper

    return next(helper.get_attribute_value(a) for a in node.attribute if a.name == name)


# ---------------------------------------------------------------- shiftbnn blocks
def _hw_instance(module: str, name: str, params: dict, ports: list[tuple[str, Edge]]) -> str:
    """A shiftbnn block: clk_i/rst_ni and one AXI stream (``<prefix>_axis_*``) per (prefix, edge)."""
    plist = ",\n".join(f"    .{k:<14}({json.dumps(v) if isinstance(v, str) else v})" for k, v in params.items())
    conns = ["    .clk_i         (ap_clk)", "    .rst_ni        (ap_rst_n)"]
    for prefix, e in ports:
        conns += [f"    .{prefix}_axis_t{s:<6}({e.name}_t{s})" for s in ("data", "valid", "ready")]
    return f"  {module} #(\n{plist}\n  ) u_{_sv(name)} (\n" + ",\n".join(conns) + "\n  );\n"


def _io(src: Edge, dst: Edge) -> list[tuple[str, Edge]]:
    return [("s", src), ("m", dst)]


def emit_mvau(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (dst,) = ins, outs
    inst = getCustomOp(node)
    g = inst.get_nodeattr
    mw, mh, pe, simd = g("MW"), g("MH"), g("PE"), g("SIMD")
    xnor = bool(g("binaryXnorMode"))
    idt, odt = inst.get_input_datatype(0), inst.get_output_datatype(0)
    if g("mem_mode") == "external":
        raise RtlGraphError(f"node {node.name!r}: mem_mode=external (streamed weights) has no RTL here")
    W = model.get_initializer(node.input[1])
    if W is None or tuple(W.shape) != (mw, mh):
        raise RtlGraphError(f"node {node.name!r}: expected a constant {mw}x{mh} weight matrix")
    values = set(np.unique(W).tolist())
    if xnor:
        if idt != DataType["BINARY"] or not values <= {0.0, 1.0}:
            raise RtlGraphError(f"node {node.name!r}: XNOR mode needs binary inputs and weights")
        mode, in_bits, in_signed = "xnor", 1, False
    else:
        if not values <= {-1.0, 1.0}:
            raise RtlGraphError(
                f"node {node.name!r}: weights are not bipolar ({idt.name} x {g('weightDataType')}); "
                "bnn_mvau implements binary weights only"
            )
        if not idt.is_integer() or idt in (DataType["BIPOLAR"], DataType["BINARY"]):
            raise RtlGraphError(f"node {node.name!r}: input type {idt.name} has no RTL mode")
        mode, in_bits, in_signed = "int", idt.bitwidth(), idt.signed()
    acc_bits = mvau_acc_bits(inst)
    wfile = f"{node.name}_w.dat"
    write_weight_mem(W, pe, simd, rtl_dir / wfile)
    params = {
        "MW": mw,
        "MH": mh,
        "PE": pe,
        "SIMD": simd,
        "XnorMode": int(xnor),
        "InputBits": in_bits,
        "InputSigned": int(in_signed),
        "AccBits": acc_bits,
    }
    written = [wfile]
    if g("noActivation"):
        params["NumThresholds"] = 0
        elem_bits = acc_bits
    else:
        T = model.get_initializer(node.input[2])
        if T is None or T.ndim != 2:
            raise RtlGraphError(f"node {node.name!r}: expected a constant 2-D threshold tensor")
        T = np.broadcast_to(T, (mh, T.shape[1]))
        lo, hi = acc_range(mw, mode, in_bits, in_signed)
        tfile = f"{node.name}_t.dat"
        write_threshold_mem(T, pe, acc_bits + 1, rtl_dir / tfile, acc_lo=lo, acc_hi=hi)
        written.append(tfile)
        bipolar_out = odt == DataType["BIPOLAR"]
        elem_bits = 1 if bipolar_out else odt.bitwidth()
        params.update(
            NumThresholds=int(T.shape[1]),
            ThresholdBits=acc_bits + 1,
            OutBits=elem_bits,
            OutBias=0 if bipolar_out else int(g("ActVal")),
            ThresholdFile=tfile,
        )
    style = g("ram_style")
    # "distributed" -> "auto": yosys 0.70 cannot map a ROM (no write port) forced to LUTRAM ("no valid
    # mapping found"); left to itself it builds a shallow ROM from LUT logic, a deep one from BRAM.
    params.update(WeightFile=wfile, WeightRamStyle={"ultra": "block", "distributed": "auto"}.get(style, style))
    _check_widths(node, src, dst, simd * in_bits, pe * elem_bits)
    return Instance(_hw_instance("bnn_mvau", node.name, params, _io(src, dst)), [RTL_DIR / "bnn_mvau.sv"], written)


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
    _check_widths(node, src, dst, g("PE") * idt.bitwidth(), odt.bitwidth())
    text = _hw_instance("bnn_labelselect", node.name, params, _io(src, dst))
    return Instance(text, [RTL_DIR / "bnn_labelselect.sv"])


def emit_maxpool(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (dst,) = ins, outs
    params = {k: int(_attr(node, k)) for k in ("ImgDim", "Channels", "PE", "Kernel", "ElemBits", "Signed")}
    text = _hw_instance("bnn_maxpool", node.name, params, _io(src, dst))
    return Instance(text, [RTL_DIR / "bnn_maxpool.sv"])


def emit_dup(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (m0, m1) = ins, outs
    inst = getCustomOp(node)
    width = inst.get_instream_width(0)
    _check_widths(node, src, m0, width, width)
    _check_widths(node, src, m1, width, width)
    text = _hw_instance("stream_dup", node.name, {"Width": width}, [("s", src), ("m0", m0), ("m1", m1)])
    return Instance(text, [RTL_DIR / "stream_dup.sv"])


def emit_add(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (a, b), (dst,) = ins, outs
    keys = ("PE", "ABits", "ASigned", "BBits", "BSigned", "OutBits", "Offset", "OutMin", "OutMax")
    params = {k: int(_attr(node, k)) for k in keys}
    pe = params["PE"]
    for e, bits in ((a, params["ABits"]), (b, params["BBits"]), (dst, params["OutBits"])):
        if e.width != pe * bits:
            raise RtlGraphError(f"node {node.name!r}: stream {e.name} is {e.width} bits, stream_add uses {pe * bits}")
    text = _hw_instance("stream_add", node.name, params, [("s0", a), ("s1", b), ("m", dst)])
    return Instance(text, [RTL_DIR / "stream_add.sv"])


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
    _check_widths(node, src, dst, g("PE") * idt.bitwidth(), g("PE") * odt.bitwidth())
    text = _hw_instance("bnn_globalaccpool", node.name, params, _io(src, dst))
    return Instance(text, [RTL_DIR / "bnn_globalaccpool.sv"])


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
    _check_widths(node, src, dst, pe * idt.bitwidth(), pe * odt.bitwidth())
    text = _hw_instance("stream_requant", node.name, params, _io(src, dst))
    return Instance(text, [RTL_DIR / "stream_requant.sv"])


def _check_widths(node, src: Edge, dst: Edge, in_bits: int, out_bits: int) -> None:
    if (src.width, dst.width) != (in_bits, out_bits):
        raise RtlGraphError(
            f"node {node.name!r}: RTL stream widths {in_bits}->{out_bits} bits differ from the graph's "
            f"{src.width}->{dst.width}"
        )


# ---------------------------------------------------------------- FINN's own RTL
def emit_finn_rtl(model: ModelWrapper, node, rtl_dir: Path, src: Edge, dst: Edge, part: str, clk_ns: float):
    """A FINN RTL layer (one input, one output stream) from the HDL its ``generate_hdl`` writes."""
    inst = getCustomOp(node)
    gen = Path(tempfile.mkdtemp(prefix=f"{node.name}_", dir=rtl_dir.parent))
    try:
        inst.set_nodeattr("code_gen_dir_ipgen", str(gen))
        inst.generate_hdl(model, part, clk_ns)
        listed = [Path(p) for p in inst.get_rtl_file_list(abspath=True)]
        written = []
        # Everything FINN wrote for this node (wrapper, memory files), paths made bare (rtl/ is flat).
        for path in sorted(gen.iterdir()):
            if path.is_file():
                text_like = path.suffix in (".v", ".sv", ".vh", ".svh")
                if text_like:
                    text = path.read_text().replace(str(gen) + "/", "")
                    (rtl_dir / path.name).write_text(text)
                else:
                    shutil.copy(path, rtl_dir / path.name)
                written.append(path.name)
    finally:
        shutil.rmtree(gen, ignore_errors=True)
    sources = [p for p in listed if p.parent != gen]
    top = inst.get_nodeattr("gen_top_module") or node.name
    in_w, out_w = _pad8(src.width), _pad8(dst.width)
    n = _sv(node.name)
    lines = [
        f"  logic [{out_w - 1}:0] {n}_out_tdata;",
    ]
    fifo = None
    extra = ""
    valid, ready = f"{src.name}_tvalid", f"{src.name}_tready"
    if node.op_type.startswith("StreamingFIFO"):
        # FIFO sizing (fifo.py): in monitor builds, +fifo_limit_<node>=N caps the occupancy at run time.
        lines += [
            f"  logic [31:0] {n}_count, {n}_maxcount;",
            f"  logic {n}_gate, {n}_in_ready;",
            "`ifdef SHIFTBNN_FIFO_MONITOR",
            f"  int unsigned {n}_limit = 32'hFFFF_FFFF;",
            f'  initial void\'($value$plusargs("fifo_limit_{node.name}=%d", {n}_limit));',
            f"  assign {n}_gate = {n}_count < {n}_limit;",
            "`else",
            f"  assign {n}_gate = 1'b1;",
            "`endif",
            f"  assign {src.name}_tready = {n}_in_ready && {n}_gate;",
        ]
        extra = f",\n    .count         ({n}_count),\n    .maxcount      ({n}_maxcount)"
        valid, ready = f"{src.name}_tvalid && {n}_gate", f"{n}_in_ready"
        fifo = node.name
    in_data = src.name + "_tdata" if in_w == src.width else f"{in_w}'({src.name}_tdata)"
    lines += [
        f"  {top} u_{n} (",
        "    .ap_clk        (ap_clk),",
        "    .ap_rst_n      (ap_rst_n),",
        f"    .in0_V_TDATA   ({in_data}),",
        f"    .in0_V_TVALID  ({valid}),",
        f"    .in0_V_TREADY  ({ready}),",
        f"    .out0_V_TDATA  ({n}_out_tdata),",
        f"    .out0_V_TVALID ({dst.name}_tvalid),",
        f"    .out0_V_TREADY ({dst.name}_tready){extra}",
        "  );",
        f"  assign {dst.name}_tdata = {n}_out_tdata[{dst.width - 1}:0];",
    ]
    return Instance("\n".join(lines) + "\n", sources, written, fifo)


def _patch_fifo(text: str) -> str:
    """finn-rtllib fifo.sv computes its memory split with a struct-valued constant function, which
    Verilator 5.48 cannot evaluate: compute the same two numbers with two int functions. Also drop its
    in-module `default_nettype (see _strip_nettype)."""
    old_start = text.index("\ttypedef struct {")
    old_end = text.index("localparam abits_t       ABITS      = INIT_ABITS();")
    old_end = text.index("\n", old_end) + 1
    new = """\t// shiftbnn: INIT_ABITS() split into two int functions (Verilator cannot evaluate the struct one).
\tfunction int unsigned INIT_ABITS_HI();
\t\tautomatic int unsigned  lo = $clog2(DEPTH_REQ);
\t\tif(lo > MIN_ABITS) begin
\t\t\tautomatic int unsigned  hi_abits = $clog2(DEPTH_REQ - 2**(lo-1));
\t\t\tif(hi_abits < lo - 1)  return  hi_abits < 1? 1 : hi_abits;
\t\tend
\t\treturn  0;
\tendfunction : INIT_ABITS_HI
\tlocalparam int unsigned  ABITS_HI = INIT_ABITS_HI();
\tlocalparam int unsigned  ABITS_LO = $clog2(DEPTH_REQ) - (ABITS_HI? 1 : 0);
"""
    text = text[:old_start] + new + text[old_end:]
    return _strip_nettype(text.replace("ABITS.lo", "ABITS_LO").replace("ABITS.hi", "ABITS_HI"))


def _strip_nettype(text: str) -> str:
    """slang (yosys read_slang) rejects `default_nettype inside a module; the directive only lints."""
    return re.sub(r"^\s*`default_nettype\s+\w+\s*$", "", text, flags=re.M)


def _patch_thresholding(text: str) -> str:
    """yosys-slang rejects ("unsynthesizable feature", no location) a part-select with a reversed range,
    even in a ?: branch that constant folding removes. thresholding.sv has one at pipeline stage 0, where
    SN = M-1 makes p.ptr[M-1:SN+1] = p.ptr[M-1:M]; SCOPE_REDUCE is 0 at stage 0 for every N, so that
    branch is dead there. Written as a shift it is the same unsigned value wherever SN+1 <= M-1."""
    old = "p.ptr[M-1:SN+1] < 2**stage - SCOPE_REDUCE"
    if text.count(old) != 1:  # a FINN update changed the file: fail loudly rather than emit unpatched RTL
        raise RtlGraphError(f"finn-rtllib thresholding.sv: expected one '{old}' to rewrite for yosys")
    return text.replace(old, "(p.ptr[M-1:0] >> (SN+1)) < 2**stage - SCOPE_REDUCE")


# Verilator / yosys-slang compatibility edits of copied finn-rtllib files (same hardware; the RTL
# simulation of the whole network runs the edited files).
PATCHES = {"fifo.sv": _patch_fifo, "vpc.sv": _strip_nettype, "thresholding.sv": _patch_thresholding}


EMITTERS = {
    "MVAU_hls": emit_mvau,
    "LabelSelect_hls": emit_labelselect,
    MAXPOOL_OP: emit_maxpool,
    "DuplicateStreams_hls": emit_dup,
    ADD_OP: emit_add,
    "GlobalAccPool_hls": emit_globalaccpool,
}


def emit_node(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge], part: str, clk_ns: float):
    """The instance of one node; an error that names the node for anything without RTL."""
    if node.op_type in EMITTERS:
        return EMITTERS[node.op_type](model, node, rtl_dir, ins, outs)
    if node.op_type.startswith("Thresholding") and staircase(model, node) is not None:
        return emit_requant(model, node, rtl_dir, ins, outs)
    if node.op_type in FINN_RTL_OPS:
        if len(ins) != 1 or len(outs) != 1:
            raise RtlGraphError(f"node {node.name!r}: expected one input and one output stream")
        return emit_finn_rtl(model, node, rtl_dir, ins[0], outs[0], part, clk_ns)
    raise RtlGraphError(f"node {node.name!r} (op {node.op_type}) has no RTL implementation")


def has_rtl(model: ModelWrapper, node) -> bool:
    return node.op_type in EMITTERS or node.op_type in FINN_RTL_OPS
