"""Emit the whole network as one SystemVerilog top (``shiftbnn_top``) from the RTL-ready FINN graph.

Every node becomes one instance (emitters/), every tensor one valid/ready stream: a node with
several inputs or outputs (the fork ``DuplicateStreams`` and the join ``ShiftbnnAdd`` of a residual
block) is wired by tensor name. Any node without RTL is an error that names it. The output folder
follows docs/rtl_interface.md: flat, ``filelist.f`` in compile order, memory files referenced by bare
name, ``top.json`` for drivers.

Each FIFO's ``maxcount`` occupancy is printed by a ``final`` block when the simulator is built with
``+define+SHIFTBNN_FIFO_MONITOR`` (FIFO sizing, see sim.py); synthesis never sees it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.core.hw_graph import stream_shape
from flow.rtl_backend.emitters import Edge, Instance, emit_node, has_rtl
from flow.rtl_backend.emitters.common import pad8, sv_name, wgt_prefix
from flow.rtl_backend.emitters.finn_rtl import PATCHES
from flow.rtl_backend.graph import RtlGraphError
from flow.rtl_backend.styles import SetFifoRamStyle
from hw.sources import COMMON_SOURCES, RTL_DIR

TOP = "shiftbnn_top"


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


def stream_inputs(model: ModelWrapper, node) -> list[str]:
    """The tensors a node streams in (constant inputs such as weights and thresholds are not streams)."""
    return [t for t in node.input if t and model.get_initializer(t) is None]


def stream_edges(model: ModelWrapper):
    """One Edge per stream tensor, keyed by tensor name; checks that every stream has one producer
    (or is the graph input) and one consumer (or is the graph output). Returns (edges, first, last):
    the nodes consuming the graph input and producing the graph output."""
    if len(model.graph.input) != 1 or len(model.graph.output) != 1:
        raise RtlGraphError("the dataflow graph must have one input and one output stream")
    gin, gout = model.graph.input[0].name, model.graph.output[0].name
    edges: dict[str, Edge] = {}
    for i, node in enumerate(model.graph.node):
        for k, tensor in enumerate(node.output):
            beats, width = stream_shape(model, node, output=True, ind=k)
            suffix = f"_o{k}" if len(node.output) > 1 else ""
            edges[tensor] = Edge(f"s{i + 1}_{sv_name(node.name)}{suffix}", width, beats)
    first = model.find_consumers(gin) or []
    last = model.find_producer(gout)
    if len(first) != 1 or last is None:
        raise RtlGraphError("the graph input must feed one node and the graph output come from one node")
    first = first[0]
    k = stream_inputs(model, first).index(gin)
    beats, width = stream_shape(model, first, output=False, ind=k)
    edges[gin] = Edge("s0_in", width, beats)
    for node in model.graph.node:
        for tensor in stream_inputs(model, node):
            if tensor not in edges:
                raise RtlGraphError(f"node {node.name!r}: input stream {tensor!r} has no producer")
    for tensor in edges:
        consumers = model.find_consumers(tensor) or []
        if tensor != gout and len(consumers) != 1:
            raise RtlGraphError(
                f"stream {tensor!r} feeds {len(consumers)} nodes; a fork must be a DuplicateStreams node"
            )
    return edges, first, last


def generate_rtl(model: ModelWrapper, rtl_dir: Path, part: str, clock_mhz: float, in_shape_nhwc) -> dict:
    """Write rtl/ for ``model`` (an ``rtl_graph``); returns the top.json dict."""
    rtl_dir.mkdir(parents=True, exist_ok=True)
    model = model.transform(SetFifoRamStyle(part))
    nodes = list(model.graph.node)
    for node in nodes:
        if not has_rtl(model, node):
            raise RtlGraphError(f"node {node.name!r} (op {node.op_type}) has no RTL implementation")
    edges, first, last = stream_edges(model)
    instances = [
        emit_node(model, node, rtl_dir, [edges[t] for t in stream_inputs(model, node)],
                  [edges[t] for t in node.output], part, 1000.0 / clock_mhz)
        for node in nodes
    ]  # fmt: skip
    in_edge, out_edge = edges[model.graph.input[0].name], edges[model.graph.output[0].name]
    in_w, out_w = pad8(in_edge.width), pad8(out_edge.width)
    write_sources(rtl_dir, instances)
    in_format, out_format = stream_formats(first, last, in_edge.beats, out_edge.beats)
    (rtl_dir / f"{TOP}.sv").write_text(_top_text(model, edges, instances, in_w, out_w))
    top = {
        "top": TOP,
        "in_width": in_w,
        "out_width": out_w,
        **in_format,
        "in_shape_nhwc": [int(x) for x in in_shape_nhwc],
        **out_format,
        "out_shape": [int(x) for x in model.get_tensor_shape(model.graph.output[0].name)],
        "clock_mhz": float(clock_mhz),
        "fifo_depths": fifo_depths(model),
        "runtime_weights": runtime_weight_chain(instances),
    }
    (rtl_dir / "top.json").write_text(json.dumps(top, indent=2) + "\n")
    return top


def write_sources(rtl_dir: Path, instances: list[Instance]) -> None:
    """Copy the instances' RTL sources (FINN's patched where PATCHES says) and our common sources into
    rtl/, and write filelist.f: packages first, the top last."""
    sources: list[Path] = []
    for inst in instances:
        sources += [p for p in inst.sources if p.name not in [q.name for q in sources]]
    for path in sources:
        text = path.read_text()
        (rtl_dir / path.name).write_text(PATCHES[path.name](text) if path.name in PATCHES else text)
    dep = [RTL_DIR / f for f in COMMON_SOURCES]
    for path in dep:
        shutil.copy(path, rtl_dir / path.name)
    written = [w for inst in instances for w in inst.written]
    hdl = [p.name for p in dep + sources] + [w for w in written if w.endswith((".v", ".sv"))]
    packages = [f for f in hdl if f.endswith("_pkg.sv")]
    order = packages + [f for f in hdl if f not in packages] + [f"{TOP}.sv"]
    (rtl_dir / "filelist.f").write_text("".join(f + "\n" for f in dict.fromkeys(order)))


def stream_formats(first, last, in_beats: int, out_beats: int) -> tuple[dict, dict]:
    """top.json's element type and packing of the input stream (``first`` node) and the output stream."""
    first_op, last_op = getCustomOp(first), getCustomOp(last)
    idt, odt = first_op.get_input_datatype(0), last_op.get_output_datatype(0)
    return {
        "in_elem_bits": idt.bitwidth(),
        "in_elems_per_beat": int(first_op.get_folded_input_shape()[-1]),
        "in_beats_per_image": in_beats,
        "in_datatype": idt.name,
    }, {
        "out_elem_bits": odt.bitwidth(),
        "out_elems_per_beat": int(last_op.get_folded_output_shape()[-1]),
        "out_beats_per_image": out_beats,
        "out_datatype": odt.name,
    }


def runtime_weight_chain(instances: list[Instance]) -> list[dict]:
    """The MVAUs whose weights load at run time through s_axis_wgt, in chain order, with their beats
    (docs/rtl_interface.md)."""
    return [
        {**i.runtime_weights, "beats": i.runtime_weights["words"] * ((i.runtime_weights["width"] + 31) // 32)}
        for i in instances
        if i.runtime_weights
    ]


def _weight_chain(nodes: list[str]) -> tuple[str, str]:
    """The top's run-time weight port and its daisy chain through the MVAUs that load weights (s_axis_wgt
    -> first -> ... -> last -> dropped): (port declarations, wires and assigns); empty without such MVAUs."""
    if not nodes:
        return "", ""
    port = (
        ",\n  input  logic [31:0]       s_axis_wgt_tdata,\n  input  logic              s_axis_wgt_tvalid,"
        "\n  output logic              s_axis_wgt_tready"
    )
    lines = ["  // run-time weights: s_axis_wgt through every loading MVAU in turn (mvau_wload)"]
    for n in nodes:
        p = wgt_prefix(n)
        lines += [f"  logic [31:0] {p}_{d}_tdata;" for d in ("in", "out")]
        lines += [f"  logic {p}_{d}_tvalid, {p}_{d}_tready;" for d in ("in", "out")]
    src = "s_axis_wgt"
    for n in nodes:
        p = wgt_prefix(n)
        lines += [f"  assign {p}_in_tdata  = {src}_tdata;", f"  assign {p}_in_tvalid = {src}_tvalid;",
                  f"  assign {src}_tready = {p}_in_tready;"]  # fmt: skip
        src = f"{p}_out"
    lines.append(f"  assign {src}_tready = 1'b1;  // beats after the last MVAU's words are dropped")
    return port, "\n".join(lines) + "\n"


def _top_text(model: ModelWrapper, edges: dict[str, Edge], instances: list[Instance], in_w, out_w) -> str:
    first_edge = edges[model.graph.input[0].name]
    out_edge = edges[model.graph.output[0].name]
    decl = []
    for tensor, e in edges.items():
        decl.append(f"  // {tensor}: {e.beats} beats/frame")
        decl.append(f"  logic [{e.width - 1}:0] {e.name}_tdata;")
        decl.append(f"  logic {e.name}_tvalid, {e.name}_tready;")
    body = "\n".join(i.text for i in instances)
    fifos = [i.fifo for i in instances if i.fifo]
    monitor = "\n".join(f'    $display("fifo {name} maxcount %0d", {sv_name(name)}_maxcount);' for name in fifos)
    pad_in = "" if in_w == first_edge.width else f"[{first_edge.width - 1}:0]"
    wgt_port, wgt_chain = _weight_chain([i.runtime_weights["node"] for i in instances if i.runtime_weights])
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
  input  logic              m_axis_tready{wgt_port}
);
{chr(10).join(decl)}
{wgt_chain}
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
