"""Synthesis benchmark of bnn_mvau (yosys `synth_xilinx -family xc7`) next to FINN's own estimates.

For each (MW, MH, PE, SIMD) point: random binary weights and one threshold per channel (the binary
XNOR layer of a BNN), yosys 0.70 (pyosys, read_slang frontend) `synth_xilinx -family xc7 -noiopad`
with the weight ROM as block RAM, then `stat`. FINN's analytical numbers come from an MVAU_hls node
with the same attributes (binaryXnorMode=1, BINARY in/weights/out, default internal_decoupled
memory): lut_estimation() and bram_estimation() (RAMB18 units).

    python bench/synth_mvau.py                 # default points, 2 parallel yosys runs
    python bench/synth_mvau.py --points 256x64x4x256 --jobs 1 --no-docs
    python bench/synth_mvau.py --table-only   # the docs table again from results/bench/mvau_synth.json

Writes results/bench/mvau_synth.json and the table between the markers in docs/hw.md.
Each yosys run is a subprocess (log in results/bench/logs/, not in git); exit status 1 if any run fails.
Points: MWxMHxPExSIMD, optionally :block / :distributed / :auto (the weight memory, WeightRamStyle).
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from flow.core.provenance import provenance
from flow.rtl_backend.synth import SynthError, synth_module
from hw.golden.finn_mvau import binary_mvau_op
from hw.sources import COMMON_SOURCES, RTL_DEPENDENCIES, RTL_DIR

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "bench"
FPGAPART = "xc7z020clg400-1"
# MWxMHxPExSIMD[:weights]; the last rows have PE*SIMD >= 1024 (the issue-19 target: <= 1.5 LUT per bit)
DEFAULT_POINTS = [
    "256x256x4x64",
    "576x64x16x32",
    "256x64x4x256",
    "1024x64x8x128",
    "1152x128x16x64",
    "2304x256x4x256",
    "384x16x8x128:distributed",
]
STYLES = ("block", "distributed", "auto")


def parse_point(s: str) -> tuple[int, int, int, int, str]:
    dims, _, style = s.lower().partition(":")
    try:
        mw, mh, pe, simd = (int(v) for v in dims.split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s}: expected MWxMHxPExSIMD[:weights]") from None
    if mw % simd or mh % pe:
        raise argparse.ArgumentTypeError(f"{s}: SIMD must divide MW and PE must divide MH")
    if (style or "block") not in STYLES:
        raise argparse.ArgumentTypeError(f"{s}: weights must be one of {', '.join(STYLES)}")
    return mw, mh, pe, simd, style or "block"


def finn_estimates(mw: int, mh: int, pe: int, simd: int) -> dict:
    """FINN's analytical LUT/BRAM estimates of the equivalent MVAU_hls node."""
    op = binary_mvau_op("MVAU_hls", "finn.custom_op.fpgadataflow.hls", mw, mh, pe, simd)
    return {
        "finn_lut_est": int(op.lut_estimation(FPGAPART)),
        "finn_bram18_est": int(op.bram_estimation(FPGAPART)),
        "finn_mem_mode": op.get_nodeattr("mem_mode"),
    }


def synth_point(mw: int, mh: int, pe: int, simd: int, workdir: Path, style: str = "block") -> dict:
    """One bnn_mvau point through flow.rtl_backend.synth.synth_module (with its critical path)."""
    from hw.golden.bnn_mvau import acc_bits
    from hw.golden.mem_files import write_threshold_mem, write_weight_mem

    rng = np.random.default_rng(0)
    tag = f"{mw}x{mh}x{pe}x{simd}_{style}"
    wfile, tfile = workdir / f"{tag}_w.hex", workdir / f"{tag}_t.hex"
    ab = acc_bits(mw, "xnor")
    write_weight_mem(rng.choice([-1, 1], (mw, mh)), pe, simd, wfile)
    write_threshold_mem(rng.integers(mw // 2 - 8, mw // 2 + 8, (mh, 1)), pe, ab + 1, tfile, 0, mw)
    params = {
        "MW": mw,
        "MH": mh,
        "PE": pe,
        "SIMD": simd,
        "AccBits": ab,
        "ThresholdBits": ab + 1,
        "WeightFile": f'"{wfile}"',
        "ThresholdFile": f'"{tfile}"',
        "WeightRamStyle": f'"{style}"',
    }
    files = [RTL_DIR / s for s in (*COMMON_SOURCES, *RTL_DEPENDENCIES["bnn_mvau"], "bnn_mvau.sv")]
    try:
        r = synth_module("bnn_mvau", files, RESULTS / "logs" / f"mvau_{tag}", params=params, depth=True)
    except SynthError as e:
        raise RuntimeError(f"yosys failed for {tag}: {e}") from e
    cells = r["cells"]
    return {
        "MW": mw,
        "MH": mh,
        "PE": pe,
        "SIMD": simd,
        "weights": style,
        "lut": r["lut_logic"],
        "lutram_luts": r["lut_memory"],
        "ff": r["ff"],
        "bram18": cells.get("RAMB18E1", 0) + 2 * cells.get("RAMB36E1", 0),
        "carry4": r["carry"],
        "dsp": r["dsp"],
        "lut_per_xnor_bit": round(r["lut"] / (pe * simd), 3),
        "depth": r["depth"],
        "synth_s": r["seconds"],
        "cells": cells,
    }


def markdown(rows: list[dict], meta: dict) -> str:
    head = (
        "| MW | MH | PE | SIMD | weights | LUT (logic) | LUTRAM LUTs | FF | BRAM18 | LUT per XNOR bit/cycle "
        "| LUT levels (crit. path) | est. ns | FINN LUT est. (MVAU_hls) | FINN BRAM18 est. | LUT vs FINN | yosys s |\n"
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    body = "".join(
        f"| {r['MW']} | {r['MH']} | {r['PE']} | {r['SIMD']} | {r['weights']} | {r['lut']} | {r['lutram_luts']} "
        f"| {r['ff']} | {r['bram18']} | {r['lut_per_xnor_bit']} | {r['depth']['critical_path_lut_levels']} "
        f"(+{r['depth']['critical_path_carry4']} CARRY4) | {r['depth']['critical_path_ns']} "
        f"| {r['finn_lut_est']} | {r['finn_bram18_est']} "
        f"| {(r['lut'] + r['lutram_luts']) / r['finn_lut_est']:.2f}x | {r['synth_s']} |\n"
        for r in rows
    )
    foot = (
        f"\nGenerated by `python bench/synth_mvau.py` on {meta['date']} ({meta['machine']}, shared with other "
        f"jobs: yosys seconds are not comparable), {meta['yosys']}, `synth_xilinx -family xc7 -noiopad` "
        f"through `flow.rtl_backend.synth.synth_module`, one threshold per channel, binaryXnorMode. "
        f"LUT per XNOR bit/cycle = (LUT + LUTRAM) / (PE*SIMD); for `distributed` weights that includes the "
        f"weight ROM (LUT logic, folded into the XNOR LUTs). LUT levels / est. ns: the slowest "
        f"register-to-register path of `flow.rtl_backend.timing.logic_depth` (a delay model, no place and "
        f"route). FINN numbers: finn-plus {meta['finn']} `lut_estimation()`/`bram_estimation()` of an "
        f"MVAU_hls node with the same attributes (part {FPGAPART}).\n"
    )
    return head + body + foot


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--points",
        nargs="+",
        type=parse_point,
        default=[parse_point(p) for p in DEFAULT_POINTS],
        help="MWxMHxPExSIMD points",
    )
    ap.add_argument("--jobs", type=int, default=2, help="parallel yosys runs")
    ap.add_argument("--out", type=Path, default=RESULTS / "mvau_synth.json")
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite the table in docs/hw.md")
    ap.add_argument("--table-only", action="store_true", help="rewrite the docs table (committed JSON)")
    args = ap.parse_args(argv)
    if args.table_only:
        return write_table()

    from importlib.metadata import version

    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.processor() or platform.system()}",
        "yosys": f"yosys {version('pyosys')} (pyosys)",
        "finn": version("finn-plus"),
        "provenance": provenance(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    done: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        futs = {pool.submit(synth_point, *p[:4], Path(tmp), p[4]): i for i, p in enumerate(args.points)}
        for fut in as_completed(futs):
            try:
                r = fut.result()
            except RuntimeError as e:
                print(f"error: {e}", file=sys.stderr)
                return 1
            r.update(finn_estimates(r["MW"], r["MH"], r["PE"], r["SIMD"]))
            print(
                f"{r['MW']}x{r['MH']} PE={r['PE']} SIMD={r['SIMD']} {r['weights']}: LUT {r['lut']} "
                f"(+{r['lutram_luts']} LUTRAM) {r['lut_per_xnor_bit']}/bit, {r['depth']['critical_path_ns']} ns "
                f"FF {r['ff']} BRAM18 {r['bram18']} | FINN est LUT {r['finn_lut_est']} BRAM18 "
                f"{r['finn_bram18_est']} | {r['synth_s']} s",
                flush=True,
            )
            done[futs[fut]] = r
            # written after every point (in the order given), so a long run cut short keeps what it measured
            rows = [done[i] for i in sorted(done)]
            args.out.write_text(json.dumps({"meta": meta, "points": rows}, indent=1) + "\n")
    return 0 if args.no_docs or args.out != RESULTS / "mvau_synth.json" else write_table()


def write_table() -> int:
    """The table of results/bench/mvau_synth.json in docs/hw.md (bench/tables.py: mvau-synth-table)."""
    from bench import tables

    tables.write(["mvau-synth-table"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
