"""What every emitter shares: the stream ``Edge``, the emitted ``Instance`` and the instance text of a
shiftbnn block (``clk_i``/``rst_ni`` and one AXI stream ``<prefix>_axis_*`` per port)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from onnx import helper

from flow.rtl_backend.graph import RtlGraphError
from hw.sources import SvLiteral


@dataclass
class Instance:
    text: str
    sources: list[Path] = field(default_factory=list)  # copied into rtl/ (deduplicated by name)
    written: list[str] = field(default_factory=list)  # files the emitter wrote into rtl/ itself
    fifo: str | None = None  # node name of a FIFO (its maxcount wire is <name>_maxcount)
    # an MVAU whose weights load at run time: {"node", "file" (its words), "width", "words"}; its weight
    # stream ports are wired to <wgt_prefix(node)>_in / _out, which the top chains (emit.py)
    runtime_weights: dict | None = None


@dataclass
class Edge:
    name: str  # SV signal prefix
    width: int
    beats: int  # beats per frame


def sv_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def pad8(bits: int) -> int:
    return (bits + 7) // 8 * 8


def attr(node, name):
    return next(helper.get_attribute_value(a) for a in node.attribute if a.name == name)


def hw_instance(module: str, name: str, params: dict, ports: list[tuple[str, Edge]], extra=()) -> str:
    """A shiftbnn block: clk_i/rst_ni and one AXI stream (``<prefix>_axis_*``) per (prefix, edge);
    ``extra``: further port connections (``.port (signal)`` lines)."""
    plist = ",\n".join(f"    .{k:<14}({_sv_value(v)})" for k, v in params.items())
    conns = ["    .clk_i         (ap_clk)", "    .rst_ni        (ap_rst_n)"]
    for prefix, e in ports:
        conns += [f"    .{prefix}_axis_t{s:<6}({e.name}_t{s})" for s in ("data", "valid", "ready")]
    conns += [f"    {c}" for c in extra]
    return f"  {module} #(\n{plist}\n  ) u_{sv_name(name)} (\n" + ",\n".join(conns) + "\n  );\n"


def _sv_value(v) -> str:
    """A parameter value: an SvLiteral as is, a string quoted, a number as it prints."""
    if isinstance(v, SvLiteral):
        return str(v)
    return json.dumps(v) if isinstance(v, str) else str(v)


def wgt_prefix(node_name: str) -> str:
    """The top's signal prefix of an MVAU's weight-stream links (``<prefix>_in_t*`` / ``<prefix>_out_t*``)."""
    return f"wgt_{sv_name(node_name)}"


def wgt_ports(node_name: str, runtime: bool) -> list[str]:
    """bnn_mvau / int_mvau weight-stream ports: wired into the top's chain, or tied off."""
    if not runtime:
        return [".s_axis_wgt_tdata  ('0)", ".s_axis_wgt_tvalid (1'b0)", ".s_axis_wgt_tready ()",
                ".m_axis_wgt_tdata  ()", ".m_axis_wgt_tvalid ()", ".m_axis_wgt_tready (1'b1)"]  # fmt: skip
    p = wgt_prefix(node_name)
    return [f".s_axis_wgt_t{s:<6}({p}_in_t{s})" for s in ("data", "valid", "ready")] + [
        f".m_axis_wgt_t{s:<6}({p}_out_t{s})" for s in ("data", "valid", "ready")
    ]


def io(src: Edge, dst: Edge) -> list[tuple[str, Edge]]:
    return [("s", src), ("m", dst)]


def check_widths(node, src: Edge, dst: Edge, in_bits: int, out_bits: int) -> None:
    if (src.width, dst.width) != (in_bits, out_bits):
        raise RtlGraphError(
            f"node {node.name!r}: RTL stream widths {in_bits}->{out_bits} bits differ from the graph's "
            f"{src.width}->{dst.width}"
        )
