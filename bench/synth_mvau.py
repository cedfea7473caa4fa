"""Synthesis benchmark of bnn_mvau (yosys `synth_xilinx -family xc7`) next to FINN's own estimates.

For each (MW, MH, PE, SIMD) point: random binary weights and one threshold per channel (the binary
XNOR layer of a BNN, or with `:int8` a first layer's 8-bit unsigned pixels), yosys 0.70 (pyosys,
read_slang frontend) `synth_xilinx -family xc7 -noiopad` with the weight ROM as block RAM (or the
point's style), then `stat`. FINN's analytical numbers come from an MVAU_hls node with the same
attributes (binaryXnorMode=1, BINARY in/weights/out, default internal_decoupled memory; XNOR points
only): lut_estimation() and bram_estimation() (RAMB18 units). Each point records the commit and
command (flow/core/provenance.py); the cost model's calibration (flow/analysis/cost.py MVAU_POINTS,
MVAU_INT_POINTS) reads its rows from this JSON.

    python bench/synth_mvau.py                 # default points, 2 parallel yosys runs
    python bench/synth_mvau.py --points 256x64x4x256 --jobs 1 --no-docs
    python bench/synth_mvau.py --table-only   # the docs table again from results/bench/mvau_synth.json

Writes results/bench/mvau_synth.json and the table between the markers in docs/hw.md.
Each yosys run is a subprocess (log in results/bench/logs/, not in git); exit status 1 if any run fails.
Points: MWxMHxPExSIMD, optionally :block / :distributed / :auto (the weight memory, WeightRamStyle) and
:int<B> (integer mode, B-bit unsigned inputs; :int<B>s signed).
"""

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from flow.core import cli
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
    "27x64x16x27:distributed:int8",  # the CNV first layer (cnv-20k folding): 8-bit pixels
]
STYLES = ("block", "distributed", "auto")


def parse_point(s: str) -> tuple[int, int, int, int, str, int, bool]:
    """MWxMHxPExSIMD[:weights][:int<B>[s]] -> (MW, MH, PE, SIMD, weights, input bits (0: XNOR), signed)."""
    dims, *opts = s.lower().split(":")
    try:
        mw, mh, pe, simd = (int(v) for v in dims.split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s}: expected MWxMHxPExSIMD[:weights][:intB]") from None
    if min(mw, mh, pe, simd) < 1:
        raise argparse.ArgumentTypeError(f"{s}: MW, MH, PE and SIMD must be >= 1")
    if mw % simd or mh % pe:
        raise argparse.ArgumentTypeError(f"{s}: SIMD must divide MW and PE must divide MH")
    style, bits, signed = "block", 0, False
    for opt in opts:
        if opt in STYLES:
            style = opt
        elif opt.startswith("int") and opt[3:].rstrip("s").isdigit() and 1 <= int(opt[3:].rstrip("s")) <= 16:
            bits, signed = int(opt[3:].rstrip("s")), opt.endswith("s")
        else:
            raise argparse.ArgumentTypeError(f"{s}: {opt!r} is neither a weight memory ({', '.join(STYLES)}) "
                                             "nor int<1..16>[s]")  # fmt: skip
    return mw, mh, pe, simd, style, bits, signed


def finn_estimates(mw: int, mh: int, pe: int, simd: int) -> dict:
    """FINN's analytical LUT/BRAM estimates of the equivalent MVAU_hls node."""
    op = binary_mvau_op("MVAU_hls", "finn.custom_op.fpgadataflow.hls", mw, mh, pe, simd)
    return {
        "finn_lut_est": int(op.lut_estimation(FPGAPART)),
        "finn_bram18_est": int(op.bram_estimation(FPGAPART)),
        "finn_mem_mode": op.get_nodeattr("mem_mode"),
    }


def synth_point(mw: int, mh: int, pe: int, simd: int, workdir: Path, style: str = "block", bits: int = 0,
                signed: bool = False) -> dict:  # fmt: skip
    """One bnn_mvau point through flow.rtl_backend.synth.synth_module (with its critical path)."""
    from hw.golden.bnn_mvau import acc_bits, acc_range
    from hw.golden.bnn_popcount import schedule
    from hw.golden.mem_files import write_threshold_mem, write_weight_mem

    rng = np.random.default_rng(0)
    mode = "int" if bits else "xnor"
    tag = f"{mw}x{mh}x{pe}x{simd}_{style}" + (f"_int{bits}{'s' if signed else ''}" if bits else "")
    wfile, tfile = workdir / f"{tag}_w.hex", workdir / f"{tag}_t.hex"
    ab = acc_bits(mw, mode, max(bits, 1), signed)
    lo, hi = acc_range(mw, mode, max(bits, 1), signed)
    write_weight_mem(rng.choice([-1, 1], (mw, mh)), pe, simd, wfile)
    write_threshold_mem(rng.integers((lo + hi) // 2 - 8, (lo + hi) // 2 + 8, (mh, 1)), pe, ab + 1, tfile, lo, hi)
    params = {
        "MW": mw,
        "MH": mh,
        "PE": pe,
        "SIMD": simd,
        "XnorMode": int(not bits),
        "InputBits": max(bits, 1),
        "InputSigned": int(signed),
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
    lane = schedule(simd, xnor=not bits, bits=max(bits, 1), signed=signed)
    return {
        "MW": mw,
        "MH": mh,
        "PE": pe,
        "SIMD": simd,
        "weights": style,
        "input_bits": bits or 1,
        "mode": f"int{bits}{'s' if signed else ''}" if bits else "xnor",
        "lut": r["lut_logic"],
        "lutram_luts": r["lut_memory"],
        "ff": r["ff"],
        "bram18": cells.get("RAMB18E1", 0) + 2 * cells.get("RAMB36E1", 0),
        "carry4": r["carry"],
        "dsp": r["dsp"],
        "lut_per_xnor_bit": round(r["lut"] / (pe * simd), 3),
        "lane_model_luts": lane["luts"],  # hw/golden/bnn_popcount.py schedule: one lane's compressor
        "depth": {k: v for k, v in r["depth"].items() if k != "slowest_paths"},
        "synth_s": r["seconds"],
        "cells": cells,
    }


def _key(r: dict) -> tuple:
    return r["MW"], r["MH"], r["PE"], r["SIMD"], r["weights"], r.get("mode", "xnor")


def vs_finn(r: dict) -> str:
    return f"{(r['lut'] + r['lutram_luts']) / r['finn_lut_est']:.2f}x" if r.get("finn_lut_est") else "-"


def markdown(rows: list[dict], meta: dict, before: dict | None = None) -> str:
    """The docs table; ``before``: an earlier run's points, shown as LUT per MAC before this RTL."""
    old = {_key(r): r for r in (before or {}).get("points", [])}
    head = (
        "| MW | MH | PE | SIMD | input | weights | LUT (logic) | LUTRAM LUTs | FF | BRAM18 | LUT per MAC/cycle "
        "| before | lane model LUT | LUT levels (crit. path) | est. ns | FINN LUT est. (MVAU_hls) | FINN BRAM18 est. "
        "| LUT vs FINN | yosys s |\n"
        "|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    body = "".join(
        f"| {r['MW']} | {r['MH']} | {r['PE']} | {r['SIMD']} | {r.get('mode', 'xnor')} | {r['weights']} | {r['lut']} "
        f"| {r['lutram_luts']} | {r['ff']} | {r['bram18']} | {r['lut_per_xnor_bit']} "
        f"| {old[_key(r)]['lut_per_xnor_bit'] if _key(r) in old else '-'} | {r.get('lane_model_luts', '-')} "
        f"| {r['depth']['critical_path_lut_levels']} (+{r['depth']['critical_path_carry4']} CARRY4) "
        f"| {r['depth']['critical_path_ns']} | {r.get('finn_lut_est', '-')} | {r.get('finn_bram18_est', '-')} "
        f"| {vs_finn(r)} "
        f"| {r['synth_s']} |\n"
        for r in rows
    )
    prov = meta.get("provenance", {})
    foot = (
        f"\nMeasured by `{prov.get('command', 'python bench/synth_mvau.py')}` on {meta['date']} "
        f"({meta['machine']}, shared with other jobs: yosys seconds are not comparable), {meta['yosys']}, "
        f"`synth_xilinx -family xc7 -noiopad` through `flow.rtl_backend.synth.synth_module`, one threshold per "
        f"channel; input xnor = binaryXnorMode, int8 = 8-bit unsigned pixels (integer mode). LUT per MAC/cycle "
        f"= (LUT + LUTRAM) / (PE*SIMD) (for XNOR: per XNOR bit); for `distributed` weights that includes the "
        f"weight ROM (LUT logic). before: the same point on {before['meta']['date'] if before else '-'} "
        f"({before['meta'].get('rtl', '') if before else ''}). Lane model LUT: one lane's compressor by "
        f"`hw/golden/bnn_popcount.py` `schedule`. LUT levels / est. ns: the slowest register-to-register path "
        f"of `flow.rtl_backend.timing.logic_depth` (a delay model, no place and route). FINN numbers: "
        f"finn-plus {meta['finn']} `lut_estimation()`/`bram_estimation()` of an MVAU_hls node with the same "
        f"attributes (part {FPGAPART}; XNOR points only).\n"
    )
    return head + body + foot


def main(argv: list[str] | None = None) -> int:
    return cli.run_cli(lambda: synthesize(parse_args(argv), argv), "synth_mvau")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, checked before any work: bad input is one ``error:`` line (flow/core/cli.py)."""
    ap = cli.Parser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--points",
        nargs="+",
        type=parse_point,
        default=[parse_point(p) for p in DEFAULT_POINTS],
        help="MWxMHxPExSIMD points",
    )
    ap.add_argument("--jobs", type=cli.int_in(1, cli.MAX_JOBS), default=2, help="parallel yosys runs")
    ap.add_argument("--out", type=Path, default=RESULTS / "mvau_synth.json")
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite the table in docs/hw.md")
    ap.add_argument("--table-only", action="store_true", help="rewrite the docs table (committed JSON)")
    return ap.parse_args(argv)


def synthesize(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Synthesize the points (``argv``: the command line, recorded), write the JSON and the docs table."""
    old = json.loads(args.out.read_text()) if args.out.is_file() else {}
    if args.table_only:
        return write_table()

    from importlib.metadata import version

    prov = provenance(["bench/synth_mvau.py", *(sys.argv[1:] if argv is None else argv)])
    meta = {
        "date": prov["date"],
        "machine": prov["machine"],
        "yosys": f"yosys {version('pyosys')} (pyosys)",
        "finn": version("finn-plus"),
        "provenance": prov,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    done: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        futs = {pool.submit(synth_point, *p[:4], Path(tmp), *p[4:]): i for i, p in enumerate(args.points)}
        for fut in as_completed(futs):
            try:
                r = fut.result()
            except RuntimeError as e:
                print(f"error: {e}", file=sys.stderr)
                return 1
            if r["mode"] == "xnor":
                r.update(finn_estimates(r["MW"], r["MH"], r["PE"], r["SIMD"]))
            r["provenance"] = {k: prov.get(k) for k in ("commit", "dirty", "dirty_files", "command", "date")}
            print(
                f"{r['MW']}x{r['MH']} PE={r['PE']} SIMD={r['SIMD']} {r['mode']} {r['weights']}: LUT {r['lut']} "
                f"(+{r['lutram_luts']} LUTRAM) {r['lut_per_xnor_bit']}/MAC, {r['depth']['critical_path_ns']} ns "
                f"FF {r['ff']} BRAM18 {r['bram18']} | FINN est LUT {r.get('finn_lut_est', '-')} | {r['synth_s']} s",
                flush=True,
            )
            done[futs[fut]] = r
            # written after every point (in the order given), so a long run cut short keeps what it measured
            rows = [done[i] for i in sorted(done)]
            data = {"meta": meta, "points": rows, **({"before": old["before"]} if "before" in old else {})}
            args.out.write_text(json.dumps(data, indent=1) + "\n")
    return 0 if args.no_docs or args.out != RESULTS / "mvau_synth.json" else write_table()


def write_table() -> int:
    """The table of results/bench/mvau_synth.json in docs/hw.md (bench/tables.py: mvau-synth-table)."""
    from bench.rerender import rerender

    rerender(["mvau-synth-table"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
