"""``synthesize``: yosys on a build's rtl/ (``--synth``), the ``synth`` block of summary.json.

A top of a few dozen blocks is mapped by one yosys process (``synth.synth_module``, each block kept);
a larger one block by block, one process each (``synth_split.synth_split``): one process for a full-size
ResNet-18 did not finish (docs/resnet_hw.md, section 8).
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

from flow.rtl_backend.synth import fit, synth_module
from flow.rtl_backend.synth_split import synth_split

# A top with more block instances goes out of context (synth_split.py): one yosys process for a full-size
# ResNet-18 (415 instances) did not finish in 49 min; a reduced one (90) maps in ~2 min in one.
OUT_OF_CONTEXT_INSTANCES = 150
INSTANCE = re.compile(r"^\s*(?:\w+|\)) u_\w+ \(", re.M)  # design.py's top: "<module> u_<name> (" or "#(...) u_<name> ("


def top_instances(top_sv: Path) -> int:
    """How many blocks the generated top instantiates (0 where there is no such file)."""
    return len(INSTANCE.findall(top_sv.read_text())) if top_sv.is_file() else 0


def synthesize(
    rtl_dir: Path,
    board,
    work: Path,
    top: str = "shiftbnn_top",
    per_block: bool = False,
    timeout_s: float | None = None,
    out_of_context: bool | None = None,
) -> dict:
    """Run yosys on rtl/filelist.f; returns the ``synth`` block of summary.json, with the critical path of
    the delay model (``depth``). Each block of the top is mapped on its own (``flatten=False``, as
    out-of-context synthesis per IP), the timed netlist is then the whole design flattened: abc9 maps a
    module for its best delay and then recovers area on every path up to that module's slowest (in its
    own delay model), so one flattened CNV let every block's logic grow to the depth of the design's
    slowest path (a sliding window of 4.24 ns alone read 5.19 ns flattened with the rest, the same RTL).
    ``per_block``: each submodule of the top with its cells (``blocks``, from the same run).
    ``timeout_s`` limits the yosys run (default ``synth_timeout``). ``out_of_context``: one yosys process
    per block (synth_split.py; default: for a top of more than ``OUT_OF_CONTEXT_INSTANCES`` instances,
    where one process does not finish), timed per block."""
    rtl_dir, work = Path(rtl_dir).resolve(), Path(work).resolve()
    files = [f for f in (rtl_dir / "filelist.f").read_text().split() if f != "fifo_gauge.sv"]
    if out_of_context is None:
        out_of_context = top_instances(rtl_dir / f"{top}.sv") > OUT_OF_CONTEXT_INSTANCES
    if out_of_context:
        res = synth_split(top, files, work, board.family, rtl_dir, timeout_s=timeout_s)
    else:
        res = synth_module(top, files, work, depth=True, flatten=False, family=board.family, cwd=rtl_dir,
                           timeout_s=timeout_s)  # fmt: skip
    if not per_block:
        res.pop("blocks", None)
    counts = {k: res[k] for k in ("lut", "lut_logic", "lut_memory", "ff", "bram36", "uram", "dsp", "carry")}
    log = Path(res["log"])
    out = {
        "tool": f"yosys {version('pyosys')} (pyosys, read_slang) synth_xilinx -family {board.family}",
        **counts,
        **fit(counts, board),
        "part": board.part,
        "seconds": res["seconds"],
        "log": str(log.relative_to(work.parent.parent)) if work.parent.parent in log.parents else str(log),
    }
    if out_of_context:  # wall and CPU time of the block runs; where the slowest block sits
        out.update(out_of_context=True, cpu_seconds=res["cpu_seconds"])
    for key in ("blocks", "depth", "by_module"):
        if key in res:
            out[key] = res[key]
    if "depth" in res:  # the delay model's critical path against the board's clock (no place and route)
        ns = res["depth"]["critical_path_ns"]
        out.update(critical_path_ns=ns, clock_mhz=board.clock_mhz, meets_clock=ns <= 1e3 / board.clock_mhz)
    return out
