"""Critical path of a window of a generated design: a run of its blocks synthesized together, cheaply.

bench/synth_timing.py synthesizes each block alone, so a path through a handshake between two blocks
(a combinational ready into the FIFO before it) is split between their rows; the whole design takes half
an hour of yosys. A window is the blocks from ``--first`` to ``--last`` of ``shiftbnn_top``'s stream chain
(every stream the top declares; the window's first input and last output made ports): the paths between
those blocks are whole in it, and it synthesizes in seconds to minutes.

    python bench/synth_window.py --rtl build/x/rtl --first StreamingFIFO_rtl_19 --last StreamingFIFO_rtl_20

Each block is mapped on its own as ``synthesize`` maps a whole design (``--flatten``: all in one module,
as before 024f67b); prints the delay model's slowest paths and the critical path cell by cell.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from flow.rtl_backend.synth import synth_module  # noqa: E402
from flow.rtl_backend.timing import format_path  # noqa: E402

TOP_PORT = re.compile(r".*\b[sm]_axis_t(data|valid|ready)\s*;")


def window_top(top_text: str, first: str, last: str) -> str:
    """Module ``win_top``: the sections of ``top_text`` (blank-line separated, one block instance each)
    from the one instantiating ``u_<first>`` to ``u_<last>``, with the stream into the first and the
    stream out of the last as ports ``s_t*`` / ``m_t*``."""
    head, body = top_text.split("assign s_axis_tready = s0_in_tready;", 1)
    decls = "\n".join(ln for ln in head.split(");", 1)[1].splitlines() if "_axis_" not in ln)
    body = body.split("\nendmodule", 1)[0].split("`ifdef SHIFTBNN_FIFO_MONITOR\n  final", 1)[0]
    chunks = "\n".join(ln for ln in body.splitlines() if not TOP_PORT.match(ln)).split("\n\n")
    at = {n: next((i for i, c in enumerate(chunks) if f"u_{n} (" in c), None) for n in (first, last)}
    if None in at.values():
        raise SystemExit(f"error: no instance u_{first} or u_{last} in the top")
    sel = "\n\n".join(chunks[at[first] : at[last] + 1])
    streams = sorted({int(k) for k in re.findall(r"\bs(\d+)_\w+_tvalid", sel)})
    every = decls + "\n" + sel

    def name(k: int) -> str:
        return re.search(rf"\b(s{k}_\w+?)_tvalid", every).group(1)

    def width(k: int) -> int:
        return int(re.search(rf"logic \[(\d+):0\]\s+{name(k)}_tdata;", every).group(1)) + 1

    a, b = streams[0], streams[-1]
    return (
        "module win_top (input logic ap_clk, input logic ap_rst_n,\n"
        f"  input logic [{width(a) - 1}:0] s_tdata, input logic s_tvalid, output logic s_tready,\n"
        f"  output logic [{width(b) - 1}:0] m_tdata, output logic m_tvalid, input logic m_tready);\n"
        f"{decls}\n"
        f"  assign {name(a)}_tdata = s_tdata; assign {name(a)}_tvalid = s_tvalid; assign s_tready = {name(a)}_tready;\n"
        f"  assign m_tdata = {name(b)}_tdata; assign m_tvalid = {name(b)}_tvalid; assign {name(b)}_tready = m_tready;\n"
        f"{sel}\nendmodule : win_top\n"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rtl", type=Path, required=True, help="a build's rtl/ folder")
    ap.add_argument("--first", required=True, help="the window's first block (instance name without u_)")
    ap.add_argument("--last", required=True, help="its last block")
    ap.add_argument("--flatten", action="store_true", help="map the window as one module")
    ap.add_argument("--work", type=Path, default=ROOT / "results" / "bench" / "logs" / "timing_window")
    args = ap.parse_args(argv)
    rtl = args.rtl.resolve()
    (rtl / "win_top.sv").write_text(window_top((rtl / "shiftbnn_top.sv").read_text(), args.first, args.last))
    files = [f for f in (rtl / "filelist.f").read_text().split() if f not in ("fifo_gauge.sv", "shiftbnn_top.sv")]
    r = synth_module("win_top", [*files, "win_top.sv"], args.work, cwd=rtl, depth=True, flatten=args.flatten)
    d = r["depth"]
    print(f"{args.first} .. {args.last}: {r['lut']} LUT / {r['ff']} FF, critical path {d['critical_path_ns']} ns")
    for p in d["slowest_paths"][:6]:
        print(f"  {p['ns']:5.2f} ns  {p['lut_levels']} LUT + {p['carry4']} CARRY4  {p['from']} -> {p['to']}")
    print(format_path(d["critical_path"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
