"""Yosys xc7 resource numbers of the small blocks (bnn_maxpool, bnn_labelselect) at CNV/LFC-like sizes.

python bench/synth_blocks.py        # prints a markdown table, writes results/bench/blocks_synth.json
"""

import json
import subprocess
import sys
import time

from bench.synth_mvau import RESULTS
from flow.rtl_backend.synth import LUT_CELLS, LUTRAM_CELLS
from hw.sources import COMMON_SOURCES, RTL_DIR

POINTS = [
    ("bnn_maxpool", {"ImgDim": 28, "Channels": 64, "PE": 16, "Kernel": 2, "ElemBits": 1}),
    ("bnn_maxpool", {"ImgDim": 10, "Channels": 128, "PE": 8, "Kernel": 2, "ElemBits": 1}),
    ("bnn_labelselect", {"Labels": 10, "PE": 1, "K": 1, "InputBits": 16, "Signed": 1}),
    ("bnn_labelselect", {"Labels": 10, "PE": 10, "K": 3, "InputBits": 16, "Signed": 1}),
]
WORKER = r"""
import sys
from pyosys import libyosys as ys
d = ys.Design()
ys.run_pass(sys.argv[1], d)
ys.run_pass("synth_xilinx -family xc7 -noiopad -top " + sys.argv[2], d)
ys.run_pass("tee -q -o " + sys.argv[3] + " stat -json", d)
"""


def main() -> int:
    rows = []
    log_dir = RESULTS / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for module, params in POINTS:
        tag = module + "_" + "_".join(f"{k}{v}" for k, v in params.items())
        stat = log_dir / f"{tag}_stat.json"
        read = f"read_slang --top {module} " + " ".join(f"-G {k}={v}" for k, v in params.items())
        read += " " + " ".join(str(RTL_DIR / s) for s in (*COMMON_SOURCES, module + ".sv"))
        t0 = time.time()
        with open(log_dir / f"{tag}.log", "w") as f:
            res = subprocess.run(
                [sys.executable, "-c", WORKER, read, module, str(stat)], stdout=f, stderr=subprocess.STDOUT
            )
        if res.returncode != 0:
            print(f"error: yosys failed for {tag}", file=sys.stderr)
            return 1
        cells = next(iter(json.loads(stat.read_text())["modules"].values()))["num_cells_by_type"]
        rows.append(
            {
                "module": module,
                **params,
                "lut": sum(n for c, n in cells.items() if c in LUT_CELLS),
                "lutram_luts": sum(n * LUTRAM_CELLS[c] for c, n in cells.items() if c in LUTRAM_CELLS),
                "ff": sum(n for c, n in cells.items() if c.startswith("FD")),
                "bram18": cells.get("RAMB18E1", 0) + 2 * cells.get("RAMB36E1", 0),
                "synth_s": round(time.time() - t0, 1),
            }
        )
    (RESULTS / "blocks_synth.json").write_text(json.dumps(rows, indent=1) + "\n")
    print("| block | parameters | LUT | LUTRAM LUTs | FF | BRAM18 |\n|---|---|---:|---:|---:|---:|")
    for r in rows:
        p = ", ".join(
            f"{k}={v}" for k, v in r.items() if k not in ("module", "lut", "lutram_luts", "ff", "bram18", "synth_s")
        )
        print(f"| {r['module']} | {p} | {r['lut']} | {r['lutram_luts']} | {r['ff']} | {r['bram18']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
