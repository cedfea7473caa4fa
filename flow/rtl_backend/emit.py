"""Emit the whole network as one SystemVerilog top (``shiftbnn_top``) from the RTL-ready FINN graph.

Every node becomes one instance, connected by valid/ready streams in graph order:
- ``MVAU_hls``        -> hw/rtl/bnn_mvau.sv (weights and thresholds in ``<node>_w.dat``/``_t.dat``)
- ``LabelSelect_hls`` -> hw/rtl/bnn_labelselect.sv
- ``ShiftbnnMaxPool`` -> hw/rtl/bnn_maxpool.sv (ConvolutionInputGenerator + max Pool, see graph.py)
- FINN's RTL layers (FIFO, DWC, sliding window, padding, thresholding) -> the HDL FINN's own
  ``generate_hdl`` writes from finn-rtllib (no Vivado involved), wrapper named after the node.
Any other node is an error that names it. The output folder follows docs/rtl_interface.md: flat,
``filelist.f`` in compile order, memory files referenced by bare name, ``top.json`` for drivers.

Each FIFO's ``maxcount`` occupancy is printed by a ``final`` block when the simulator is built with
``+define+SHIFTBNN_FIFO_MONITOR`` (FIFO sizing, see sim.py); synthesis never sees it.
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

from flow.rtl_backend.graph import MAXPOOL_OP, RtlGraphError, mvau_acc_bits, stream_shape
from hw.golden.mem_files import write_threshold_mem, write_weight_mem
from hw.golden.mvau import acc_range

REPO = Path(__file__).resolve().parents[2]
HW_RTL = REPO / "hw" / "rtl"
TOP = "shiftbnn_top"
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
def _hw_instance(module: str, name: str, params: dict, src: Edge, dst: Edge) -> str:
    plist = ",\n".join(f"    .{k:<14}({json.dumps(v) if isinstance(v, str) else v})" for k, v in params.items())
    return (
        f"  {module} #(\n{plist}\n  ) u_{name} (\n"
        f"    .clk_i         (ap_clk),\n    .rst_ni        (ap_rst_n),\n"
        f"    .s_axis_tdata  ({src.name}_tdata),\n    .s_axis_tvalid ({src.name}_tvalid),\n"
        f"    .s_axis_tready ({src.name}_tready),\n    .m_axis_tdata  ({dst.name}_tdata),\n"
        f"    .m_axis_tvalid ({dst.name}_tvalid),\n    .m_axis_tready ({dst.name}_tready)\n  );\n"
    )


def emit_mvau(model: ModelWrapper, node, rtl_dir: Path, src: Edge, dst: Edge) -> Instance:
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
    return Instance(_hw_instance("bnn_mvau", node.name, params, src, dst), [HW_RTL / "bnn_mvau.sv"], written)


def emit_labelselect(model: ModelWrapper, node, rtl_dir: Path, src: Edge, dst: Edge) -> Instance:
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
    text = _hw_instance("bnn_labelselect", node.name, params, src, dst)
    return Instance(text, [HW_RTL / "bnn_labelselect.sv"])


def emit_maxpool(model: ModelWrapper, node, rtl_dir: Path, src: Edge, dst: Edge) -> Instance:
    params = {k: int(_attr(node, k)) for k in ("ImgDim", "Channels", "PE", "Kernel", "ElemBits", "Signed")}
    text = _hw_instance("bnn_maxpool", node.name, params, src, dst)
    return Instance(text, [HW_RTL / "bnn_maxpool.sv"])


def _check_widths(node, src: Edge, dst: Edge, in_bits: int, out_bits: int) -> None:
    if (src.width, dst.width) != (in_bits, out_bits):
        raise RtlGraphError(
            f"node {node.name!r}: RTL stream widths {in_bits}->{out_bits} bits differ from the graph's "
            f"{src.width}->{dst.width}"
        )


# ---------------------------------------------------------------- FINN's own RTL
def emit_finn_rtl(model: ModelWrapper, node, rtl_dir: Path, src: Edge, dst: Edge, part: str, clk_ns: float):
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


# Verilator compatibility edits of copied finn-rtllib files (same hardware).
PATCHES = {"fifo.sv": _patch_fifo, "vpc.sv": _strip_nettype}

EMITTERS = {
    "MVAU_hls": emit_mvau,
    "LabelSelect_hls": emit_labelselect,
    MAXPOOL_OP: emit_maxpool,
}


# ---------------------------------------------------------------- the top
def set_fifo_depths(model: ModelWrapper, depths: dict[str, int]) -> None:
    for node in model.graph.node:
        if node.op_type.startswith("StreamingFIFO") and node.name in depths:
            getCustomOp(node).set_nodeattr("depth", max(2, int(depths[node.name])))


def fifo_depths(model: ModelWrapper) -> dict[str, int]:
    return {
        n.name: int(getCustomOp(n).get_nodeattr("depth"))
        for n in model.graph.node
        if n.op_type.startswith("StreamingFIFO")
    }


def generate_rtl(model: ModelWrapper, rtl_dir: Path, part: str, clock_mhz: float, in_shape_nhwc) -> dict:
    """Write rtl/ for ``model`` (an ``rtl_graph``); returns the top.json dict."""
    rtl_dir.mkdir(parents=True, exist_ok=True)
    nodes = list(model.graph.node)
    for node in nodes:
        if node.op_type not in EMITTERS and node.op_type not in FINN_RTL_OPS:
            raise RtlGraphError(f"node {node.name!r} (op {node.op_type}) has no RTL implementation")
    edges: dict[str, Edge] = {}
    for i, node in enumerate(nodes):
        beats, width = stream_shape(model, node, output=True)
        edges[node.output[0]] = Edge(f"s{i + 1}_{_sv(node.name)}", width, beats)
    first, last = nodes[0], nodes[-1]
    in_beats, in_width = stream_shape(model, first, output=False)
    edges[first.input[0]] = Edge("s0_in", in_width, in_beats)
    if model.graph.input[0].name != first.input[0] or model.graph.output[0].name != last.output[0]:
        raise RtlGraphError("the dataflow graph must be one chain from its input to its output")

    instances, sources, written = [], [], []
    for node in nodes:
        if len(node.input) < 1 or len(node.output) != 1:
            raise RtlGraphError(f"node {node.name!r}: only single-output stream layers are supported")
        src, dst = edges[node.input[0]], edges[node.output[0]]
        if node.op_type in EMITTERS:
            inst = EMITTERS[node.op_type](model, node, rtl_dir, src, dst)
        else:
            inst = emit_finn_rtl(model, node, rtl_dir, src, dst, part, 1000.0 / clock_mhz)
        instances.append(inst)
        for path in inst.sources:
            if path.name not in [p.name for p in sources]:
                sources.append(path)
        written += inst.written

    for path in sources:
        text = path.read_text()
        (rtl_dir / path.name).write_text(PATCHES[path.name](text) if path.name in PATCHES else text)
    dep = [HW_RTL / "axis_skid.sv"]
    for path in dep:
        shutil.copy(path, rtl_dir / path.name)
    out_edge = edges[last.output[0]]
    in_w, out_w = _pad8(in_width), _pad8(out_edge.width)
    (rtl_dir / f"{TOP}.sv").write_text(_top_text(model, edges, instances, in_w, out_w))

    hdl = [p.name for p in dep + sources] + [w for w in written if w.endswith((".v", ".sv"))]
    packages = [f for f in hdl if f.endswith("_pkg.sv")]
    order = packages + [f for f in hdl if f not in packages] + [f"{TOP}.sv"]
    (rtl_dir / "filelist.f").write_text("".join(f + "\n" for f in dict.fromkeys(order)))

    oinst = getCustomOp(last)
    odt = oinst.get_output_datatype(0)
    out_folded = oinst.get_folded_output_shape()
    idt = getCustomOp(first).get_input_datatype(0)
    in_folded = getCustomOp(first).get_folded_input_shape()
    top = {
        "top": TOP,
        "in_width": in_w,
        "out_width": out_w,
        "in_elem_bits": idt.bitwidth(),
        "in_elems_per_beat": int(in_folded[-1]),
        "in_beats_per_image": in_beats,
        "in_datatype": idt.name,
        "in_shape_nhwc": [int(x) for x in in_shape_nhwc],
        "out_elem_bits": odt.bitwidth(),
        "out_elems_per_beat": int(out_folded[-1]),
        "out_beats_per_image": out_edge.beats,
        "out_datatype": odt.name,
        "out_shape": [int(x) for x in model.get_tensor_shape(model.graph.output[0].name)],
        "clock_mhz": float(clock_mhz),
        "fifo_depths": fifo_depths(model),
    }
    (rtl_dir / "top.json").write_text(json.dumps(top, indent=2) + "\n")
    return top


def _top_text(model: ModelWrapper, edges: dict[str, Edge], instances: list[Instance], in_w, out_w) -> str:
    first_edge = edges[model.graph.node[0].input[0]]
    out_edge = edges[model.graph.node[-1].output[0]]
    decl = []
    for tensor, e in edges.items():
        decl.append(f"  // {tensor}: {e.beats} beats/frame")
        decl.append(f"  logic [{e.width - 1}:0] {e.name}_tdata;")
        decl.append(f"  logic {e.name}_tvalid, {e.name}_tready;")
    body = "\n".join(i.text for i in instances)
    fifos = [i.fifo for i in instances if i.fifo]
    monitor = "\n".join(f'    $display("fifo {name} maxcount %0d", {_sv(name)}_maxcount);' for name in fifos)
    pad_in = "" if in_w == first_edge.width else f"[{first_edge.width - 1}:0]"
    out_assign = (
        f"{out_edge.name}_tdata"
        if out_w == out_edge.width
        else f"{{{out_w - out_edge.width}'b0, {out_edge.name}_tdata}}"
    )
    return f"""// shiftbnn_top: the whole dataflow network as one AXI-stream module.
// Generated by flow/rtl_backend from the folded FINN graph; do not edit (rebuild instead).
// Interface and stream formats: docs/rtl_interface.md. Unused top bits of s_axis_tdata are ignored,
// those of m_axis_tdata are zero.
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off WIDTHEXPAND */
module {TOP} (
  input  logic              ap_clk,
  input  logic              ap_rst_n,
  input  logic [{in_w - 1}:0]      s_axis_tdata,
  input  logic              s_axis_tvalid,
  output logic              s_axis_tready,
  output logic [{out_w - 1}:0]      m_axis_tdata,
  output logic              m_axis_tvalid,
  input  logic              m_axis_tready
);
{chr(10).join(decl)}

  assign {first_edge.name}_tdata  = s_axis_tdata{pad_in};
  assign {first_edge.name}_tvalid = s_axis_tvalid;
  assign s_axis_tready = {first_edge.name}_tready;
  assign m_axis_tdata  = {out_assign};
  assign m_axis_tvalid = {out_edge.name}_tvalid;
  assign {out_edge.name}_tready = m_axis_tready;

{body}
`ifdef SHIFTBNN_FIFO_MONITOR
  final begin
{monitor}
  end
`endif
endmodule : {TOP}
/* verilator lint_on WIDTHEXPAND */
/* verilator lint_on UNUSEDSIGNAL */
"""
