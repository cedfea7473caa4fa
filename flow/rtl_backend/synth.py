"""yosys ``synth_xilinx`` of the generated top: LUT / FF / BRAM36 / DSP against the board's budget.

yosys 0.70 (pyosys, ``read_slang`` SystemVerilog frontend) runs in a subprocess in rtl/ (memory files
are referenced by bare name), ``synth_xilinx -family <board family> -noiopad -top shiftbnn_top``, then
``stat -json`` (``--allow-use-before-declare``: FINN's sliding-window wrapper declares its port-width
parameters after the ports, which Vivado accepts). LUT counts logic LUTs plus the LUTs used as memory
(LUTRAM, SRL), as Vivado's "LUT" does; BRAM36 counts a RAMB18 as half. No place and route: no open
one exists for these parts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

from flow import proc
from flow.compiler import progress

LUT_CELLS = {"LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"}
# LUTs per memory cell (a RAM64M is 4 LUT6 used as RAM, ...)
LUTRAM_CELLS = {
    "RAM32M": 4,
    "RAM32M16": 8,
    "RAM64M": 4,
    "RAM64M8": 8,
    "RAM32X1D": 2,
    "RAM64X1D": 2,
    "RAM128X1D": 4,
    "RAM256X1D": 8,
    "RAM32X1S": 1,
    "RAM64X1S": 1,
    "RAM128X1S": 2,
    "RAM256X1S": 4,
    "SRL16E": 1,
    "SRLC16E": 1,
    "SRLC32E": 1,
}
FF_CELLS = {"FDRE", "FDSE", "FDCE", "FDPE"}

WORKER = r"""
import json, sys
from pyosys import libyosys as ys
a = json.loads(sys.argv[1])
d = ys.Design()
ys.run_pass("read_slang --allow-use-before-declare --top " + a["top"] + " " + " ".join(a["files"]), d)
ys.run_pass("synth_xilinx -family " + a["family"] + " -noiopad -flatten -top " + a["top"], d)
ys.run_pass("tee -q -o " + a["stat"] + " stat -json", d)
"""


class SynthError(RuntimeError):
    """yosys failed; the message names the log."""


def count_cells(cells: dict[str, int]) -> dict:
    logic = sum(n for c, n in cells.items() if c in LUT_CELLS)
    mem = sum(n * LUTRAM_CELLS[c] for c, n in cells.items() if c in LUTRAM_CELLS)
    bram18 = sum(n for c, n in cells.items() if c.startswith("RAMB18"))
    bram36 = sum(n for c, n in cells.items() if c.startswith("RAMB36"))
    return {
        "lut": logic + mem,
        "lut_logic": logic,
        "lut_memory": mem,
        "ff": sum(n for c, n in cells.items() if c in FF_CELLS),
        "bram36": bram36 + bram18 / 2,
        "dsp": sum(n for c, n in cells.items() if c.startswith("DSP48")),
        "carry": sum(n for c, n in cells.items() if c.startswith("CARRY")),
    }


def fit(counts: dict, board) -> dict:
    """``fits`` plus, for each resource over the part's budget, by how much."""
    budget = {"lut": board.lut, "ff": board.ff, "bram36": board.bram36, "dsp": board.dsp}
    over = {k: counts[k] - v for k, v in budget.items() if counts[k] > v}
    util = {k: round(100.0 * counts[k] / v, 1) for k, v in budget.items()}
    return {"fits": not over, "over_budget": over, "utilization_pct": util, "budget": budget}


def synth_timeout(rtl_dir: Path) -> float:
    """yosys wall-clock limit: 30 min plus 0.5 s per KB of RTL and memory files (a 32-PE MVU: 130 s)."""
    size_kb = sum(p.stat().st_size for p in Path(rtl_dir).iterdir() if p.is_file()) / 1024
    return proc.scaled_timeout(1800.0, 0.5, size_kb)


def synthesize(rtl_dir: Path, board, work: Path, top: str = "shiftbnn_top", timeout_s: float | None = None) -> dict:
    """Run yosys on rtl/filelist.f; returns the ``synth`` block of summary.json."""
    rtl_dir, work = Path(rtl_dir).resolve(), Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    files = [f for f in (rtl_dir / "filelist.f").read_text().split() if f != "fifo_gauge.sv"]
    stat, log = work / "stat.json", work / "yosys.log"
    args = {"top": top, "files": files, "family": board.family, "stat": str(stat)}
    t0 = time.monotonic()
    cmd = [sys.executable, "-c", WORKER, json.dumps(args)]
    try:
        with open(log, "w") as fh, progress.elapsed("yosys synthesis"):
            result = proc.run(
                cmd,
                "yosys synthesis",
                timeout_s or synth_timeout(rtl_dir),
                cwd=rtl_dir,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
    except proc.ProcessTimeout as exc:
        raise SynthError(f"{exc}; log: {log}") from None
    seconds = time.monotonic() - t0
    if result.returncode != 0 or not stat.is_file():
        errors = [ln.strip() for ln in log.read_text().splitlines() if "error" in ln.lower()]
        raise SynthError(f"yosys exit status {result.returncode} ({errors[0] if errors else 'no message'}); log: {log}")
    data = json.loads(stat.read_text())
    cells = data.get("design", {}).get("num_cells_by_type") or next(iter(data["modules"].values()))["num_cells_by_type"]
    counts = count_cells(cells)
    return {
        "tool": f"yosys {version('pyosys')} (pyosys, read_slang) synth_xilinx -family {board.family}",
        **counts,
        **fit(counts, board),
        "part": board.part,
        "seconds": round(seconds, 1),
        "log": str(log.relative_to(work.parent.parent)) if work.parent.parent in log.parents else str(log),
    }
