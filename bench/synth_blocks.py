"""Yosys xc7 resource numbers and delay-model critical paths of the small blocks: compressor lanes
(bnn_popcount, XNOR and integer mode, against hw/golden/bnn_popcount.py's LUT count), bnn_pool (as a 2x2 max pool) and
bnn_labelselect at CNV/LFC-like sizes.

    python bench/synth_blocks.py                # writes results/bench/blocks_synth.json and the docs table
    python bench/tables.py blocks-synth-table   # the table in docs/hw.md again from the JSON

Each point goes through flow.rtl_backend.synth.synth_module (the one yosys runner of the project) and
records the commit and command (flow/core/provenance.py). The whole-network per-block table (every block of a
generated CNV) comes from bench/rtl_backend.py.
"""

import argparse
import json
import sys
from importlib.metadata import version

from bench.synth_mvau import RESULTS
from flow.core.provenance import provenance
from flow.rtl_backend.synth import SynthError, synth_module
from hw.golden.bnn_popcount import schedule
from hw.sources import COMMON_SOURCES, RTL_DEPENDENCIES, RTL_DIR

OUT = RESULTS / "blocks_synth.json"
POINTS = [
    ("bnn_popcount", {"N": 64, "LevelsPerStage": 2}),
    ("bnn_popcount", {"N": 192, "LevelsPerStage": 2}),
    ("bnn_popcount", {"N": 256, "LevelsPerStage": 2}),
    ("bnn_popcount", {"N": 27, "Xnor": 0, "InputBits": 8, "LevelsPerStage": 2}),  # CNV first layer lane
    ("bnn_pool", {"InH": 28, "InW": 28, "OutH": 14, "OutW": 14, "Channels": 64, "PE": 16, "ElemBits": 1}),
    ("bnn_pool", {"InH": 10, "InW": 10, "OutH": 5, "OutW": 5, "Channels": 128, "PE": 8, "ElemBits": 1}),
    ("bnn_labelselect", {"Labels": 10, "PE": 1, "K": 1, "InputBits": 16, "Signed": 1}),
    ("bnn_labelselect", {"Labels": 10, "PE": 10, "K": 3, "InputBits": 16, "Signed": 1}),
]


def model_luts(module: str, params: dict) -> int | None:
    """hw/golden/bnn_popcount.py's LUT count of a lane (None for other blocks)."""
    if module != "bnn_popcount":
        return None
    xnor = bool(params.get("Xnor", 1))
    return schedule(params["N"], 3, params.get("LevelsPerStage", 1), xnor, params.get("InputBits", 1))["luts"]


def synth_point(module: str, params: dict) -> dict:
    tag = module + "_" + "_".join(f"{k}{v}" for k, v in params.items())
    files = [RTL_DIR / s for s in (*COMMON_SOURCES, *RTL_DEPENDENCIES.get(module, ()), module + ".sv")]
    r = synth_module(module, files, RESULTS / "logs" / tag, params=params, depth=True)
    return {
        "module": module,
        "params": params,
        "lut": r["lut_logic"],
        "lutram_luts": r["lut_memory"],
        "ff": r["ff"],
        "bram18": r["cells"].get("RAMB18E1", 0) + 2 * r["cells"].get("RAMB36E1", 0),
        "model_luts": model_luts(module, params),
        "critical_path_ns": r["depth"]["critical_path_ns"],
        "critical_path_lut_levels": r["depth"]["critical_path_lut_levels"],
        "synth_s": r["seconds"],
    }


def table(data: dict) -> str:
    meta = data["meta"]
    rows = "".join(
        f"| {r['module']} | {', '.join(f'{k}={v}' for k, v in r['params'].items())} | {r['lut']} "
        f"| {r['model_luts'] if r.get('model_luts') is not None else '-'} | {r['lutram_luts']} | {r['ff']} "
        f"| {r['bram18']} | {r['critical_path_ns']} ({r['critical_path_lut_levels']}) |\n"
        for r in data["points"]
    )
    return (
        "| block | parameters | LUT | model LUT | LUTRAM LUTs | FF | BRAM18 | crit. path ns (LUT levels) |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|\n"
        + rows
        + f"\nMeasured by `{meta['provenance']['command']}` on {meta['date']} ({meta['machine']}), "
        f"{meta['yosys']}. Model LUT: "
        "the lane's LUT count by `hw/golden/bnn_popcount.py` `schedule` (level-0 counts, carry-chain counters, "
        "full adders, the ternary adder). Critical path: `flow.rtl_backend.timing` (a delay model).\n"
    )


def write_table() -> int:
    """The table of results/bench/blocks_synth.json in docs/hw.md (bench/tables.py: blocks-synth-table)."""
    from bench.rerender import rerender

    rerender(["blocks-synth-table"])
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.parse_args(argv)
    prov = provenance(["bench/synth_blocks.py", *(sys.argv[1:] if argv is None else argv)])
    meta = {"date": prov["date"], "machine": prov["machine"], "yosys": f"yosys {version('pyosys')} (pyosys)",
            "provenance": prov}  # fmt: skip
    rows = []
    for module, params in POINTS:
        try:
            rows.append(synth_point(module, params))
        except SynthError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(json.dumps(rows[-1]), flush=True)
    OUT.write_text(json.dumps({"meta": meta, "points": rows}, indent=1) + "\n")
    return write_table()


if __name__ == "__main__":
    sys.exit(main())
