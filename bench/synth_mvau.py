"""Synthesis benchmark of bnn_mvau (yosys `synth_xilinx -family xc7`) next to FINN's own estimates.

For each (MW, MH, PE, SIMD) point: random binary weights and one threshold per channel (the binary
XNOR layer of a BNN), yosys 0.70 (pyosys, read_slang frontend) `synth_xilinx -family xc7 -noiopad`
with the weight ROM as block RAM, then `stat`. FINN's analytical numbers come from an MVAU_hls node
with the same attributes (binaryXnorMode=1, BINARY in/weights/out, default internal_decoupled
memory): lut_estimation() and bram_estimation() (RAMB18 units).

    python bench/synth_mvau.py                 # default points, 2 parallel yosys runs
    python bench/synth_mvau.py --points 256x64x4x256 --jobs 1 --no-docs

Writes results/bench/mvau_synth.json and the table between the markers in docs/hw.md.
Each yosys run is a subprocess (log in results/bench/logs/, not in git); exit status 1 if any run fails.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from flow.rtl_backend.synth import LUT_CELLS, LUTRAM_CELLS
from hw.golden.finn_mvau import binary_mvau_op
from hw.sources import COMMON_SOURCES, RTL_DIR

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "bench"
DOC = ROOT / "docs" / "hw.md"
BEGIN, END = "<!-- mvau-synth-table:begin -->", "<!-- mvau-synth-table:end -->"
FPGAPART = "xc7z020clg400-1"
DEFAULT_POINTS = ["256x256x1x32", "256x256x4x64", "256x64x4x256", "576x64x16x32", "256x256x16x16", "1024x64x8x128"]

YOSYS_WORKER = r"""
import json, sys
from pyosys import libyosys as ys
a = json.loads(sys.argv[1])
d = ys.Design()
ys.run_pass(a["read"], d)
ys.run_pass("synth_xilinx -family xc7 -noiopad -top bnn_mvau", d)
ys.run_pass("tee -q -o " + a["stat"] + " stat -json", d)
"""


def parse_point(s: str) -> tuple[int, int, int, int]:
    mw, mh, pe, simd = (int(v) for v in s.lower().split("x"))
    if mw % simd or mh % pe:
        raise argparse.ArgumentTypeError(f"{s}: SIMD must divide MW and PE must divide MH")
    return mw, mh, pe, simd


def finn_estimates(mw: int, mh: int, pe: int, simd: int) -> dict:
    """FINN's analytical LUT/BRAM estimates of the equivalent MVAU_hls node."""
    op = binary_mvau_op("MVAU_hls", "finn.custom_op.fpgadataflow.hls", mw, mh, pe, simd)
    return {
        "finn_lut_est": int(op.lut_estimation(FPGAPART)),
        "finn_bram18_est": int(op.bram_estimation(FPGAPART)),
        "finn_mem_mode": op.get_nodeattr("mem_mode"),
    }


def synth_point(mw: int, mh: int, pe: int, simd: int, workdir: Path) -> dict:
    from hw.golden.bnn_mvau import acc_bits
    from hw.golden.mem_files import write_threshold_mem, write_weight_mem

    rng = np.random.default_rng(0)
    tag = f"{mw}x{mh}x{pe}x{simd}"
    wfile, tfile, stat = workdir / f"{tag}_w.hex", workdir / f"{tag}_t.hex", workdir / f"{tag}_stat.json"
    ab = acc_bits(mw, "xnor")
    write_weight_mem(rng.choice([-1, 1], (mw, mh)), pe, simd, wfile)
    write_threshold_mem(rng.integers(mw // 2 - 8, mw // 2 + 8, (mh, 1)), pe, ab + 1, tfile, 0, mw)
    gen = {
        "MW": mw,
        "MH": mh,
        "PE": pe,
        "SIMD": simd,
        "AccBits": ab,
        "ThresholdBits": ab + 1,
        "WeightFile": f'"{wfile}"',
        "ThresholdFile": f'"{tfile}"',
    }
    read = "read_slang --top bnn_mvau " + " ".join(f"-G {k}={v}" for k, v in gen.items())
    read += " " + " ".join(str(RTL_DIR / s) for s in (*COMMON_SOURCES, "bnn_mvau.sv"))
    log = RESULTS / "logs" / f"mvau_{tag}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    with open(log, "w") as f:
        res = subprocess.run(
            [sys.executable, "-c", YOSYS_WORKER, json.dumps({"read": read, "stat": str(stat)})],
            stdout=f,
            stderr=subprocess.STDOUT,
        )
    secs = time.time() - t0
    if res.returncode != 0 or not stat.exists():
        raise RuntimeError(f"yosys failed for {tag} (see {log})")
    cells = next(iter(json.loads(stat.read_text())["modules"].values()))["num_cells_by_type"]
    lut = sum(n for c, n in cells.items() if c in LUT_CELLS)
    lutram = sum(n * LUTRAM_CELLS[c] for c, n in cells.items() if c in LUTRAM_CELLS)
    ff = sum(n for c, n in cells.items() if c.startswith("FD"))
    bram18 = cells.get("RAMB18E1", 0) + 2 * cells.get("RAMB36E1", 0)
    return {
        "MW": mw,
        "MH": mh,
        "PE": pe,
        "SIMD": simd,
        "lut": lut,
        "lutram_luts": lutram,
        "ff": ff,
        "bram18": bram18,
        "carry4": cells.get("CARRY4", 0),
        "dsp": cells.get("DSP48E1", 0),
        "lut_per_xnor_bit": round((lut + lutram) / (pe * simd), 3),
        "synth_s": round(secs, 1),
        "cells": cells,
    }


def markdown(rows: list[dict], meta: dict) -> str:
    head = (
        "| MW | MH | PE | SIMD | LUT (logic) | LUTRAM LUTs | FF | BRAM18 | LUT per XNOR bit/cycle "
        "| FINN LUT est. (MVAU_hls) | FINN BRAM18 est. | LUT vs FINN | yosys s |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    body = "".join(
        f"| {r['MW']} | {r['MH']} | {r['PE']} | {r['SIMD']} | {r['lut']} | {r['lutram_luts']} | {r['ff']} "
        f"| {r['bram18']} | {r['lut_per_xnor_bit']} | {r['finn_lut_est']} | {r['finn_bram18_est']} "
        f"| {(r['lut'] + r['lutram_luts']) / r['finn_lut_est']:.2f}x | {r['synth_s']} |\n"
        for r in rows
    )
    foot = (
        f"\nGenerated by `python bench/synth_mvau.py` on {meta['date']} ({meta['machine']}), "
        f"{meta['yosys']}, `synth_xilinx -family xc7 -noiopad`, weights as block RAM, one threshold "
        f"per channel, binaryXnorMode. LUT per XNOR bit/cycle = (LUT + LUTRAM) / (PE*SIMD). "
        f"FINN numbers: finn-plus {meta['finn']} `lut_estimation()`/`bram_estimation()` of an "
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
    args = ap.parse_args(argv)

    from importlib.metadata import version

    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.processor() or platform.system()}",
        "yosys": f"yosys {version('pyosys')} (pyosys)",
        "finn": version("finn-plus"),
    }
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        futs = [pool.submit(synth_point, *p, Path(tmp)) for p in args.points]
        try:
            rows = [f.result() for f in futs]
        except RuntimeError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    for r in rows:
        r.update(finn_estimates(r["MW"], r["MH"], r["PE"], r["SIMD"]))
        print(
            f"{r['MW']}x{r['MH']} PE={r['PE']} SIMD={r['SIMD']}: LUT {r['lut']} (+{r['lutram_luts']} LUTRAM) "
            f"FF {r['ff']} BRAM18 {r['bram18']} | FINN est LUT {r['finn_lut_est']} BRAM18 "
            f"{r['finn_bram18_est']} | {r['synth_s']} s"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "points": rows}, indent=1) + "\n")
    if not args.no_docs:
        table = markdown(rows, meta)
        text = DOC.read_text() if DOC.exists() else f"{BEGIN}\n{END}\n"
        if BEGIN not in text or END not in text:
            print(f"error: markers {BEGIN} / {END} missing in {DOC}", file=sys.stderr)
            return 1
        pre, rest = text.split(BEGIN, 1)
        DOC.write_text(pre + BEGIN + "\n" + table + END + rest.split(END, 1)[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
