"""Yosys xc7 resource numbers of the small blocks (bnn_pool as a 2x2 max pool, bnn_labelselect) at CNV/LFC-like sizes.

python bench/synth_blocks.py        # prints a markdown table, writes results/bench/blocks_synth.json

Each point goes through flow.rtl_backend.synth.synth_module (the one yosys runner of the project).
The whole-network per-block table (every block of a generated CNV) comes from bench/rtl_backend.py.
"""

import json
import sys

from bench.synth_mvau import RESULTS
from flow.rtl_backend.synth import SynthError, synth_module
from hw.sources import COMMON_SOURCES, RTL_DEPENDENCIES, RTL_DIR

POINTS = [
    ("bnn_pool", {"InH": 28, "InW": 28, "OutH": 14, "OutW": 14, "Channels": 64, "PE": 16, "ElemBits": 1}),
    ("bnn_pool", {"InH": 10, "InW": 10, "OutH": 5, "OutW": 5, "Channels": 128, "PE": 8, "ElemBits": 1}),
    ("bnn_labelselect", {"Labels": 10, "PE": 1, "K": 1, "InputBits": 16, "Signed": 1}),
    ("bnn_labelselect", {"Labels": 10, "PE": 10, "K": 3, "InputBits": 16, "Signed": 1}),
]


def main() -> int:
    rows = []
    for module, params in POINTS:
        tag = module + "_" + "_".join(f"{k}{v}" for k, v in params.items())
        files = [RTL_DIR / s for s in (*COMMON_SOURCES, *RTL_DEPENDENCIES.get(module, ()), module + ".sv")]
        try:
            r = synth_module(module, files, RESULTS / "logs" / tag, params=params)
        except SynthError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        rows.append(
            {
                "module": module,
                **params,
                "lut": r["lut_logic"],
                "lutram_luts": r["lut_memory"],
                "ff": r["ff"],
                "bram18": r["cells"].get("RAMB18E1", 0) + 2 * r["cells"].get("RAMB36E1", 0),
                "synth_s": r["seconds"],
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
