"""Verilator simulation speed of bnn_mvau with a compiled C++ harness (no cocotb, no Python per cycle).

    python bench/sim_speed.py                      # MW=256 MH=64 PE=4 SIMD=256, 2 M cycles
    python bench/sim_speed.py --pe 16 --simd 256 --cycles 1000000

Prints one JSON line: cycles, seconds, cycles_per_s, and the beat counts, which must match the folding
(one input beat per cycle in neuron fold 0, one output beat per MW/SIMD cycles).
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mw", type=int, default=256)
    ap.add_argument("--mh", type=int, default=64)
    ap.add_argument("--pe", type=int, default=4)
    ap.add_argument("--simd", type=int, default=256)
    ap.add_argument("--cycles", type=int, default=2_000_000)
    ap.add_argument("--build-dir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None, help="also append the JSON line to this file")
    args = ap.parse_args(argv)
    from hw.golden.bnn_mvau import acc_bits
    from hw.golden.mem_files import write_threshold_mem, write_weight_mem
    from hw.sources import COMMON_SOURCES, RTL_DIR

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
        *(str(RTL_DIR / s) for s in (*COMMON_SOURCES, "bnn_mvau.sv")),
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
