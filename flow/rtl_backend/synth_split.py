"""Out-of-context synthesis: each block of the top mapped by its own yosys process, the counts summed.

One yosys process for a whole full-size ResNet-18 (rtl/ of `bench/resnet_hw.py`) did not finish: ABC9's
XAIGER2 export re-normalizes the buffers of the whole design for every module it exports, so the cost
grows with (modules x design size); it spent over 30 min on one block of 57 (docs/resnet_hw.md,
section 8). Here one process elaborates the design as ``synth_module`` does (read_slang, the top's
blocks kept, everything inside a block flattened but its popcount lanes, identical modules merged),
writes that to ``design.il`` and maps the top's own glue with the blocks as black boxes. Each distinct
block is then cut out of ``design.il`` with the modules it instantiates and mapped by its own process
(``synth_xilinx`` as for the whole top, without a clock buffer per block), ``jobs`` at a time. No
optimization crosses a kept boundary in either case, so FF, block RAM, URAM, DSP and carry counts are
the one-process counts; ABC's LUT mapping of a block depends on what else the process holds (on the
reduced ResNet-18, 71 instances: 10,511 LUT out of context against 10,772 in one process, -2.4 %, block
by block between -25 % and +4 %). tests/test_synth_split.py checks both on generated tops.

The critical path is the slowest block's (each block's netlist flattened and timed by
``timing.logic_depth``): paths that cross from one block into the next are not timed here.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flow.core import proc, progress
from flow.core.files import write_json
from flow.rtl_backend.rtlil import MODULE
from flow.rtl_backend.synth import SynthError, count_cells, synth_module

CELL = re.compile(r"^\s*cell (\S+) ", re.M)
BY_MODULE_KEYS = ("lut", "lut_memory", "ff", "bram36", "uram", "dsp")
SLOWEST_KEYS = ("critical_path_ns", "critical_path_lut_levels", "critical_path_from", "critical_path_to")


def parse_modules(rtlil: str) -> tuple[dict[str, str], set[str]]:
    """Each module's full text (attributes, ``module`` ... ``end``) by its RTLIL name (``\\name``), and
    the names of the black boxes (the primitives' models)."""
    found = MODULE.findall(rtlil)
    modules = {name: f"{attrs}module {name}\n{body}\nend\n" for attrs, name, body in found}
    return modules, {name for attrs, name, _ in found if "attribute \\blackbox 1" in attrs}


def instantiated(text: str, modules: dict[str, str]) -> dict[str, int]:
    """How many cells of each module of ``modules`` the module ``text`` holds."""
    counts: dict[str, int] = {}
    for kind in CELL.findall(text):
        if kind in modules:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def closure(name: str, modules: dict[str, str]) -> list[str]:
    """``name`` and every module below it (black-box primitives included), each once."""
    order, todo = [], [name]
    while todo:
        current = todo.pop()
        if current not in order:
            order.append(current)
            todo.extend(instantiated(modules[current], modules))
    return order


def write_blocks(design_il: Path, top: str, out: Path) -> list[dict]:
    """One RTLIL file per distinct block of ``top`` in ``out``: ``{name, instances, file}`` each (name
    without yosys' leading backslash, as ``stat`` names it)."""
    modules, black_boxes = parse_modules(design_il.read_text())
    top_id = "\\" + top
    if top_id not in modules:  # the log beside design.il says what yosys made of the sources
        raise SynthError(f"the elaborated design has no module {top}; log: {design_il.parent / 'yosys.log'}")
    out.mkdir(parents=True, exist_ok=True)
    blocks = []
    for i, (name, n) in enumerate(sorted(instantiated(modules[top_id], modules).items())):
        if name in black_boxes:
            continue  # a primitive the top instantiates directly: a cell of the glue
        path = out / f"block_{i}.il"
        path.write_text("".join(modules[m] for m in closure(name, modules)))
        blocks.append({"name": name.removeprefix("\\"), "instances": n, "file": path.name})
    return blocks


def block_timeout(path: Path) -> float:
    """A block's yosys limit: 30 min plus 0.5 s per KB of its RTLIL (as ``synth_timeout``)."""
    return proc.scaled_timeout(1800.0, 0.5, path.stat().st_size / 1024)


def synth_split(
    top: str,
    files: list,
    work: Path,
    family: str,
    cwd: Path,
    jobs: int | None = None,
    depth: bool = True,
    timeout_s: float | None = None,
) -> dict:
    """``synth_module(top, files, flatten=False, cwd=cwd)``'s result, block by block (module doc):
    counts, ``cells``, ``blocks`` (instances, cells of one), ``seconds`` (wall), ``cpu_seconds`` (sum of
    the yosys runs), ``log`` (the elaboration's; each block's in work/blocks/<i>/) and, with ``depth``,
    the slowest block's critical path (``depth``, with ``critical_path_block``). ``timeout_s``: the limit
    of each yosys run (default: the elaboration's ``synth_timeout``, each block's ``block_timeout``)."""
    work = Path(work).resolve()
    t0 = time.monotonic()
    glue = synth_module(top, files, work / "top", family=family, cwd=cwd, flatten=False, split=True,
                        timeout_s=timeout_s)  # fmt: skip
    blocks = write_blocks(work / "top" / "design.il", top, work / "blocks")
    (work / "top" / "design.il").unlink()  # cut into blocks/ (40 MB for the full-size ResNet-18)

    def one(block: dict) -> dict:
        il = work / "blocks" / block["file"]
        res = synth_module(block["name"], [block["file"]], work / "blocks" / il.stem, family=family,
                           cwd=il.parent, flatten=False, depth=depth, rtlil=True,
                           timeout_s=timeout_s or block_timeout(il))  # fmt: skip
        il.unlink()
        return res

    with ThreadPoolExecutor(max_workers=jobs or max(1, min(len(blocks), os.cpu_count() or 1))) as pool:
        results = list(progress.iterate(pool.map(one, blocks), "yosys, block by block", "blocks", len(blocks)))
    out = _combine(glue, blocks, results, depth)
    write_json(work / "blocks.json", {"blocks": out["blocks"]})  # what kept_blocks reads (the per-block table)
    return {**out, "seconds": round(time.monotonic() - t0, 1)}


def by_module(blocks: dict) -> dict:
    """The blocks' counts summed per RTL module kind (``StreamingFIFO_rtl_12$shiftbnn_top.u_...`` ->
    ``StreamingFIFO_rtl``), largest LUT first: where a design's resources go."""
    kinds: dict[str, dict] = {}
    for name, block in blocks.items():
        kind = re.sub(r"_\d+$", "", name.split("$")[0])
        counts = count_cells(block["cells"])
        row = kinds.setdefault(kind, {"instances": 0, **{k: 0 for k in BY_MODULE_KEYS}})
        row["instances"] += block["instances"]
        for k in BY_MODULE_KEYS:
            row[k] += block["instances"] * counts[k]
    return dict(sorted(kinds.items(), key=lambda kv: -kv[1]["lut"]))


def _combine(glue: dict, blocks: list[dict], results: list[dict], depth: bool) -> dict:
    """The design's counts: the top's glue plus each block's cells times its instances."""
    cells = dict(glue["cells"])
    per_block = {}
    for block, res in zip(blocks, results, strict=True):
        per_block[block["name"]] = {"instances": block["instances"], "cells": res["cells"]}
        for cell, n in res["cells"].items():
            cells[cell] = cells.get(cell, 0) + block["instances"] * n
    cells = {c: n for c, n in cells.items() if c.removeprefix("\\") not in per_block}  # the black boxes
    out = {
        **count_cells(cells),
        "cells": cells,
        "blocks": per_block,
        "by_module": by_module(per_block),
        "cpu_seconds": round(glue["seconds"] + sum(r["seconds"] for r in results), 1),
        "log": glue["log"],
        "out_of_context": True,
    }
    if depth and results:  # the slowest block's path, and the blocks over the next slowest (which to pipeline)
        order = sorted(range(len(results)), key=lambda i: -results[i]["depth"]["critical_path_ns"])
        out["depth"] = {
            **results[order[0]]["depth"],
            "critical_path_block": blocks[order[0]]["name"],
            "slowest_blocks": [
                {"block": blocks[i]["name"], **{k: results[i]["depth"][k] for k in SLOWEST_KEYS}} for i in order[:8]
            ],
        }
    return out
