"""FINN's RTL layers (FIFO, sliding window, padding, thresholding) from the HDL
FINN's own ``generate_hdl`` writes (finn-rtllib templates, no Vivado involved); wrapper named after
the node. A few finn-rtllib files get Verilator / yosys-slang compatibility edits (``PATCHES``: same
hardware; the whole-network simulation runs the edited files).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.rtl_backend.emitters.common import Edge, Instance, pad8, sv_name
from flow.rtl_backend.graph import RtlGraphError

# FINN layers whose RTL FINN generates itself (finn-rtllib templates).
FINN_RTL_OPS = {
    "StreamingFIFO_rtl",
    "ConvolutionInputGenerator_rtl",
    "FMPadding_rtl",
    "Thresholding_rtl",
}


def emit_finn_rtl(model: ModelWrapper, node, rtl_dir: Path, src: Edge, dst: Edge, part: str, clk_ns: float):
    """A FINN RTL layer (one input, one output stream) from the HDL its ``generate_hdl`` writes."""
    inst = getCustomOp(node)
    sources, written = finn_hdl(model, inst, node.name, rtl_dir, part, clk_ns)
    top = inst.get_nodeattr("gen_top_module") or node.name
    in_w, out_w = pad8(src.width), pad8(dst.width)
    n = sv_name(node.name)
    lines = [
        f"  logic [{out_w - 1}:0] {n}_out_tdata;",
    ]
    fifo = None
    extra = ""
    valid, ready = f"{src.name}_tvalid", f"{src.name}_tready"
    if node.op_type.startswith("StreamingFIFO"):
        lines += fifo_gate(node.name, src)
        extra = f",\n    .count         ({n}_count),\n    .maxcount      ({n}_maxcount)"
        valid, ready = f"{src.name}_tvalid && {n}_gate", f"{n}_in_ready"
        fifo = node.name
    in_data = src.name + "_tdata" if in_w == src.width else f"{in_w}'({src.name}_tdata)"
    if node.op_type.startswith("ConvolutionInputGenerator") and window_input_skid(clk_ns):
        lines += input_skid(n, in_w, in_data, valid, ready)
        in_data, valid, ready = f"{n}_skid_tdata", f"{n}_skid_tvalid", f"{n}_skid_tready"
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


# FINN's sliding window drives its input ready combinationally from its buffer-address compares (carry
# chains: up to 3.3 ns by the delay model in CNV-W1A1), and the FIFO before it updates its pointer from
# that ready (2 more ns): 5.31 ns in the whole CNV, the design's slowest path. Below this period a skid
# buffer (registered ready, full throughput, one cycle of latency) cuts that handshake.
WINDOW_SKID_BELOW_NS = 6.0


def window_input_skid(clk_ns: float) -> bool:
    return clk_ns < WINDOW_SKID_BELOW_NS


def input_skid(n: str, width: int, data: str, valid: str, ready: str) -> list[str]:
    """An axis_skid in front of instance ``n``: its input is the stream (data, valid, ready), its output
    ``{n}_skid_t*``."""
    return [
        f"  logic [{width - 1}:0] {n}_skid_tdata;",
        f"  logic {n}_skid_tvalid, {n}_skid_tready;",
        f"  axis_skid #(.DataWidth({width})) u_{n}_in_skid (",
        "    .clk_i         (ap_clk),",
        "    .rst_ni        (ap_rst_n),",
        f"    .s_axis_tdata  ({data}),",
        f"    .s_axis_tvalid ({valid}),",
        f"    .s_axis_tready ({ready}),",
        f"    .m_axis_tdata  ({n}_skid_tdata),",
        f"    .m_axis_tvalid ({n}_skid_tvalid),",
        f"    .m_axis_tready ({n}_skid_tready)",
        "  );",
    ]


def finn_hdl(model: ModelWrapper, inst, name: str, rtl_dir: Path, part: str, clk_ns: float) -> tuple[list, list]:
    """FINN's ``generate_hdl`` for one node in a temporary folder; everything it wrote (wrapper, memory
    files) copied into rtl/ with its paths made bare (rtl/ is flat). Returns the library sources it
    lists (finn-rtllib, outside that folder) and the names written."""
    gen = Path(tempfile.mkdtemp(prefix=f"{name}_", dir=rtl_dir.parent))
    try:
        inst.set_nodeattr("code_gen_dir_ipgen", str(gen))
        inst.generate_hdl(model, part, clk_ns)
        listed = [Path(p) for p in inst.get_rtl_file_list(abspath=True)]
        written = []
        for path in sorted(gen.iterdir()):
            if path.is_file():
                if path.suffix in (".v", ".sv", ".vh", ".svh"):
                    (rtl_dir / path.name).write_text(path.read_text().replace(str(gen) + "/", ""))
                else:
                    shutil.copy(path, rtl_dir / path.name)
                written.append(path.name)
    finally:
        shutil.rmtree(gen, ignore_errors=True)
    return [p for p in listed if p.parent != gen], written


def fifo_gate(name: str, src: Edge) -> list[str]:
    """FIFO sizing (fifo.py): in monitor builds, +fifo_limit_<node>=N caps the FIFO's occupancy at run
    time (the input is gated once the count reaches it)."""
    n = sv_name(name)
    return [
        f"  logic [31:0] {n}_count, {n}_maxcount;",
        f"  logic {n}_gate, {n}_in_ready;",
        "`ifdef SHIFTBNN_FIFO_MONITOR",
        f"  int unsigned {n}_limit = 32'hFFFF_FFFF;",
        f'  initial void\'($value$plusargs("fifo_limit_{name}=%d", {n}_limit));',
        f"  assign {n}_gate = {n}_count < {n}_limit;",
        "`else",
        f"  assign {n}_gate = 1'b1;",
        "`endif",
        f"  assign {src.name}_tready = {n}_in_ready && {n}_gate;",
    ]


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
# (vpc.sv: finn-rtllib's width converter, which hw/rtl/stream_dwc.sv replaces; kept for bench/synth_dwc.py)
PATCHES = {"fifo.sv": _patch_fifo, "vpc.sv": _strip_nettype, "thresholding.sv": _patch_thresholding}
