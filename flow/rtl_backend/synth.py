"""yosys ``synth_xilinx`` of a module or a whole top: LUT / FF / BRAM36 / URAM / DSP against the board's budget.

yosys 0.70 (pyosys, ``read_slang`` SystemVerilog frontend) runs in a subprocess in rtl/ (memory files
are referenced by bare name), ``synth_xilinx -family <board family> -noiopad -top shiftbnn_top``, then
``stat -json``. ``synth_module`` is the one runner (the whole top, or one module with parameters for the
benchmarks). The frontend keeps the hierarchy (``read_slang --best-effort-hierarchy``) and
``flatten`` then inlines every module except those marked ``(* keep_hierarchy *)`` (and, in the per-block
run, the top's own blocks) before synthesis: the compressor units and primitive wrappers disappear into
their lane, so identical lanes are one module each (one module per wrapper instance ran a whole CNV out
of memory). ``synth_xilinx -flatten`` then flattens every module except those marked ``(* keep_hierarchy *)``
(bnn_popcount: one lane per module, so abc cannot share XNOR sub-terms between the lanes of an MVAU,
which costs LUTs net). ``flatten=False`` keeps every module (the per-block table; a block's logic that
only drives an output the design leaves unused, e.g. a FIFO's occupancy counter, stays counted there):
``synth_design.synthesize`` maps a whole design so, each block on its own (see there why).
Identical modules (the lanes of one MVAU, equal FIFOs: ``rtlil.identical_modules``) are synthesized
once and instantiated where each copy was; the counts are the same. ``--allow-use-before-declare``:
FINN's sliding-window wrapper declares its port-width parameters after the ports, which Vivado
accepts. LUT counts logic LUTs plus the LUTs used as memory (LUTRAM, SRL), as Vivado's "LUT" does;
BRAM36 counts a RAMB18 as half; a LUT6_2 (both outputs of one LUT, instantiated by the compressor
trees) is one LUT. The Xilinx primitives the RTL instantiates under SYNTHESIS are read as black boxes
first (hw/synth/xilinx_primitives.sv). No place and route: no open one exists for these parts; the
critical path comes from a per-cell delay model (timing.py) on the netlist flattened completely (the kept
lanes too: timed inlined, counted once).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from flow.core import proc, progress
from flow.rtl_backend.plain_dir import plain_dir, plain_path
from hw.sources import YOSYS_PRIMITIVES

LUT_CELLS = {"LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6", "LUT6_2"}  # LUT6_2: one LUT, both outputs
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
    # UltraScale only
    "RAM512X1S": 8,
    "RAM64X8SW": 8,
    "RAM32X16DR8": 8,
}
FF_CELLS = {"FDRE", "FDSE", "FDCE", "FDPE"}
# yosys 0.70's UltraScale LUT-RAM library (lutrams_xcu.txt) offers the 512 x 1 single-port RAM as
# "abits 16", which its own techmap (lutrams_xc5v_map.v: RAM512X1S is abits 9) rejects ("invalid
# OPTION_ABITS/WIDTH combination"): any deep single-port LUT RAM stopped an xcup synthesis. The worker
# runs synth_xilinx around its map_memory step with these commands, synth_xilinx's own for xcu/xcup
# (synth_xilinx.cc), reading the library with the option corrected (written beside the sources).
XCU_MAP_MEMORY = [
    "memory_libmap -logic-cost-rom 0.015625 -lib lutrams_xcu.txt -lib +/xilinx/brams_xc4v.txt -D HAS_SIZE_36"
    " -D HAS_MIXWIDTH_SDP -D HAS_ADDRCE{urams} -no-auto-huge",
    "techmap -map +/xilinx/lutrams_xc5v_map.v",
    "techmap -map +/xilinx/brams_xcu_map.v",
]

WORKER = r"""
import json, os, sys
from pyosys import libyosys as ys
a = json.loads(sys.argv[1])
sys.path.insert(0, a["repo"])
from flow.rtl_backend.rtlil import identical_modules
d = ys.Design()
# slang stops a generate loop after 131,072 steps by default ("possible infinite loop"); the popcount trees
# of a full-size ResNet-18 elaborate past that (every loop here is bounded by a parameter)
read = "read_slang --allow-use-before-declare --best-effort-hierarchy --max-generate-steps 100000000"
if a["rtlil"]:  # one block the split run elaborated (synth_split.py): already flattened and deduplicated
    ys.run_pass("read_rtlil " + " ".join(a["files"]), d)
    ys.run_pass("hierarchy -top " + a["top"], d)
else:
    ys.run_pass(" ".join([read, "--top", a["top"], *a["params"], *a["files"]]), d)
if not a["flatten"] and not a["rtlil"]:  # the per-block run keeps the top's own blocks
    top = d.top_module()
    for cell in top.cells_.values():
        if d.module(cell.type) is not None:
            ys.run_pass("setattr -mod -set keep_hierarchy 1 " + cell.type.str(), d)
# every module not marked keep_hierarchy (the compressor units, primitive wrappers) inlined into its
# kept parent: one module per lane, not one per LUT wrapper (which ran out of memory on a CNV)
ys.run_pass("flatten -noscopeinfo", d)
groups = []
if a["dedupe"] and not a["rtlil"]:
    ys.run_pass("write_rtlil " + a["stat"] + ".il", d)
    with open(a["stat"] + ".il") as fh:
        groups = identical_modules(fh.read())
    os.remove(a["stat"] + ".il")
for keep, *others in groups:
    for name in others:
        ys.run_pass("chtype -map " + name + " " + keep, d)
if groups:
    ys.run_pass("hierarchy -top " + a["top"], d)
if a["split"]:  # the elaborated blocks to a file (each then mapped on its own); the top maps its glue only
    ys.run_pass("write_rtlil design.il", d)
    ys.run_pass("blackbox A:keep_hierarchy", d)
flat = " -flatten" if a["flatten"] else ""
# a block mapped on its own: the clock buffer is the top's (the glue run's), not one per block
clkbuf = " -noclkbuf" if a["rtlil"] else ""
synth = "synth_xilinx -family " + a["family"] + " -noiopad" + clkbuf + flat + " -top " + a["top"]
if a["map_memory"]:  # synth_xilinx with its memory mapping replaced (see UltraScale's map_memory)
    share = os.path.join(os.path.dirname(ys.__file__), "share", "xilinx")
    with open(os.path.join(share, "lutrams_xcu.txt")) as fh:
        lib = fh.read()
    with open("lutrams_xcu.txt", "w") as fh:
        fh.write(lib.replace('option "ABITS" 16 {\n\t\tabits 16;', 'option "ABITS" 9 {\n\t\tabits 9;'))
    ys.run_pass(synth + " -run :map_memory", d)
    for command in a["map_memory"]:
        ys.run_pass(command, d)
    synth += " -run map_ffram:"
ys.run_pass(synth, d)
ys.run_pass("tee -q -o " + a["stat"] + " stat -json", d)
if a["netlist"]:  # the delay model walks one flat netlist: the kept modules (the lanes) inlined too
    ys.run_pass("setattr -mod -unset keep_hierarchy", d)
    ys.run_pass("setattr -unset keep_hierarchy", d)
    ys.run_pass("flatten", d)
    ys.run_pass("write_json " + a["netlist"], d)
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
        "uram": sum(n for c, n in cells.items() if c.startswith("URAM288")),
    }


def fit(counts: dict, board) -> dict:
    """``fits`` plus, for each resource over the part's budget, by how much."""
    budget = {"lut": board.lut, "ff": board.ff, "bram36": board.bram36, "uram": board.uram288, "dsp": board.dsp}
    over = {k: counts.get(k, 0) - v for k, v in budget.items() if counts.get(k, 0) > v}
    util = {k: round(100.0 * counts.get(k, 0) / v, 1) for k, v in budget.items() if v}
    return {"fits": not over, "over_budget": over, "utilization_pct": util, "budget": budget}


def _hier_cells(modules: dict, name: str, memo: dict) -> dict[str, int]:
    """Primitive cell counts of module ``name`` with every submodule instance expanded. ``modules``: stat's
    modules keyed without yosys' leading backslash (the name a cell type refers to)."""
    if name not in memo:
        total: dict[str, int] = {}
        for cell, n in modules[name]["num_cells_by_type"].items():
            if cell.startswith("$scopeinfo"):
                continue
            sub = _hier_cells(modules, cell, memo) if cell in modules else {cell: 1}
            for c, k in sub.items():
                total[c] = total.get(c, 0) + n * k
        memo[name] = total
    return memo[name]


def _find_module(modules: dict, top: str) -> str:
    return top if top in modules else next(iter(modules))


def map_memory_commands(family: str) -> list[str]:
    """The worker's replacement of synth_xilinx's map_memory step: UltraScale's (XCU_MAP_MEMORY; xcup
    adds URAM), none for the other families (synth_xilinx unchanged)."""
    if family not in ("xcu", "xcup"):
        return []
    urams = " -lib +/xilinx/urams.txt" if family == "xcup" else ""
    commands = [c.format(urams=urams) for c in XCU_MAP_MEMORY]
    return commands + (["techmap -map +/xilinx/urams_map.v"] if family == "xcup" else [])


def synth_timeout(rtl_dir: Path) -> float:
    """yosys wall-clock limit: 30 min plus 0.5 s per KB of RTL and memory files (a 32-PE MVU: 130 s)."""
    size_kb = sum(p.stat().st_size for p in Path(rtl_dir).iterdir() if p.is_file()) / 1024
    return proc.scaled_timeout(1800.0, 0.5, size_kb)


def synth_module(
    top: str,
    files: list,
    work: Path,
    params: dict | None = None,
    family: str = "xc7",
    cwd: Path | None = None,
    flatten: bool = True,
    depth: bool = False,
    timeout_s: float | None = None,
    dedupe: bool = True,
    rtlil: bool = False,
    split: bool = False,
) -> dict:
    """yosys ``synth_xilinx`` of one module (``params``: its parameter overrides, strings quoted) or of
    a whole top. Returns the cell counts (``count_cells``), the raw ``cells``, ``seconds``, ``log``,
    with ``flatten=False`` the ``blocks`` (the top's submodules: instances, cells of one), and with
    ``depth`` the critical path of the flattened netlist (``timing.logic_depth``). ``timeout_s``:
    default ``synth_timeout`` of ``cwd`` (30 min for a module alone). ``dedupe``: identical modules
    synthesized once (``rtlil.identical_modules``; same counts, off only to check that). ``rtlil``:
    ``files`` are RTLIL a split run wrote (no primitives, frontend or dedupe). ``split``: the worker also
    writes the elaborated design to ``work``/design.il and maps the top with its blocks as black boxes
    (synth_split.py)."""
    from flow.rtl_backend.timing import logic_depth

    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    stat, log, netlist = work / "stat.json", work / "yosys.log", work / "netlist.json"
    base = Path(cwd or work).resolve()
    sources = [*([] if rtlil else [YOSYS_PRIMITIVES]), *(base / f for f in files)]  # the primitives' models first
    args = {
        "top": top,
        "files": [p.name for p in sources],  # yosys splits its commands at spaces: plain names only
        "params": [f"-G {k}={v}" for k, v in (params or {}).items()],
        "family": family,
        "flatten": flatten,
        "stat": "stat.json",
        "netlist": "netlist.json" if depth else "",
        "repo": str(Path(__file__).resolve().parents[2]),
        "dedupe": dedupe,
        "map_memory": map_memory_commands(family),
        "rtlil": rtlil,
        "split": split,
    }
    t0 = time.monotonic()
    cmd = [sys.executable, "-c", WORKER, json.dumps(args)]
    limit = timeout_s or (synth_timeout(cwd) if cwd else proc.scaled_timeout(1800.0))
    skip = {p.name for p in sources} | {stat.name, log.name, netlist.name, "design.il"}  # a re-run: not its last output
    # the memory files (.dat) beside the sources of a top
    beside = base.iterdir() if cwd and not rtlil else ()  # RTLIL holds its memories' contents
    extra = [p for p in beside if p.is_file() and p.name not in skip and plain_path(p.name)]
    result = _run_in_plain_dir(cmd, sources + extra, work, limit)
    seconds = time.monotonic() - t0
    if result.returncode != 0 or not stat.is_file():
        lines = log.read_text(errors="replace").splitlines()
        # yosys' own ERROR lines first: slang's summary "Build succeeded: 0 errors" also says "error"
        errors = [ln.strip() for ln in lines if "ERROR" in ln] or [ln.strip() for ln in lines if "error" in ln.lower()]
        raise SynthError(f"yosys exit status {result.returncode} ({errors[0] if errors else 'no message'}); log: {log}")
    out = {**read_stat(stat, top, blocks=not flatten), "seconds": round(seconds, 1), "log": str(log)}
    if depth:
        out["depth"] = logic_depth(json.loads(netlist.read_text()))
        netlist.unlink()
    return out


def _run_in_plain_dir(cmd: list[str], inputs: list[Path], work: Path, limit: float):
    """The yosys worker in a plain folder holding copies of ``inputs`` (plain_dir.py); its log, stat.json
    and netlist.json end up in ``work``. Returns the finished process."""
    log = work / "yosys.log"
    try:
        with plain_dir("shiftbnn-yosys-", inputs) as plain:
            with open(log, "w") as fh, progress.elapsed("yosys synthesis"):
                result = proc.run(cmd, "yosys synthesis", limit, cwd=plain, stdout=fh, stderr=subprocess.STDOUT)
            for name in ("stat.json", "netlist.json", "design.il"):
                if (plain / name).is_file():
                    shutil.copy2(plain / name, work / name)
    except proc.ProcessTimeout as exc:
        raise SynthError(f"{exc}; log: {log}") from None
    except ValueError as exc:  # a source file name yosys cannot take
        raise SynthError(str(exc)) from None
    return result


def read_stat(stat: Path, top: str, blocks: bool = False) -> dict:
    """Counts of a yosys ``stat -json`` file (submodules expanded), the raw ``cells``, and with ``blocks``
    the top's direct submodules (instance count, cells of one instance)."""
    data = json.loads(Path(stat).read_text())
    modules = {m.removeprefix("\\"): v for m, v in data["modules"].items()}
    top_name = _find_module(modules, top)
    memo: dict = {}
    cells = _hier_cells(modules, top_name, memo)
    result = {**count_cells(cells), "cells": cells}
    if blocks:
        result["blocks"] = {
            m: {"instances": n, "cells": _hier_cells(modules, m, memo)}
            for m, n in modules[top_name]["num_cells_by_type"].items()
            if m in modules
        }
    return result


def kept_blocks(synth_dir: Path, top: str = "shiftbnn_top") -> dict | None:
    """The top's blocks (instances, cells of one) from the ``stat.json`` a finished run left in
    ``synth_dir``, or None where there is none or it holds no blocks. ``synthesize`` maps each block of
    the top on its own, so a build's own ``--synth`` run (report/synth) is already the per-block run
    that the per-block table and the cost calibration read; a stat from before that (a flattened top)
    holds no blocks."""
    stat = Path(synth_dir) / "stat.json"
    if not stat.is_file():
        return None
    return read_stat(stat, top, blocks=True)["blocks"] or None
